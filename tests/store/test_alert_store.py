"""AlertStore on a real SQLite database: subscriptions, the outbox and delivery states."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.models import Paper
from bot.ingest import reindex
from bot.store.alerts import (
    AlertStore,
    QueuedMatch,
    SubscriptionError,
    iso,
    make_alert_hook,
    query_key,
)
from bot.store.db import Database, Transaction
from bot.store.papers import PaperStore

GUILD = 1
CHANNEL_A = 100
CHANNEL_B = 200


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "alerts.db")
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db: Database, clock: Clock) -> AlertStore:
    return AlertStore(db, clock=clock)


async def add_papers(db: Database, count: int) -> list[int]:
    """Insert ``count`` bare papers; return their rowids."""
    rowids: list[int] = []
    async with db.transaction() as tx:
        for n in range(count):
            done = await tx.execute(
                "INSERT INTO papers (id, key, title, authors_raw, venue, abstract, entry_hash, "
                "first_seen, updated_at) VALUES (?, ?, ?, '', 'v', 'a', 'h', ?, ?)",
                (
                    f"p{n:07d}",
                    f"key{n}",
                    f"Paper {n}",
                    iso(datetime.now(UTC)),
                    iso(datetime.now(UTC)),
                ),
            )
            assert done.lastrowid is not None
            rowids.append(done.lastrowid)
    return rowids


async def subscribe(store: AlertStore, query: str, channel: int = CHANNEL_A) -> int:
    result = await store.add(
        guild_id=GUILD,
        channel_id=channel,
        query=query,
        created_by=7,
        max_per_channel=10,
        max_per_guild=50,
    )
    return result.subscription.id


async def queue(db: Database, store: AlertStore, matches: list[QueuedMatch]) -> int:
    async with db.transaction() as tx:
        return await store.queue(tx, matches)


async def test_one_row_per_channel_and_paper_naming_every_subscription(
    db: Database, store: AlertStore
) -> None:
    (paper,) = await add_papers(db, 1)
    s1 = await subscribe(store, "scaling laws")
    s2 = await subscribe(store, "author:barbier")
    s3 = await subscribe(store, "scaling laws", channel=CHANNEL_B)
    queued = await queue(
        db,
        store,
        [
            QueuedMatch(GUILD, CHANNEL_A, paper, (s1, s2)),
            QueuedMatch(GUILD, CHANNEL_B, paper, (s3,)),
        ],
    )
    assert queued == 2
    # The same (channel, paper) again: no second row.
    assert await queue(db, store, [QueuedMatch(GUILD, CHANNEL_A, paper, (s1,))]) == 0
    assert await store.pending_count() == 2
    batch = await store.claim(CHANNEL_A)
    assert batch is not None
    assert len(batch.rows) == 1
    assert batch.rows[0].subscription_ids == (s1, s2)
    assert batch.rows[0].topics == ("scaling laws", "author:barbier")


async def test_delivered_rows_are_never_claimed_again(db: Database, store: AlertStore) -> None:
    papers = await add_papers(db, 12)
    sid = await subscribe(store, "topic")
    await queue(db, store, [QueuedMatch(GUILD, CHANNEL_A, p, (sid,)) for p in papers])
    assert await store.due_channels() == [CHANNEL_A]
    first = await store.claim(CHANNEL_A)
    assert first is not None and len(first.rows) == 10
    assert await store.mark_delivered(first, message_id=555) == 10
    # Marking twice changes nothing (and credits nothing twice).
    assert await store.mark_delivered(first, message_id=555) == 0
    second = await store.claim(CHANNEL_A)
    assert second is not None and len(second.rows) == 2
    assert second.nonce != first.nonce
    assert {r.paper for r in second.rows}.isdisjoint({r.paper for r in first.rows})
    await store.mark_delivered(second, message_id=556)
    assert await store.claim(CHANNEL_A) is None
    assert await store.due_channels() == []
    # The paper seen again (e.g. a later ingest) is not queued twice.
    assert await queue(db, store, [QueuedMatch(GUILD, CHANNEL_A, papers[0], (sid,))]) == 0
    assert await store.claim(CHANNEL_A) is None
    sub = await store.get(sid)
    assert sub is not None and sub.alert_count == 12 and sub.last_alert_at is not None


async def test_unconfirmed_batch_is_handed_out_again_with_the_same_nonce(
    db: Database, store: AlertStore, clock: Clock
) -> None:
    papers = await add_papers(db, 3)
    sid = await subscribe(store, "topic")
    await queue(db, store, [QueuedMatch(GUILD, CHANNEL_A, p, (sid,)) for p in papers])
    first = await store.claim(CHANNEL_A, limit=2)
    assert first is not None
    # A crash before mark_delivered: a new process (new store) sees the same batch.
    again = await AlertStore(db, clock=clock).claim(CHANNEL_A, limit=2)
    assert again == first
    await store.mark_delivered(again, 1)
    rest = await store.claim(CHANNEL_A)
    assert rest is not None and [r.paper for r in rest.rows] == [papers[2]]


async def test_failure_backs_off_until_next_attempt(
    db: Database, store: AlertStore, clock: Clock
) -> None:
    (paper,) = await add_papers(db, 1)
    sid = await subscribe(store, "topic")
    await queue(db, store, [QueuedMatch(GUILD, CHANNEL_A, paper, (sid,))])
    batch = await store.claim(CHANNEL_A)
    assert batch is not None
    await store.record_failure(batch, "Discord server error 503", retry_in=30)
    assert await store.due_channels() == []
    assert await store.claim(CHANNEL_A) is None
    due = await store.next_due_at()
    assert due == clock.now + timedelta(seconds=30)
    clock.advance(31)
    assert await store.due_channels() == [CHANNEL_A]
    retry = await store.claim(CHANNEL_A)
    assert retry is not None and retry.nonce == batch.nonce and retry.attempts == 1
    await store.record_failure(retry, "bad request", retry_in=1, give_up=True)
    clock.advance(5)
    assert await store.claim(CHANNEL_A) is None
    assert await store.pending_count() == 0


async def test_paused_channel_is_skipped_until_resumed(db: Database, store: AlertStore) -> None:
    papers = await add_papers(db, 2)
    sa = await subscribe(store, "topic", CHANNEL_A)
    sb = await subscribe(store, "topic", CHANNEL_B)
    await queue(
        db,
        store,
        [
            QueuedMatch(GUILD, CHANNEL_A, papers[0], (sa,)),
            QueuedMatch(GUILD, CHANNEL_B, papers[0], (sb,)),
        ],
    )
    assert await store.pause_channel(CHANNEL_A, "I cannot see this channel") == 1
    assert await store.due_channels() == [CHANNEL_B]
    assert await store.claim(CHANNEL_A) is None
    listed = await store.list_subscriptions(GUILD, CHANNEL_A)
    assert [(s.state, s.pause_reason, s.pending) for s in listed] == [
        ("paused", "I cannot see this channel", 1)
    ]
    # Matching only considers active subscriptions.
    assert [s.id for s in await store.active()] == [sb]
    # Subscribing again with the same query (any spacing / case) resumes it.
    result = await store.add(
        guild_id=GUILD,
        channel_id=CHANNEL_A,
        query="  TOPIC ",
        created_by=8,
        max_per_channel=10,
        max_per_guild=50,
    )
    assert result.status == "resumed" and result.subscription.id == sa
    assert sorted(await store.due_channels()) == [CHANNEL_A, CHANNEL_B]


async def test_duplicate_and_caps(db: Database, store: AlertStore) -> None:
    await subscribe(store, "Scaling  Laws")
    again = await store.add(
        guild_id=GUILD,
        channel_id=CHANNEL_A,
        query="scaling laws",
        created_by=9,
        max_per_channel=10,
        max_per_guild=50,
    )
    assert again.status == "exists"
    with pytest.raises(SubscriptionError, match="most allowed is 1"):
        await store.add(
            guild_id=GUILD,
            channel_id=CHANNEL_A,
            query="other",
            created_by=9,
            max_per_channel=1,
            max_per_guild=50,
        )
    with pytest.raises(SubscriptionError, match="This server"):
        await store.add(
            guild_id=GUILD,
            channel_id=CHANNEL_B,
            query="other",
            created_by=9,
            max_per_channel=10,
            max_per_guild=1,
        )
    assert query_key("Mézard  X") == query_key("mezard x")


async def test_unsubscribe_drops_its_pending_alerts_only(db: Database, store: AlertStore) -> None:
    papers = await add_papers(db, 2)
    s1 = await subscribe(store, "one")
    s2 = await subscribe(store, "two")
    await queue(
        db,
        store,
        [
            QueuedMatch(GUILD, CHANNEL_A, papers[0], (s1,)),
            QueuedMatch(GUILD, CHANNEL_A, papers[1], (s1, s2)),
        ],
    )
    assert await store.remove(GUILD + 1, s1) is None  # another server's: refused
    removed = await store.remove(GUILD, s1)
    assert removed is not None and removed.id == s1
    batch = await store.claim(CHANNEL_A)
    assert batch is not None
    assert [(r.paper, r.subscription_ids) for r in batch.rows] == [(papers[1], (s2,))]
    assert await store.pending_count() == 1


async def test_queue_rolls_back_with_its_transaction(db: Database, store: AlertStore) -> None:
    (paper,) = await add_papers(db, 1)
    sid = await subscribe(store, "topic")
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            assert await store.queue(tx, [QueuedMatch(GUILD, CHANNEL_A, paper, (sid,))]) == 1
            raise RuntimeError("ingest failed after queueing")
    assert await store.pending_count() == 0
    assert await store.due_channels() == []


# ------------------------------------------------------------------ with the real ingest
NBSP = "\u00a0"


def write_digest(folder: Path, name: str, titles: list[str]) -> None:
    lines = ["Goto", "", "Collaborating Authors", "", f"{NBSP}Heading"]
    for title in titles:
        lines += [
            "",
            "",
            title,
            "",
            "Okonkwo, Ada",
            "",
            "arXiv.org Machine Learning",
            "",
            f"An abstract about {title.lower()}.",
        ]
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


async def test_ingest_queues_alerts_in_its_transaction_and_new_subscriptions_start_now(
    db: Database, tmp_path: Path
) -> None:
    store = AlertStore(db)
    hook = make_alert_hook(store)
    folder = tmp_path / "digests"
    folder.mkdir()
    write_digest(folder, "a.txt", ["Zeolite one", "Kernel two"])
    first = await reindex(db, folder, alert_hook=hook)
    assert first.report.added == 2 and first.report.alerts_queued == 0  # nobody subscribed

    # Subscribed now: the papers already in the catalogue are not alerted, ever.
    sid = await subscribe(store, "zeolite")
    write_digest(folder, "a.txt", ["Zeolite one", "Kernel two", "Zeolite three"])
    second = await reindex(db, folder, alert_hook=hook)
    assert second.report.added == 1 and second.report.alerts_queued == 1
    batch = await store.claim(CHANNEL_A)
    assert batch is not None
    assert [r.subscription_ids for r in batch.rows] == [(sid,)]
    papers = await PaperStore(db).get_papers([batch.rows[0].paper_id])
    assert [p.paper.title for p in papers.values()] == ["Zeolite three"]
    await store.mark_delivered(batch, 1)

    # A paper seen again in a later digest is not new: no second alert.
    write_digest(folder, "b.txt", ["Zeolite three", "Zeolite four"])
    third = await reindex(db, folder, alert_hook=hook)
    assert third.report.alerts_queued == 1
    batch = await store.claim(CHANNEL_A)
    assert batch is not None and len(batch.rows) == 1
    papers = await PaperStore(db).get_papers([batch.rows[0].paper_id])
    assert [p.paper.title for p in papers.values()] == ["Zeolite four"]


async def test_a_failing_ingest_writes_no_alerts(db: Database, tmp_path: Path) -> None:
    store = AlertStore(db)
    hook = make_alert_hook(store)
    await subscribe(store, "zeolite")
    folder = tmp_path / "digests"
    folder.mkdir()
    write_digest(folder, "a.txt", ["Zeolite one"])

    async def failing(tx: Transaction, new: Sequence[tuple[int, Paper]]) -> int:
        queued = await hook(tx, new)
        assert queued == 1  # written inside the ingest transaction ...
        raise RuntimeError("the ingest fails after the alerts were queued")

    with pytest.raises(RuntimeError):
        await reindex(db, folder, alert_hook=failing)
    # ... and rolled back with it: no papers, no alerts.
    assert (await PaperStore(db).stats()).papers == 0
    assert await store.pending_count() == 0
    # The next ingest sees the papers as new and alerts them, once.
    retry = await reindex(db, folder, alert_hook=hook)
    assert retry.report.alerts_queued == 1 and await store.pending_count() == 1


async def test_rows_held_back_never_reuse_a_sent_nonce(db: Database, store: AlertStore) -> None:
    p1, p2 = await add_papers(db, 2)
    s1 = await subscribe(store, "one")
    s2 = await subscribe(store, "two")
    await queue(
        db,
        store,
        [QueuedMatch(GUILD, CHANNEL_A, p1, (s1,)), QueuedMatch(GUILD, CHANNEL_A, p2, (s2,))],
    )
    first = await store.claim(CHANNEL_A)
    assert first is not None and len(first.rows) == 2
    await store.record_failure(first, "503", retry_in=0)
    await store.pause_channel(CHANNEL_A, "403")
    await subscribe(store, "one")  # resumes s1 only
    retry = await store.claim(CHANNEL_A)
    assert retry is not None and retry.nonce == first.nonce
    assert [r.paper for r in retry.rows] == [p1]
    await store.mark_delivered(retry, 10)
    await subscribe(store, "two")  # resumes s2
    later = await store.claim(CHANNEL_A)
    assert later is not None and [r.paper for r in later.rows] == [p2]
    assert later.nonce != first.nonce
