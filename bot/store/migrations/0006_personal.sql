-- 0006_personal: what belongs to one member: follows (personal alerts by DM), saved papers,
-- votes on alerts, and the notices a member is owed.
--
-- A follow IS a subscription row (0002) whose channel_id is the member's negative user id
-- and whose guild_id is 0: it is matched by the same alert hook, queued in the same outbox
-- (one row per (member, paper): once per member however many follows match) and sent by the
-- same delivery worker, which opens the member's DM channel for a negative channel id.
-- follow_guilds records in which servers a member followed (to check, before a DM, that
-- the member still shares one with the bot).
CREATE TABLE follow_guilds (
    user_id  INTEGER NOT NULL,
    guild_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, guild_id)
) WITHOUT ROWID;

-- Something the member must be told privately the next time they use a command (their
-- follows were paused: DMs closed). One pending notice per member; shown once.
CREATE TABLE member_notices (
    user_id    INTEGER PRIMARY KEY,
    message    TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);

-- A member's saved papers (private to the member). Saving twice is one save.
CREATE TABLE saved_papers (
    user_id  INTEGER NOT NULL,
    paper    INTEGER NOT NULL REFERENCES papers (rowid),
    saved_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, paper)
) WITHOUT ROWID;
CREATE INDEX saved_papers_newest ON saved_papers (user_id, saved_at DESC);

-- One vote per member per paper per subscription (or follow): +1 or -1.
CREATE TABLE alert_votes (
    user_id      INTEGER NOT NULL,
    paper        INTEGER NOT NULL REFERENCES papers (rowid),
    subscription INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    vote         INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    voted_at     TEXT    NOT NULL,
    PRIMARY KEY (user_id, paper, subscription)
) WITHOUT ROWID;
CREATE INDEX alert_votes_subscription ON alert_votes (subscription, vote);
