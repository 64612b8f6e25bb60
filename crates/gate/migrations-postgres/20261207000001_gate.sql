-- why401 gate on PostgreSQL: the same tables as the SQLite store (migrations/), in one step.
-- Names compare as Windows and LDAP compare them, case-insensitively: citext. Every integer is
-- a BIGINT (Unix seconds, counters). Sessions, failures, bans and ceremonies live in Redis when
-- [store] redis is set; their tables serve a gateway on PostgreSQL alone.
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE users (
    name             CITEXT NOT NULL PRIMARY KEY,
    hash             TEXT   NOT NULL,
    email            TEXT,
    disabled         BIGINT NOT NULL DEFAULT 0,
    created          BIGINT NOT NULL,
    password_changed BIGINT NOT NULL
);

CREATE TABLE user_groups (
    "user" CITEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE ON UPDATE CASCADE,
    grp    CITEXT NOT NULL,
    PRIMARY KEY ("user", grp)
);

CREATE TABLE sessions (
    token_hash       TEXT   NOT NULL PRIMARY KEY,
    "user"           CITEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    created          BIGINT NOT NULL,
    last_seen        BIGINT NOT NULL,
    address          TEXT   NOT NULL,
    user_agent       TEXT   NOT NULL,
    host             TEXT   NOT NULL DEFAULT '',
    second_factor_at BIGINT NOT NULL DEFAULT 0,
    second_factor    TEXT   NOT NULL DEFAULT '',
    unusual          TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions ("user");

CREATE TABLE failures (
    kind TEXT   NOT NULL,
    key  CITEXT NOT NULL,
    at   BIGINT NOT NULL
);
CREATE INDEX failures_key ON failures (kind, key, at);

CREATE TABLE bans (
    kind   TEXT   NOT NULL,
    key    CITEXT NOT NULL,
    since  BIGINT NOT NULL,
    until  BIGINT NOT NULL,
    locks  BIGINT NOT NULL,
    reason TEXT   NOT NULL,
    PRIMARY KEY (kind, key)
);

CREATE TABLE factors (
    id         TEXT   NOT NULL PRIMARY KEY,
    "user"     CITEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    kind       TEXT   NOT NULL,
    label      TEXT   NOT NULL,
    secret     BYTEA,
    credential TEXT,
    last_step  BIGINT NOT NULL DEFAULT 0,
    confirmed  BIGINT NOT NULL DEFAULT 0,
    created    BIGINT NOT NULL,
    last_used  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX factors_user ON factors ("user");

CREATE TABLE recovery_codes (
    "user"    CITEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    code_hash TEXT   NOT NULL,
    PRIMARY KEY ("user", code_hash)
);

CREATE TABLE ceremonies (
    id      TEXT   NOT NULL PRIMARY KEY,
    session TEXT   NOT NULL,
    kind    TEXT   NOT NULL,
    state   TEXT   NOT NULL,
    expires BIGINT NOT NULL
);

CREATE TABLE known_networks (
    "user"     CITEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    network    TEXT   NOT NULL,
    country    TEXT   NOT NULL,
    first_seen BIGINT NOT NULL,
    PRIMARY KEY ("user", network, country)
);

-- The audit trail: one row per decision and login, the entry as the JSON line the file log
-- would hold, appended only.
CREATE TABLE audit (
    id         BIGSERIAL PRIMARY KEY,
    time       TEXT NOT NULL,
    request_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    status     INTEGER NOT NULL,
    result     TEXT NOT NULL,
    "user"     TEXT,
    address    TEXT NOT NULL,
    entry      TEXT NOT NULL
);
CREATE INDEX audit_request ON audit (request_id);

-- The change counter (SQLite's migration 0005), moved by the same changes.
CREATE TABLE generation (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO generation (id, value) VALUES (1, 0);

CREATE FUNCTION why401_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE generation SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

-- FOR EACH ROW: a statement that changed nothing (a logout with a made-up cookie) moves
-- nothing, and every instance keeps what it remembers.

CREATE TRIGGER generation_users AFTER UPDATE OR DELETE ON users
FOR EACH ROW EXECUTE FUNCTION why401_generation();
CREATE TRIGGER generation_groups AFTER INSERT OR DELETE ON user_groups
FOR EACH ROW EXECUTE FUNCTION why401_generation();
CREATE TRIGGER generation_sessions_ended AFTER DELETE ON sessions
FOR EACH ROW EXECUTE FUNCTION why401_generation();
CREATE TRIGGER generation_sessions_changed AFTER UPDATE OF created, second_factor_at ON sessions
FOR EACH ROW EXECUTE FUNCTION why401_generation();
CREATE TRIGGER generation_bans AFTER INSERT OR UPDATE OR DELETE ON bans
FOR EACH ROW EXECUTE FUNCTION why401_generation();
CREATE TRIGGER generation_factors AFTER INSERT OR DELETE ON factors
FOR EACH ROW EXECUTE FUNCTION why401_generation();
CREATE TRIGGER generation_factors_confirmed AFTER UPDATE OF confirmed ON factors
FOR EACH ROW EXECUTE FUNCTION why401_generation();
