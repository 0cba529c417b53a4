"""rank-bm25's arithmetic (``BM25Okapi``), operation for operation.

k1 = 1.5, b = 0.75, epsilon = 0.25; idf = log(N - df + 0.5) - log(df + 0.5) with
``math.log``; a negative idf is replaced by epsilon x the average idf over every term of the
corpus, summed in rank-bm25's order (first occurrence); a term's contribution to a document is
``idf * (tf * (k1 + 1) / (tf + norm))`` with ``norm = k1 * (1 - b + b * dl / avgdl)``.
Keeping each float operation as rank-bm25 does keeps the scores equal bit for bit.
"""

from __future__ import annotations

import math
from typing import overload

import numpy as np

from bot.core.index.arrays import F64, I64, AnyArray, unique_sorted

K1 = 1.5
B = 0.75
EPSILON = 0.25


def norms(doc_len: AnyArray, avgdl: float) -> F64:
    """rank-bm25's denominator part ``k1 * (1 - b + b * dl / avgdl)``, per document."""
    out: F64 = K1 * ((1 - B) + B * doc_len.astype(np.float64) / avgdl)
    return out


def norm(dl: int, avgdl: float) -> float:
    """:func:`norms` of one document of length ``dl`` (``k1`` when the corpus is empty)."""
    return K1 * ((1 - B) + B * dl / avgdl) if avgdl else K1


@overload
def tf_part(tf: F64, norm: F64) -> F64: ...
@overload
def tf_part(tf: int, norm: float) -> float: ...
def tf_part(tf: F64 | int, norm: F64 | float) -> F64 | float:
    """The term-frequency factor of a contribution: ``tf * (k1 + 1) / (tf + norm)``."""
    return tf * (K1 + 1) / (tf + norm)


def raw_idf(n_docs: int, df: int) -> float:
    """The idf before the epsilon floor (negative for terms in more than half the docs)."""
    return math.log(n_docs - df + 0.5) - math.log(df + 0.5)


def average_idf(n_docs: int, df_in_order: I64) -> float:
    """rank-bm25's ``average_idf``: the mean raw idf of the terms (document frequencies in
    first-occurrence order), summed left to right as its loop does."""
    df = df_in_order[df_in_order > 0]
    if len(df) == 0:
        return 0.0
    uniq = unique_sorted(df)
    inverse = np.searchsorted(uniq, df)
    table = np.array([raw_idf(n_docs, int(f)) for f in uniq.tolist()], dtype=np.float64)
    idfs = table[inverse]
    # Sequential left-to-right sum (np.sum would be pairwise).
    total = float(np.add.accumulate(idfs)[-1])
    return total / len(idfs)
