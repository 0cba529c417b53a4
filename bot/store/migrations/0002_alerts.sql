-- 0002_alerts: topic subscriptions and the outbox of alerts waiting to be delivered.
--
-- Timestamps are ISO-8601 UTC text ("2025-01-31T12:00:00.000000Z"), as in 0001.

-- A channel's saved query. query_key is the normalised query (case, accents and spacing
-- folded) so that one channel cannot hold the same topic twice. A subscription starts from
-- the moment it is created: only papers the catalogue first sees after that are alerted.
-- state = 'paused' stops delivery to the channel (Discord answered 403/404); pause_reason
-- says why, and /subscriptions shows it. Subscribing again with the same query resumes it.
CREATE TABLE subscriptions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id      INTEGER NOT NULL,
    channel_id    INTEGER NOT NULL,
    query         TEXT    NOT NULL,                -- as the member typed it
    query_key     TEXT    NOT NULL,                -- normalised, for UNIQUE
    created_by    INTEGER NOT NULL,                -- Discord user id
    created_at    TEXT    NOT NULL,
    state         TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused')),
    pause_reason  TEXT,
    paused_at     TEXT,
    last_alert_at TEXT,                            -- when a message naming it was delivered
    alert_count   INTEGER NOT NULL DEFAULT 0,      -- papers delivered for it
    UNIQUE (channel_id, query_key)
);
CREATE INDEX subscriptions_guild ON subscriptions (guild_id, channel_id);
CREATE INDEX subscriptions_state ON subscriptions (state);

-- One row per (channel, paper): a paper is sent to a channel once, however many of the
-- channel's subscriptions it matches (they are listed in outbox_subscriptions).
-- Delivery: rows are claimed into a batch (one message of up to 10 papers) identified by
-- `batch`, which is also the message nonce Discord deduplicates on; delivered_at and
-- message_id are written as soon as Discord confirms the message. A failure bumps attempts
-- and moves next_attempt_at (exponential backoff, persisted so a restart honours it);
-- failed_at is set when an error that retrying cannot fix was seen too often.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id        INTEGER NOT NULL,
    channel_id      INTEGER NOT NULL,
    paper           INTEGER NOT NULL REFERENCES papers (rowid),
    created_at      TEXT    NOT NULL,
    batch           TEXT,
    delivered_at    TEXT,
    message_id      INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    last_error      TEXT,
    failed_at       TEXT,
    UNIQUE (channel_id, paper)
);
CREATE INDEX outbox_pending ON outbox (channel_id, next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_batch ON outbox (batch) WHERE batch IS NOT NULL;
CREATE INDEX outbox_paper ON outbox (paper);

-- Which subscriptions of the channel an outbox row matched (named in the message).
-- Unsubscribing deletes the links; a row left without any link is never sent.
CREATE TABLE outbox_subscriptions (
    outbox       INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    subscription INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    PRIMARY KEY (outbox, subscription)
) WITHOUT ROWID;
CREATE INDEX outbox_subscriptions_subscription ON outbox_subscriptions (subscription, outbox);
