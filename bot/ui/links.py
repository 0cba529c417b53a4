"""Links to papers in Discord: linked titles, and the Abstract / PDF / DOI link buttons.

The targets come from :mod:`bot.core.identifiers`. A title links to the paper's URL, else its
arXiv abstract page, else doi.org; a paper with no identifier gets one link button that
searches its exact title, labelled as a search. Every URL used is at most 512 characters
(Discord's limit for link buttons); one that is longer is not linked. In Markdown, the
characters that would end a masked link early are percent-encoded in the URL and escaped in
the text.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.core import identifiers
from bot.core.models import Paper
from bot.ui.limits import BUTTON_LABEL, clamp_nonempty

URL_MAX = identifiers.URL_MAX
_URL_ESCAPES = {" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E", "[": "%5B",
                "]": "%5D", "`": "%60", "\n": "%0A"}  # fmt: skip
_TEXT_ESCAPES = str.maketrans({"[": "\\[", "]": "\\]"})


def usable(url: str | None) -> str | None:
    """``url`` if Discord can link it (http(s), at most 512 characters), else None."""
    if not url or len(url) > URL_MAX or not url.lower().startswith(("https://", "http://")):
        return None
    return url


def markdown_url(url: str) -> str:
    """A URL safe inside ``[text](url)``: nothing in it can close the link early."""
    return "".join(_URL_ESCAPES.get(c, c) for c in url)


def masked(text: str, url: str | None) -> str:
    """``[text](url)`` (``text`` already Markdown-safe), or just ``text`` without a URL."""
    target = usable(url)
    if target is None or not text.strip():
        return text
    return f"[{text.translate(_TEXT_ESCAPES)}]({markdown_url(target)})"


def title_url(paper: Paper) -> str | None:
    """Where the paper's title links (None when nothing is known or the URL is too long)."""
    return usable(identifiers.title_url(paper.identifiers))


def link_targets(paper: Paper) -> list[tuple[str, str]]:
    """(label, url) of the paper's link buttons: Abstract, PDF, DOI for what is known; else
    one search for its exact title, labelled as a search."""
    ids = paper.identifiers
    out: list[tuple[str, str]] = []
    for label, url in (
        ("Abstract", identifiers.abstract_url(ids)),
        ("PDF", ids.pdf_url),
        ("DOI", identifiers.doi_url(ids.doi) if ids.doi else None),
    ):
        target = usable(url)
        if target is not None:
            out.append((label, target))
    if out or ids:
        return out
    search = identifiers.title_search(paper.title, paper.venue)
    if search is None:
        return []
    return [(f"Search {search.site} for this title", search.url)]


def link_button(label: str, url: str, *, row: int | None = None) -> discord.ui.Button[Any]:
    return discord.ui.Button(
        style=discord.ButtonStyle.link,
        label=clamp_nonempty(label, BUTTON_LABEL),
        url=url,
        row=row,
    )


def link_buttons(
    paper: Paper, *, prefix: str = "", row: int | None = None, limit: int = 3
) -> list[discord.ui.Button[Any]]:
    """The paper's link buttons (``prefix`` numbers them when a message shows several)."""
    return [link_button(prefix + label, url, row=row) for label, url in link_targets(paper)[:limit]]
