-- Failed logins, per account and per source address, for the sliding windows of the lockout
-- and the throttling; and the locks and bans they led to. Both survive a restart.
CREATE TABLE failures (
    kind TEXT    NOT NULL,  -- 'user' or 'address'
    key  TEXT    NOT NULL COLLATE NOCASE,
    at   INTEGER NOT NULL
) STRICT;

CREATE INDEX failures_key ON failures (kind, key, at);

CREATE TABLE bans (
    kind   TEXT    NOT NULL,
    key    TEXT    NOT NULL COLLATE NOCASE,
    since  INTEGER NOT NULL,
    until  INTEGER NOT NULL,
    -- How many times in a row the key was locked: each lock lasts twice the one before.
    locks  INTEGER NOT NULL,
    reason TEXT    NOT NULL,
    PRIMARY KEY (kind, key)
) STRICT;
