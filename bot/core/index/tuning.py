"""The index's tuning knobs: sizes that trade speed for memory, never results.

Modules read them as ``tuning.NAME`` when they run, so a test can set smaller values (with
``monkeypatch.setattr(tuning, ...)``) to reach the code paths meant for large corpora.
"""

from __future__ import annotations

# Champion lists and bitsets for terms in at least this many documents (and this share).
COMMON_MIN_DF = 8192
COMMON_MIN_SHARE = 1 / 64
CHAMPIONS = 8192  # at most this many champions per common term ...
CHAMPIONS_MIN = 1024  # ... at least this many, and about df / 16 in between
# An update carries the champions over (each list gains the new documents, the bound grows
# with the average length) until this share of the documents changed since they were last
# computed from every posting; past it they are computed again.
CHAMPION_REFRESH = 1 / 16

# A build turns this many documents at a time into a compact posting chunk.
BUILD_CHUNK = 16_384
# Past this many bytes of posting chunks held, a build writes them to a temporary folder.
SPILL_BYTES = 64 * 2**20

# A phrase over more candidates than PHRASE_LAZY is verified best score first
# (phrases.lazy_phrases): of the best PHRASE_CHUNK, the first PHRASE_FIRST (or eight times the
# hits wanted), then if need be the others, then chunks of PHRASE_CHUNK of the rest; its total
# is estimated from a sample of PHRASE_SAMPLE of the candidates left unverified.
PHRASE_LAZY = 8_000
PHRASE_CHUNK = 2048
PHRASE_FIRST = 256
PHRASE_SAMPLE = 1024

# A phrase is checked with a per-thread array of flags, two per token of its candidates, when
# they need at most this many (else by sorted keys).
PHRASE_FLAGS = 1 << 24

# Common terms whose bitset is kept with per-word bit counts (locating postings by rank):
# the most recently used this many (each about docs / 6 bytes).
RANKED_BITSETS = 128

# Similar papers (scoring.top_or): key terms with at most this many postings are weighed
# posting by posting (one sort: cheapest for few); more, only where they can place.
SIMILAR_WEIGH_ALL = 4096

# The words whose (term id, df, idf) an index keeps once asked (IndexData.term_stats and
# term_id: a query's terms, asked again by its plan, phrases and known-item order; the words
# of the papers whose similar papers were asked; about 200 bytes each).
TERM_STATS = 50_000
