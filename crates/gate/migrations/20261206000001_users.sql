-- Users and their groups. Names compare as Windows and LDAP compare them: case-insensitively.
CREATE TABLE users (
    name             TEXT    NOT NULL PRIMARY KEY COLLATE NOCASE,
    -- A PHC string ($argon2id$...), or an imported htpasswd hash ($2y$..., $apr1$...) until
    -- the user's next successful login upgrades it.
    hash             TEXT    NOT NULL,
    email            TEXT,
    disabled         INTEGER NOT NULL DEFAULT 0,
    created          INTEGER NOT NULL,
    password_changed INTEGER NOT NULL
) STRICT;

CREATE TABLE user_groups (
    user  TEXT NOT NULL COLLATE NOCASE REFERENCES users (name) ON DELETE CASCADE,
    grp   TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (user, grp)
) STRICT;
