//! The embedded store: users, their groups and their password hashes in SQLite, through sqlx
//! (migrations embedded and run at open). The next issue adds PostgreSQL and Redis behind the
//! same operations.

use std::path::Path;
use std::str::FromStr;

use serde::Serialize;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::password;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or answered with an error: the gateway fails closed
    /// (503), never open.
    #[error("the user store is unavailable: {0}")]
    Unavailable(#[from] sqlx::Error),
    /// No such user.
    #[error("no user {0:?}")]
    NoUser(String),
    /// The user exists already.
    #[error("user {0:?} exists already")]
    Exists(String),
    /// A migration failed.
    #[error("the user store could not be prepared: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The directory (`[ldap]`) could not be asked: the gateway fails closed.
    #[error("{0}")]
    Directory(#[from] crate::ldap::DirectoryError),
}

/// The hash of a user who comes from the directory: no password is kept, none verifies.
pub const DIRECTORY_HASH: &str = "!directory";

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The name, as first written.
    pub name: String,
    /// The password hash (never printed).
    #[serde(skip)]
    pub hash: String,
    /// What the hash is.
    pub hash_kind: Option<password::Kind>,
    /// An address for notifications.
    pub email: Option<String>,
    /// Refused at login.
    pub disabled: bool,
    /// The groups, sorted.
    pub groups: Vec<String>,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds.
    pub password_changed: i64,
}

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Changes this process made that can end a remembered decision ([`crate::fresh`]); the
    /// store's change counter tells of the others'.
    changes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The directory of the database file: the gateway's key is kept beside it by default.
    dir: std::path::PathBuf,
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

impl Store {
    /// Opens (creating it if needed) the database at `path` and brings its schema up to date.
    /// A new file is readable by its owner only: it holds password hashes.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(e.into()))?;
        }
        #[cfg(unix)]
        if !path.exists() {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| StoreError::Unavailable(e.into()))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL syncs at checkpoints instead of at every commit: the database
            // cannot be corrupted, and a power cut can lose only the last commits (a failure
            // counted, a session touched), not an fsync on every login's path.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store {
            pool,
            changes: Default::default(),
            dir: path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf(),
        })
    }

    /// The directory the database is in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Closes the store: every later operation fails as an unavailable store does.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// How many changes this process made that can end a remembered decision.
    pub fn changes(&self) -> u64 {
        self.changes.load(std::sync::atomic::Ordering::Acquire)
    }

    fn changed(&self) {
        self.changes
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Whether [`Store::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.pool.is_closed()
    }

    /// The change counter (migration 0005): it moves with every change that can end a cached
    /// decision.
    pub async fn generation(&self) -> Result<i64, StoreError> {
        let (v,): (i64,) = sqlx::query_as("SELECT value FROM generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(v)
    }

    /// Adds a user with a password hash and groups.
    pub async fn add(
        &self,
        name: &str,
        hash: &str,
        email: Option<&str>,
        groups: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let t = now();
        let inserted = sqlx::query(
            "INSERT INTO users (name, hash, email, created, password_changed) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(hash)
        .bind(email)
        .bind(t)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Exists(name.to_string()));
        }
        for g in groups {
            sqlx::query("INSERT OR IGNORE INTO user_groups (user, grp) VALUES (?, ?)")
                .bind(name)
                .bind(g)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Keeps the local record of a directory user (for sessions, factors, lockout) as the
    /// directory says: made if new, its address and groups brought up to date; nothing is
    /// written when nothing changed (a write would end every remembered decision).
    pub async fn sync_directory_user(
        &self,
        name: &str,
        email: Option<&str>,
        groups: &[String],
    ) -> Result<(), StoreError> {
        let Some(u) = self.user(name).await? else {
            return match self.add(name, DIRECTORY_HASH, email, groups).await {
                // Another login made it first.
                Err(StoreError::Exists(_)) => Ok(()),
                r => r,
            };
        };
        if u.email.as_deref() != email {
            sqlx::query("UPDATE users SET email = ? WHERE name = ?")
                .bind(email)
                .bind(name)
                .execute(&self.pool)
                .await?;
            self.changed();
        }
        let has = |list: &[String], g: &String| list.iter().any(|x| x.eq_ignore_ascii_case(g));
        let add: Vec<String> = groups
            .iter()
            .filter(|g| !has(&u.groups, g))
            .cloned()
            .collect();
        let remove: Vec<String> = u
            .groups
            .iter()
            .filter(|g| !has(groups, g))
            .cloned()
            .collect();
        if !add.is_empty() || !remove.is_empty() {
            self.change_groups(name, &add, &remove).await?;
        }
        Ok(())
    }

    /// The user named `name` (case-insensitive).
    pub async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let row: Option<(String, String, Option<String>, i64, i64, i64)> = sqlx::query_as(
            "SELECT name, hash, email, disabled, created, password_changed FROM users WHERE name = ?",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        let Some((name, hash, email, disabled, created, password_changed)) = row else {
            return Ok(None);
        };
        let groups = self.groups(&name).await?;
        Ok(Some(User {
            hash_kind: password::Kind::of(&hash).ok(),
            name,
            hash,
            email,
            disabled: disabled != 0,
            groups,
            created,
            password_changed,
        }))
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let names: Vec<(String,)> = sqlx::query_as("SELECT name FROM users ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(names.len());
        for (n,) in names {
            if let Some(u) = self.user(&n).await? {
                out.push(u);
            }
        }
        Ok(out)
    }

    /// The groups of `name`, sorted.
    pub async fn groups(&self, name: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT grp FROM user_groups WHERE user = ? ORDER BY grp")
                .bind(name)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(g,)| g).collect())
    }

    /// Sets a new password hash: a password change (`changed`: now) or an upgrade of the stored
    /// form at login (the change time kept).
    pub async fn set_hash(&self, name: &str, hash: &str, changed: bool) -> Result<(), StoreError> {
        let done = if changed {
            sqlx::query("UPDATE users SET hash = ?, password_changed = ? WHERE name = ?")
                .bind(hash)
                .bind(now())
                .bind(name)
        } else {
            sqlx::query("UPDATE users SET hash = ? WHERE name = ?")
                .bind(hash)
                .bind(name)
        }
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoUser(name.to_string()));
        }
        self.changed();
        Ok(())
    }

    /// Disables or enables `name`.
    pub async fn set_disabled(&self, name: &str, disabled: bool) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE users SET disabled = ? WHERE name = ?")
            .bind(i64::from(disabled))
            .bind(name)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoUser(name.to_string()));
        }
        self.changed();
        Ok(())
    }

    /// Adds `add` to and removes `remove` from the groups of `name`.
    pub async fn change_groups(
        &self,
        name: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<(), StoreError> {
        if self.user(name).await?.is_none() {
            return Err(StoreError::NoUser(name.to_string()));
        }
        let mut tx = self.pool.begin().await?;
        for g in add {
            sqlx::query("INSERT OR IGNORE INTO user_groups (user, grp) VALUES ((SELECT name FROM users WHERE name = ?), ?)")
                .bind(name)
                .bind(g)
                .execute(&mut *tx)
                .await?;
        }
        for g in remove {
            sqlx::query("DELETE FROM user_groups WHERE user = ? AND grp = ?")
                .bind(name)
                .bind(g)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.changed();
        Ok(())
    }

    /// Stores a new session for `user` under the SHA-256 of its token.
    pub async fn add_session(
        &self,
        token_hash: &str,
        user: &str,
        host: &str,
        address: &str,
        user_agent: &str,
        unusual: &str,
    ) -> Result<(), StoreError> {
        let t = now();
        sqlx::query(
            "INSERT INTO sessions (token_hash, user, host, created, last_seen, address, user_agent, unusual) VALUES (?, (SELECT name FROM users WHERE name = ?), ?, ?, ?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(user)
        .bind(host)
        .bind(t)
        .bind(t)
        .bind(address)
        .bind(user_agent)
        .bind(unusual)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The networks and countries `user` signed in from.
    pub async fn known_networks(&self, user: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT network, country FROM known_networks WHERE user = ?")
                .bind(user)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Remembers that `user` signed in from `network` in `country`.
    pub async fn add_known_network(
        &self,
        user: &str,
        network: &str,
        country: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT OR IGNORE INTO known_networks (user, network, country, first_seen) SELECT name, ?, ?, ? FROM users WHERE name = ?",
        )
        .bind(network)
        .bind(country)
        .bind(now())
        .bind(user)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The session stored under `token_hash`, if any.
    pub async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT token_hash, user, host, created, last_seen, address, user_agent, second_factor_at, second_factor, unusual FROM sessions WHERE token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Session::from))
    }

    /// Marks the session used now.
    pub async fn touch_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen = ? WHERE token_hash = ?")
            .bind(now())
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every session, or those of `user`, newest first.
    pub async fn sessions(&self, user: Option<&str>) -> Result<Vec<Session>, StoreError> {
        let rows: Vec<SessionRow> = sqlx::query_as(
            "SELECT token_hash, user, host, created, last_seen, address, user_agent, second_factor_at, second_factor, unusual FROM sessions WHERE ? IS NULL OR user = ? ORDER BY created DESC",
        )
        .bind(user)
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Session::from).collect())
    }

    /// Ends sessions: the one whose hash starts with `id` (as `gate sessions list` shows it),
    /// or every session of the user `id`. How many ended.
    pub async fn revoke_sessions(&self, id: &str) -> Result<u64, StoreError> {
        let prefix = format!("{}%", id.replace(['%', '_'], ""));
        let done = sqlx::query(
            "DELETE FROM sessions WHERE user = ? OR (length(?) >= 10 AND token_hash LIKE ?)",
        )
        .bind(id)
        .bind(id)
        .bind(prefix)
        .execute(&self.pool)
        .await?;
        self.changed();
        Ok(done.rows_affected())
    }

    /// Moves a session's last use `seconds` into the past (for tests of the idle timeout, and
    /// for an operator who wants a session to lapse sooner).
    pub async fn age_session(&self, token_hash: &str, seconds: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen = last_seen - ?, created = created - ?, second_factor_at = CASE WHEN second_factor_at > 0 THEN second_factor_at - ? ELSE 0 END WHERE token_hash = ?")
            .bind(seconds)
            .bind(seconds)
            .bind(seconds)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        self.changed();
        Ok(())
    }

    /// Records a failed login against `key` (a user or an address) at `at`.
    pub async fn add_failure(&self, kind: &str, key: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO failures (kind, key, at) VALUES (?, ?, ?)")
            .bind(kind)
            .bind(key)
            .bind(at)
            .execute(&self.pool)
            .await?;
        // What is past the longest window (an hour) is of no use any more.
        sqlx::query("DELETE FROM failures WHERE kind = ? AND key = ? AND at < ?")
            .bind(kind)
            .bind(key)
            .bind(at - 3600)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Failed logins against `key` at or after `since`.
    pub async fn failures(&self, kind: &str, key: &str, since: i64) -> Result<u64, StoreError> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM failures WHERE kind = ? AND key = ? AND at >= ?")
                .bind(kind)
                .bind(key)
                .bind(since)
                .fetch_one(&self.pool)
                .await?;
        Ok(n.max(0) as u64)
    }

    /// The oldest failed login against `key` at or after `since`.
    pub async fn oldest_failure(
        &self,
        kind: &str,
        key: &str,
        since: i64,
    ) -> Result<Option<i64>, StoreError> {
        let (t,): (Option<i64>,) =
            sqlx::query_as("SELECT min(at) FROM failures WHERE kind = ? AND key = ? AND at >= ?")
                .bind(kind)
                .bind(key)
                .bind(since)
                .fetch_one(&self.pool)
                .await?;
        Ok(t)
    }

    /// Clears the failed logins against `key`.
    pub async fn clear_failures(&self, kind: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM failures WHERE kind = ? AND key = ?")
            .bind(kind)
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Locks or throttles `key` from `since` to `until`.
    pub async fn set_ban(
        &self,
        kind: &str,
        key: &str,
        since: i64,
        until: i64,
        locks: i64,
        reason: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO bans (kind, key, since, until, locks, reason) VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (kind, key) DO UPDATE SET since = excluded.since, until = excluded.until, \
             locks = excluded.locks, reason = excluded.reason",
        )
        .bind(kind)
        .bind(key)
        .bind(since)
        .bind(until)
        .bind(locks)
        .bind(reason)
        .execute(&self.pool)
        .await?;
        self.changed();
        Ok(())
    }

    /// The lock or throttle of `key`, current or past.
    pub async fn ban(&self, kind: &str, key: &str) -> Result<Option<Ban>, StoreError> {
        let row: Option<(String, String, i64, i64, i64, String)> = sqlx::query_as(
            "SELECT kind, key, since, until, locks, reason FROM bans WHERE kind = ? AND key = ?",
        )
        .bind(kind)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Ban::from))
    }

    /// The locks and throttles in force at `now`, soonest to end first.
    pub async fn bans(&self, now: i64) -> Result<Vec<Ban>, StoreError> {
        let rows: Vec<(String, String, i64, i64, i64, String)> = sqlx::query_as(
            "SELECT kind, key, since, until, locks, reason FROM bans WHERE until > ? ORDER BY until",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Ban::from).collect())
    }

    /// Lifts the locks and throttles of `key` (a user or an address), or all of them; how many
    /// were in force. The failures behind them go too.
    pub async fn clear_bans(&self, key: Option<&str>) -> Result<u64, StoreError> {
        let t = now();
        let done = sqlx::query("DELETE FROM bans WHERE (? IS NULL OR key = ?) AND until > ?")
            .bind(key)
            .bind(key)
            .bind(t)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM bans WHERE ? IS NULL OR key = ?")
            .bind(key)
            .bind(key)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM failures WHERE ? IS NULL OR key = ?")
            .bind(key)
            .bind(key)
            .execute(&self.pool)
            .await?;
        self.changed();
        Ok(done.rows_affected())
    }

    /// Marks the session's second factor given now, as `kind`.
    pub async fn session_second_factor(
        &self,
        token_hash: &str,
        kind: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sessions SET second_factor_at = ?, second_factor = ? WHERE token_hash = ?",
        )
        .bind(now())
        .bind(kind)
        .bind(token_hash)
        .execute(&self.pool)
        .await?;
        self.changed();
        Ok(())
    }

    /// Adds a factor for `user`; `confirmed` false until it is proved to work.
    pub async fn add_factor(&self, f: &NewFactor<'_>) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO factors (id, user, kind, label, secret, credential, confirmed, created) \
             SELECT ?, name, ?, ?, ?, ?, ?, ? FROM users WHERE name = ?",
        )
        .bind(f.id)
        .bind(f.kind)
        .bind(f.label)
        .bind(f.secret)
        .bind(f.credential)
        .bind(f.confirmed)
        .bind(now())
        .bind(f.user)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoUser(f.user.to_string()));
        }
        self.changed();
        Ok(())
    }

    /// The factors of `user`, oldest first.
    pub async fn factors(&self, user: &str) -> Result<Vec<Factor>, StoreError> {
        let rows: Vec<FactorRow> = sqlx::query_as(
            "SELECT id, user, kind, label, secret, credential, last_step, confirmed, created, last_used FROM factors WHERE user = ? ORDER BY created, id",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Factor::from).collect())
    }

    /// Marks a factor proved to work.
    pub async fn confirm_factor(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE factors SET confirmed = 1 WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        self.changed();
        Ok(())
    }

    /// Records a TOTP code's time step as used: true if `step` is later than every step
    /// accepted before for this factor (so a code is good once, on every instance sharing
    /// the store), false for a replay.
    pub async fn use_totp_step(&self, id: &str, step: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE factors SET last_step = ?, last_used = ? WHERE id = ? AND last_step < ?",
        )
        .bind(step)
        .bind(now())
        .bind(id)
        .bind(step)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a WebAuthn credential again (its counter and backup state moved).
    pub async fn update_credential(&self, id: &str, credential: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE factors SET credential = ?, last_used = ? WHERE id = ?")
            .bind(credential)
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes a factor of `user` (by id or its first 8 characters); how many went.
    pub async fn remove_factor(&self, user: &str, id: &str) -> Result<u64, StoreError> {
        let prefix = format!("{}%", id.replace(['%', '_'], ""));
        let done = sqlx::query(
            "DELETE FROM factors WHERE user = ? AND (id = ? OR (length(?) >= 8 AND id LIKE ?))",
        )
        .bind(user)
        .bind(id)
        .bind(id)
        .bind(prefix)
        .execute(&self.pool)
        .await?;
        self.changed();
        Ok(done.rows_affected())
    }

    /// Replaces `user`'s recovery codes with these hashes.
    pub async fn set_recovery_codes(
        &self,
        user: &str,
        hashes: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user = ?")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        for h in hashes {
            sqlx::query(
                "INSERT INTO recovery_codes (user, code_hash) SELECT name, ? FROM users WHERE name = ?",
            )
            .bind(h)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Uses up one recovery code of `user`: true if it was there (and is now gone).
    pub async fn use_recovery_code(&self, user: &str, hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM recovery_codes WHERE user = ? AND code_hash = ?")
            .bind(user)
            .bind(hash)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// How many recovery codes `user` has left.
    pub async fn recovery_codes_left(&self, user: &str) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM recovery_codes WHERE user = ?")
            .bind(user)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Keeps a WebAuthn ceremony's state for five minutes.
    pub async fn put_ceremony(
        &self,
        id: &str,
        session: &str,
        kind: &str,
        state: &str,
    ) -> Result<(), StoreError> {
        let t = now();
        sqlx::query("DELETE FROM ceremonies WHERE expires < ?")
            .bind(t)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO ceremonies (id, session, kind, state, expires) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(session)
        .bind(kind)
        .bind(state)
        .bind(t + 300)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes (and forgets) a ceremony's state, if it is that session's, of that kind and not
    /// expired: each is good once.
    pub async fn take_ceremony(
        &self,
        id: &str,
        session: &str,
        kind: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "DELETE FROM ceremonies WHERE id = ? AND session = ? AND kind = ? AND expires >= ? RETURNING state",
        )
        .bind(id)
        .bind(session)
        .bind(kind)
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(s,)| s))
    }

    /// Ends one session.
    pub async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        self.changed();
        Ok(())
    }
}

/// A browser session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    /// The SHA-256 of its token, hex; its first 12 characters name it.
    pub id: String,
    /// Whose it is.
    pub user: String,
    /// The host it was made on, and is good on.
    pub host: String,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds.
    pub last_seen: i64,
    /// The client's address at login.
    pub address: String,
    /// The browser's User-Agent at login.
    pub user_agent: String,
    /// When the user last gave a second factor in this session (Unix seconds); 0: never.
    pub second_factor_at: i64,
    /// Which (`totp`, `webauthn`, `recovery`); empty: none.
    pub second_factor: String,
    /// Why its sign-in was unusual (a network or country never seen for the user); empty: it
    /// was not.
    pub unusual: String,
}

type SessionRow = (
    String,
    String,
    String,
    i64,
    i64,
    String,
    String,
    i64,
    String,
    String,
);

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        let (
            id,
            user,
            host,
            created,
            last_seen,
            address,
            user_agent,
            second_factor_at,
            second_factor,
            unusual,
        ) = r;
        Session {
            id,
            user,
            host,
            created,
            last_seen,
            address,
            user_agent,
            second_factor_at,
            second_factor,
            unusual,
        }
    }
}

/// A lock (of an account) or a throttle (of an address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ban {
    /// `user` or `address`.
    pub kind: String,
    /// The user name or the address.
    pub key: String,
    /// Unix seconds.
    pub since: i64,
    /// Unix seconds.
    pub until: i64,
    /// Locks in a row (each twice as long as the one before).
    pub locks: i64,
    /// Why.
    pub reason: String,
}

impl From<(String, String, i64, i64, i64, String)> for Ban {
    fn from(
        (kind, key, since, until, locks, reason): (String, String, i64, i64, i64, String),
    ) -> Self {
        Ban {
            kind,
            key,
            since,
            until,
            locks,
            reason,
        }
    }
}

/// A factor to add.
#[derive(Debug, Clone)]
pub struct NewFactor<'a> {
    /// Its id (random).
    pub id: &'a str,
    /// Whose.
    pub user: &'a str,
    /// `totp` or `webauthn`.
    pub kind: &'a str,
    /// What the user calls it.
    pub label: &'a str,
    /// TOTP: the sealed secret.
    pub secret: Option<&'a [u8]>,
    /// WebAuthn: the credential, JSON.
    pub credential: Option<&'a str>,
    /// Proved to work already.
    pub confirmed: bool,
}

/// A second factor as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Factor {
    /// Its id.
    pub id: String,
    /// Whose.
    pub user: String,
    /// `totp` or `webauthn`.
    pub kind: String,
    /// What the user calls it.
    pub label: String,
    /// TOTP: the sealed secret (never printed).
    #[serde(skip)]
    pub secret: Option<Vec<u8>>,
    /// WebAuthn: the credential, JSON (a public key: not secret, but long).
    #[serde(skip)]
    pub credential: Option<String>,
    /// TOTP: the last time step accepted.
    #[serde(skip)]
    pub last_step: i64,
    /// Proved to work.
    pub confirmed: bool,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds; 0: never.
    pub last_used: i64,
}

type FactorRow = (
    String,
    String,
    String,
    String,
    Option<Vec<u8>>,
    Option<String>,
    i64,
    bool,
    i64,
    i64,
);

impl From<FactorRow> for Factor {
    fn from(
        (id, user, kind, label, secret, credential, last_step, confirmed, created, last_used): FactorRow,
    ) -> Self {
        Factor {
            id,
            user,
            kind,
            label,
            secret,
            credential,
            last_step,
            confirmed,
            created,
            last_used,
        }
    }
}
