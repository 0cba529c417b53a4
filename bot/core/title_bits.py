"""Bitsets of the papers of the most common title words, for the title lookup (per index).

:func:`bot.core.lookup.find_titles` asks, for each typed word, which of its candidates hold
it, and intersects the papers of the rarest words. For a common word (thousands of papers at
1M) a binary search of every candidate in the word's papers costs a search per candidate; a
bitset of its papers answers each with one bit (a few hundred KB at most, read by index).
:func:`title_bits` builds them (once per index; :func:`bot.core.lookup.warm` ahead of use)
for the :data:`MAX_SETS` most common title words holding at least :data:`COMMON_SHARE` of the
papers (at 1M papers: ~190 words, ~23 MB); any other word is searched as before. The answers
are the same either way: only how membership is found changes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from bot.core.index import LookupVocabulary
from bot.core.index import in_sorted as _member
from bot.core.per_index import per_vocabulary

COMMON_SHARE = 1 / 100  # a title word in at least this share of the papers gets a bitset ...
MIN_DF = 2048  # ... and in at least this many
MAX_SETS = 256  # the most common title words only (each about papers / 8 bytes)
SMALL = 64  # fewer values than this are searched (a bitset saves nothing)

U8 = npt.NDArray[np.uint8]
Bool = npt.NDArray[np.bool_]


class TitleBits:
    """Per index: the bitsets of its most common title words (see the module doc)."""

    def __init__(self, known: LookupVocabulary) -> None:
        words = len(known.title_words_sorted()[0])
        dfs = np.fromiter(map(known.title_word_df, range(words)), dtype=np.int64, count=words)
        floor = max(int(known.n_docs * COMMON_SHARE), MIN_DF)
        common = np.flatnonzero(dfs >= floor)
        common = common[np.argsort(-dfs.take(common), kind="stable")[:MAX_SETS]]
        self.sets: dict[int, U8] = {}
        for wid in common.tolist():
            docs = known.title_word_docs(wid)
            flags = np.zeros(int(docs[-1]) + 1, dtype=np.bool_)
            flags[docs] = True
            self.sets[wid] = np.packbits(flags, bitorder="little")

    def member(self, wid: int, docs: npt.NDArray[np.int32], values: npt.NDArray[np.int32]) -> Bool:
        """Whether each of ``values`` (docnos) is in ``docs``, title word ``wid``'s papers."""
        bits = self.sets.get(wid)
        if bits is None or len(values) < SMALL:
            return _member(docs, values)
        size = len(bits) * 8
        inside = values < size
        at = np.where(inside, values, 0)
        found: Bool = ((bits.take(at >> 3) >> (at & 7).astype(np.uint8)) & 1).astype(np.bool_)
        found &= inside
        return found


# The index's TitleBits (built on first use: lookup.warm builds it ahead).
title_bits = per_vocabulary(TitleBits)
