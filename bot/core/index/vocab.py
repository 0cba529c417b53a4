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
    return int.from_bytes(_digest(term.encode()), "little")


def _digest(encoded: bytes) -> bytes:
    """:func:`term_hash` as 8 little-endian bytes, of a UTF-8 encoded term."""
    return hashlib.blake2b(encoded, digest_size=8).digest()


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

    def ids(self, words: Sequence[str]) -> list[int | None]:
        """:meth:`id` of each of many words (one vectorised search of their hashes)."""
        hashes = self.hashes
        if len(hashes) == 0 or not words:
            return [None] * len(words)
        encoded = [w.encode() for w in words]
        wanted = np.frombuffer(b"".join(map(_digest, encoded)), dtype="<u8")
        pos = np.minimum(np.searchsorted(hashes, wanted), len(hashes) - 1)
        hit = (hashes.take(pos) == wanted).tolist()
        wids = self.hash_ids.take(pos)
        lo = self.off.take(wids).tolist()
        hi = self.off.take(wids + 1).tolist()
        raw = self.data.data  # a memoryview: compared in place, no copy
        out: list[int | None] = []
        for k, wid in enumerate(wids.tolist()):
            if not hit[k]:
                out.append(None)
            elif raw[lo[k] : hi[k]] == encoded[k]:
                out.append(wid)
            else:  # another word with the same hash first: look along the run
                out.append(self.id(words[k]))
        return out

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
        """The ids of ``words`` (new ones added in order): the known ones found in bulk, the
        base's by one vectorised hash search."""
        found = list(map(self.ids.get, words))
        if None in found:
            if self.base is not None and self.base_n:
                self._find_in_base([w for i, w in zip(found, words, strict=True) if i is None])
            found = [self._added(w) if i is None else i for i, w in zip(found, words, strict=True)]
        return np.fromiter(found, dtype=np.int32, count=len(found))

    def _find_in_base(self, words: Sequence[str]) -> None:
        """Put the base's id of each of ``words`` it holds into ``ids``."""
        assert self.base is not None
        base = self.base
        unique = list(dict.fromkeys(words))
        hashes = np.fromiter(map(term_hash, unique), dtype=np.uint64, count=len(unique))
        at = np.searchsorted(base.hashes, hashes)
        inside = at < len(base.hashes)
        hit = np.zeros(len(unique), dtype=np.bool_)
        hit[inside] = base.hashes[at[inside]] == hashes[inside]
        candidates = np.zeros(len(unique), dtype=np.int64)
        candidates[hit] = base.hash_ids[at[hit]]
        for w, wid, ok in zip(unique, candidates.tolist(), hit.tolist(), strict=True):
            if ok:
                if base.word(wid) != w:  # another word with the same hash: look further
                    found = base.id(w)
                    if found is None:
                        continue
                    wid = found
                self.ids[w] = wid

    def _added(self, word: str) -> int:
        """The id of ``word``, known to be new unless met earlier in this call."""
        i = self.ids.get(word)
        if i is None:
            i = self.ids[word] = self.base_n + len(self.new_words)
            self.new_words.append(word)
        return i

    def arrays(self) -> dict[str, AnyArray]:
        """The saved form: blob, offsets, sorted hashes and the id of each hash."""
        p = self.prefix
        data, off = blob(self.new_words)
        hashes = np.fromiter(map(term_hash, self.new_words), dtype=np.uint64, count=len(off) - 1)
        ids = np.arange(self.base_n, self.base_n + len(self.new_words), dtype=np.int32)
        order = np.argsort(hashes, kind="stable")
        hashes, ids = hashes[order], ids[order]
        if self.base is not None and self.base_n:
            old_end = int(self.base.off[-1])
            data = np.concatenate([self.base.data, data])
            off = np.concatenate([self.base.off, off[1:] + old_end])
            # the new hashes merged into the base's sorted ones (after equal ones: stable)
            where = np.searchsorted(self.base.hashes, hashes, side="right")
            hashes = np.insert(np.asarray(self.base.hashes), where, hashes)
            ids = np.insert(np.asarray(self.base.hash_ids, dtype=np.int32), where, ids)
        return {
            f"{p}_data": data,
            f"{p}_off": off.astype(np.int64),
            f"{p}_hash": hashes,
            f"{p}_hash_ids": ids.astype(np.int32),
        }
