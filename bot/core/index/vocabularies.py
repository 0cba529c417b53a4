"""The names an index knows, for lookups and autocomplete (:mod:`bot.core.lookup`).

:class:`Vocabularies` is the index's side of
:class:`~bot.core.index.engine.LookupVocabulary`: its authors (key, display name, papers),
the words of their names and of titles (with the papers holding each), paper ids in sorted
order (exact and prefix search), and the few per-document facts lookups show or check. The
author filters of searches (``author:``) use :meth:`Vocabularies.matching_authors` too.
Sorted copies and decoded lists are built on first use (or by :meth:`warm`) and kept.
"""

from __future__ import annotations

import bisect
import threading
import weakref
from collections.abc import Sequence

import numpy as np

from bot.core.index.arrays import (
    I32,
    I64,
    AnyArray,
    Bool,
    blob_item,
    in_sorted,
    ragged_index,
    unblob,
)
from bot.core.index.data import IndexData
from bot.core.index.vocab import WordTable
from bot.core.query import author_matches, name_words


class Vocabularies:
    """Authors, name words, title words and paper ids of one index (see the module doc)."""

    def __init__(self, data: IndexData, previous: Vocabularies | None = None) -> None:
        """``previous``: the vocabularies of the index this one updates; the lists it has
        built already are extended instead of built again (held weakly: never kept alive)."""
        self._data = data
        self._a = data.arrays
        self._previous = None if previous is None else weakref.ref(previous)
        self._name_words = WordTable(data.arrays, "aword")
        self._lock = threading.Lock()
        self._author_names: list[str] | None = None
        self._authors_by_name: I64 | None = None
        self._author_word_ids: dict[str, int] | None = None
        self._author_words_sorted: tuple[list[str], I32] | None = None
        self._title_sorted: tuple[list[str], I32] | None = None
        self._paper_ids_sorted: tuple[AnyArray, I32] | None = None

    def warm(self) -> None:
        """Build every lazily built list now (see :func:`bot.core.lookup.warm`)."""
        self.author_names()
        self.authors_by_name()
        self.author_words_sorted()
        self.title_words_sorted()
        self._paper_ids()

    # ---- documents ------------------------------------------------------------------------

    @property
    def n_docs(self) -> int:
        return self._data.n_docs

    def docnos(self) -> I64:
        """Live docnos, ascending."""
        return self._data.docnos()

    def is_live(self, docno: int) -> bool:
        return self._data.is_live(docno)

    def alive_mask(self, docnos: AnyArray) -> Bool:
        out: Bool = self._data.alive[docnos]
        return out

    def paper_id(self, docno: int) -> str:
        return self._data.paper_id(docno)

    def title(self, docno: int) -> str:
        return self._data.title(docno)

    def doc_freq(self, term: str) -> int:
        """How many live documents contain ``term`` (a pipeline term, e.g. "scale")."""
        return self._data.doc_freq(term)

    # ---- paper ids ------------------------------------------------------------------------

    def _paper_ids(self) -> tuple[AnyArray, I32]:
        """Every paper id, sorted, with the docno of each."""
        if self._paper_ids_sorted is None:
            with self._lock:
                if self._paper_ids_sorted is None:
                    ids = self._a["paper_ids"]
                    found = self._carried_paper_ids(ids)
                    if found is None:
                        order = np.argsort(ids, kind="stable").astype(np.int32)
                        found = (ids[order], order)
                    self._paper_ids_sorted = found
        return self._paper_ids_sorted

    def _prior(self) -> Vocabularies | None:
        return None if self._previous is None else self._previous()

    def previous(self) -> Vocabularies | None:
        """The vocabularies of the index this one updates, while that index lives."""
        return self._prior()

    def _carried_paper_ids(self, ids: AnyArray) -> tuple[AnyArray, I32] | None:
        """The previous index's sorted ids with the docnos past its end merged in, when it
        has them sorted and its ids are this one's first ones (else None)."""
        prior = self._prior()
        found = None if prior is None else prior._paper_ids_sorted
        if prior is None or found is None:
            return None
        old_ids = prior._a["paper_ids"]
        n_old = len(old_ids)
        if len(ids) < n_old or old_ids.dtype.itemsize > ids.dtype.itemsize:
            return None
        if not np.array_equal(ids[:n_old], old_ids.astype(ids.dtype)):
            return None
        tail = ids[n_old:]
        tail_order = np.argsort(tail, kind="stable")
        tail_sorted = tail[tail_order]
        old_sorted = found[0].astype(ids.dtype)
        # equal ids (the empty ones of unused docnos) stay in docno order: after the old
        at = np.searchsorted(old_sorted, tail_sorted, side="right")
        order = np.insert(found[1], at, (tail_order + n_old).astype(np.int32))
        return np.insert(old_sorted, at, tail_sorted), order.astype(np.int32, copy=False)

    def _carried_strings(self, prefix: str, prior_list: list[str] | None) -> list[str] | None:
        """A blob's strings (``<prefix>_data`` / ``_off``): the previous index's list of them
        extended by the strings added since, when this blob extends the previous one."""
        prior = self._prior()
        if prior is None or prior_list is None:
            return None
        data, off = self._a[f"{prefix}_data"], self._a[f"{prefix}_off"]
        old_data, old_off = prior._a[f"{prefix}_data"], prior._a[f"{prefix}_off"]
        n_old = len(old_off) - 1
        if len(prior_list) != n_old or len(off) - 1 < n_old:
            return None
        end = int(old_off[-1])
        if not np.array_equal(off[: n_old + 1], old_off) or not np.array_equal(
            data[:end], old_data
        ):
            return None
        return [*prior_list, *unblob(data[end:], np.asarray(off[n_old:]) - end)]

    def docno_of(self, paper_id: str) -> int | None:
        """The docno of a paper id (live or not), or None."""
        ids_sorted, order = self._paper_ids()
        key = np.array([paper_id.encode()], dtype=ids_sorted.dtype)
        i = int(np.searchsorted(ids_sorted, key[0]))
        if i < len(ids_sorted) and ids_sorted[i] == key[0] and paper_id:
            return int(order[i])
        return None

    def paper_ids_with_prefix(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        """(paper id, docno) of live papers whose id starts with ``prefix`` (sorted by id)."""
        ids_sorted, order = self._paper_ids()
        alive = self._data.alive
        lo = int(np.searchsorted(ids_sorted, prefix.encode()))
        out: list[tuple[str, int]] = []
        for i in range(lo, len(ids_sorted)):
            pid = bytes(ids_sorted[i]).decode()
            if not pid.startswith(prefix):
                break
            docno = int(order[i])
            if alive[docno]:
                out.append((pid, docno))
                if len(out) >= limit:
                    break
        return out

    # ---- authors --------------------------------------------------------------------------

    @property
    def n_authors(self) -> int:
        return len(self._a["author_key_off"]) - 1

    def author_names(self) -> list[str]:
        """Every author's display name, by author id."""
        if self._author_names is None:
            with self._lock:
                if self._author_names is None:
                    prior = self._prior()
                    names = self._carried_strings(
                        "author_disp", None if prior is None else prior._author_names
                    )
                    if names is None:
                        names = unblob(self._a["author_disp_data"], self._a["author_disp_off"])
                    self._author_names = names
        return self._author_names

    def authors_by_name(self) -> I64:
        """Every author id ordered by display name (Python's string order; equal names by
        id). Carried from the previous index when its names are this one's first ones (the
        few new authors inserted), else sorted."""
        if self._authors_by_name is None:
            names = self.author_names()
            found = self._carried_name_order(names)
            if found is None:
                found = np.asarray(sorted(range(len(names)), key=names.__getitem__), np.int64)
            with self._lock:
                self._authors_by_name = found
        return self._authors_by_name

    def _carried_name_order(self, names: list[str]) -> I64 | None:
        prior = self._prior()
        order = None if prior is None else prior._authors_by_name
        if prior is None or order is None or prior._author_names is None:
            return None
        old_names = prior._author_names
        n_old = len(old_names)
        if n_old != len(order) or n_old > len(names) or names[:n_old] != old_names:
            return None
        old_sorted = [old_names[i] for i in order.tolist()]
        added = sorted(range(n_old, len(names)), key=names.__getitem__)
        # after the old equal names (smaller ids); np.insert keeps the added ones' order
        at = [bisect.bisect_right(old_sorted, names[a]) for a in added]
        out: I64 = np.insert(order, np.asarray(at, dtype=np.int64), np.asarray(added, np.int64))
        return out

    def author_name(self, author: int) -> str:
        return blob_item(self._a["author_disp_data"], self._a["author_disp_off"], author)

    def author_key(self, author: int) -> str:
        return blob_item(self._a["author_key_data"], self._a["author_key_off"], author)

    def author_paper_count(self, author: int) -> int:
        """How many papers (live or not) list the author."""
        ptr = self._a["author_ptr"]
        return int(ptr[author + 1] - ptr[author])

    def author_paper_counts(self) -> I64:
        """:meth:`author_paper_count` of every author, by author id."""
        ptr: I64 = np.asarray(self._a["author_ptr"], dtype=np.int64)
        out: I64 = ptr[1:] - ptr[:-1]
        return out

    def _word_ids(self) -> dict[str, int]:
        if self._author_word_ids is None:
            with self._lock:
                if self._author_word_ids is None:
                    prior = self._prior()
                    before = None if prior is None else prior._author_word_ids
                    words = self._carried_strings("aword", None if before is None else list(before))
                    if words is None:
                        words = unblob(self._a["aword_data"], self._a["aword_off"])
                    self._author_word_ids = {w: i for i, w in enumerate(words)}
        return self._author_word_ids

    def author_words(self) -> list[str]:
        """The author name-word vocabulary, by word id."""
        return list(self._word_ids())

    def author_words_sorted(self) -> list[str]:
        """The author name-word vocabulary, sorted (for prefix ranges; cached)."""
        return self._sorted_author_words()[0]

    def _sorted_author_words(self) -> tuple[list[str], I32]:
        """The sorted name words and the id of each."""
        if self._author_words_sorted is None:
            words = list(self._word_ids())
            found = self._carried_sorted_words(words)
            if found is None:
                order = sorted(range(len(words)), key=words.__getitem__)
                found = ([words[i] for i in order], np.asarray(order, dtype=np.int32))
            with self._lock:
                self._author_words_sorted = found
        return self._author_words_sorted

    def _carried_sorted_words(self, words: list[str]) -> tuple[list[str], I32] | None:
        """The previous index's sorted name words with the few new ones inserted, when its
        words are this one's first ones (else None)."""
        prior = self._prior()
        found = None if prior is None else prior._author_words_sorted
        if prior is None or found is None or prior._author_word_ids is None:
            return None
        old_words, old_ids = found
        n_old = len(old_words)
        if n_old > len(words) or n_old != len(prior._author_word_ids):
            return None
        if words[:n_old] != list(prior._author_word_ids):
            return None
        added = sorted(range(n_old, len(words)), key=words.__getitem__)
        at = [bisect.bisect_left(old_words, words[w]) for w in added]
        # one pass: the old words up to each new one's place, then it
        out: list[str] = []
        ids = np.empty(len(words), dtype=np.int32)
        prev = 0
        for w, a in zip(added, at, strict=True):
            ids[len(out) : len(out) + a - prev] = old_ids[prev:a]
            out.extend(old_words[prev:a])
            ids[len(out)] = w
            out.append(words[w])
            prev = a
        ids[len(out) :] = old_ids[prev:]
        out.extend(old_words[prev:])
        return out, ids

    def authors_by_sorted_word(self) -> tuple[I64, I32]:
        """The authors of every name word in :meth:`author_words_sorted`'s order, as one
        array cut by a pointer array (word ``i``'s authors: ``authors[ptr[i]:ptr[i + 1]]``)."""
        ids = self._sorted_author_words()[1].astype(np.int64)
        old_ptr = np.asarray(self._a["aword_ptr"], dtype=np.int64)
        lengths = old_ptr[ids + 1] - old_ptr[ids]
        ptr = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(lengths, out=ptr[1:])
        authors: I32 = np.asarray(self._a["aword_authors"])[ragged_index(old_ptr[ids], lengths)]
        return ptr, authors.astype(np.int32, copy=False)

    def authors_with_word(self, word: str) -> I32:
        """Author ids whose name has ``word`` (a folded name word)."""
        wid = self._name_words.id(word)
        if wid is None:
            return np.zeros(0, dtype=np.int32)
        ptr = self._a["aword_ptr"]
        row: I32 = self._a["aword_authors"][ptr[wid] : ptr[wid + 1]]
        return row

    def matching_authors(self, words: Sequence[str]) -> list[int]:
        """Author ids satisfying :func:`~bot.core.query.author_matches` for filter words."""
        full = [w for w in words if len(w) > 1]
        if not full:
            return []
        lists = sorted((self.authors_with_word(w) for w in full), key=len)
        cand = lists[0]
        for other in lists[1:]:
            cand = cand[in_sorted(other, cand)]
        if len(full) == len(words):
            # every word was matched through the name-word lists: author_matches holds
            return [int(x) for x in cand.tolist()]
        return [
            int(x)
            for x in cand.tolist()
            if author_matches(words, name_words(self.author_name(int(x))))
        ]

    # ---- title words ----------------------------------------------------------------------

    def title_words_sorted(self) -> tuple[list[str], I32]:
        """The title-word vocabulary, sorted, with each word's id (for prefix ranges)."""
        if self._title_sorted is None:
            with self._lock:
                if self._title_sorted is None:
                    words = unblob(self._a["tword_data"], self._a["tword_off"])
                    order = sorted(range(len(words)), key=words.__getitem__)
                    self._title_sorted = (
                        [words[i] for i in order],
                        np.asarray(order, dtype=np.int32),
                    )
        return self._title_sorted

    def title_word_docs(self, wid: int) -> I32:
        """The docnos (live or not, ascending) whose title has word ``wid``."""
        ptr = self._a["tword_ptr"]
        row: I32 = self._a["tword_docs"][ptr[wid] : ptr[wid + 1]]
        return row

    def title_word_df(self, wid: int) -> int:
        ptr = self._a["tword_ptr"]
        return int(ptr[wid + 1] - ptr[wid])
