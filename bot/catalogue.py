"""The Catalogue: the one facade the CLI and the Discord cogs call.

It owns the database (:class:`~bot.store.db.Database` + :class:`~bot.store.papers.PaperStore`)
and the in-memory search index (:class:`~bot.core.index.Index`). The index is persisted in
``settings.index_dir``, a folder digest-bot owns (:mod:`bot.core.saved_index`; a folder it
may not use is refused before anything is opened), bound to the catalogue state it reflects
(version + stamp, :class:`~bot.core.models.CatalogueState`): :meth:`Catalogue.open`
memory-maps it when it is bound to the database's current state and passes its checks, and
otherwise (missing, another catalogue's, damaged: with a warning) builds it from the store in
a worker thread (the event loop keeps serving) and saves it. Opening also removes the
temporaries of saves killed half-way.

Every change of index is ONE attribute assignment (``self._index = new``): a search running
concurrently uses the old index or the new one, never a mix. :meth:`reindex` updates the index
incrementally from what the ingest reports changed; :meth:`refresh_if_changed` notices a
reindex made by another process (the CLI) and loads that process's saved index, or rebuilds.
A search and a paper lookup (with its store reads, snippets or similar papers) each run in one
trip to a worker thread, so the event loop never stalls (a catalogue built before entries were
bounded may hold megabytes in one abstract); lookups over large indexes run in a worker thread
too; every new index has its lazy lookup caches built in a worker thread before it is swapped
in. Author
profiles and the latest digest are paged in SQL; stats and author aggregates are cached per
catalogue version.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal, TypeVar

from bot.core import identifiers, lookup, rerank, saved_index
from bot.core.index import (
    Index,
    IndexBuilder,
    IndexHit,
    IndexResult,
    SearchEngine,
)
from bot.core.models import (
    AuthorProfile,
    AuthorSummary,
    CatalogueStats,
    Hit,
    LatestPage,
    Paper,
    PaperDetail,
    ProgressFn,
    ReindexReport,
    SearchPage,
    SearchTimings,
    StoredPaper,
    Suggestion,
)
from bot.core.parser import LIMITS
from bot.core.query import ParsedQuery, parse_query
from bot.core.snippet import snippet
from bot.core.text import document_stream
from bot.core.trend import Trend, count_trend
from bot.indexing import INDEX_STAGE, POOL_THRESHOLD, build_index, tokenize_papers
from bot.ingest import IngestResult
from bot.ingest import reindex as ingest_reindex
from bot.settings import INDEX_DIR_HINT, Settings, SettingsError, check_index_dir
from bot.store.alerts import AlertHook
from bot.store.db import Database
from bot.store.papers import PaperStore
from bot.store.trends import TrendStore

log = logging.getLogger(__name__)

# Above this many documents, index work runs in a worker thread (below, inline is faster).
THREAD_THRESHOLD = 50_000
INDEX_BATCH = 5_000  # papers tokenized per worker-thread call while updating the index
# From this many added or updated papers, a reindex rebuilds the index from the store (worker
# processes, bounded memory) instead of updating it with the papers the ingest read.
REBUILD_AT = POOL_THRESHOLD
SIMILAR = 5
AUTHOR_CACHE = 512  # author summaries kept (cleared when full)

# (live papers, all papers, frequent co-authors, venues) of one author
_AuthorSummary = tuple[int, int, tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]

T = TypeVar("T")


class Catalogue:
    """Search, look up and reindex the catalogue (see the module doc)."""

    def __init__(self, settings: Settings, db: Database, index: Index) -> None:
        self.settings = settings
        self.db = db
        self.store = PaperStore(db)
        self._index = index
        self._stamp = ""  # the catalogue stamp the index was built for ("" = unknown)
        self._lock = asyncio.Lock()  # serialises index replacements
        self._stats: CatalogueStats | None = None  # cached for the index's version
        self._authors: dict[tuple[int, str], _AuthorSummary] = {}  # (version, key) -> summary
        self.warm_caches = True  # build an index's lookup caches before swapping it in
        # Told of every reindex this catalogue runs (the bot's metrics).
        self.on_reindex: Callable[[ReindexReport], None] | None = None
        self.on_search: Callable[[SearchTimings], None] | None = None  # each search's parts

    # ---- life cycle -------------------------------------------------------------------------

    @classmethod
    async def open(
        cls, settings: Settings, *, warm: bool = True, progress: ProgressFn | None = None
    ) -> Catalogue:
        """Open the database and load (or build and save) the search index.

        ``warm``: build the index's lookup caches before serving (and after every swap), so
        no lookup builds them on the event loop, and lock it in memory if
        ``INDEX_LOCK_MEMORY`` says so; a one-shot CLI command does without either.
        Raises :class:`~bot.settings.SettingsError` (before anything is opened or created)
        when ``INDEX_DIR`` is a folder digest-bot must not write in.
        ``progress`` is told how a build goes (stage ``"index"``, papers done, total).
        """
        check_index_dir(settings)
        db = await Database.open(Path(settings.database_path))
        try:
            catalogue = cls(settings, db, Index.empty())
            catalogue.warm_caches = warm
            await asyncio.to_thread(prepare_index_dir, settings)
            catalogue._index, catalogue._stamp = await catalogue._load_or_build(progress)
        except BaseException:
            await db.close()
            raise
        return catalogue

    async def close(self) -> None:
        await self.db.close()

    @property
    def index(self) -> Index:
        """The current index (replaced, never mutated)."""
        return self._index

    async def _load_or_build(self, progress: ProgressFn | None = None) -> tuple[Index, str]:
        """The saved index if it is bound to the database's current state and sound, else a
        rebuild; with the stamp it is bound to."""
        state = await self.store.catalogue_state()
        directory = Path(self.settings.index_dir)
        saved = await asyncio.to_thread(Index.saved_info, directory)  # may wait for a switch
        if saved is not None and (saved.version, saved.stamp) == (state.version, state.stamp):
            try:
                index = await asyncio.to_thread(
                    lambda: self._warmed(Index.load(directory, stamp=state.stamp))
                )
                return index, state.stamp
            except (OSError, ValueError) as exc:
                log.warning(
                    "the saved search index in %s cannot be used (%s); rebuilding it from the "
                    "database",
                    directory,
                    exc,
                )
        elif saved is not None:
            log.info(
                "the saved search index in %s is for another catalogue state (version %d); "
                "rebuilding it",
                directory,
                saved.version,
            )
        else:
            other = await asyncio.to_thread(saved_index.info, directory)
            if other is not None:  # saved, but in another format (an older digest-bot's)
                log.info(
                    "the saved search index in %s has another format (%d); rebuilding it",
                    directory,
                    other.format,
                )
        return await self._rebuild(progress)

    async def _rebuild(self, progress: ProgressFn | None = None) -> tuple[Index, str]:
        """Build the index from every stored paper (removed ones left out) and save it."""
        state = await self.store.catalogue_state()
        removed = await self.store.removed_rowids()
        total = (await self.store.stats()).papers
        index = await build_index(
            self.store, state.version, removed=removed, total=total, progress=progress
        )
        return await asyncio.to_thread(self._persist, index, state.stamp), state.stamp

    def _persist(
        self,
        index: Index,
        stamp: str,
        previous: Index | None = None,
        draft: saved_index.Draft | None = None,
    ) -> Index:
        """Save the index bound to ``stamp`` and return it memory-mapped (its pages shared with
        the page cache). An index that cannot be saved is served from memory (with a warning:
        the next start rebuilds it). ``previous``: the index it updates (its warm lookup
        lists are extended, not built again); ``draft``: the generation it was made in."""
        directory = Path(self.settings.index_dir)
        try:
            index.save(directory, stamp=stamp, draft=draft)
            # just written
            index = Index.load(directory, stamp=stamp, verify=False, previous=previous)
        except (OSError, ValueError, saved_index.IndexDirError) as exc:
            log.warning("cannot save the search index in %s: %s", directory, exc)
        return self._warmed(index)

    def _draft(self) -> saved_index.Draft | None:
        """A new generation of the saved index to make an update in, or None when the folder
        cannot take one now (the save then says why)."""
        try:
            return Index.draft(Path(self.settings.index_dir))
        except (OSError, saved_index.IndexDirError):
            return None

    def _warmed(self, index: Index) -> Index:
        """``index`` with its lazy lookup caches built (in a worker thread, before the swap:
        the first lookup after a swap must not build them on the event loop), and locked in
        memory when ``INDEX_LOCK_MEMORY`` asks for it: both for a catalogue that serves."""
        if not self.warm_caches:
            return index
        lookup.warm(index)
        if self.settings.index_lock_memory:
            locked, refused = index.lock_memory()
            if refused is None:
                log.info("search index locked in memory: %.0f MB", locked / 1e6)
            else:
                log.warning(
                    "INDEX_LOCK_MEMORY: %.0f of %.0f MB of the search index locked (%s); raise "
                    "the memory lock limit (ulimit -l, or a container's memlock ulimit) or "
                    "grant CAP_IPC_LOCK; searches go on, their pages may be paged out",
                    locked / 1e6,
                    index.nbytes() / 1e6,
                    refused,
                )
        return index

    async def _call(self, fn: Callable[[], T]) -> T:
        """Run CPU work inline when it is quick (small index), else in a worker thread."""
        if self._index.n_docs >= THREAD_THRESHOLD:
            return await asyncio.to_thread(fn)
        return fn()

    # ---- search -----------------------------------------------------------------------------

    @staticmethod
    def _known_item_hits(
        index: SearchEngine, parsed: ParsedQuery, k: int
    ) -> tuple[IndexResult, list[IndexHit]]:
        """The top ``k`` (at least :data:`~bot.core.rerank.WINDOW`) in known-item order
        (:mod:`bot.core.rerank`: BM25's top WINDOW in tiers, then the rest in BM25 order; the
        window is fetched whatever ``k``, so pages agree). What the order reads of the window
        comes from the index's positions: no store read, no text to tokenize."""
        result = index.search(parsed, max(rerank.WINDOW, k))
        head = result.hits[: rerank.WINDOW]
        features = index.known_item_features([h.docno for h in head], parsed.terms)
        title = index.vocabulary.title
        tiers = rerank.tiers(parsed, features, lambda i: title(head[i].docno))
        return result, rerank.known_item_order(
            parsed, result.hits, tiers, features.abstract_adjacent
        )

    async def search(self, query: str, *, limit: int = 10, offset: int = 0) -> SearchPage:
        """Papers matching ``query`` (raises :class:`~bot.core.query.QueryError`), best first.

        Everything after parsing -- the index's top hits in known-item order, the page's
        papers from the store, their snippets -- runs in one trip to a worker thread (the
        store's synchronous reader saves a second trip to the database's thread).
        """
        clock = time.perf_counter
        started = clock()
        parsed = parse_query(query)
        index: SearchEngine = self._index
        limit = max(0, min(limit, 100))
        offset = max(0, offset)
        marks = _mark_terms(parsed)
        read_papers = self.store.read_papers_at
        parsed_at = clock()

        def answer() -> tuple[IndexResult, tuple[Hit, ...], str | None, float, float]:
            result, hits = self._known_item_hits(index, parsed, offset + limit)
            page = hits[offset : offset + limit]
            ranked_at = clock()
            stored = read_papers([h.docno for h in page]) if page else {}
            fetched_at = clock()
            suggestion = _suggest(index, parsed) if result.total == 0 else None
            made = tuple(
                Hit(sp, h.score, snippet(sp.paper.abstract, marks))
                for h in page
                if (sp := stored.get(h.docno)) is not None
            )
            return result, made, suggestion, ranked_at, fetched_at

        result, made, suggestion, ranked_at, fetched_at = await asyncio.to_thread(answer)
        timings = SearchTimings(
            parse=parsed_at - started,
            index=ranked_at - parsed_at,
            fetch=fetched_at - ranked_at,
            snippets=clock() - fetched_at,
        )
        if self.on_search is not None:
            self.on_search(timings)
        return SearchPage(
            query=query,
            canonical=str(parsed),
            total=result.total,
            offset=offset,
            limit=limit,
            hits=made,
            suggestion=suggestion,
            total_exact=result.exact,
            timings=timings,
        )

    # ---- papers -----------------------------------------------------------------------------

    async def paper(self, id_or_title: str) -> PaperDetail | None:
        """A paper by id (case and reading aids forgiven) or by title (typos allowed).

        Everything -- the id, identifier or title lookup, the store reads and the similar
        papers -- runs in one trip to a worker thread (the store's synchronous reader saves
        the trips to the database's thread).
        """
        text = id_or_title.strip()
        if not text:
            return None
        index: SearchEngine = self._index
        store = self.store

        def answer() -> PaperDetail | None:
            found: StoredPaper | None = None
            docno: int | None = None  # found's, when the lookup gave it
            candidates: tuple[StoredPaper, ...] = ()
            matched_by: Literal["id", "title", "identifier"] = "id"
            if " " not in text and len(text) <= 16:  # the store reads it as an id
                found = next(iter(store.read_papers([text]).values()), None)
            reference = identifiers.parse_reference(text) if found is None else None
            if reference is not None:
                by_reference = store.read_papers_by_identifier(
                    arxiv_id=reference.arxiv_id, doi=reference.doi, url=reference.url
                )
                if by_reference:
                    found, matched_by = by_reference[0], "identifier"
            if found is None:
                matches = lookup.find_titles(index, text, limit=6)
                if not matches or matches[0].score < 50:
                    return None
                best = matches[0]
                close = [m for m in matches[1:] if m.score >= best.score - 10 and best.score < 95]
                # only the papers shown are read (most often the best match alone)
                # by rowid (the index's docno: the primary key, no id normalisation)
                at = store.read_papers_at([best.docno, *(m.docno for m in close)])
                found, docno = at.get(best.docno), best.docno
                if found is None:
                    return None
                matched_by = "title"
                candidates = tuple(at[m.docno] for m in close if m.docno in at)
            return PaperDetail(
                paper=found,
                matched_by=matched_by,
                similar=_similar(index, store, found, docno),
                candidates=candidates,
            )

        return await asyncio.to_thread(answer)

    async def export(
        self, query: str | None = None, *, batch_size: int = 1000
    ) -> AsyncIterator[list[StoredPaper]]:
        """The papers matching ``query`` (best first), or every paper not removed (by when
        the catalogue first saw them) when there is none, in batches. A query that cannot be
        understood raises :class:`~bot.core.query.QueryError` before the first batch."""
        if query is None or not query.strip():
            async for batch in self.store.stored_batches(batch_size):
                yield batch
            return
        parsed = parse_query(query)
        index: SearchEngine = self._index
        k = max(index.n_docs, 1)
        _, hits = await self._call(lambda: self._known_item_hits(index, parsed, k))
        ids = [hit.paper_id for hit in hits]  # in /search's order
        for start in range(0, len(ids), max(1, batch_size)):
            chunk = ids[start : start + max(1, batch_size)]
            found = await self.store.get_papers(chunk)
            yield [found[i] for i in chunk if i in found]

    # ---- authors ----------------------------------------------------------------------------

    async def author(
        self, name: str, *, offset: int = 0, limit: int | None = None
    ) -> AuthorProfile | None:
        """An author by name in any order, case, accents or initials (spelling forgiven).

        The profile holds the page ``offset`` / ``limit`` of the author's papers (None: every
        paper) and their total count; co-authors and venues are counted in SQL.
        """
        index: SearchEngine = self._index
        matches = await self._call(lambda: lookup.find_authors(index, name, limit=10))
        matches = [m for m in matches if m.papers > 0]
        if not matches:
            return None
        best = matches[0]
        summary = await self._author_summary(best.key, index.version)
        live, every, coauthors, venues = summary
        live_only = 0 < live < every  # an author whose papers are all removed shows them all
        offset = max(0, offset)
        papers = await self.store.papers_by_author(
            best.key, limit=limit, offset=offset, live_only=live_only
        )
        return AuthorProfile(
            key=best.key,
            name=best.display,
            papers=tuple(papers),
            coauthors=tuple(coauthors),
            venues=tuple(venues),
            other_matches=tuple(AuthorSummary(m.key, m.display, m.papers) for m in matches[1:6]),
            total=live if live_only else every,
            offset=offset,
        )

    async def _author_summary(self, key: str, version: int) -> _AuthorSummary:
        """Paper counts, co-authors and venues of an author (SQL aggregates), cached for the
        catalogue version: paging through an author's papers recounts nothing."""
        cache_key = (version, key)
        found = self._authors.get(cache_key)
        if found is not None:
            return found
        live, every = await self.store.author_paper_counts(key)
        live_only = 0 < live < every
        coauthors = await self.store.author_coauthors(key, 10, live_only=live_only)
        venues = await self.store.author_venues(key, 10, live_only=live_only)
        summary = (live, every, tuple(coauthors), tuple(venues))
        if version == self._index.version:
            if len(self._authors) >= AUTHOR_CACHE:
                self._authors.clear()
            self._authors[cache_key] = summary
        return summary

    # ---- autocomplete -----------------------------------------------------------------------

    async def suggest_papers(self, prefix: str, limit: int = 25) -> list[Suggestion]:
        index: SearchEngine = self._index
        return await self._call(lambda: lookup.suggest_papers(index, prefix, limit))

    async def suggest_authors(self, prefix: str, limit: int = 25) -> list[Suggestion]:
        index: SearchEngine = self._index
        return await self._call(lambda: lookup.suggest_authors(index, prefix, limit))

    # ---- browsing and stats -----------------------------------------------------------------

    async def latest(self, offset: int = 0, limit: int = 10) -> LatestPage:
        """A page of the latest digest's papers, in file order."""
        digest = await self.store.latest_digest()
        if digest is None:
            return LatestPage(None, (), 0, 0)
        offset = max(0, offset)
        total = await self.store.digest_paper_count(digest.path)
        papers = await self.store.digest_papers(digest.path, offset, max(0, limit))
        return LatestPage(digest, tuple(papers), total, offset)

    async def stats(self) -> CatalogueStats:
        """Catalogue counts (cached per catalogue version; reindexing refreshes them)."""
        cached = self._stats
        if cached is not None and cached.version == self._index.version:
            return cached
        stats = await self.store.stats()
        self._stats = stats if stats.version == self._index.version else None
        return stats

    async def trend(self, query: str) -> Trend:
        """How many papers matching ``query`` (raises :class:`~bot.core.query.QueryError`)
        each digest holds, by digest date, and their top venues: over EVERY match."""
        parsed = parse_query(query)
        index: SearchEngine = self._index
        # every match, unscored: a count needs neither scores nor an order
        docnos = (await self._call(lambda: index.matches(parsed))).tolist()
        store = TrendStore(self.db)
        counts = await store.digest_counts(docnos) if docnos else []
        venues = await store.venue_counts(docnos) if docnos else []
        return count_trend(await store.digests(), counts, venues, papers=len(docnos))

    async def digest_trend(self) -> Trend:
        """The papers of each digest, by digest date (the /stats chart)."""
        store = TrendStore(self.db)
        papers = (await self.stats()).papers
        return count_trend(await store.digests(), await store.digest_sizes(), papers=papers)

    # ---- changes ----------------------------------------------------------------------------

    async def reindex(
        self,
        *,
        alert_hook: AlertHook | None = None,
        progress: ProgressFn | None = None,
        force: bool = False,
    ) -> ReindexReport:
        """Reindex the digest folder, then update the index, save it and swap it in.

        ``progress`` hears the ingest's stages, then ``"index"`` (papers indexed, total); the
        report's ``duration_s`` covers both.
        """
        started = time.perf_counter()
        async with self._lock:
            before = self._index.version
            result = await ingest_reindex(
                self.db,
                Path(self.settings.digest_dir),
                alert_hook=alert_hook,
                progress=progress,
                force=force,
                max_bytes=self.settings.max_digest_bytes,
                follow_symlinks=self.settings.follow_symlinks,
            )
            report = result.report
            if result.unlisted or len(result.changed) >= REBUILD_AT:
                # Most of a large catalogue changed (a first reindex): rebuild from the
                # store, without holding every parsed paper meanwhile.
                version = result.version
                del result
                if version != self._index.version:
                    self._index, self._stamp = await self._rebuild(progress)
            else:
                await self._apply(result, before, progress)
                del result
            self._stats = None
            self._authors.clear()
            report = replace(report, duration_s=time.perf_counter() - started)
            if self.on_reindex is not None:
                self.on_reindex(report)
            return report

    async def _apply(
        self, result: IngestResult, before: int, progress: ProgressFn | None = None
    ) -> None:
        if result.version == self._index.version:
            return
        if not (result.changed or result.removed or result.restored) or before != (
            result.version - 1
        ):
            # nothing to index, or someone else changed the catalogue in between: rebuild
            if result.changed or result.removed or result.restored or before != result.version:
                self._index, self._stamp = await self._rebuild(progress)
            return
        index = self._index
        restored: list[tuple[int, Paper]] = []
        if result.restored:
            ids = [index.paper_id(d) for d in result.restored if d <= index.max_docno]
            found = await self.store.get_papers(ids)
            restored = [(d, found[index.paper_id(d)].paper) for d in result.restored
                        if d <= index.max_docno and index.paper_id(d) in found]  # fmt: skip
            if len(restored) != len(result.restored):
                self._index, self._stamp = await self._rebuild(progress)
                return
        changed = sorted([*result.changed, *restored], key=lambda x: x[0])
        removed = list(result.removed)
        state = await self.store.catalogue_state()
        # the stamp of result.version, unless another process changed the catalogue since
        stamp = state.stamp if state.version == result.version else ""
        # What Index.updated does, fed in batches so that progress can be told.
        builder = IndexBuilder(base=index)
        for start in range(0, len(changed), INDEX_BATCH):
            part = changed[start : start + INDEX_BATCH]
            await asyncio.to_thread(_add_papers, builder, part)
            if progress is not None:
                progress(INDEX_STAGE, min(start + INDEX_BATCH, len(changed)), len(changed))

        def update() -> Index:
            if not stamp:
                return self._warmed(builder.finish(result.version, removed=removed))
            draft = self._draft()
            try:
                new = builder.finish(result.version, removed=removed, draft=draft)
            except BaseException:
                if draft is not None:
                    draft.abandon()
                raise
            return self._persist(new, stamp, index, draft)

        self._index, self._stamp = await asyncio.to_thread(update), stamp

    async def refresh_if_changed(self) -> bool:
        """Reload the index if another process changed the catalogue; True if it did."""
        async with self._lock:
            state = await self.store.catalogue_state()
            if (state.version, state.stamp) == (self._index.version, self._stamp):
                return False
            self._index, self._stamp = await self._load_or_build()
            self._stats = None
            self._authors.clear()
            return True


def _add_papers(builder: IndexBuilder, papers: Sequence[tuple[int, Paper]]) -> None:
    builder.add_batch(tokenize_papers(papers))


def _similar(
    index: SearchEngine, store: PaperStore, stored: StoredPaper, docno: int | None = None
) -> tuple[StoredPaper, ...]:
    """The papers like ``stored`` (index, then the store's synchronous reader: call it in a
    worker thread); ``docno``: its docno when known (its rowid), else looked up by id."""
    if docno is None:
        docno = index.docno_of(stored.paper.id)
        if docno is None:
            return ()
    p = stored.paper
    # an abstract stored before entries were bounded is read up to the bound
    terms, _ = document_stream(
        p.title, p.abstract[: LIMITS.abstract], [a.display for a in p.authors], p.venue
    )
    hits = index.similar(docno, terms, SIMILAR)
    found = store.read_papers_at([h.docno for h in hits]) if hits else {}  # by rowid (docno)
    return tuple(found[h.docno] for h in hits if h.docno in found)


def _mark_terms(parsed: ParsedQuery) -> tuple[str, ...]:
    return parsed.required_terms


def _suggest(index: SearchEngine, parsed: ParsedQuery) -> str | None:
    suggestion = lookup.did_you_mean(index, parsed)
    if suggestion is None:
        return None
    try:
        again = parse_query(suggestion)
    except ValueError:
        return None
    return suggestion if index.search(again, 1).total > 0 else None


def prepare_index_dir(settings: Settings) -> None:
    """Make ``INDEX_DIR`` digest-bot's (create and mark it) and remove what killed saves left.

    Raises :class:`~bot.settings.SettingsError` when the folder is not digest-bot's to use;
    a folder that cannot be created or written only costs a warning (the index is then kept
    in memory and rebuilt at every start).
    """
    directory = Path(settings.index_dir)
    try:
        saved_index.claim(directory)
        for path in saved_index.clean(directory):
            log.info("removed %s, left by an interrupted save of the search index", path)
    except saved_index.IndexDirError as exc:
        raise SettingsError(f"INDEX_DIR {exc}: {INDEX_DIR_HINT}") from None
    except OSError as exc:
        log.warning("cannot use INDEX_DIR %s: %s", directory, exc)
