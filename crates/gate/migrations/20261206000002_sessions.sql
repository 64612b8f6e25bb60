-- Browser sessions. The cookie holds a random token; only its SHA-256 is stored, so a copy of
-- the database does not let anyone in.
CREATE TABLE sessions (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    user       TEXT    NOT NULL COLLATE NOCASE REFERENCES users (name) ON DELETE CASCADE,
    created    INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    address    TEXT    NOT NULL,
    user_agent TEXT    NOT NULL
) STRICT;

CREATE INDEX sessions_user ON sessions (user);
