"""The :class:`Index`: one immutable index version, its parts put together.

Each method hands over to the part that does the work: :class:`~.data.IndexData` (arrays,
postings, idf), :class:`~.search.Searcher` (queries), :class:`~.vocabularies.Vocabularies`
(names, for lookups), :mod:`~.scoring`, :mod:`~.persist` and the :class:`~.builder.ArrayBuilder`
behind :class:`IndexBuilder`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.core import pages, saved_index
from bot.core.index import persist, scoring
from bot.core.index.arrays import F64, I64, Alloc, AnyArray
from bot.core.index.builder import ArrayBuilder
from bot.core.index.data import IndexData
from bot.core.index.known_item import KnownItemFeatures, known_item_features
from bot.core.index.models import IndexDoc, IndexHit, IndexResult, index_doc
from bot.core.index.plan import Filters
from bot.core.index.search import Mode, Searcher
from bot.core.index.tokens import DocBatch
from bot.core.index.vocabularies import Vocabularies
from bot.core.models import Paper
from bot.core.query import ParsedQuery


class Index:
    """An immutable BM25 index (see :mod:`bot.core.index`). Build with :meth:`build`."""

    _ARRAYS = persist.ARRAYS  # the arrays saved and loaded

    def __init__(
        self,
        arrays: Mapping[str, AnyArray],
        meta: Mapping[str, Any],
        *,
        previous: Index | None = None,
    ) -> None:
        """``previous``: the index this one updates (its built name lists are extended
        rather than built again; see :class:`~.vocabularies.Vocabularies`)."""
        self._data = IndexData(arrays, meta)
        self.version: int = self._data.version
        before: Vocabularies | None = None if previous is None else previous.vocabulary
        self._vocabulary: Vocabularies = Vocabularies(self._data, before)
        self._searcher = Searcher(self._data, Filters(self._data, self._vocabulary))

    @property
    def _a(self) -> Mapping[str, AnyArray]:
        """The arrays (tests compare them)."""
        return self._data.arrays

    @property
    def _meta(self) -> Mapping[str, Any]:
        return self._data.meta

    # ---- size and documents ---------------------------------------------------------------

    @property
    def n_docs(self) -> int:
        """Live documents (rank-bm25's corpus size)."""
        return self._data.n_docs

    @property
    def avgdl(self) -> float:
        return self._data.avgdl

    @property
    def max_docno(self) -> int:
        return len(self._data.alive) - 1

    def nbytes(self) -> int:
        """Bytes held by the index arrays (memory-mapped ones included)."""
        return self._data.nbytes()

    def docnos(self) -> I64:
        """Live docnos, ascending."""
        return self._data.docnos()

    def is_live(self, docno: int) -> bool:
        return self._data.is_live(docno)

    def paper_id(self, docno: int) -> str:
        return self._data.paper_id(docno)

    def docno_of(self, paper_id: str) -> int | None:
        """The docno of a paper id (live or not), or None."""
        return self._vocabulary.docno_of(paper_id)

    def title(self, docno: int) -> str:
        return self._data.title(docno)

    # ---- terms ----------------------------------------------------------------------------

    def term(self, tid: int) -> str:
        return self._data.terms.word(tid)

    def doc_freq(self, term: str) -> int:
        """How many live documents contain ``term`` (a pipeline term, e.g. "scale")."""
        return self._data.doc_freq(term)

    def doc_freqs(self) -> I64:
        """The document frequency of every term, by term id (see :meth:`term`)."""
        out: I64 = np.diff(self._data.ptr)
        return out

    def idf(self, term: str) -> float:
        """rank-bm25's idf of a term (0 for unknown terms, as its ``idf.get(q) or 0``)."""
        tid = self._data.term_id(term)
        return 0.0 if tid is None else self._data.idf(tid)

    def average_idf(self) -> float:
        """rank-bm25's ``average_idf``: mean raw idf over the corpus's terms, summed in order."""
        return self._data.average_idf()

    # ---- names (for lookups) --------------------------------------------------------------

    @property
    def vocabulary(self) -> Vocabularies:
        """Authors, name and title words, paper ids: what :mod:`bot.core.lookup` reads."""
        return self._vocabulary

    @property
    def n_authors(self) -> int:
        return self._vocabulary.n_authors

    def author_names(self) -> list[str]:
        return self._vocabulary.author_names()

    def author_paper_count(self, author: int) -> int:
        return self._vocabulary.author_paper_count(author)

    def warm(self) -> None:
        """Build the lazily built structures now (a worker thread, before a swap)."""
        self._vocabulary.warm()
        self._data.average_idf()
        self._data.min_norm()

    def lock_memory(self) -> tuple[int, str | None]:
        """Lock every array of the index in memory (:func:`bot.core.pages.lock`): the bytes
        locked and, if some could not be, why. Ends when the index is let go."""
        return pages.lock(self._data.arrays.values())

    # ---- searching ------------------------------------------------------------------------

    def search(self, query: ParsedQuery, k: int = 10, offset: int = 0) -> IndexResult:
        """Hits of ``query`` (every clause must hold), best first, from ``offset``."""
        return self._searcher.search(query, k, offset)

    def matches(self, query: ParsedQuery) -> AnyArray:
        """Every docno that satisfies ``query`` (ascending), unscored: for counting."""
        return self._searcher.matches(query)

    def known_item_features(self, docnos: Sequence[int], terms: Sequence[str]) -> KnownItemFeatures:
        """What the known-item order reads of ``docnos`` for ``terms`` (from positions; see
        :mod:`~bot.core.index.known_item`)."""
        return known_item_features(self._data, docnos, terms)

    def search_terms(
        self, terms: Sequence[str], k: int = 10, *, mode: Mode = "and", offset: int = 0
    ) -> IndexResult:
        """Rank documents for a raw term list (repeats count, as in rank-bm25); see
        :meth:`~bot.core.index.search.Searcher.search_terms`."""
        return self._searcher.search_terms(terms, k, mode=mode, offset=offset)

    def scores_for(self, terms: Sequence[str], docnos: Sequence[int]) -> F64:
        """rank-bm25 scores of ``terms`` for given docnos (like ``get_batch_scores``)."""
        return scoring.scores_for(self._data, terms, docnos)

    def key_terms(self, terms: Sequence[str], n: int = 12) -> list[str]:
        """The ``n`` terms of a token list with the highest BM25 weight in it (df >= 2)."""
        return scoring.key_terms(self._data, terms, n)

    def similar(self, docno: int, terms: Sequence[str], k: int = 5) -> list[IndexHit]:
        """Papers like the one with ``terms`` (its token list): an OR query of its key terms."""
        return self._searcher.similar(docno, terms, k)

    # ---- building -------------------------------------------------------------------------

    @classmethod
    def empty(cls) -> Index:
        return cls.build([])

    @classmethod
    def build(cls, docs: Iterable[IndexDoc], *, version: int = 0) -> Index:
        """Build from documents (any docno order; each docno once)."""
        builder = IndexBuilder()
        builder.add(docs)
        return builder.finish(version)

    @classmethod
    def from_papers(cls, papers: Iterable[tuple[int, Paper]], *, version: int = 0) -> Index:
        return cls.build((index_doc(docno, p) for docno, p in papers), version=version)

    def updated(
        self,
        docs: Iterable[IndexDoc],
        *,
        removed: Iterable[int] = (),
        version: int | None = None,
    ) -> Index:
        """A new index with ``docs`` added or replaced (same docno) and ``removed`` dropped."""
        builder = IndexBuilder(base=self)
        builder.add(docs)
        return builder.finish(self.version if version is None else version, removed=removed)

    # ---- persistence ----------------------------------------------------------------------

    def save(
        self, directory: str | Path, *, stamp: str = "", draft: saved_index.Draft | None = None
    ) -> None:
        """Write the index into ``directory``, a folder digest-bot owns (or is refused:
        :class:`~bot.core.saved_index.IndexDirError`), as a new generation switched to
        atomically (see :mod:`bot.core.saved_index`). ``stamp`` names the catalogue state the
        index reflects; :meth:`load` can insist on it. ``draft``: the generation begun for
        it (:meth:`draft`, given to :meth:`IndexBuilder.finish`)."""
        persist.save(self._data.arrays, self._data.meta, Path(directory), stamp, draft)

    @staticmethod
    def draft(directory: str | Path) -> saved_index.Draft:
        """Begin a new generation of the saved index in ``directory`` (see :meth:`save`);
        :meth:`~bot.core.saved_index.Draft.abandon` it if it is not saved."""
        return saved_index.Draft(Path(directory))

    @staticmethod
    def saved_info(directory: str | Path) -> saved_index.SavedInfo | None:
        """Catalogue version and stamp of the saved index, or None if there is none."""
        return persist.info(Path(directory))

    @staticmethod
    def saved_version(directory: str | Path) -> int | None:
        """The catalogue version a saved index was built for, or None if there is none."""
        found = persist.info(Path(directory))
        return None if found is None else found.version

    @classmethod
    def load(
        cls,
        directory: str | Path,
        *,
        mmap: bool = True,
        stamp: str | None = None,
        verify: bool = True,
        previous: Index | None = None,
    ) -> Index:
        """Load the saved index; arrays are memory-mapped (pages read on first use).
        ``previous``: the index it updates, if any (see :meth:`__init__`).

        Raises :class:`~bot.core.saved_index.SavedIndexError` (a ValueError) when there is
        none, it was built for another ``stamp`` (when given), or it is damaged: ``verify``
        compares every file with its checksum; the structural checks always run.
        """
        arrays, meta = persist.read(Path(directory), mmap=mmap, stamp=stamp, verify=verify)
        try:
            return cls(arrays, meta, previous=previous)
        except (ValueError, IndexError, KeyError, TypeError, OverflowError) as exc:
            raise saved_index.SavedIndexError(f"damaged index: {exc}") from exc


class IndexBuilder:
    """Tokenized documents -> an :class:`Index`, fed in batches (``add``) then
    ``finish``-ed. With ``base``, the index is an update of that one (see
    :mod:`bot.core.index.builder`: one path for both)."""

    def __init__(self, base: Index | None = None) -> None:
        self._arrays = ArrayBuilder(None if base is None else base._data)
        self._base = base

    def add(self, docs: Iterable[IndexDoc]) -> None:
        self._arrays.add(docs)

    def add_batch(self, batch: DocBatch) -> None:
        """Add a batch tokenized in bulk (:func:`~bot.core.index.tokens.tokenize`, which a
        worker process can run)."""
        self._arrays.add_batch(batch)

    def finish(
        self,
        version: int,
        *,
        removed: Iterable[int] = (),
        draft: saved_index.Draft | None = None,
    ) -> Index:
        """The index of the documents added (over the base's, without ``removed``).

        ``draft``: the saved generation the index will be written to (:meth:`Index.save`
        with the same draft): an update makes its largest arrays right in its files
        (memory-mapped), so they are neither held in memory nor written again; where a file
        cannot be made, the array is made in memory.
        """
        alloc = None if draft is None else _alloc_in(draft)
        filled = None if draft is None else draft.filled
        arrays, meta = self._arrays.finish(version, removed, alloc, filled)
        return Index(arrays, meta, previous=self._base)


def _alloc_in(draft: saved_index.Draft) -> Alloc:
    def alloc(name: str, shape: tuple[int, ...], dtype: Any) -> AnyArray:
        try:
            return draft.array(name, shape, dtype)
        except OSError:  # no room: made in memory, and the save says why
            return np.zeros(shape, dtype=dtype)

    return alloc
