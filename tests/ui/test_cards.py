"""The search card's footer: page, count (estimated counts say "about") and the query."""

from __future__ import annotations

from bot.core.models import Author, Hit, Paper, SearchPage, Segment, StoredPaper
from bot.ui.cards import search_card


def _page(total_exact: bool) -> SearchPage:
    paper = Paper(
        id="8t72zh2v",
        key="k",
        title="Understanding **Scaling** Laws",
        authors=(Author("Zihan Yao", "Yao", "Zihan", "zihan yao"),),
        authors_raw="Yao, Zihan",
        venue="arXiv.org Machine Learning",
        abstract="Scaling laws predict gains.",
    )
    stored = StoredPaper(paper=paper, first_seen="2026-11-28T00:00:00Z")
    hit = Hit(paper=stored, score=1.5, snippet=(Segment("Scaling", True), Segment(" laws")))
    return SearchPage(
        query="scaling",
        canonical="scaling",
        total=12_000,
        offset=0,
        limit=5,
        hits=(hit,),
        total_exact=total_exact,
    )


def test_footer_says_about_for_estimated_totals() -> None:
    exact = search_card(_page(True), ref="=scaling").embed
    estimated = search_card(_page(False), ref="=scaling").embed
    assert exact.footer.text is not None and estimated.footer.text is not None
    assert "12,000 results" in exact.footer.text and "about" not in exact.footer.text
    assert "about 12,000 results" in estimated.footer.text
