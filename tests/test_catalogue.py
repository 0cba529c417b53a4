"""The Catalogue facade on a real SQLite database and the seed digest."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.catalogue import Catalogue
from bot.core.index import Index
from bot.core.query import QueryError
from bot.settings import Settings

EXTRA = """Header


Scaling Laws Revisited for Chemistry

Müller, Thomas, Barbier, Jean

Neural Information Processing Systems

We revisit scaling laws for molecular chemistry models and report stable training.
"""


@pytest.fixture
def settings(tmp_path: Path, seed_path: Path) -> Settings:
    digests = tmp_path / "digests"
    digests.mkdir()
    shutil.copy(seed_path, digests / seed_path.name)
    return Settings(
        digest_dir=digests, database_path=tmp_path / "db.sqlite", index_dir=tmp_path / "index"
    )


async def _opened(settings: Settings) -> Catalogue:
    catalogue = await Catalogue.open(settings)
    await catalogue.reindex()
    return catalogue


async def test_search_page(settings: Settings) -> None:
    catalogue = await _opened(settings)
    try:
        page = await catalogue.search("scaling laws")
        assert page.total == 2 and len(page.hits) == 2
        assert page.hits[0].paper.paper.title.startswith("Understanding Scaling Laws")
        assert page.hits[0].score >= page.hits[1].score > 0
        assert any(s.match for s in page.hits[0].snippet)
        assert page.canonical == "scaling laws" and not page.has_more
        second = await catalogue.search("scaling laws", limit=1, offset=1)
        assert second.hits[0].paper.id == page.hits[1].paper.id and not second.has_more
        empty = await catalogue.search("scalling lwas")
        assert empty.total == 0 and empty.suggestion == "scaling laws"
        with pytest.raises(QueryError):
            await catalogue.search('"unbalanced')
    finally:
        await catalogue.close()


async def test_paper_author_latest_stats(settings: Settings) -> None:
    catalogue = await _opened(settings)
    try:
        by_title = await catalogue.paper("scalling laws feature learnig dynamics")
        assert by_title is not None and by_title.matched_by == "title"
        first = by_title.paper
        assert first.paper.title.startswith("Understanding Scaling Laws")
        assert first.id not in {s.id for s in by_title.similar} and by_title.similar
        by_id = await catalogue.paper(first.id.upper())
        assert by_id is not None and by_id.matched_by == "id" and by_id.paper.id == first.id
        assert await catalogue.paper("qqqq zzzz xxxx") is None
        author = await catalogue.author("Yao, Zihan")
        assert author is not None and author.name == "Zihan Yao"
        assert [p.id for p in author.papers] == [first.id]
        assert ("Ruoyu Wu", 1) in author.coauthors
        assert author.venues == (("arXiv.org Machine Learning", 1),)
        assert await catalogue.author("Nobody Atall") is None
        latest = await catalogue.latest(0, 3)
        assert latest.total == 8 and len(latest.papers) == 3 and latest.digest is not None
        stats = await catalogue.stats()
        assert stats.papers == 8 and stats.version == catalogue.index.version
        assert (await catalogue.suggest_papers("scal"))[0].value
        assert (await catalogue.suggest_authors("barb"))[0].value == "Jean Barbier"
    finally:
        await catalogue.close()


async def test_reindex_swaps_index_and_persists(settings: Settings) -> None:
    catalogue = await _opened(settings)
    try:
        old = catalogue.index
        assert (await catalogue.search("chemistry")).total == 1
        (Path(settings.digest_dir) / "001_extra.txt").write_text(EXTRA, encoding="utf-8")
        # searches running while the reindex happens see a whole index, old or new
        searches = [catalogue.search("chemistry") for _ in range(5)]
        report, pages = await asyncio.gather(catalogue.reindex(), asyncio.gather(*searches))
        assert report.added == 1
        assert all(p.total in (1, 2) for p in pages)
        assert catalogue.index is not old and catalogue.index.n_docs == 9
        page = await catalogue.search("chemistry author:barbier")
        assert page.total == 1 and page.hits[0].paper.paper.title.startswith("Scaling Laws Rev")
        assert Index.saved_version(settings.index_dir) == catalogue.index.version
    finally:
        await catalogue.close()
    # a new process loads the saved index instead of rebuilding it
    again = await Catalogue.open(settings)
    try:
        assert again.index.n_docs == 9
        assert (await again.search("venue:neurips chemistry")).total == 1
    finally:
        await again.close()


async def test_refresh_after_another_process_reindexed(settings: Settings) -> None:
    bot_side = await _opened(settings)
    try:
        assert await bot_side.refresh_if_changed() is False
        (Path(settings.digest_dir) / "001_extra.txt").write_text(EXTRA, encoding="utf-8")
        cli_side = await Catalogue.open(settings)
        try:
            await cli_side.reindex()
        finally:
            await cli_side.close()
        assert await bot_side.refresh_if_changed() is True
        assert bot_side.index.n_docs == 9
    finally:
        await bot_side.close()


async def test_removed_digest_drops_its_papers_from_search(settings: Settings) -> None:
    catalogue = await _opened(settings)
    try:
        extra = Path(settings.digest_dir) / "001_extra.txt"
        extra.write_text(EXTRA, encoding="utf-8")
        await catalogue.reindex()
        assert (await catalogue.search("molecular")).total == 1
        extra.unlink()
        await catalogue.reindex()
        assert (await catalogue.search("molecular")).total == 0
        assert (await catalogue.search("scaling laws")).total == 2
    finally:
        await catalogue.close()


async def test_index_built_on_open_when_missing(settings: Settings) -> None:
    catalogue = await _opened(settings)
    await catalogue.close()
    shutil.rmtree(settings.index_dir)
    again = await Catalogue.open(settings)
    try:
        assert again.index.n_docs == 8
        assert Index.saved_version(settings.index_dir) == again.index.version
    finally:
        await again.close()


async def test_reindex_by_another_process_saves_the_index_the_bot_then_loads(
    settings: Settings,
) -> None:
    """The CLI reindexes through its own Catalogue: the index it saves is what a running
    bot's refresh loads (no rebuild)."""
    bot_side = await _opened(settings)
    try:
        (Path(settings.digest_dir) / "001_extra.txt").write_text(EXTRA, encoding="utf-8")
        cli_side = await Catalogue.open(settings, warm=False)
        try:
            report = await cli_side.reindex()
            version = cli_side.index.version
        finally:
            await cli_side.close()
        assert report.added == 1
        assert Index.saved_version(settings.index_dir) == version
        assert await bot_side.refresh_if_changed()
        assert bot_side.index.version == version
        assert (await bot_side.search("molecular chemistry")).total == 1
    finally:
        await bot_side.close()


async def test_reindex_reports_the_index_build_as_progress(settings: Settings) -> None:
    seen: list[tuple[str, int, int]] = []
    catalogue = await Catalogue.open(settings, progress=lambda *a: seen.append(a))
    try:
        assert [s for s in seen if s[0] == "index"] == []  # an empty catalogue: nothing built
        await catalogue.reindex(progress=lambda *a: seen.append(a))
        assert [s for s in seen if s[0] == "index"][-1] == ("index", 8, 8)
    finally:
        await catalogue.close()
    shutil.rmtree(settings.index_dir)
    seen.clear()
    again = await Catalogue.open(settings, progress=lambda *a: seen.append(a))
    await again.close()
    assert seen == [("index", 8, 8)]  # a rebuild on open reports too


async def test_author_pages_and_cached_stats(settings: Settings) -> None:
    catalogue = await _opened(settings)
    try:
        whole = await catalogue.author("Yao, Zihan")
        assert whole is not None and whole.paper_count == len(whole.papers) == 1
        page = await catalogue.author("Yao, Zihan", offset=0, limit=0)
        assert page is not None and page.papers == () and page.paper_count == 1
        assert page.coauthors == whole.coauthors and page.venues == whole.venues
        past = await catalogue.author("Yao, Zihan", offset=5, limit=5)
        assert past is not None and past.papers == () and past.offset == 5
        assert past.paper_count == 1

        stats = await catalogue.stats()
        assert await catalogue.stats() is stats  # cached for this version
        (Path(settings.digest_dir) / "001_extra.txt").write_text(EXTRA, encoding="utf-8")
        await catalogue.reindex()
        fresh = await catalogue.stats()
        assert fresh.papers == stats.papers + 1 and fresh.version == catalogue.index.version
    finally:
        await catalogue.close()


def test_suggest_authors_ranked_like_a_full_sort(seed_path: Path) -> None:
    from bot.core import lookup
    from bot.core.parser import parse_digest
    from bot.core.query import author_query_words, name_words

    papers = parse_digest(seed_path.read_bytes(), "seed.txt").papers
    index = Index.from_papers(list(enumerate(papers)))
    lookup.warm(index)
    names = index.author_names()
    for prefix in ("j", "ji", "wu", "t", "zhang"):
        got = lookup.suggest_authors(index, prefix)
        words = author_query_words(prefix)
        expected = sorted(
            (-index.author_paper_count(a), names[a])
            for a in range(index.n_authors)
            if index.author_paper_count(a) > 0
            and any(w.startswith(words[-1]) for w in name_words(names[a]))
        )
        shown = list(dict.fromkeys(n for _, n in expected))[: lookup.MAX_CHOICES]
        assert [c.value for c in got] == shown and (shown or prefix == "zhang"), prefix


HUGE_TITLE = "Molecular Chemistry With an Enormous Abstract"


def _huge_entry(abstract_chars: int) -> str:
    sentence = "Enormous abstracts repeat themselves about graphs and their spectra. "
    abstract = (sentence * (abstract_chars // len(sentence) + 1))[:abstract_chars].strip()
    return (
        f"\u00a0Huge County\n\n\n{HUGE_TITLE}\n\nMüller, Thomas\n\n"
        f"Neural Information Processing Systems\n\nMolecular chemistry first. {abstract}\n"
    )


async def test_a_catalogue_built_before_the_bounds_still_answers_and_a_reindex_cuts_it(
    settings: Settings,
) -> None:
    from bot.core import parser
    from bot.core.parser import LIMITS, EntryLimits
    from bot.core.snippet import ELLIPSIS

    (Path(settings.digest_dir) / "001_huge.txt").write_text(
        _huge_entry(2_000_000), encoding="utf-8"
    )
    with pytest.MonkeyPatch.context() as patch:  # indexed as before entries were bounded
        patch.setattr(parser, "LIMITS", EntryLimits(abstract=10**9, line=10**9))
        catalogue = await _opened(settings)
    try:
        page = await catalogue.search("molecular chemistry graphs")
        (hit,) = page.hits
        assert len(hit.paper.paper.abstract) > 2_000_000
        text = "".join(s.text for s in hit.snippet)
        assert [s.text for s in hit.snippet if s.match][:2] == ["Molecular", "chemistry"]
        assert text.endswith(ELLIPSIS) and len(text) < 400
        detail = await catalogue.paper(hit.paper.id)
        assert detail is not None and detail.similar  # terms from the abstract's start

        report = await catalogue.reindex(force=True)
        (warning,) = [d for d in report.diagnostics if d.file == "001_huge.txt"]
        assert str(warning).startswith("001_huge.txt:10: warning: abstract has ")
        assert "entry kept" in warning.message and report.updated == 1
        again = (await catalogue.search("molecular chemistry")).hits[0].paper
        assert again.id == hit.paper.id and len(again.paper.abstract) <= LIMITS.abstract
    finally:
        await catalogue.close()


async def test_a_typed_id_finds_the_same_paper_in_paper_and_its_autocomplete(
    settings: Settings,
) -> None:
    """`/paper <id>` (the store's lookup) and its autocomplete read a typed id the same way:
    case, Crockford's reading aids and hyphens forgiven."""
    catalogue = await _opened(settings)
    try:
        for stored in (await catalogue.latest(0, 10)).papers:
            pid = stored.id
            reading = pid.upper().replace("0", "O").replace("1", "l")
            for typed in (pid, f" {pid.upper()} ", f"{pid[:4]}-{pid[4:]}".upper(), reading):
                found = await catalogue.paper(typed)
                assert found is not None and found.matched_by == "id", typed
                assert found.paper.id == pid, typed
                suggested = await catalogue.suggest_papers(typed)
                assert suggested and suggested[0].value == pid, typed
    finally:
        await catalogue.close()


async def test_index_lock_memory_locks_each_index_or_says_why_not(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """INDEX_LOCK_MEMORY=1: every index swapped in is locked in memory, or a warning says how
    much was and what to raise; searches answer either way."""
    import ctypes
    import errno

    import bot.core.pages as pages_module

    locking = replace(settings, index_lock_memory=True)
    with caplog.at_level(logging.INFO, logger="bot.catalogue"):
        catalogue = await _opened(locking)
        try:
            assert (await catalogue.search("scaling laws")).total > 0
        finally:
            await catalogue.close()
    said = [r.getMessage() for r in caplog.records]
    assert any(m.startswith(("search index locked in memory", "INDEX_LOCK_MEMORY")) for m in said)

    def refuse(address: int, size: int) -> int:
        ctypes.set_errno(errno.EPERM)
        return -1

    monkeypatch.setattr(pages_module, "_MLOCK", refuse)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.catalogue"):
        catalogue = await Catalogue.open(locking)
        try:
            assert (await catalogue.search("scaling laws")).total > 0
        finally:
            await catalogue.close()
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warned and "ulimit -l" in warned[0].getMessage()
    assert os.strerror(errno.EPERM) in warned[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.catalogue"):  # off: nothing locked or said
        catalogue = await Catalogue.open(settings)
        await catalogue.close()
        # a one-shot command (no warm-up) does not lock either: it would only pay for it
        catalogue = await Catalogue.open(locking, warm=False)
        await catalogue.close()
    assert not any("lock" in r.getMessage() for r in caplog.records)
