-- The networks (an IPv4 /24, an IPv6 /48) and countries each user signed in from: a sign-in from
-- one never seen for that user is unusual ([risk] unusual).
CREATE TABLE known_networks (
    user       TEXT    NOT NULL COLLATE NOCASE REFERENCES users (name) ON DELETE CASCADE,
    network    TEXT    NOT NULL,
    country    TEXT    NOT NULL,  -- ISO 3166-1 alpha-2, or '' when not known
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (user, network, country)
) STRICT;

-- A session whose sign-in was unusual: it gives a second factor before anything that asks for
-- a password lets it through.
ALTER TABLE sessions ADD COLUMN unusual TEXT NOT NULL DEFAULT '';
