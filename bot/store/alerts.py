"""Topic subscriptions and the alert outbox (SQL lives here and nowhere else).

The life of an alert:

1. A reindex finds papers the catalogue has never seen. Inside the same ``BEGIN IMMEDIATE``
   transaction that writes them, :func:`make_alert_hook`'s hook matches them against the
   active subscriptions (:mod:`bot.core.alerts`) and :meth:`AlertStore.queue` writes one
   ``outbox`` row per (channel, paper) with links to every subscription of that channel the
   paper matched. A failed ingest rolls back its alerts with its papers.
2. The delivery worker (:mod:`bot.delivery`) asks for the channels with due rows, and
   :meth:`AlertStore.claim` hands out a :class:`Batch` of up to 10 rows of one channel. The
   batch id is written to the rows *before* sending and doubles as the Discord message
   nonce, so a retry of the same batch is recognised by Discord (``enforce_nonce``).
3. As soon as Discord confirms the message, :meth:`AlertStore.mark_delivered` stamps the rows
   ``delivered_at`` in one transaction; a delivered row is never claimed again.
4. Failures: :meth:`AlertStore.record_failure` (backoff persisted in ``next_attempt_at``),
   :meth:`AlertStore.pause_channel` (403 / 404: every subscription of the channel is paused
   with the reason and nothing is claimed for it until someone resumes it).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.core.alerts import (
    CompiledSubscription,
    Subscription,
    SubscriptionIndex,
    batch_frequencies,
    compile_subscription,
    match_targets,
    prepare,
)
from bot.core.models import Paper
from bot.core.query import ParsedQuery, QueryError, parse_query
from bot.core.text import fold
from bot.store.db import Database, Transaction

log = logging.getLogger(__name__)

PAPERS_PER_BATCH = 10
_IN_CHUNK = 500  # SQLite host parameters per IN (...) list
ERROR_ROOM = 300  # characters of an error message kept in the outbox / pause reason

Clock = Callable[[], datetime]
# The ingest's alert hook: called inside the ingest transaction with the papers the catalogue
# has never seen (rowid, paper); returns how many alerts it queued (bot.ingest takes one).
AlertHook = Callable[[Transaction, Sequence[tuple[int, Paper]]], Awaitable[int]]
# Batches at least this big (papers x subscriptions) are matched in a worker thread.
_THREAD_WORK = 20_000


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """The stored form of a time: ISO-8601 UTC with microseconds and ``Z`` (sorts as text)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def query_key(query: str) -> str:
    """The normalised form of a query used to refuse duplicates in one channel."""
    return " ".join(fold(query).split())


class SubscriptionError(Exception):
    """A subscription cannot be created; the message is meant for the member."""


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    """A subscription as stored, with what ``/subscriptions`` shows about it."""

    id: int
    guild_id: int
    channel_id: int
    query: str
    created_by: int
    created_at: str
    state: Literal["active", "paused"]
    pause_reason: str | None
    paused_at: str | None
    last_alert_at: str | None
    alert_count: int
    pending: int = 0  # papers waiting in the outbox for it

    @property
    def active(self) -> bool:
        return self.state == "active"


@dataclass(frozen=True, slots=True)
class AddResult:
    """What :meth:`AlertStore.add` did: ``created``, ``resumed`` (it was paused) or ``exists``."""

    status: Literal["created", "resumed", "exists"]
    subscription: SubscriptionRow


@dataclass(frozen=True, slots=True)
class QueuedMatch:
    """One paper for one channel, and the channel's subscriptions it matched."""

    guild_id: int
    channel_id: int
    paper: int  # papers.rowid
    subscription_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class BatchRow:
    outbox_id: int
    paper: int  # papers.rowid
    paper_id: str  # the paper's short id (PaperStore.get_papers)
    subscription_ids: tuple[int, ...]
    topics: tuple[str, ...]  # the queries of those subscriptions, in subscription order
    attempts: int


@dataclass(frozen=True, slots=True)
class Batch:
    """Up to 10 outbox rows of one channel, sent as one message with nonce ``nonce``."""

    nonce: str
    channel_id: int
    rows: tuple[BatchRow, ...]

    @property
    def attempts(self) -> int:
        return max((row.attempts for row in self.rows), default=0)


_SUBSCRIPTION_COLUMNS = (
    "s.id, s.guild_id, s.channel_id, s.query, s.created_by, s.created_at, s.state, "
    "s.pause_reason, s.paused_at, s.last_alert_at, s.alert_count"
)
_PENDING = (
    "(SELECT count(*) FROM outbox_subscriptions l JOIN outbox o ON o.id = l.outbox "
    "WHERE l.subscription = s.id AND o.delivered_at IS NULL AND o.failed_at IS NULL)"
)
# An outbox row is sendable while at least one of its subscriptions is active.
_HAS_ACTIVE = (
    "EXISTS (SELECT 1 FROM outbox_subscriptions l JOIN subscriptions s "
    "ON s.id = l.subscription WHERE l.outbox = o.id AND s.state = 'active')"
)


def _subscription(r: sqlite3.Row) -> SubscriptionRow:
    return SubscriptionRow(
        id=int(r["id"]),
        guild_id=int(r["guild_id"]),
        channel_id=int(r["channel_id"]),
        query=str(r["query"]),
        created_by=int(r["created_by"]),
        created_at=str(r["created_at"]),
        state="paused" if r["state"] == "paused" else "active",
        pause_reason=r["pause_reason"],
        paused_at=r["paused_at"],
        last_alert_at=r["last_alert_at"],
        alert_count=int(r["alert_count"]),
        pending=int(r["pending"]) if "pending" in r.keys() else 0,  # noqa: SIM118 (Row: `in` tests values)
    )


class AlertStore:
    """Subscriptions and the outbox on a :class:`~bot.store.db.Database`."""

    def __init__(self, db: Database, *, clock: Clock = utcnow) -> None:
        self.db = db
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    # ------------------------------------------------------------------ subscriptions
    async def add(
        self,
        *,
        guild_id: int,
        channel_id: int,
        query: str,
        created_by: int,
        max_per_channel: int,
        max_per_guild: int,
        key: str | None = None,
    ) -> AddResult:
        """Save ``query`` for ``channel_id``; the same query again resumes a paused one.

        Raises :class:`SubscriptionError` when a cap would be exceeded.
        """
        key = key if key is not None else query_key(query)
        now = iso(self.now())
        async with self.db.transaction() as tx:
            existing = await tx.fetchone(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions s "
                "WHERE s.channel_id = ? AND s.query_key = ?",
                (channel_id, key),
            )
            if existing is not None:
                current = _subscription(existing)
                if current.active:
                    return AddResult("exists", current)
                await tx.execute(
                    "UPDATE subscriptions SET state = 'active', pause_reason = NULL, "
                    "paused_at = NULL WHERE id = ?",
                    (current.id,),
                )
                resumed = await self._get(tx, current.id)
                assert resumed is not None
                return AddResult("resumed", resumed)
            in_channel = int(
                await tx.fetchvalue(
                    "SELECT count(*) FROM subscriptions WHERE channel_id = ?", (channel_id,)
                )
            )
            if in_channel >= max_per_channel:
                raise SubscriptionError(
                    f"This channel already has {in_channel} subscriptions (the most allowed is "
                    f"{max_per_channel}). Remove one with /unsubscribe first."
                )
            in_guild = int(
                await tx.fetchvalue(
                    "SELECT count(*) FROM subscriptions WHERE guild_id = ?", (guild_id,)
                )
            )
            if in_guild >= max_per_guild:
                raise SubscriptionError(
                    f"This server already has {in_guild} subscriptions (the most allowed is "
                    f"{max_per_guild}). Remove one with /unsubscribe first."
                )
            done = await tx.execute(
                "INSERT INTO subscriptions (guild_id, channel_id, query, query_key, created_by, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (guild_id, channel_id, query, key, created_by, now),
            )
            assert done.lastrowid is not None
            created = await self._get(tx, done.lastrowid)
            assert created is not None
            return AddResult("created", created)

    async def _get(self, tx: Transaction, subscription_id: int) -> SubscriptionRow | None:
        row = await tx.fetchone(
            f"SELECT {_SUBSCRIPTION_COLUMNS}, {_PENDING} AS pending FROM subscriptions s "
            "WHERE s.id = ?",
            (subscription_id,),
        )
        return None if row is None else _subscription(row)

    async def get(self, subscription_id: int) -> SubscriptionRow | None:
        row = await self.db.fetchone(
            f"SELECT {_SUBSCRIPTION_COLUMNS}, {_PENDING} AS pending FROM subscriptions s "
            "WHERE s.id = ?",
            (subscription_id,),
        )
        return None if row is None else _subscription(row)

    async def remove(self, guild_id: int, subscription_id: int) -> SubscriptionRow | None:
        """Delete a subscription of ``guild_id`` (its undelivered alerts go with it)."""
        async with self.db.transaction() as tx:
            current = await self._get(tx, subscription_id)
            if current is None or current.guild_id != guild_id:
                return None
            await tx.execute("DELETE FROM subscriptions WHERE id = ?", (subscription_id,))
            # Rows no other subscription of the channel wants are never going to be sent.
            await tx.execute(
                "DELETE FROM outbox WHERE channel_id = ? AND delivered_at IS NULL AND NOT "
                "EXISTS (SELECT 1 FROM outbox_subscriptions l WHERE l.outbox = outbox.id)",
                (current.channel_id,),
            )
            return current

    async def list_subscriptions(
        self, guild_id: int, channel_id: int | None = None
    ) -> list[SubscriptionRow]:
        """A server's subscriptions (optionally one channel's), oldest first."""
        sql = (
            f"SELECT {_SUBSCRIPTION_COLUMNS}, {_PENDING} AS pending FROM subscriptions s "
            "WHERE s.guild_id = ?"
        )
        params: list[object] = [guild_id]
        if channel_id is not None:
            sql += " AND s.channel_id = ?"
            params.append(channel_id)
        rows = await self.db.fetchall(sql + " ORDER BY s.channel_id, s.id", params)
        return [_subscription(row) for row in rows]

    async def active(self, tx: Transaction | None = None) -> list[SubscriptionRow]:
        """Every active subscription (inside ``tx`` when given: the ingest's view)."""
        sql = f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions s WHERE s.state = 'active'"
        rows = await (tx.fetchall(sql) if tx is not None else self.db.fetchall(sql))
        return [_subscription(row) for row in rows]

    @staticmethod
    async def active_queries(tx: Transaction) -> list[tuple[int, int, int, str]]:
        """(id, channel id, guild id, query) of every active subscription, inside ``tx``
        (the ingest's view; lighter than :meth:`active` for many subscriptions)."""
        rows = await tx.fetchall(
            "SELECT id, channel_id, guild_id, query FROM subscriptions WHERE state = 'active'"
        )
        return [(int(r[0]), int(r[1]), int(r[2]), str(r[3])) for r in rows]

    async def pause_channel(self, channel_id: int, reason: str) -> int:
        """Pause every active subscription of ``channel_id`` with ``reason``; how many."""
        async with self.db.transaction() as tx:
            done = await tx.execute(
                "UPDATE subscriptions SET state = 'paused', pause_reason = ?, paused_at = ? "
                "WHERE channel_id = ? AND state = 'active'",
                (reason[:ERROR_ROOM], iso(self.now()), channel_id),
            )
            return done.rowcount

    # ------------------------------------------------------------------ the outbox
    async def queue(self, tx: Transaction, matches: Sequence[QueuedMatch]) -> int:
        """Write ``matches`` into the outbox inside the ingest transaction ``tx``.

        One row per (channel, paper); a (channel, paper) already in the outbox (delivered or
        not) gets no second row -- a row not yet claimed gets the new subscription links.
        Returns how many new (channel, paper) rows were queued.
        """
        if not matches:
            return 0
        now = iso(self.now())
        queued = await tx.executemany(
            "INSERT INTO outbox (guild_id, channel_id, paper, created_at, next_attempt_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_id, paper) DO NOTHING",
            [(m.guild_id, m.channel_id, m.paper, now, now) for m in matches],
        )
        papers = sorted({m.paper for m in matches})
        ids: dict[tuple[int, int], int] = {}
        for start in range(0, len(papers), _IN_CHUNK):
            chunk = papers[start : start + _IN_CHUNK]
            rows = await tx.fetchall(
                "SELECT id, channel_id, paper FROM outbox WHERE paper IN "
                f"({', '.join('?' * len(chunk))}) AND delivered_at IS NULL AND batch IS NULL",
                chunk,
            )
            ids.update({(int(r["channel_id"]), int(r["paper"])): int(r["id"]) for r in rows})
        links = [
            (ids[(m.channel_id, m.paper)], sid)
            for m in matches
            if (m.channel_id, m.paper) in ids
            for sid in m.subscription_ids
        ]
        await tx.executemany(
            "INSERT OR IGNORE INTO outbox_subscriptions (outbox, subscription) VALUES (?, ?)",
            links,
        )
        return queued

    async def due_channels(self) -> list[int]:
        """Channels with at least one sendable row due now, the longest-waiting first."""
        rows = await self.db.fetchall(
            "SELECT o.channel_id, min(o.id) AS first FROM outbox o "
            "WHERE o.delivered_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= ? "
            f"AND {_HAS_ACTIVE} GROUP BY o.channel_id ORDER BY first",
            (iso(self.now()),),
        )
        return [int(row["channel_id"]) for row in rows]

    async def next_due_at(self) -> datetime | None:
        """When the earliest waiting sendable row becomes due (``None``: nothing waits)."""
        value = await self.db.fetchvalue(
            "SELECT min(o.next_attempt_at) FROM outbox o "
            f"WHERE o.delivered_at IS NULL AND o.failed_at IS NULL AND {_HAS_ACTIVE}"
        )
        return None if value is None else parse_iso(str(value))

    async def pending_count(self, channel_id: int | None = None) -> int:
        sql = "SELECT count(*) FROM outbox o WHERE o.delivered_at IS NULL AND o.failed_at IS NULL"
        params: tuple[int, ...] = ()
        if channel_id is not None:
            sql += " AND o.channel_id = ?"
            params = (channel_id,)
        return int(await self.db.fetchvalue(sql, params))

    async def claim(self, channel_id: int, limit: int = PAPERS_PER_BATCH) -> Batch | None:
        """The next batch to send to ``channel_id``, or ``None`` when nothing is due.

        A batch that was claimed before and not confirmed (a failure, or a crash between the
        send and :meth:`mark_delivered`) is handed out again with the same rows and nonce, so
        Discord recognises a message it already created. Otherwise up to ``limit`` due rows
        are claimed under a fresh nonce, which is written before anything is sent.
        """
        now = iso(self.now())
        async with self.db.transaction() as tx:
            await tx.execute(
                "DELETE FROM outbox WHERE channel_id = ? AND delivered_at IS NULL AND NOT "
                "EXISTS (SELECT 1 FROM outbox_subscriptions l WHERE l.outbox = outbox.id)",
                (channel_id,),
            )
            open_batch = await tx.fetchone(
                "SELECT o.batch, min(o.next_attempt_at) AS due FROM outbox o "
                "WHERE o.channel_id = ? AND o.batch IS NOT NULL AND o.delivered_at IS NULL "
                "AND o.failed_at IS NULL GROUP BY o.batch ORDER BY min(o.id) LIMIT 1",
                (channel_id,),
            )
            if open_batch is not None:
                if str(open_batch["due"]) > now:
                    return None
                nonce = str(open_batch["batch"])
                rows = await self._batch_rows(tx, nonce)
                # Rows held back (their subscriptions were paused) leave the batch: they will
                # go out later under a fresh nonce, never under one Discord already used.
                await self._release_others(tx, nonce, rows)
                if rows:
                    return Batch(nonce=nonce, channel_id=channel_id, rows=tuple(rows))
            ids = await tx.fetchall(
                "SELECT o.id FROM outbox o WHERE o.channel_id = ? AND o.batch IS NULL "
                "AND o.delivered_at IS NULL AND o.failed_at IS NULL "
                f"AND o.next_attempt_at <= ? AND {_HAS_ACTIVE} ORDER BY o.id LIMIT ?",
                (channel_id, now, limit),
            )
            if not ids:
                return None
            nonce = "dg" + secrets.token_hex(10)
            await tx.executemany(
                "UPDATE outbox SET batch = ? WHERE id = ?",
                [(nonce, int(row["id"])) for row in ids],
            )
            rows = await self._batch_rows(tx, nonce)
            return Batch(nonce=nonce, channel_id=channel_id, rows=tuple(rows))

    @staticmethod
    async def _release_others(tx: Transaction, nonce: str, rows: Sequence[BatchRow]) -> None:
        """Take every undelivered row of batch ``nonce`` but ``rows`` out of the batch."""
        keep = [row.outbox_id for row in rows]
        await tx.execute(
            "UPDATE outbox SET batch = NULL WHERE batch = ? AND delivered_at IS NULL"
            + (f" AND id NOT IN ({', '.join('?' * len(keep))})" if keep else ""),
            (nonce, *keep),
        )

    async def _batch_rows(self, tx: Transaction, nonce: str) -> list[BatchRow]:
        links = await tx.fetchall(
            "SELECT o.id, o.paper, p.id AS pid, o.attempts, s.id AS sid, s.query FROM outbox o "
            "JOIN papers p ON p.rowid = o.paper "
            "JOIN outbox_subscriptions l ON l.outbox = o.id "
            "JOIN subscriptions s ON s.id = l.subscription "
            "WHERE o.batch = ? AND o.delivered_at IS NULL AND o.failed_at IS NULL "
            "AND s.state = 'active' ORDER BY o.id, s.id",
            (nonce,),
        )
        grouped: dict[int, tuple[int, str, int, list[int], list[str]]] = {}
        for link in links:
            oid = int(link["id"])
            entry = grouped.setdefault(
                oid, (int(link["paper"]), str(link["pid"]), int(link["attempts"]), [], [])
            )
            entry[3].append(int(link["sid"]))
            entry[4].append(str(link["query"]))
        return [
            BatchRow(oid, paper, pid, tuple(sids), tuple(topics), attempts)
            for oid, (paper, pid, attempts, sids, topics) in grouped.items()
        ]

    async def mark_delivered(self, batch: Batch, message_id: int) -> int:
        """Stamp the batch's rows delivered (Discord confirmed ``message_id``); credit the
        subscriptions. Returns how many rows were marked."""
        now = iso(self.now())
        async with self.db.transaction() as tx:
            counts: dict[int, int] = {}
            marked = 0
            for row in batch.rows:
                done = await tx.execute(
                    "UPDATE outbox SET delivered_at = ?, message_id = ?, last_error = NULL "
                    "WHERE id = ? AND delivered_at IS NULL",
                    (now, message_id, row.outbox_id),
                )
                if done.rowcount:
                    marked += 1
                    for sid in row.subscription_ids:
                        counts[sid] = counts.get(sid, 0) + 1
            await tx.executemany(
                "UPDATE subscriptions SET alert_count = alert_count + ?, last_alert_at = ? "
                "WHERE id = ?",
                [(n, now, sid) for sid, n in counts.items()],
            )
            # Nothing else may ever be sent under this nonce (Discord would answer with this
            # message): rows of the batch that were not in it go back to the queue.
            await self._release_others(tx, batch.nonce, batch.rows)
            return marked

    async def record_failure(
        self, batch: Batch, error: str, *, retry_in: float, give_up: bool = False
    ) -> None:
        """Count a failed attempt; retry after ``retry_in`` seconds, or never (``give_up``)."""
        now = self.now()
        retry_at = iso(now + timedelta(seconds=max(retry_in, 0.0)))
        failed_at = iso(now) if give_up else None
        async with self.db.transaction() as tx:
            await tx.executemany(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, "
                "failed_at = ? WHERE id = ? AND delivered_at IS NULL",
                [(retry_at, error[:ERROR_ROOM], failed_at, row.outbox_id) for row in batch.rows],
            )


def group_matches(
    new_papers: Sequence[tuple[int, Paper]], targets: Sequence[Sequence[tuple[int, int, int]]]
) -> list[QueuedMatch]:
    """One :class:`QueuedMatch` per (channel, paper): the channel's matching subscriptions
    together, so the paper is sent to the channel once, naming all of them."""
    matches: list[QueuedMatch] = []
    for (rowid, _paper), found in zip(new_papers, targets, strict=True):
        by_channel: dict[int, tuple[int, list[int]]] = {}
        for sid, channel, guild in found:
            by_channel.setdefault(channel, (guild, []))[1].append(sid)
        for channel, (guild, sids) in sorted(by_channel.items()):
            matches.append(QueuedMatch(guild, channel, rowid, tuple(sorted(sids))))
    return matches


def _match(
    papers: Sequence[Paper], compiled: Sequence[CompiledSubscription]
) -> list[list[tuple[int, int, int]]]:
    """Analyse the batch, file the subscriptions by its rarest keys, match (pure; threadable)."""
    docs = prepare(papers)
    index = SubscriptionIndex.build(compiled, batch_frequencies(docs))
    return match_targets(papers, index, docs)


def make_alert_hook(store: AlertStore) -> AlertHook:
    """The ingest's alert hook: match never-seen papers, queue the alerts in ``tx``.

    Active subscriptions are read inside the ingest transaction, so a subscription takes part
    exactly when it was created before the papers were first seen ("starts from now").
    Compiled subscriptions are kept for the hook's lifetime (the bot keeps one hook), so a
    reindex only re-files them by the new batch's rarity. Large batches are matched in a
    worker thread; the transaction waits, the event loop does not.
    """
    compiled_cache: dict[tuple[int, int, int, str], CompiledSubscription | None] = {}
    parsed_cache: dict[str, ParsedQuery | QueryError] = {}  # many channels share a topic

    def compiled(key: tuple[int, int, int, str]) -> CompiledSubscription | None:
        if key not in compiled_cache:
            sid, channel_id, guild_id, text = key
            query = parsed_cache.get(text)
            if query is None:
                try:
                    query = parse_query(text)
                except QueryError as exc:
                    query = exc
                parsed_cache[text] = query
            if isinstance(query, QueryError):  # stored before the language changed
                log.warning("subscription %s (%r) no longer parses: %s", sid, text, query)
                compiled_cache[key] = None
            else:
                sub = Subscription(sid, channel_id, guild_id, query)
                compiled_cache[key] = compile_subscription(sub)
        return compiled_cache[key]

    async def hook(tx: Transaction, new_papers: Sequence[tuple[int, Paper]]) -> int:
        if not new_papers:
            return 0
        rows = await store.active_queries(tx)
        active = set(rows)
        for stale in [k for k in compiled_cache if k not in active]:
            del compiled_cache[stale]
        texts = {row[3] for row in rows}
        for stale_text in [t for t in parsed_cache if t not in texts]:
            del parsed_cache[stale_text]
        subscriptions = [c for row in rows if (c := compiled(row)) is not None]
        if not subscriptions:
            return 0
        papers = [paper for _, paper in new_papers]
        if len(papers) * len(subscriptions) >= _THREAD_WORK:
            targets = await asyncio.to_thread(_match, papers, subscriptions)
        else:
            targets = _match(papers, subscriptions)
        queued = await store.queue(tx, group_matches(new_papers, targets))
        if queued:
            log.info(
                "queued %d alert(s): %d new paper(s) x %d subscription(s)",
                queued,
                len(papers),
                len(subscriptions),
            )
        return queued

    return hook
