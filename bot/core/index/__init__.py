"""The BM25 search index: rank-bm25's exact scores over numpy postings.

Scores equal ``rank_bm25.BM25Okapi(corpus).get_scores(tokens)`` bit for bit, where ``corpus`` is
the live documents' token lists (:func:`bot.core.text.document_stream`) in docno order
(:mod:`.bm25` has the arithmetic). Only candidate documents are scored: required terms are
intersected starting from the rarest (AND), filters and exclusions shrink the set, then the
survivors are scored and the top k selected (ties: lower docno first). Very common terms have
champion lists and bitsets, so a query made only of common terms scores a few thousand
champions and proves no other document can beat the k-th (:mod:`.champions`).

The index is immutable: :meth:`Index.updated` returns a new index with papers added, replaced or
removed (merging the sorted postings, no re-tokenizing of the rest); :meth:`Index.save` writes
numpy files to a directory that :meth:`Index.load` memory-maps, so a start never re-tokenizes.
Documents are numbered by the store's rowid (docno); the index maps docno -> paper id and keeps
titles (for lookups), not abstracts.

The package, bottom up (each module uses only those above it):

* :mod:`.arrays` — array helpers: ragged ranges, sorted sets, string blobs, CSR list merges
* :mod:`.tuning` — sizes that trade speed for memory (champions, build chunks, lazy phrases)
* :mod:`.bm25` — rank-bm25's arithmetic: norms, idf, average idf, the tf factor
* :mod:`.vocab` — saved string <-> id tables looked up by a stable hash, and growing ones
* :mod:`.models` — :class:`IndexDoc` (what goes in), :class:`IndexHit` / :class:`IndexResult`
* :mod:`.data` — :class:`~.data.IndexData`: one version's arrays, postings primitives, idf
* :mod:`.vocabularies` — authors, name and title words, paper ids (what lookups read)
* :mod:`.scoring` — scores of candidates, the top k, key terms of a document
* :mod:`.phrases` — positions, phrase verification, the best-first lazy phrase path
* :mod:`.plan` — a query's candidates: intersections, venue / author filters, exclusions
* :mod:`.champions` — champion lists: built with the index, used for common-term queries
* :mod:`.search` — :class:`~.search.Searcher`: a query from plan to top k
* :mod:`.builder` — documents -> arrays; one path for a fresh build and an update
* :mod:`.persist` — the saved arrays and format (the folder is :mod:`bot.core.saved_index`'s)
* :mod:`.engine` — the :class:`SearchEngine` and :class:`LookupVocabulary` Protocols
* :mod:`.facade` — :class:`Index` and :class:`IndexBuilder`, thin: they delegate
"""

from __future__ import annotations

from bot.core.index.arrays import in_sorted, unique_sorted
from bot.core.index.bm25 import EPSILON, K1, B
from bot.core.index.engine import LookupVocabulary, SearchEngine
from bot.core.index.facade import Index, IndexBuilder
from bot.core.index.known_item import KnownItemFeatures
from bot.core.index.models import IndexDoc, IndexHit, IndexResult, index_doc
from bot.core.index.persist import FORMAT_VERSION
from bot.core.index.search import Mode
from bot.core.index.vocab import term_hash
from bot.core.index.vocabularies import Vocabularies

__all__ = [
    "EPSILON",
    "FORMAT_VERSION",
    "K1",
    "B",
    "Index",
    "IndexBuilder",
    "IndexDoc",
    "IndexHit",
    "IndexResult",
    "KnownItemFeatures",
    "LookupVocabulary",
    "Mode",
    "SearchEngine",
    "Vocabularies",
    "in_sorted",
    "index_doc",
    "term_hash",
    "unique_sorted",
]
