"""Discord's payload limits and the clamp helpers every builder uses.

Lengths are measured in UTF-16 code units (:func:`dlen`), which is never less than the
number of code points: a string that fits by this measure fits however Discord counts it.
Clamping never leaves a dangling escape backslash or a broken surrogate pair behind.
"""

from __future__ import annotations

from collections.abc import Iterable

import discord

# Messages and embeds.
MESSAGE_CONTENT = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL = 6000  # title + description + field names/values + footer + author, all embeds
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
EMBED_FOOTER = 2048
EMBED_AUTHOR = 256

# Components.
ACTION_ROWS = 5
BUTTONS_PER_ROW = 5
CUSTOM_ID = 100
BUTTON_LABEL = 80
SELECT_OPTIONS = 25
SELECT_PLACEHOLDER = 150
OPTION_LABEL = 100
OPTION_VALUE = 100
OPTION_DESCRIPTION = 100

# Application commands.
AUTOCOMPLETE_CHOICES = 25
CHOICE_NAME = 100
CHOICE_VALUE = 100
COMMAND_DESCRIPTION = 100
OPTION_STRING_MAX = 6000

# Uploads: a bot without server boosts may attach up to 10 MiB a file (the guild's
# attachment_size_limit); an attachment's description (alt text) holds 1024 characters.
UPLOAD_BYTES = 10 * 1024 * 1024
ATTACHMENT_DESCRIPTION = 1024
ELLIPSIS = "…"


def dlen(text: str) -> int:
    """Length as Discord may count it: UTF-16 code units (astral characters count twice)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _cut(text: str, units: int) -> str:
    """The longest prefix of ``text`` whose :func:`dlen` is at most ``units``."""
    if units <= 0:
        return ""
    if text.isascii():
        return text[:units]
    # A pair cut in half leaves a lone high surrogate, which "ignore" drops.
    return text.encode("utf-16-le", "surrogatepass")[: units * 2].decode("utf-16-le", "ignore")


def _drop_dangling_escape(text: str) -> str:
    """Remove a trailing odd backslash, which would escape whatever follows the cut."""
    trailing = len(text) - len(text.rstrip("\\"))
    return text[:-1] if trailing % 2 else text


def clamp(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """``text`` if it fits in ``limit`` units, else a prefix ending with ``ellipsis``.

    The cut prefers a word boundary in the last fifth of the room so words stay whole.
    """
    if dlen(text) <= limit:
        return text
    room = limit - dlen(ellipsis)
    if room <= 0:
        return _cut(ellipsis, limit)
    cut = _cut(text, room)
    space = cut.rfind(" ")
    if space >= room * 4 // 5:
        cut = cut[:space]
    cut = _drop_dangling_escape(cut.rstrip())
    return cut + ellipsis


def clamp_nonempty(text: str, limit: int, fallback: str = "—") -> str:
    """Like :func:`clamp`, but never empty (Discord rejects empty names and labels)."""
    text = text.strip()
    return clamp(text, limit) if text else fallback


def join_clamped(items: Iterable[str], limit: int, *, sep: str = ", ", more: str = " +{n}") -> str:
    """Join as many items as fit in ``limit``, then say how many were left out.

    ``join_clamped(["A", "B", "C", "D"], 9)`` -> ``"A, B +2"``.
    """
    parts = list(items)
    full = sep.join(parts)
    if dlen(full) <= limit:
        return full
    best = ""
    used = 0
    for shown, part in enumerate(parts[:-1], start=1):
        used += dlen(part) + (dlen(sep) if shown > 1 else 0)
        candidate_len = used + dlen(more.format(n=len(parts) - shown))
        if candidate_len > limit:
            break
        best = sep.join(parts[:shown]) + more.format(n=len(parts) - shown)
    return best or clamp(parts[0], limit)


def embed_size(embed: discord.Embed) -> int:
    """The characters of an embed that count towards :data:`EMBED_TOTAL`."""
    total = dlen(embed.title or "") + dlen(embed.description or "")
    for field in embed.fields:
        total += dlen(field.name or "") + dlen(field.value or "")
    total += dlen(embed.footer.text or "") + dlen(embed.author.name or "")
    return total


def fit_embed(embed: discord.Embed, budget: int = EMBED_TOTAL) -> discord.Embed:
    """Clamp every part of ``embed`` to its limit and the whole to ``budget`` (in place).

    Builders budget their text already; this is the safety net that guarantees a payload
    Discord accepts. Over budget, the description shrinks first, then trailing fields go.
    """
    if embed.title:
        embed.title = clamp(embed.title, EMBED_TITLE)
    if embed.description:
        embed.description = clamp(embed.description, EMBED_DESCRIPTION)
    if embed.author.name:
        embed.set_author(
            name=clamp(embed.author.name, EMBED_AUTHOR),
            url=embed.author.url,
            icon_url=embed.author.icon_url,
        )
    if embed.footer.text:
        embed.set_footer(
            text=clamp(embed.footer.text, EMBED_FOOTER), icon_url=embed.footer.icon_url
        )
    fields = [(f.name or "", f.value or "", bool(f.inline)) for f in embed.fields][:EMBED_FIELDS]
    embed.clear_fields()
    for name, value, inline in fields:
        embed.add_field(
            name=clamp_nonempty(name, FIELD_NAME),
            value=clamp_nonempty(value, FIELD_VALUE),
            inline=inline,
        )
    over = embed_size(embed) - budget
    if over > 0 and embed.description:
        keep = max(dlen(embed.description) - over, 0)
        embed.description = clamp(embed.description, keep) if keep > 1 else None
        over = embed_size(embed) - budget
    while over > 0 and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
        over = embed_size(embed) - budget
    if over > 0 and embed.footer.text:
        keep = max(dlen(embed.footer.text) - over, 1)
        embed.set_footer(text=clamp(embed.footer.text, keep), icon_url=embed.footer.icon_url)
    return embed


def fit_message(embeds: list[discord.Embed]) -> list[discord.Embed]:
    """At most 10 embeds sharing the 6000-character budget, earlier embeds first."""
    kept = embeds[:EMBEDS_PER_MESSAGE]
    left = EMBED_TOTAL
    out: list[discord.Embed] = []
    for embed in kept:
        if left <= 0:
            break
        fit_embed(embed, left)
        left -= embed_size(embed)
        out.append(embed)
    return out


def fit_content(text: str) -> str:
    """Message content clamped to :data:`MESSAGE_CONTENT`."""
    return clamp(text, MESSAGE_CONTENT)
