"""What the rest of the bot needs of a search engine, as Protocols.

:class:`SearchEngine` is what the Catalogue and the lookups use of an index once it exists:
search, similar papers, id <-> docno, an updated copy, saving, and the
:class:`LookupVocabulary` that typo-tolerant lookups and autocomplete read
(:mod:`bot.core.lookup`). :class:`~bot.core.index.Index` is the one implementation; another
engine with these methods could serve the same callers. Making, loading and finding a saved
engine are the implementation's own (``Index.build`` / ``IndexBuilder``, ``Index.load``,
``Index.saved_info``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from bot.core.index.arrays import I32, I64, AnyArray, Bool
from bot.core.index.known_item import KnownItemFeatures
from bot.core.index.models import IndexDoc, IndexHit, IndexResult
from bot.core.query import ParsedQuery


class LookupVocabulary(Protocol):
    """The names an engine knows: what :mod:`bot.core.lookup` reads.

    Documents are docnos; authors and words are ids given by the engine (``author_names()``
    and ``title_words_sorted()`` say which name or word each id is).
    """

    @property
    def n_docs(self) -> int: ...
    def docnos(self) -> I64: ...  # live ones, ascending
    def is_live(self, docno: int) -> bool: ...
    def alive_mask(self, docnos: AnyArray) -> Bool: ...
    def paper_id(self, docno: int) -> str: ...
    def title(self, docno: int) -> str: ...
    def doc_freq(self, term: str) -> int: ...  # live docs holding a search term
    def paper_ids_with_prefix(self, prefix: str, limit: int) -> list[tuple[str, int]]: ...

    @property
    def n_authors(self) -> int: ...
    def previous(self) -> LookupVocabulary | None: ...  # the updated index's, while alive
    def author_names(self) -> list[str]: ...  # display names, by author id
    def authors_by_name(self) -> I64: ...  # author ids by display name (ties: by id)
    def author_key(self, author: int) -> str: ...
    def author_paper_count(self, author: int) -> int: ...
    def author_paper_counts(self) -> I64: ...  # every author's, by author id
    def author_words(self) -> list[str]: ...  # name words, by word id
    def author_words_sorted(self) -> list[str]: ...
    def authors_by_sorted_word(self) -> tuple[I64, I32]: ...  # (ptr, authors), sorted words
    def authors_with_word(self, word: str) -> I32: ...  # ascending author ids
    def matching_authors(self, words: Sequence[str]) -> list[int]: ...

    def title_words_sorted(self) -> tuple[list[str], I32]: ...  # (sorted words, their ids)
    def title_word_docs(self, wid: int) -> I32: ...  # ascending docnos
    def title_word_df(self, wid: int) -> int: ...


class SearchEngine(Protocol):
    """An immutable search index as the Catalogue and the lookups use it."""

    @property
    def version(self) -> int: ...  # the catalogue version it reflects
    @property
    def n_docs(self) -> int: ...  # live documents
    @property
    def max_docno(self) -> int: ...
    @property
    def vocabulary(self) -> LookupVocabulary: ...

    def search(self, query: ParsedQuery, k: int = 10, offset: int = 0) -> IndexResult: ...
    def matches(self, query: ParsedQuery) -> AnyArray: ...
    def known_item_features(
        self, docnos: Sequence[int], terms: Sequence[str]
    ) -> KnownItemFeatures: ...
    def similar(self, docno: int, terms: Sequence[str], k: int = 5) -> list[IndexHit]: ...
    def docno_of(self, paper_id: str) -> int | None: ...
    def paper_id(self, docno: int) -> str: ...
    def updated(
        self, docs: Iterable[IndexDoc], *, removed: Iterable[int] = (), version: int | None = None
    ) -> SearchEngine: ...
    def save(self, directory: str | Path, *, stamp: str = "") -> None: ...
    def warm(self) -> None: ...  # build lazily built structures now (off the event loop)
