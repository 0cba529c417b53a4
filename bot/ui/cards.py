"""Paper, search, author and latest-digest cards: functions of the catalogue's answers that
build Discord objects (embeds, views) and do no I/O.

Each builder returns a :class:`Card` (one embed and, when there is something to click, a
persistent view). Digest text goes through :func:`bot.ui.format.safe`; the text budget of
every part is planned so the whole card stays within 6,000 characters, and
:func:`bot.ui.limits.fit_embed` is the final guarantee. Titles link to the paper when an
identifier is known (:mod:`bot.ui.links`); digests are named by date and file name
(:func:`bot.core.digests.digest_name`), never by their page chrome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import discord

from bot.core import bibtex
from bot.core.digests import digest_name, digest_year
from bot.core.models import (
    AuthorProfile,
    DigestInfo,
    LatestPage,
    Paper,
    PaperDetail,
    SearchPage,
    StoredPaper,
)
from bot.core.text import cut_text
from bot.ui.format import (
    all_authors,
    bold_segments,
    inline_code,
    parse_iso,
    plain,
    plural,
    safe,
    safe_clamped,
    short_authors,
    when,
)
from bot.ui.limits import (
    EMBED_DESCRIPTION,
    EMBED_TITLE,
    EMBED_TOTAL,
    FIELD_NAME,
    FIELD_VALUE,
    MESSAGE_CONTENT,
    clamp,
    dlen,
    embed_size,
    fit_embed,
)
from bot.ui.links import link_buttons, masked, title_url
from bot.ui.personal import follow_author_button, follow_search_button, save_button
from bot.ui.views import (
    Choice,
    action_button,
    open_select,
    paged_view,
    subscribe_button,
    view_of,
)

COLOUR = discord.Colour(0x5865F2)
GONE_COLOUR = discord.Colour(0x99AAB5)

ABSTRACT_SHOWN = 600  # a paper card shows this much abstract; "Full abstract" shows the rest
SIMILAR_SHOWN = 5
DIGESTS_SHOWN = 8
_MARGIN = 40


@dataclass(frozen=True, slots=True)
class Card:
    embed: discord.Embed
    view: discord.ui.View | None = None


def page_count(total: int, per: int) -> int:
    return max(1, -(-total // max(per, 1)))


def _names(paper: StoredPaper) -> list[str]:
    p = paper.paper
    if p.authors:
        return [a.display for a in p.authors]
    return [p.authors_raw] if p.authors_raw else []


def _plain(text: str, limit: int) -> str:
    """Text for places Discord shows literally (select options, footers): spaces collapsed,
    invisible format characters removed."""
    return clamp(plain(text), limit)


def _choice(paper: StoredPaper) -> Choice:
    p = paper.paper
    names = _names(paper)
    who = ", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")
    return Choice(
        value=p.id,
        label=_plain(p.title or p.id, 100),
        description=_plain(f"{p.id} · {who}" if who else p.id, 100),
    )


def _digest_name(digest: DigestInfo) -> str:
    return digest_name(digest)


def _date(iso: str | None) -> str:
    parsed = parse_iso(iso)
    return parsed.strftime("%Y-%m-%d") if parsed else "unknown date"


def _venue(paper: StoredPaper) -> str:
    return f"*{safe(paper.paper.venue)}*" if paper.paper.venue else "venue unknown"


# --------------------------------------------------------------------------------- search


def search_card(result: SearchPage, *, ref: str, subscribe: bool = False) -> Card:
    """A page of search results; ``ref`` is the custom_id state of the query (see actions).

    ``subscribe`` adds the "Subscribe this channel" button (the search as a topic alert).
    """
    per = max(result.limit, 1)
    page = result.offset // per
    pages = page_count(result.total, per)
    embed = discord.Embed(title=clamp(f"Search: {safe(result.query)}", EMBED_TITLE), colour=COLOUR)
    embed.set_footer(
        text=_plain(
            f"page {page + 1}/{pages} · {'' if result.total_exact else 'about '}"
            f"{plural(result.total, 'result')} · {result.canonical}",
            200,
        )
    )
    hits = result.hits
    room = EMBED_TOTAL - embed_size(embed) - _MARGIN
    per_hit = room // max(len(hits), 1)
    for rank, hit in enumerate(hits, start=result.offset + 1):
        stored = hit.paper
        name = f"{rank}."
        value_room = min(FIELD_VALUE, per_hit - dlen(name))
        title = _linked_title(stored, max(value_room // 3, 60), bold=True)
        gone = " · gone from the digest folder" if stored.removed else ""
        head = clamp(
            f"{inline_code(stored.id)} · {short_authors(_names(stored))} · {_venue(stored)}{gone}",
            max((value_room - dlen(title)) // 2, 40),
        )
        left = value_room - dlen(title) - dlen(head) - 2
        body = bold_segments(hit.snippet, left) if hit.snippet and left > 20 else ""
        value = "\n".join(part for part in (title, head, body) if part)
        embed.add_field(name=name, value=value, inline=False)
    extra: list[discord.ui.Item[Any]] = [subscribe_button(ref, row=1)] if subscribe else []
    if ref:
        extra.append(follow_search_button(ref, row=1))
    view = paged_view(
        "search",
        page=page,
        pages=pages,
        per=per,
        ref=ref,
        choices=[_choice(h.paper) for h in hits],
        extra=extra,
    )
    return Card(fit_embed(embed), view)


def _linked_title(stored: StoredPaper, limit: int, *, bold: bool = False) -> str:
    """The paper's title (safe Markdown, at most about ``limit``), a masked link to the paper
    when one is known and the link leaves room for the title."""
    text = clamp(safe(stored.paper.title or stored.id), min(limit, FIELD_NAME))
    if bold:
        text = f"**{text}**"
    url = title_url(stored.paper)
    if url is None or dlen(text) + len(url) + 4 > max(limit * 3 // 2, 2 * dlen(text)):
        return text
    return masked(text, url)


def no_results_text(result: SearchPage, *, button: bool = False) -> str:
    """What to say when a query matched nothing: a respelling (``button``: offered as a
    button, see :func:`bot.ui.views.retry_button`), or how to broaden it."""
    shown = inline_code(_plain(result.query, 200))
    if result.suggestion:
        then = "Press the button to search for it." if button else "Run `/search` again with it."
        return f"No papers match {shown}. Did you mean {inline_code(result.suggestion)}? {then}"
    return (
        f"No papers match {shown}. Every word must appear in a paper: try fewer or more "
        "general words, drop an `author:`/`venue:` filter or an exclusion, or check the "
        "spelling. `/help` shows the query language."
    )


# ---------------------------------------------------------------------------------- paper


def paper_card(detail: PaperDetail) -> Card:
    """A paper's card: who, where, links and digests first; then the abstract (cut to a
    readable length, "Full abstract" shows it all) and similar papers."""
    stored = detail.paper
    paper = stored.paper
    embed = discord.Embed(
        title=safe_clamped(paper.title or paper.id, EMBED_TITLE),
        url=title_url(paper),
        colour=GONE_COLOUR if stored.removed else COLOUR,
    )
    names = _names(stored)
    embed.add_field(
        name=f"Authors ({len(names)})" if names else "Authors",
        value=all_authors(names, FIELD_VALUE),
        inline=False,
    )
    embed.add_field(name="Venue", value=clamp(_venue(stored), FIELD_VALUE), inline=True)
    embed.add_field(name="Id", value=inline_code(paper.id), inline=True)
    embed.add_field(name="First seen", value=when(stored.first_seen, "D"), inline=True)
    if stored.digests:
        lines = [
            f"{safe(_digest_name(d))} · indexed {when(d.indexed_at, 'D')}"
            + ("" if d.present else " · file gone")
            for d in stored.digests[:DIGESTS_SHOWN]
        ]
        if len(stored.digests) > DIGESTS_SHOWN:
            lines.append(f"… and {len(stored.digests) - DIGESTS_SHOWN} more")
        embed.add_field(
            name=f"In {plural(len(stored.digests), 'digest')}",
            value=clamp("\n".join(lines), FIELD_VALUE),
            inline=False,
        )
    excerpt, cut = abstract_excerpt(paper.abstract, ABSTRACT_SHOWN)
    embed.add_field(name="Abstract", value=excerpt or "*No abstract in the digest.*", inline=False)
    similar = detail.similar[:SIMILAR_SHOWN]
    if similar:
        embed.add_field(
            name="Similar papers", value=_paper_lines(similar, FIELD_VALUE), inline=False
        )
    if detail.candidates:
        embed.add_field(
            name="Other close titles",
            value=_paper_lines(detail.candidates[:3], FIELD_VALUE),
            inline=False,
        )
    footer = f"/paper {paper.id}"
    if stored.removed:
        footer += " · no longer in the digest folder (kept in the catalogue)"
    embed.set_footer(text=footer)
    items: list[discord.ui.Item[Any]] = [*paper_buttons(paper, row=0)]
    if cut:
        items.append(action_button("Full abstract", "full", paper.id, row=0))
    choices = [_choice(p) for p in (*similar, *detail.candidates[:3])]
    select = open_select("paper", choices, placeholder="Open a similar paper…", row=1)
    if select is not None:
        items.append(select)
    items.append(save_button(paper.id, row=2))
    return Card(fit_embed(embed), view_of(items))


def paper_buttons(paper: Paper, *, row: int) -> list[discord.ui.Item[Any]]:
    """A paper's link buttons and its Cite button, on one row (at most 4 of the 5)."""
    return [*link_buttons(paper, row=row), action_button("Cite", "cite", paper.id, row=row)]


def abstract_excerpt(abstract: str, limit: int) -> tuple[str, bool]:
    """The abstract as safe Markdown, cut at a sentence end (else a word) to about
    ``limit`` characters; and whether it was cut."""
    room = 4 * max(limit, 0) + 64  # a huge abstract costs no more than a short one
    whole = len(abstract) <= room
    text = safe(abstract if whole else cut_text(abstract, room))
    if whole and dlen(text) <= limit:
        return text, False
    head = clamp(text, limit - 2, ellipsis="").rstrip()
    if not head.endswith((".", "?", "!")):
        end = max(head.rfind(mark) for mark in (". ", "? ", "! ", ".\n"))
        if end >= limit * 3 // 5:
            head = head[: end + 1]
    return head + " …", True


def abstract_embeds(stored: StoredPaper) -> list[discord.Embed]:
    """A paper's whole abstract, privately: one embed, or more when it is longer than one
    description (all within the 6,000-character budget of a message)."""
    paper = stored.paper
    title = safe_clamped(paper.title or paper.id, EMBED_TITLE)
    footer = f"/paper {paper.id}"
    budget = EMBED_TOTAL - dlen(title) - dlen(footer) - _MARGIN
    room = 4 * budget + 64  # only what can be shown is escaped (an abstract may be huge)
    text = safe(cut_text(paper.abstract, room)) or "*No abstract in the digest.*"
    if dlen(text) > budget:
        note = f"\n\n*Cut here: `digest-bot paper {paper.id}` prints it whole.*"
        text = clamp(text, budget - dlen(note)) + note
    pieces: list[str] = []
    while text:
        piece = (
            clamp(text, EMBED_DESCRIPTION, ellipsis="") if dlen(text) > EMBED_DESCRIPTION else text
        )
        pieces.append(piece)
        text = text[len(piece) :].strip()
    embeds = [discord.Embed(description=piece, colour=COLOUR) for piece in pieces]
    embeds[0].title = title
    embeds[0].url = title_url(paper)
    embeds[-1].set_footer(text=footer)
    return embeds


def cite_text(stored: StoredPaper) -> str:
    """The ``Cite`` answer: the BibTeX entry in a code block, within one message (a long
    author list ends with ``and others``, and says so)."""
    paper = stored.paper
    year = digest_year(stored.digests)
    fence = "`" * 3
    for keep in (None, 40, 20, 10, 5, 3, 1):
        entry = bibtex.entry(paper, year, max_authors=keep)
        note = ""
        if keep is not None:
            note = (
                f"\nFirst {keep} of {len(paper.authors)} authors, then `and others`; "
                f"`digest-bot export {paper.id}` writes them all."
            )
        text = f"BibTeX for {inline_code(paper.id)}:\n{fence}bibtex\n{entry}\n{fence}{note}"
        if dlen(text) <= MESSAGE_CONTENT:
            return text
    shorter = replace(paper, title=clamp(paper.title, 300))
    entry = bibtex.entry(shorter, year, max_authors=1)
    return clamp(f"{fence}bibtex\n{entry}\n{fence}", MESSAGE_CONTENT)


def _paper_lines(papers: Sequence[StoredPaper], limit: int) -> str:
    lines: list[str] = []
    used = 0
    for sp in papers:
        line = f"{inline_code(sp.id)} {safe(sp.paper.title)}"
        line = clamp(line, max(limit // max(len(papers), 1) - 1, 20))
        if used + dlen(line) + 1 > limit:
            break
        lines.append(line)
        used += dlen(line) + 1
    return "\n".join(lines) or "—"


def not_found_paper_text(typed: str, suggestions: Sequence[str]) -> str:
    """Unknown id or title; ``suggestions`` are autocomplete labels ("Title · id") to offer."""
    shown = inline_code(_plain(typed, 100))
    if suggestions:
        options = "\n".join(f"• {safe_clamped(label, 140)}" for label in suggestions[:3])
        return (
            f"No paper has the id or title {shown}. Did you mean:\n{options}\n"
            "Run `/paper` again and pick a suggestion while you type."
        )
    return (
        f"No paper has the id or title {shown}. Start typing part of a title or an id in "
        "`/paper` and pick one of the suggestions, or use `/search`."
    )


# --------------------------------------------------------------------------------- author


def author_card(profile: AuthorProfile, *, page: int, per: int, ref: str) -> Card:
    # profile.papers starts at paper profile.offset (it may hold just the page asked for)
    count = profile.paper_count
    pages = page_count(count, per)
    page = min(max(page, 0), pages - 1)
    start = max(page * per - profile.offset, 0)
    shown = profile.papers[start : start + per]
    embed = discord.Embed(title=safe_clamped(profile.name, EMBED_TITLE), colour=COLOUR)
    if profile.coauthors:
        embed.add_field(
            name="Frequent co-authors",
            value=_counted(profile.coauthors, FIELD_VALUE),
            inline=False,
        )
    if profile.venues:
        embed.add_field(name="Venues", value=_counted(profile.venues, FIELD_VALUE), inline=False)
    if profile.other_matches:
        others = ", ".join(
            f"{safe(o.display)} ({o.paper_count})" for o in profile.other_matches[:5]
        )
        embed.add_field(
            name="Not this person? Also found", value=clamp(others, FIELD_VALUE), inline=False
        )
    embed.set_footer(text=_plain(f"page {page + 1}/{pages} · {plural(count, 'paper')}", 200))
    room = min(EMBED_DESCRIPTION, EMBED_TOTAL - embed_size(embed) - _MARGIN)
    embed.description = _listing(shown, start=page * per + 1, limit=room)
    view = paged_view(
        "author",
        page=page,
        pages=pages,
        per=per,
        ref=ref,
        choices=[_choice(p) for p in shown],
        extra=[follow_author_button(ref, row=1)] if ref else [],
    )
    return Card(fit_embed(embed), view)


def _counted(items: Sequence[tuple[str, int]], limit: int) -> str:
    parts = [f"{safe(name)} ({count})" for name, count in items]
    out = ""
    for part in parts:
        candidate = f"{out}, {part}" if out else part
        if dlen(candidate) > limit:
            break
        out = candidate
    return out or clamp(parts[0], limit)


def _listing(papers: Sequence[StoredPaper], *, start: int, limit: int) -> str:
    """Numbered lines: title (linked when known) and id, then authors and venue; fits in
    ``limit`` (titles lose their links before anything is cut, so no link is broken)."""
    if not papers:
        return "*No papers.*"
    each = limit // len(papers) - 1
    for links in (True, False):
        blocks: list[str] = []
        for number, sp in enumerate(papers, start=start):
            room = max(each * 2 // 3 - 16, 30)
            shown = _linked_title(sp, room) if links else clamp(safe(sp.paper.title or sp.id), room)
            title = f"**{number}.** {shown} {inline_code(sp.id)}"
            gone = " · gone" if sp.removed else ""
            detail = clamp(
                f"{short_authors(_names(sp))} · {_venue(sp)}{gone}", max(each - dlen(title) - 1, 20)
            )
            blocks.append(f"{title}\n{detail}")
        text = "\n".join(blocks)
        if dlen(text) <= limit:
            return text
    return clamp(text, limit)


def not_found_author_text(typed: str, suggestions: Sequence[str]) -> str:
    shown = inline_code(_plain(typed, 100))
    if suggestions:
        names = ", ".join(safe(s) for s in suggestions[:5])
        return (
            f"No author matches {shown}. Did you mean: {names}? "
            "Run `/author` again and pick a name while you type."
        )
    return (
        f"No author matches {shown}. Type part of a name in `/author` and pick one of the "
        "suggestions (any order; accents and initials don't matter)."
    )


# --------------------------------------------------------------------------------- latest


def latest_card(latest: LatestPage, *, per: int) -> Card:
    digest = latest.digest
    if digest is None:
        embed = discord.Embed(
            title="No digest yet",
            description="The catalogue is empty: add digest files and reindex.",
            colour=GONE_COLOUR,
        )
        return Card(fit_embed(embed))
    page = latest.offset // max(per, 1)
    pages = page_count(latest.total, per)
    embed = discord.Embed(
        title=clamp(f"Latest digest: {safe(_digest_name(digest))}", EMBED_TITLE), colour=COLOUR
    )
    embed.set_footer(
        text=_plain(
            f"page {page + 1}/{pages} · {plural(latest.total, 'paper')} · "
            f"indexed {_date(digest.indexed_at)}",
            300,
        )
    )
    room = min(EMBED_DESCRIPTION, EMBED_TOTAL - embed_size(embed) - _MARGIN)
    embed.description = _listing(latest.papers, start=latest.offset + 1, limit=room)
    view = paged_view(
        "latest",
        page=page,
        pages=pages,
        per=per,
        ref="",
        choices=[_choice(p) for p in latest.papers],
    )
    return Card(fit_embed(embed), view)
