"""Making digest text safe and tidy inside Discord messages.

Digest text is untrusted: titles and abstracts can hold Markdown (``*``, ``_``, ``#``, masked
links), mentions (``@everyone``, ``<@123…>``) and invisible characters (zero-width, bidi
overrides). :func:`safe` removes the invisible format characters (Unicode category Cf, see
:func:`bot.core.text.strip_format`; a database indexed before they were dropped at parse time
may still hold some), escapes the Markdown with ``discord.utils.escape_markdown`` and breaks
every mention with a zero-width space; the client's ``AllowedMentions.none()`` is the second
line of defence.

Mentions: ``discord.utils.escape_mentions`` breaks ``@everyone``, ``@here`` and user/role
mentions with 17-20 digit ids only, so :func:`neutralise_mentions` also breaks every other
``<…>`` form Discord draws as something else than its text, whatever the id's length: user
``<@1>`` / ``<@!1>``, role ``<@&1>``, channel ``<#1>``, slash command ``</name:1>``, custom
emoji ``<:name:1>`` / ``<a:name:1>``, timestamp ``<t:1:R>`` and guild navigation
``<id:customize>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import discord

from bot.core.models import Segment
from bot.core.text import cut_text, strip_format
from bot.ui.limits import ELLIPSIS, clamp, dlen, join_clamped

ZWSP = "\u200b"
_SPACE_RE = re.compile(r"[ \t\r\f\v]+")
# The start of every <…> markup Discord renders (see the module docstring), any id length.
_MARKUP_RE = re.compile(r"<(?=[@#/:]|a:|t:|id:)", re.IGNORECASE)


def neutralise_mentions(text: str) -> str:
    """Invisible format characters removed, then ``@everyone``, ``@here`` and every mention
    or other rendered ``<…>`` markup broken with a zero-width space."""
    text = discord.utils.escape_mentions(strip_format(text))
    return _MARKUP_RE.sub("<" + ZWSP, text)


def safe(text: str) -> str:
    """Digest text made inert: invisible characters removed, Markdown escaped, mentions
    neutralised, spaces collapsed."""
    text = _SPACE_RE.sub(" ", strip_format(text)).strip()
    return neutralise_mentions(discord.utils.escape_markdown(text))


def plain(text: str) -> str:
    """Text for places Discord shows literally (select options, autocomplete, footers, titles
    echoing a query): invisible format characters removed, white space collapsed."""
    return " ".join(strip_format(text).split())


def safe_clamped(text: str, limit: int) -> str:
    """:func:`safe` text clamped to ``limit`` (clamping never splits an escape).

    Only a prefix of ``text`` proportional to ``limit`` is read, so a huge text (an abstract
    of megabytes) costs no more than a short one.
    """
    room = 4 * max(limit, 0) + 64  # escaping can grow the prefix; collapsing spaces shrink it
    if len(text) <= room:
        return clamp(safe(text), limit)
    shown = safe(cut_text(text, room))
    return clamp(shown, limit - dlen(ELLIPSIS), ellipsis="").rstrip() + ELLIPSIS


def inline_code(text: str) -> str:
    """Text shown as inline code (ids, queries); backticks and invisible characters removed so
    the span cannot be broken or disguised."""
    cleaned = strip_format(text).replace("`", "'").strip() or "?"
    return f"`{cleaned}`"


def bold_segments(segments: Iterable[Segment], limit: int) -> str:
    """Snippet segments as safe Markdown with the matched ones in bold.

    Escaping happens per segment BEFORE the bold markers are added, so digest text can
    never open or close the bold. The result fits in ``limit``; a segment that does not
    fit is cut and an ellipsis closes the snippet.
    """
    out: list[str] = []
    used = 0
    room = limit - dlen(ELLIPSIS)
    pieces = list(segments)
    context = ""  # the raw text so far, to see whether a match sits inside a link
    for index, segment in enumerate(pieces):
        raw, matched = segment.text, segment.match
        if matched and _inside_link(context, raw):
            matched = False
        context = (context + raw)[-200:]
        text = safe(raw) if raw.strip() else (" " if raw else "")
        if not text:
            continue
        # Keep the spaces around a segment outside its bold markers (``** x**`` is not bold).
        lead = " " if raw[:1].isspace() and text != " " else ""
        trail = " " if raw[-1:].isspace() and text != " " else ""
        if matched and text.strip():
            piece = f"{lead}**{text}**{trail}"
        else:
            piece = f"{lead}{text}{trail}" if text != " " else " "
        size = dlen(piece)
        last = index == len(pieces) - 1
        if used + size <= (limit if last else room):
            out.append(piece)
            used += size
            continue
        left = room - used
        if matched and text.strip():
            inner = clamp(text, left - dlen(lead) - 4, ellipsis="")
            if inner.strip():
                out.append(f"{lead}**{inner.rstrip()}**")
        else:
            cut = clamp(f"{lead}{text}", left, ellipsis="")
            out.append(cut.rstrip())
        out.append(ELLIPSIS)
        break
    return "".join(out).strip()


def _inside_link(before: str, word: str) -> bool:
    """Whether ``word`` continues (or is) a URL: bold markers there would break the link."""
    if "://" in word:
        return True
    if not before or before[-1].isspace():
        return False
    token = before.split()[-1] if before.split() else ""
    return "://" in token


def short_authors(names: Sequence[str], shown: int = 3) -> str:
    """``"A, B, C +9"``: the first ``shown`` authors and how many more there are."""
    if not names:
        return "unknown authors"
    head = ", ".join(safe(n) for n in names[:shown])
    rest = len(names) - shown
    return f"{head} +{rest}" if rest > 0 else head


def all_authors(names: Sequence[str], limit: int) -> str:
    """Every author that fits in ``limit``, then ``+N more``."""
    if not names:
        return "unknown authors"
    return join_clamped((safe(n) for n in names), limit, more=" +{n} more")


def parse_iso(value: str | None) -> datetime | None:
    """An ISO-8601 timestamp as an aware datetime (naive values are taken as UTC)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def when(value: str | None, style: discord.utils.TimestampStyle = "D") -> str:
    """A Discord timestamp (shown in each reader's time zone), or ``unknown``."""
    parsed = parse_iso(value)
    return discord.utils.format_dt(parsed, style) if parsed else "unknown"


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    """``"1 paper"``, ``"63 papers"``."""
    return f"{count:,} {word if count == 1 else (plural_word or word + 's')}"
