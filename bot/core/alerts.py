"""Matching new papers against topic subscriptions, without trying every pair.

A subscription is a saved query (:mod:`bot.core.query`). A new paper alerts it when
:func:`bot.core.query.matches` holds -- the predicate whose clauses the search index
evaluates over its postings, so ``/search`` is the preview of a subscription. Asking it
about every (paper, subscription) pair is what this module avoids:

* Each subscription is filed in a :class:`SubscriptionIndex` under its **rarest necessary
  key**: one of its required terms (words and phrase words) or one non-initial word of an
  ``author:`` filter -- whichever the fewest papers carry, by document frequencies
  (:func:`batch_frequencies` of the new batch: a key the batch lacks rules the subscription
  out with no work at all; or any other :class:`Frequencies`, e.g. the search index's).
  Queries with only ``venue:`` filters are filed under their venue clause, evaluated once
  per distinct venue of the batch.
* A paper visits only the buckets of the terms and author words it has. In a bucket a
  candidate is decided by the key alone (one-word, one-name, venue-only queries), by the
  predicate's clauses applied in its order with its own clause functions (queries without
  negated phrases, authors or venues), or by :func:`~bot.core.query.matches` itself.

The result is exactly the every-pair loop's (:func:`match_naive`); the tests check that on
generated papers and subscriptions of every kind. Subscriptions are compiled once
(:func:`compile_subscription`) and re-filed for each batch (:meth:`SubscriptionIndex.build`).

Pure: no I/O, no discord, no aiosqlite.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from bot.core.models import Paper
from bot.core.query import (
    MatchDoc,
    ParsedQuery,
    VenueFilter,
    author_matches,
    has_phrase,
    match_doc,
    matches,
    venue_matches,
)


@dataclass(frozen=True, slots=True)
class Subscription:
    """An active subscription as matching needs it."""

    id: int
    channel_id: int
    guild_id: int
    query: ParsedQuery


class Alert(NamedTuple):
    """Paper number ``paper_index`` of the batch (id ``paper_id``) matched a subscription.

    A named tuple (cheap to make: a batch can produce hundreds of thousands); alerts sort by
    paper, then subscription.
    """

    paper_index: int
    subscription_id: int
    channel_id: int
    guild_id: int
    paper_id: str


@dataclass(frozen=True, slots=True)
class Frequencies:
    """Document frequencies that decide which key of a subscription is the rarest.

    ``terms``: papers containing an index term; ``author_words``: papers with an author
    having that (folded) name word. A key missing from a mapping counts as 0.
    """

    terms: Mapping[str, int] = field(default_factory=dict)
    author_words: Mapping[str, int] = field(default_factory=dict)


Key = tuple[str, str]  # ("t", term) or ("a", author word)
_Target = tuple[int, int, int]  # subscription id, channel id, guild id
# target, the other required words, excluded words, venue clause (() = none)
# target, the other required terms, excluded terms, phrases' terms, author filters' words,
# venue clause (() = none)
_TermsEntry = tuple[
    _Target,
    tuple[str, ...],
    tuple[str, ...],
    tuple[tuple[str, ...], ...],
    tuple[tuple[str, ...], ...],
    tuple[VenueFilter, ...],
]
_FullEntry = tuple[Subscription, tuple[str, ...], tuple[VenueFilter, ...]]  # sub, rest, venues


class _Choice(NamedTuple):
    """One way to file a subscription: under ``key``, as exactly one kind of entry."""

    key: Key
    tie: tuple[int, int, str]  # terms before author words, longer first, then alphabetical
    certain: _Target | None
    terms: _TermsEntry | None
    full: _FullEntry | None


@dataclass(frozen=True, slots=True)
class CompiledSubscription:
    """A subscription with every way it can be filed worked out (independent of rarity).

    Compiling costs a few microseconds per subscription; callers that match batch after
    batch (the bot's alert hook) keep compiled subscriptions and only re-file them.
    """

    subscription: Subscription
    choices: tuple[_Choice, ...]  # one per necessary term / author word; () = venue-only
    venue_entry: tuple[_Target | None, _FullEntry | None] = (None, None)

    def key_for(self, freq: Frequencies) -> Key | None:
        """The rarest key under ``freq`` (``None``: filed under its venue clause)."""
        choice = self._choose(freq)
        return None if choice is None else choice.key

    def _choose(self, freq: Frequencies) -> _Choice | None:
        choices = self.choices
        if not choices:
            return None
        if len(choices) == 1:
            return choices[0]
        term_df = freq.terms
        author_df = freq.author_words
        best = choices[0]
        best_rank = ((term_df if best.key[0] == "t" else author_df).get(best.key[1], 0), best.tie)
        for choice in choices[1:]:
            rank = (
                (term_df if choice.key[0] == "t" else author_df).get(choice.key[1], 0),
                choice.tie,
            )
            if rank < best_rank:
                best, best_rank = choice, rank
        return best


# Equal venue clauses share one tuple, so a clause is evaluated once per paper venue however
# many subscriptions use it (the match caches results by the clause's identity).
_VENUE_CLAUSES: dict[tuple[VenueFilter, ...], tuple[VenueFilter, ...]] = {}
_VENUE_CLAUSES_MAX = 100_000


def _interned(venues: tuple[VenueFilter, ...]) -> tuple[VenueFilter, ...]:
    if not venues:
        return venues
    found = _VENUE_CLAUSES.get(venues)
    if found is None:
        if len(_VENUE_CLAUSES) >= _VENUE_CLAUSES_MAX:
            _VENUE_CLAUSES.clear()
        found = _VENUE_CLAUSES[venues] = venues
    return found


def compile_subscription(sub: Subscription) -> CompiledSubscription:
    """Work out the keys a subscription can be filed under, and its entry for each.

    Every required term (words and phrase words) is necessary for a match, and so is every
    non-initial word of every ``author:`` filter (some author must carry it); either can be
    the key. A query with neither has only ``venue:`` filters and is filed under its venue
    clause. For each key the entry is the cheapest exact check (see :class:`_Bucket`).
    """
    q = sub.query
    target = (sub.id, sub.channel_id, sub.guild_id)
    required = q.required_terms
    words = tuple(dict.fromkeys(w for a in q.authors for w in a.words if len(w) > 1))
    if not required and not words:
        if q.has_exclusions:
            return CompiledSubscription(sub, (), (None, (sub, (), q.venues)))
        return CompiledSubscription(sub, (), (target, None))
    # Without negated phrases, authors or venues, a query is checked here with the
    # predicate's own clause functions, in its order; otherwise by the predicate itself.
    checkable = not (q.exclude_phrases or q.exclude_authors or q.exclude_venues)
    venues = _interned(q.venues)
    phrases = tuple(p.terms for p in q.phrases)
    authors = tuple(a.words for a in q.authors)
    choices: list[_Choice] = []
    for term in required:
        tie = (0, -len(term), term)
        rest = tuple(t for t in required if t != term)
        if not checkable:
            choices.append(_Choice(("t", term), tie, None, None, (sub, rest, venues)))
        elif rest or q.exclude_terms or phrases or authors or venues:
            entry = (target, rest, q.exclude_terms, phrases, authors, venues)
            choices.append(_Choice(("t", term), tie, None, entry, None))
        else:
            choices.append(_Choice(("t", term), tie, target, None, None))
    single_name = (
        not (q.terms or q.phrases or q.venues or q.has_exclusions)
        and len(q.authors) == 1
        and len(q.authors[0].words) == 1
    )
    for word in words:
        tie = (1, -len(word), word)
        if single_name:
            choices.append(_Choice(("a", word), tie, target, None, None))
        elif checkable:
            entry = (target, required, q.exclude_terms, phrases, authors, venues)
            choices.append(_Choice(("a", word), tie, None, entry, None))
        else:
            choices.append(_Choice(("a", word), tie, None, None, (sub, required, venues)))
    return CompiledSubscription(sub, tuple(choices))


def subscription_key(query: ParsedQuery, freq: Frequencies) -> Key | None:
    """The key a subscription with ``query`` is filed under given ``freq``: its rarest
    necessary term or author word (``None``: a venue-only query)."""
    return compile_subscription(Subscription(0, 0, 0, query)).key_for(freq)


class _Bucket:
    """The subscriptions filed under one key, by how much checking a candidate needs.

    A candidate is a paper that has the bucket's key (or satisfies its venue clause).

    ``certain``: the key decides alone -- a one-word query keyed on its word, a one-name
    ``author:`` keyed on that name, a venue-only query in its venue clause's bucket.
    ``terms``: queries without negated phrases, authors or venues: the predicate's clauses
    in its order -- the other required terms present, the excluded terms absent, then its
    own clause functions (:func:`~bot.core.query.has_phrase`,
    :func:`~bot.core.query.author_matches`, :func:`~bot.core.query.venue_matches`; the venue
    clause evaluated once per venue). These are exactly what
    :func:`~bot.core.query.matches` evaluates for such queries.
    ``full``: everything else is asked of the predicate itself, after two cheap necessary
    checks (the other required words; the venue clause, evaluated once per venue).
    """

    __slots__ = ("certain", "full", "terms")

    def __init__(self) -> None:
        self.certain: list[_Target] = []
        self.terms: list[_TermsEntry] = []
        self.full: list[_FullEntry] = []

    def __len__(self) -> int:
        return len(self.certain) + len(self.terms) + len(self.full)

    def ids(self) -> set[int]:
        return (
            {t[0] for t in self.certain}
            | {t[0][0] for t in self.terms}
            | {t[0].id for t in self.full}
        )


class SubscriptionIndex:
    """Subscriptions filed by their rarest key. Build with :meth:`build`; immutable after."""

    __slots__ = ("_by_author", "_by_term", "_by_venues", "size")

    def __init__(
        self,
        by_term: dict[str, _Bucket],
        by_author: dict[str, _Bucket],
        by_venues: dict[tuple[VenueFilter, ...], _Bucket],
        size: int,
    ) -> None:
        self._by_term = by_term
        self._by_author = by_author
        self._by_venues = by_venues
        self.size = size

    @classmethod
    def build(
        cls,
        subscriptions: Iterable[Subscription | CompiledSubscription],
        freq: Frequencies | None = None,
    ) -> SubscriptionIndex:
        """File every subscription under its rarest key given ``freq`` (e.g. the batch's)."""
        freq = freq if freq is not None else Frequencies()
        by_term: dict[str, _Bucket] = {}
        by_author: dict[str, _Bucket] = {}
        by_venues: dict[tuple[VenueFilter, ...], _Bucket] = {}
        size = 0
        for item in subscriptions:
            size += 1
            compiled = (
                item if isinstance(item, CompiledSubscription) else compile_subscription(item)
            )
            choice = compiled._choose(freq)
            if choice is None:
                venues = compiled.subscription.query.venues
                bucket = by_venues.get(venues)
                if bucket is None:
                    bucket = by_venues[venues] = _Bucket()
                certain, full = compiled.venue_entry
                if certain is not None:
                    bucket.certain.append(certain)
                elif full is not None:
                    bucket.full.append(full)
                continue
            kind, word = choice.key
            table = by_term if kind == "t" else by_author
            bucket = table.get(word)
            if bucket is None:
                bucket = table[word] = _Bucket()
            if choice.certain is not None:
                bucket.certain.append(choice.certain)
            elif choice.terms is not None:
                bucket.terms.append(choice.terms)
            elif choice.full is not None:
                bucket.full.append(choice.full)
        return cls(by_term, by_author, by_venues, size)

    def buckets(self) -> dict[str, int]:
        """How many subscriptions are filed by term, by author word and by venue clause, and
        how many a candidate is decided for by the key (certain), by the other words (terms)
        or by the full predicate (full)."""
        every = [*self._by_term.values(), *self._by_author.values(), *self._by_venues.values()]
        return {
            "term": sum(len(b) for b in self._by_term.values()),
            "author": sum(len(b) for b in self._by_author.values()),
            "venue": sum(len(b) for b in self._by_venues.values()),
            "certain": sum(len(b.certain) for b in every),
            "terms": sum(len(b.terms) for b in every),
            "full": sum(len(b.full) for b in every),
        }

    def key_of(self, subscription_id: int) -> Key | tuple[str, tuple[VenueFilter, ...]] | None:
        """Where a subscription is filed (for tests and diagnostics)."""
        for term, bucket in self._by_term.items():
            if subscription_id in bucket.ids():
                return ("t", term)
        for word, bucket in self._by_author.items():
            if subscription_id in bucket.ids():
                return ("a", word)
        for venues, bucket in self._by_venues.items():
            if subscription_id in bucket.ids():
                return ("v", venues)
        return None


def prepare(papers: Sequence[Paper]) -> list[MatchDoc]:
    """The match documents of a batch (the same analysis as the search index)."""
    return [match_doc(paper) for paper in papers]


def batch_frequencies(docs: Iterable[MatchDoc]) -> Frequencies:
    """Document frequencies of index terms and author name words in a batch."""
    terms: dict[str, int] = {}
    words: dict[str, int] = {}
    for doc in docs:
        for term in doc.positions:
            terms[term] = terms.get(term, 0) + 1
        for word in set().union(*doc.authors) if doc.authors else ():
            words[word] = words.get(word, 0) + 1
    return Frequencies(terms, words)


def _venue_clause_holds(venues: tuple[VenueFilter, ...], venue: tuple[str, ...]) -> bool:
    """The predicate's venue clause: any one of the filters."""
    return any(venue_matches(v.alternatives, venue) for v in venues)


def _phrases_hold(
    positions: Mapping[str, tuple[int, ...]], phrases: tuple[tuple[str, ...], ...]
) -> bool:
    """The predicate's phrase clause: every phrase at consecutive positions."""
    return all(has_phrase(positions, terms) for terms in phrases)


def _authors_hold(
    filters: tuple[tuple[str, ...], ...], authors: tuple[frozenset[str], ...]
) -> bool:
    """The predicate's author clause: each filter matched by some author (co-authors)."""
    return all(any(author_matches(words, a) for a in authors) for words in filters)


def match_targets(
    new_papers: Sequence[Paper],
    index: SubscriptionIndex,
    docs: Sequence[MatchDoc] | None = None,
) -> list[list[tuple[int, int, int]]]:
    """For each paper, the ``(subscription id, channel id, guild id)`` of every subscription
    it satisfies (unordered). The core of :func:`match`, without one object per pair."""
    if docs is None:
        docs = prepare(new_papers)
    result: list[list[_Target]] = []
    venue_buckets: dict[tuple[str, ...], list[_Bucket]] = {}
    # doc venue -> {id(venue clause): holds}; the clause tuples live as long as the index.
    clause_cache: dict[tuple[str, ...], dict[int, bool]] = {}
    for doc in docs:
        venue_ok = clause_cache.setdefault(doc.venue, {})
        targets: list[_Target] = []
        for bucket in _candidate_buckets(index, doc, venue_buckets):
            targets.extend(bucket.certain)
            if bucket.terms:
                _match_terms(bucket.terms, doc, venue_ok, targets)
            if bucket.full:
                _match_full(bucket.full, doc, venue_ok, targets)
        result.append(targets)
    return result


def _candidate_buckets(
    index: SubscriptionIndex,
    doc: MatchDoc,
    venue_buckets: dict[tuple[str, ...], list[_Bucket]],
) -> list[_Bucket]:
    """The buckets of the paper's terms, its authors' name words and the venue clauses its
    venue satisfies (``venue_buckets`` caches the last by venue). Every subscription sits in
    exactly one bucket, so no candidate comes twice."""
    by_term = index._by_term
    by_author = index._by_author
    by_venues = index._by_venues
    hits: list[_Bucket] = []
    for term in doc.positions:
        bucket = by_term.get(term)
        if bucket is not None:
            hits.append(bucket)
    if by_author and doc.authors:
        for word in frozenset().union(*doc.authors):
            bucket = by_author.get(word)
            if bucket is not None:
                hits.append(bucket)
    if by_venues:
        found = venue_buckets.get(doc.venue)
        if found is None:
            found = venue_buckets[doc.venue] = [
                bucket
                for venues, bucket in by_venues.items()
                if _venue_clause_holds(venues, doc.venue)
            ]
        hits.extend(found)
    return hits


def _match_terms(
    entries: list[_TermsEntry], doc: MatchDoc, venue_ok: dict[int, bool], targets: list[_Target]
) -> None:
    """Append the target of every ``terms`` entry the paper satisfies: the predicate's
    clauses in its order (``venue_ok`` caches venue clauses by identity for this venue)."""
    pos = doc.positions
    # (for/else instead of all()/any(): no generator per candidate on the hot path)
    for target, rest, excluded, phrases, authors, venues in entries:
        for t in rest:
            if t not in pos:
                break
        else:
            for t in excluded:
                if t in pos:
                    break
            else:
                if phrases and not _phrases_hold(pos, phrases):
                    continue
                if authors and not _authors_hold(authors, doc.authors):
                    continue
                if venues:
                    ok = venue_ok.get(id(venues))
                    if ok is None:
                        ok = venue_ok[id(venues)] = _venue_clause_holds(venues, doc.venue)
                    if not ok:
                        continue
                targets.append(target)


def _match_full(
    entries: list[_FullEntry], doc: MatchDoc, venue_ok: dict[int, bool], targets: list[_Target]
) -> None:
    """Append the target of every ``full`` entry the paper satisfies: two cheap necessary
    checks (the other required words, the venue clause), then the predicate itself."""
    pos = doc.positions
    for sub, rest, venues in entries:
        missing = False
        for t in rest:
            if t not in pos:
                missing = True
                break
        if missing:
            continue
        if venues:
            ok = venue_ok.get(id(venues))
            if ok is None:
                ok = venue_ok[id(venues)] = _venue_clause_holds(venues, doc.venue)
            if not ok:
                continue
        if matches(sub.query, doc):
            targets.append((sub.id, sub.channel_id, sub.guild_id))


def match(
    new_papers: Sequence[Paper],
    index: SubscriptionIndex,
    docs: Sequence[MatchDoc] | None = None,
) -> list[Alert]:
    """Every (paper, subscription) pair where the paper satisfies the subscription's query.

    ``docs`` are the papers' :func:`prepare`-d documents when the caller has them already.
    The result is sorted by paper position, then subscription id.
    """
    alerts = [
        Alert(position, sid, channel, guild, paper.id)
        for position, (paper, targets) in enumerate(
            zip(new_papers, match_targets(new_papers, index, docs), strict=True)
        )
        for sid, channel, guild in sorted(targets)
    ]
    return alerts


def match_batch(new_papers: Sequence[Paper], subscriptions: Iterable[Subscription]) -> list[Alert]:
    """Prepare the batch, index ``subscriptions`` by the batch's rarity, and match."""
    docs = prepare(new_papers)
    index = SubscriptionIndex.build(subscriptions, batch_frequencies(docs))
    return match(new_papers, index, docs)


def match_naive(new_papers: Sequence[Paper], subscriptions: Sequence[Subscription]) -> list[Alert]:
    """The reference: ask the predicate about every pair (tests and the benchmark)."""
    docs = prepare(new_papers)
    alerts = [
        Alert(position, sub.id, sub.channel_id, sub.guild_id, paper.id)
        for position, (paper, doc) in enumerate(zip(new_papers, docs, strict=True))
        for sub in subscriptions
        if matches(sub.query, doc)
    ]
    alerts.sort()
    return alerts
