-- A counter every change that can end a cached decision moves: a user's password, state or
-- groups, a session ended or aged, a lock or ban set or lifted. The gateway keeps verified
-- sessions and Basic credentials in memory while the counter stands still, and polls it, so a
-- change made by another process (the CLI, another instance on the same file) ends them within
-- the poll interval. Triggers move it, so no writer can forget to. A session's last use
-- (touched once a minute) and a failure below the thresholds do not move it.
CREATE TABLE generation (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
) STRICT;

INSERT INTO generation (id, value) VALUES (1, 0);

CREATE TRIGGER generation_users_updated AFTER UPDATE ON users
BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER generation_users_deleted AFTER DELETE ON users
BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER generation_groups_added AFTER INSERT ON user_groups
BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER generation_groups_removed AFTER DELETE ON user_groups
BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER generation_sessions_ended AFTER DELETE ON sessions
BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER generation_sessions_aged AFTER UPDATE OF created ON sessions
BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER generation_bans_set AFTER INSERT ON bans
BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER generation_bans_changed AFTER UPDATE ON bans
BEGIN UPDATE generation SET value = value + 1; END;
CREATE TRIGGER generation_bans_lifted AFTER DELETE ON bans
BEGIN UPDATE generation SET value = value + 1; END;
