"""Snippets: the part of an abstract around the matched terms, with those terms marked.

A snippet is a tuple of :class:`Segment` — plain text and matched words, in order — so the
Discord layer escapes each segment's text and bolds the matched ones: escaping the paper's
Markdown and marking the terms can never get in each other's way.

A snippet reads at most :data:`SCAN_CHARS` characters from the start of the abstract, so its
cost is bounded whatever the abstract's length (the parser bounds new abstracts, but a
catalogue built before that may hold longer ones): a match beyond the bound is not marked.
"""

from __future__ import annotations

from collections.abc import Collection

from bot.core.models import Segment
from bot.core.text import cut_text, nfc, normalise_space, term_spans

__all__ = ["ELLIPSIS", "SCAN_CHARS", "Segment", "render", "snippet"]

ELLIPSIS = "…"
# Characters of an abstract a snippet reads, at most (real abstracts: a few thousand).
SCAN_CHARS = 30_000


def snippet(text: str, terms: Collection[str], width: int = 280) -> tuple[Segment, ...]:
    """About ``width`` characters of ``text`` around the words that yield any of ``terms``.

    The window is the one holding the most distinct matched terms (then the most matches),
    starting at a sentence or word boundary; cut ends get an ellipsis. Without a match, the
    start of the text. Only the first :data:`SCAN_CHARS` characters (at least ``2 * width``)
    are read: time and memory are O(that), not O(``len(text)``).
    """
    scan = max(SCAN_CHARS, 2 * width)
    more = len(text) > scan  # the text goes on beyond what is read
    if more:
        text = cut_text(text, scan)
    if not text.isascii():
        text = nfc(normalise_space(text))
    elif not _single_spaced(text):
        text = normalise_space(text)
    if not text:
        return ()
    hits: list[tuple[int, int]] = []
    hit_terms: list[frozenset[str]] = []
    for s, e, found in term_spans(text, frozenset(terms)):
        if not (more and e == len(text)):  # a last word may be cut short
            hits.append((s, e))
            hit_terms.append(found)
    if len(text) <= width:
        start, end = 0, len(text)
    elif not hits:
        start, end = 0, _cut_end(text, width)
    else:
        best = (-1, -1, 0)
        best_i = best_j = 0
        j = 0
        for i, (s, _) in enumerate(hits):
            while j < len(hits) and hits[j][1] - s <= width:
                j += 1
            distinct = len(frozenset().union(*hit_terms[i:j]))
            key = (distinct, j - i, -s)
            if key > best:
                best = key
                best_i, best_j = i, j
        first_s = hits[best_i][0]
        last_e = hits[best_j - 1][1]
        slack = max(0, width - (last_e - first_s))
        start = _cut_start(text, max(0, first_s - slack // 3), first_s)
        end = _cut_end(text, start + width) if start + width < len(text) else len(text)
        end = max(end, min(len(text), last_e))
    return _segments(text, start, end, hits, more)


def _single_spaced(ascii: str) -> bool:
    """Whether :func:`normalise_space` leaves ``ascii`` as it is (C-level checks: ASCII white
    space other than the space is unprintable)."""
    return ascii.isprintable() and "  " not in ascii and ascii[:1] != " " and ascii[-1:] != " "


def _cut_start(text: str, lo: int, first_hit: int) -> int:
    """A start at or after ``lo`` and before the first hit: a sentence start if near."""
    sentence = text.rfind(". ", lo, first_hit)
    if sentence != -1:
        return sentence + 2
    if lo == 0:
        return 0
    space = text.find(" ", lo, first_hit)
    return space + 1 if space != -1 else lo


def _cut_end(text: str, hi: int) -> int:
    if hi >= len(text):
        return len(text)
    space = text.rfind(" ", 0, hi)
    return space if space > 0 else hi


def _segments(
    text: str, start: int, end: int, hits: list[tuple[int, int]], more: bool = False
) -> tuple[Segment, ...]:
    out: list[Segment] = []
    plain = ELLIPSIS if start > 0 else ""
    cursor = start
    for s, e in hits:
        if s < start or e > end:
            continue
        plain += text[cursor:s]
        if plain:
            out.append(Segment(plain))
        out.append(Segment(text[s:e], True))
        plain = ""
        cursor = e
    plain += text[cursor:end]
    if end < len(text) or more:
        plain = plain.rstrip() + " " + ELLIPSIS if plain.strip() else " " + ELLIPSIS
    if plain:
        out.append(Segment(plain))
    return tuple(out)


def render(segments: tuple[Segment, ...], mark: str = "**") -> str:
    """Plain rendering with matches wrapped in ``mark`` (the CLI's; Discord escapes first)."""
    return "".join(f"{mark}{s.text}{mark}" if s.match else s.text for s in segments)
