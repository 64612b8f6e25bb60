-- Second factors. A TOTP secret cannot be hashed (the gateway must compute the codes), so it is
-- stored sealed (XChaCha20-Poly1305 under the gateway's key, `[mfa] key_file` or
-- WHY401_GATE_KEY): a copy of the database alone gives no codes. A WebAuthn credential is a
-- public key and its counter, stored as webauthn-rs serialises it.
CREATE TABLE factors (
    id         TEXT    NOT NULL PRIMARY KEY,
    user       TEXT    NOT NULL COLLATE NOCASE REFERENCES users (name) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,  -- 'totp' or 'webauthn'
    label      TEXT    NOT NULL,
    secret     BLOB,              -- TOTP: nonce || sealed secret
    credential TEXT,              -- WebAuthn: the credential, JSON
    -- TOTP: the last time step accepted. A code is good once (RFC 6238 §5.2, ASVS 2.8.4):
    -- only a later step is accepted next.
    last_step  INTEGER NOT NULL DEFAULT 0,
    -- 0 until the user proved the factor works (a first code, a finished registration).
    confirmed  INTEGER NOT NULL DEFAULT 0,
    created    INTEGER NOT NULL,
    last_used  INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX factors_user ON factors (user);

-- Recovery codes: random (80 bits), shown once, stored as their SHA-256 (a code that random needs
-- no slow hash), each good once.
CREATE TABLE recovery_codes (
    user      TEXT NOT NULL COLLATE NOCASE REFERENCES users (name) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    PRIMARY KEY (user, code_hash)
) STRICT;

-- A WebAuthn ceremony in progress: the challenge state the browser's answer is checked against,
-- bound to the session that started it, good for five minutes and once.
CREATE TABLE ceremonies (
    id       TEXT    NOT NULL PRIMARY KEY,
    session  TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    state    TEXT    NOT NULL,
    expires  INTEGER NOT NULL
) STRICT;

-- When the session's user last gave a second factor, and which: a rule's `step_up` asks for
-- one within its minutes.
ALTER TABLE sessions ADD COLUMN second_factor_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN second_factor TEXT NOT NULL DEFAULT '';

CREATE TRIGGER generation_sessions_factor AFTER UPDATE OF second_factor_at ON sessions
BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER generation_factors_added AFTER INSERT ON factors
BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER generation_factors_confirmed AFTER UPDATE OF confirmed ON factors
BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER generation_factors_removed AFTER DELETE ON factors
BEGIN UPDATE generation SET value = value + 1; END;
