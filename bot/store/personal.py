"""What belongs to one member: follows, saved papers, votes on alerts, pending notices.

A **follow** is a row of ``subscriptions`` (migration 0002) with ``guild_id = 0`` and
``channel_id = -user_id`` (:func:`follow_target`). So the alert hook matches follows with the
channel subscriptions, in the same matcher and the same transaction; the outbox holds one
row per (member, paper) -- once per member however many follows match -- and the delivery
worker sends it, pausing the member's follows when Discord refuses the DM (50007). Discord
user ids are positive, channel ids of real channels too, so the two never collide.

SQL lives here (and in the other ``bot.store`` modules) and nowhere else.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

from bot.store.alerts import ERROR_ROOM, AlertStore, iso, query_key
from bot.store.db import Database

FOLLOW_GUILD = 0  # the guild_id of every follow


def follow_target(user_id: int) -> int:
    """The outbox ``channel_id`` of a member's DMs."""
    return -abs(user_id)


def follow_user(channel_id: int) -> int | None:
    """The member an outbox ``channel_id`` stands for (``None``: a real channel)."""
    return -channel_id if channel_id < 0 else None


class FollowError(Exception):
    """A follow cannot be created; the message is meant for the member."""


@dataclass(frozen=True, slots=True)
class FollowRow:
    id: int
    query: str
    created_at: str
    state: Literal["active", "paused"]
    pause_reason: str | None
    last_alert_at: str | None
    alert_count: int
    up: int = 0
    down: int = 0

    @property
    def active(self) -> bool:
        return self.state == "active"


@dataclass(frozen=True, slots=True)
class FollowResult:
    status: Literal["created", "resumed", "exists"]
    follow: FollowRow
    resumed_others: int = 0  # other follows of the member resumed with it


@dataclass(frozen=True, slots=True)
class SavedPage:
    paper_ids: tuple[str, ...]  # newest first
    total: int
    offset: int


@dataclass(frozen=True, slots=True)
class VoteOutcome:
    """What a click did: ``recorded`` (new), ``changed``, ``removed``; for how many of the
    alert's subscriptions."""

    status: Literal["recorded", "changed", "removed", "unknown"]
    subscriptions: int


_VOTES = (
    "(SELECT count(*) FROM alert_votes v WHERE v.subscription = s.id AND v.vote = 1) AS up, "
    "(SELECT count(*) FROM alert_votes v WHERE v.subscription = s.id AND v.vote = -1) AS down"
)
_FOLLOW_COLUMNS = (
    "s.id, s.query, s.created_at, s.state, s.pause_reason, s.last_alert_at, s.alert_count"
)


def _follow(r: sqlite3.Row) -> FollowRow:
    keys = r.keys()
    return FollowRow(
        id=int(r["id"]),
        query=str(r["query"]),
        created_at=str(r["created_at"]),
        state="paused" if r["state"] == "paused" else "active",
        pause_reason=r["pause_reason"],
        last_alert_at=r["last_alert_at"],
        alert_count=int(r["alert_count"]),
        up=int(r["up"]) if "up" in keys else 0,
        down=int(r["down"]) if "down" in keys else 0,
    )


class PersonalStore:
    """Follows, saved papers, votes and notices on a :class:`~bot.store.db.Database`."""

    def __init__(self, db: Database, alerts: AlertStore) -> None:
        self.db = db
        self.alerts = alerts

    def _now(self) -> str:
        return iso(self.alerts.now())

    # ------------------------------------------------------------------ follows
    async def follow(
        self, *, user_id: int, guild_id: int | None, query: str, max_follows: int
    ) -> FollowResult:
        """Follow ``query``; again: resume it -- and every paused follow of the member (a
        pause is about the member's DMs, not one query). Raises :class:`FollowError` at the cap.
        """
        target = follow_target(user_id)
        key = query_key(query)
        now = self._now()
        async with self.db.transaction() as tx:
            if guild_id is not None:
                await tx.execute(
                    "INSERT OR IGNORE INTO follow_guilds (user_id, guild_id) VALUES (?, ?)",
                    (user_id, guild_id),
                )
            resumed = await tx.execute(
                "UPDATE subscriptions SET state = 'active', pause_reason = NULL, paused_at = NULL "
                "WHERE channel_id = ? AND state = 'paused'",
                (target,),
            )
            await tx.execute("DELETE FROM member_notices WHERE user_id = ?", (user_id,))
            existing = await tx.fetchone(
                f"SELECT {_FOLLOW_COLUMNS} FROM subscriptions s "
                "WHERE s.channel_id = ? AND s.query_key = ?",
                (target, key),
            )
            if existing is not None:
                row = _follow(existing)
                was_paused = resumed.rowcount > 0
                status: Literal["resumed", "exists"] = "resumed" if was_paused else "exists"
                return FollowResult(status, row, max(resumed.rowcount - 1, 0))
            count = int(
                await tx.fetchvalue(
                    "SELECT count(*) FROM subscriptions WHERE channel_id = ?", (target,)
                )
            )
            if count >= max_follows:
                raise FollowError(
                    f"You already follow {count} queries (the most allowed is {max_follows}). "
                    "Drop one with /unfollow first."
                )
            done = await tx.execute(
                "INSERT INTO subscriptions (guild_id, channel_id, query, query_key, created_by, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (FOLLOW_GUILD, target, query, key, user_id, now),
            )
            assert done.lastrowid is not None
            created = await tx.fetchone(
                f"SELECT {_FOLLOW_COLUMNS} FROM subscriptions s WHERE s.id = ?", (done.lastrowid,)
            )
            assert created is not None
            return FollowResult("created", _follow(created), resumed.rowcount)

    async def follows(self, user_id: int) -> list[FollowRow]:
        """The member's follows, oldest first, with their votes."""
        rows = await self.db.fetchall(
            f"SELECT {_FOLLOW_COLUMNS}, {_VOTES} FROM subscriptions s "
            "WHERE s.channel_id = ? AND s.guild_id = ? ORDER BY s.id",
            (follow_target(user_id), FOLLOW_GUILD),
        )
        return [_follow(r) for r in rows]

    async def unfollow(self, user_id: int, follow_id: int) -> FollowRow | None:
        """Drop one of the member's follows (its undelivered alerts go with it)."""
        target = follow_target(user_id)
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                f"SELECT {_FOLLOW_COLUMNS} FROM subscriptions s "
                "WHERE s.id = ? AND s.channel_id = ? AND s.guild_id = ?",
                (follow_id, target, FOLLOW_GUILD),
            )
            if row is None:
                return None
            await tx.execute("DELETE FROM subscriptions WHERE id = ?", (follow_id,))
            await tx.execute(
                "DELETE FROM outbox WHERE channel_id = ? AND delivered_at IS NULL AND NOT "
                "EXISTS (SELECT 1 FROM outbox_subscriptions l WHERE l.outbox = outbox.id)",
                (target,),
            )
            return _follow(row)

    async def follow_guilds(self, user_id: int) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT guild_id FROM follow_guilds WHERE user_id = ? ORDER BY guild_id", (user_id,)
        )
        return [int(r[0]) for r in rows]

    async def pause_follows(self, user_id: int, reason: str, notice: str) -> int:
        """Pause every active follow of the member with ``reason``, and owe them ``notice``."""
        now = self._now()
        async with self.db.transaction() as tx:
            done = await tx.execute(
                "UPDATE subscriptions SET state = 'paused', pause_reason = ?, paused_at = ? "
                "WHERE channel_id = ? AND state = 'active'",
                (reason[:ERROR_ROOM], now, follow_target(user_id)),
            )
            await tx.execute(
                "INSERT INTO member_notices (user_id, message, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET message = excluded.message, "
                "created_at = excluded.created_at",
                (user_id, notice, now),
            )
            return done.rowcount

    async def take_notice(self, user_id: int) -> str | None:
        """The notice the member is owed, removed as it is handed out (shown once)."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT message FROM member_notices WHERE user_id = ?", (user_id,)
            )
            if row is None:
                return None
            await tx.execute("DELETE FROM member_notices WHERE user_id = ?", (user_id,))
            return str(row["message"])

    async def has_notice(self, user_id: int) -> bool:
        row = await self.db.fetchone("SELECT 1 FROM member_notices WHERE user_id = ?", (user_id,))
        return row is not None

    # ------------------------------------------------------------------ saved papers
    async def save(self, user_id: int, paper_id: str) -> bool | None:
        """Save a paper (by its stored id); False when it was saved already, None: unknown."""
        async with self.db.transaction() as tx:
            rowid = await tx.fetchvalue("SELECT rowid FROM papers WHERE id = ?", (paper_id,))
            if rowid is None:
                return None
            done = await tx.execute(
                "INSERT OR IGNORE INTO saved_papers (user_id, paper, saved_at) VALUES (?, ?, ?)",
                (user_id, int(rowid), self._now()),
            )
            return done.rowcount > 0

    async def unsave(self, user_id: int, paper_id: str) -> bool:
        async with self.db.transaction() as tx:
            done = await tx.execute(
                "DELETE FROM saved_papers WHERE user_id = ? AND paper = "
                "(SELECT rowid FROM papers WHERE id = ?)",
                (user_id, paper_id),
            )
            return done.rowcount > 0

    async def saved(self, user_id: int, *, offset: int = 0, limit: int = 10) -> SavedPage:
        """One page of the member's saved papers' ids, newest save first."""
        total = int(
            await self.db.fetchvalue(
                "SELECT count(*) FROM saved_papers WHERE user_id = ?", (user_id,)
            )
        )
        rows = await self.db.fetchall(
            "SELECT p.id FROM saved_papers s JOIN papers p ON p.rowid = s.paper "
            "WHERE s.user_id = ? ORDER BY s.saved_at DESC, s.paper DESC LIMIT ? OFFSET ?",
            (user_id, limit, offset),
        )
        return SavedPage(tuple(str(r[0]) for r in rows), total, offset)

    # ------------------------------------------------------------------ votes
    async def vote(
        self, *, user_id: int, message_id: int, paper_id: str, vote: Literal[1, -1]
    ) -> VoteOutcome:
        """Vote on ``paper_id`` as delivered in alert message ``message_id``: once per
        subscription the alert named. The same vote again removes it; the other changes it."""
        now = self._now()
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT o.paper, l.subscription FROM outbox o "
                "JOIN papers p ON p.rowid = o.paper "
                "JOIN outbox_subscriptions l ON l.outbox = o.id "
                "WHERE o.message_id = ? AND p.id = ?",
                (message_id, paper_id),
            )
            if not rows:
                return VoteOutcome("unknown", 0)
            paper = int(rows[0]["paper"])
            subs = [int(r["subscription"]) for r in rows]
            current = await tx.fetchall(
                f"SELECT subscription, vote FROM alert_votes WHERE user_id = ? AND paper = ? "
                f"AND subscription IN ({', '.join('?' * len(subs))})",
                (user_id, paper, *subs),
            )
            had = {int(r["subscription"]): int(r["vote"]) for r in current}
            if had and all(had.get(s) == vote for s in subs):
                await tx.executemany(
                    "DELETE FROM alert_votes WHERE user_id = ? AND paper = ? AND subscription = ?",
                    [(user_id, paper, s) for s in subs],
                )
                return VoteOutcome("removed", len(subs))
            await tx.executemany(
                "INSERT INTO alert_votes (user_id, paper, subscription, vote, voted_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, paper, subscription) "
                "DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at",
                [(user_id, paper, s, vote, now) for s in subs],
            )
            return VoteOutcome("changed" if had else "recorded", len(subs))

    async def votes(self, subscription_ids: list[int]) -> dict[int, tuple[int, int]]:
        """(👍, 👎) counts of each subscription."""
        if not subscription_ids:
            return {}
        rows = await self.db.fetchall(
            "SELECT subscription, sum(vote = 1) AS up, sum(vote = -1) AS down FROM alert_votes "
            f"WHERE subscription IN ({', '.join('?' * len(subscription_ids))}) "
            "GROUP BY subscription",
            subscription_ids,
        )
        return {int(r["subscription"]): (int(r["up"]), int(r["down"])) for r in rows}
