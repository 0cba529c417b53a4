"""Vocabularies: string <-> id tables saved as arrays, looked up by a stable hash.

A vocabulary named ``p`` is saved as four arrays: ``p_data`` and ``p_off`` (the words as a
:func:`~bot.core.index.arrays.blob`, by id), ``p_hash`` (every word's :func:`term_hash`,
sorted) and ``p_hash_ids`` (the id of each of those hashes). A word is found by binary search
on its hash and checked against the blob, so a loaded vocabulary is never decoded as a whole.
The index has five: ``term`` (search terms), ``author_key``, ``aword`` (author name words),
``tword`` (title words) and ``venue``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np

from bot.core.index.arrays import I32, AnyArray, blob, blob_item


def term_hash(term: str) -> int:
    """A stable 64-bit hash of a term (the vocabulary is a sorted array of these)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=8).digest(), "little")


class WordTable:
    """A saved vocabulary, read in place (see the module doc)."""

    __slots__ = ("data", "hash_ids", "hashes", "off")

    def __init__(self, arrays: Mapping[str, AnyArray], prefix: str) -> None:
        self.data = arrays[f"{prefix}_data"]
        self.off = arrays[f"{prefix}_off"]
        self.hashes = arrays[f"{prefix}_hash"]
        self.hash_ids = arrays[f"{prefix}_hash_ids"]

    def __len__(self) -> int:
        return len(self.off) - 1

    def id(self, word: str) -> int | None:
        """The id of ``word``, or None when the vocabulary does not have it."""
        hashes = self.hashes
        if len(hashes) == 0:
            return None
        h = np.uint64(term_hash(word))
        i = int(np.searchsorted(hashes, h))
        off, data, ids = self.off, self.data, self.hash_ids
        while i < len(hashes) and hashes[i] == h:
            wid = int(ids[i])
            if bytes(data[int(off[wid]) : int(off[wid + 1])]).decode() == word:
                return wid
            i += 1
        return None

    def word(self, wid: int) -> str:
        return blob_item(self.data, self.off, wid)


class GrowingVocab:
    """A string -> id table that grows (ids in first-seen order), for building.

    Over an existing index it starts from the saved table without decoding it: only the words
    of the new documents are ever held in Python.
    """

    def __init__(self, arrays: Mapping[str, AnyArray] | None = None, prefix: str = "") -> None:
        self.prefix = prefix
        self.base: WordTable | None = None
        self.base_n = 0
        if arrays is not None:
            self.base = WordTable(arrays, prefix)
            self.base_n = len(self.base)
        self.new_words: list[str] = []
        self.ids: dict[str, int] = {}  # every word seen in this build -> id

    def __len__(self) -> int:
        return self.base_n + len(self.new_words)

    def id(self, word: str) -> int:
        i = self.ids.get(word)
        if i is None:
            i = None if self.base is None or self.base_n == 0 else self.base.id(word)
            if i is None:
                i = self.base_n + len(self.new_words)
                self.new_words.append(word)
            self.ids[word] = i
        return i

    def ids_of(self, words: Sequence[str]) -> I32:
        """The ids of ``words`` (new ones added in order): the known ones found in bulk."""
        found = list(map(self.ids.get, words))
        if None in found:
            found = [self.id(w) if i is None else i for i, w in zip(found, words, strict=True)]
        return np.fromiter(found, dtype=np.int32, count=len(found))

    def arrays(self) -> dict[str, AnyArray]:
        """The saved form: blob, offsets, sorted hashes and the id of each hash."""
        p = self.prefix
        data, off = blob(self.new_words)
        hashes = np.fromiter(
            (term_hash(w) for w in self.new_words), dtype=np.uint64, count=len(self.new_words)
        )
        ids = np.arange(self.base_n, self.base_n + len(self.new_words), dtype=np.int32)
        if self.base is not None and self.base_n:
            old_end = int(self.base.off[-1])
            data = np.concatenate([self.base.data, data])
            off = np.concatenate([self.base.off, off[1:] + old_end])
            hashes = np.concatenate([self.base.hashes, hashes])
            ids = np.concatenate([self.base.hash_ids, ids])
        order = np.argsort(hashes, kind="stable")
        return {
            f"{p}_data": data,
            f"{p}_off": off.astype(np.int64),
            f"{p}_hash": hashes[order],
            f"{p}_hash_ids": ids[order].astype(np.int32),
        }
