//! The store: users, their groups, password hashes, second factors, known networks and (without
//! Redis) sessions and the lockout's counters, in SQLite (the embedded default) or PostgreSQL,
//! through sqlx with migrations embedded and run at open; and, with `[store] redis`, sessions,
//! lockout counters and bans, TOTP replay marks, WebAuthn ceremonies and the explain records in
//! Redis, so that several instances share them. Every operation has the same meaning whatever
//! holds it; a failing backend is an error (the gateway fails closed), never an empty answer.
//!
//! The SQL is written twice where the dialects differ (SQLite's `?` and `COLLATE NOCASE`,
//! PostgreSQL's `$1::citext` and its reserved `"user"`); `on!` runs the one for the pool at hand.

use std::path::Path;
use std::str::FromStr;

use serde::Serialize;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::password;

mod ephemeral;

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
    /// Redis could not be reached or answered with an error: the gateway fails closed.
    #[error("Redis is unavailable: {0}")]
    Redis(String),
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

/// Where the store keeps what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backends {
    /// The SQL database: a SQLite file, or a PostgreSQL URL.
    pub sql: Sql,
    /// A Redis URL (`redis://host:port/db`, `rediss://…`) for sessions, counters and the
    /// explain records; `None`: they stay in the SQL database.
    pub redis: Option<String>,
}

/// The SQL database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sql {
    /// A SQLite file (made if missing, mode 0600).
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL URL (`postgres://user@host/db`; the password from `PGPASSWORD` or the URL).
    Postgres(String),
}

impl std::fmt::Display for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.sql {
            Sql::Sqlite(p) => write!(f, "{}", p.display())?,
            Sql::Postgres(u) => write!(f, "{}", redacted(u))?,
        }
        if let Some(r) = &self.redis {
            write!(f, " with Redis {}", redacted(r))?;
        }
        Ok(())
    }
}

/// A URL without its password.
fn redacted(u: &str) -> String {
    match url::Url::parse(u) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => u.to_string(),
    }
}

#[derive(Debug, Clone)]
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The store.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
    /// Redis, when sessions and counters are shared there.
    redis: Option<ephemeral::Ephemeral>,
    /// Changes this process made that can end a remembered decision ([`crate::fresh`]); the
    /// store's change counter tells of the others'.
    changes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The directory of the database file (the working directory for PostgreSQL): the
    /// gateway's key is kept beside it by default.
    dir: std::path::PathBuf,
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Runs `$body` with `$sql` the statement for the store's database and `$pool` its pool.
macro_rules! on {
    ($self:expr, $lite:expr, $pg:expr, |$sql:ident, $pool:ident| $body:expr) => {
        match &$self.db {
            Db::Sqlite($pool) => {
                let $sql: &'static str = $lite;
                $body
            }
            Db::Postgres($pool) => {
                let $sql: &'static str = $pg;
                $body
            }
        }
    };
}

impl Store {
    /// Opens (creating it if needed) the SQLite database at `path` and brings its schema up to
    /// date. A new file is readable by its owner only: it holds password hashes.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        Store::connect(&Backends {
            sql: Sql::Sqlite(path.to_path_buf()),
            redis: None,
        })
        .await
    }

    /// Opens the store `b` names, bringing each schema up to date.
    pub async fn connect(b: &Backends) -> Result<Store, StoreError> {
        let (db, dir) = match &b.sql {
            Sql::Sqlite(path) => (
                Db::Sqlite(open_sqlite(path).await?),
                path.parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .to_path_buf(),
            ),
            Sql::Postgres(url) => {
                // Commits do not wait for the WAL's flush (synchronous_commit = off): as SQLite's
                // synchronous = NORMAL here and the file log, a crash of the database server can
                // lose the last fraction of a second of writes (an audit line, a failure
                // counted), never corrupt them; waiting for the disk would put an fsync on
                // every decision's path.
                let options = sqlx::postgres::PgConnectOptions::from_str(url)?
                    .options([("synchronous_commit", "off")]);
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(std::time::Duration::from_secs(5))
                    .connect_with(options)
                    .await?;
                sqlx::migrate!("./migrations-postgres").run(&pool).await?;
                (Db::Postgres(pool), std::path::PathBuf::from("."))
            }
        };
        let redis = match &b.redis {
            Some(url) => Some(ephemeral::Ephemeral::connect(url).await?),
            None => None,
        };
        Ok(Store {
            db,
            redis,
            changes: Default::default(),
            dir,
        })
    }

    /// The directory the database is in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the SQL database is PostgreSQL (the audit trail is there).
    pub fn is_postgres(&self) -> bool {
        matches!(self.db, Db::Postgres(_))
    }

    /// Whether sessions and counters are in Redis (shared by every instance).
    pub fn shares_sessions(&self) -> bool {
        self.redis.is_some()
    }

    /// Closes the store: every later operation fails as an unavailable store does.
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }

    /// How many changes this process made that can end a remembered decision.
    pub fn changes(&self) -> u64 {
        self.changes.load(std::sync::atomic::Ordering::Acquire)
    }

    fn changed(&self) {
        self.changes
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// A change in Redis that can end a remembered decision: counted here, and in Redis for the
    /// other instances.
    async fn changed_shared(&self, r: &ephemeral::Ephemeral) -> Result<(), StoreError> {
        self.changed();
        r.bump().await
    }

    /// Whether [`Store::close`] was called.
    pub fn is_closed(&self) -> bool {
        match &self.db {
            Db::Sqlite(p) => p.is_closed(),
            Db::Postgres(p) => p.is_closed(),
        }
    }

    /// The change counter (SQLite's migration 0005, PostgreSQL's triggers, plus Redis's when
    /// sessions are there): it moves with every change that can end a cached decision.
    pub async fn generation(&self) -> Result<i64, StoreError> {
        let (v,): (i64,) = on!(
            self,
            "SELECT value FROM generation WHERE id = 1",
            "SELECT value FROM generation WHERE id = 1",
            |sql, pool| sqlx::query_as(sql).fetch_one(pool).await?
        );
        let shared = match &self.redis {
            Some(r) => r.generation().await?,
            None => 0,
        };
        Ok(v.wrapping_add(shared))
    }

    /// Adds a user with a password hash and groups.
    pub async fn add(
        &self,
        name: &str,
        hash: &str,
        email: Option<&str>,
        groups: &[String],
    ) -> Result<(), StoreError> {
        let t = now();
        let inserted = on!(
            self,
            "INSERT INTO users (name, hash, email, created, password_changed) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
            "INSERT INTO users (name, hash, email, created, password_changed) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
            |sql, pool| {
                let mut tx = pool.begin().await?;
                let done = sqlx::query(sql)
                    .bind(name)
                    .bind(hash)
                    .bind(email)
                    .bind(t)
                    .bind(t)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 1 {
                    for g in groups {
                        sqlx::query(match self.db {
                            Db::Sqlite(_) => "INSERT INTO user_groups (user, grp) VALUES (?, ?) ON CONFLICT DO NOTHING",
                            Db::Postgres(_) => "INSERT INTO user_groups (\"user\", grp) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        })
                        .bind(name)
                        .bind(g)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                }
                done.rows_affected()
            }
        );
        if inserted == 0 {
            return Err(StoreError::Exists(name.to_string()));
        }
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
            on!(
                self,
                "UPDATE users SET email = ? WHERE name = ?",
                "UPDATE users SET email = $1 WHERE name = $2::citext",
                |sql, pool| {
                    sqlx::query(sql)
                        .bind(email)
                        .bind(name)
                        .execute(pool)
                        .await?;
                }
            );
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
        let row: Option<(String, String, Option<String>, i64, i64, i64)> = on!(
            self,
            "SELECT name, hash, email, disabled, created, password_changed FROM users WHERE name = ?",
            "SELECT name::text, hash, email, disabled, created, password_changed FROM users WHERE name = $1::citext",
            |sql, pool| sqlx::query_as(sql).bind(name).fetch_optional(pool).await?
        );
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
        let names: Vec<(String,)> = on!(
            self,
            "SELECT name FROM users ORDER BY name",
            "SELECT name::text FROM users ORDER BY name",
            |sql, pool| sqlx::query_as(sql).fetch_all(pool).await?
        );
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
        let rows: Vec<(String,)> = on!(
            self,
            "SELECT grp FROM user_groups WHERE user = ? ORDER BY grp",
            "SELECT grp::text FROM user_groups WHERE \"user\" = $1::citext ORDER BY grp",
            |sql, pool| sqlx::query_as(sql).bind(name).fetch_all(pool).await?
        );
        Ok(rows.into_iter().map(|(g,)| g).collect())
    }

    /// Sets a new password hash: a password change (`changed`: now) or an upgrade of the stored
    /// form at login (the change time kept).
    pub async fn set_hash(&self, name: &str, hash: &str, changed: bool) -> Result<(), StoreError> {
        let done = on!(
            self,
            "UPDATE users SET hash = ?, password_changed = CASE WHEN ? THEN ? ELSE password_changed END WHERE name = ?",
            "UPDATE users SET hash = $1, password_changed = CASE WHEN $2 = 1 THEN $3 ELSE password_changed END WHERE name = $4::citext",
            |sql, pool| sqlx::query(sql)
                .bind(hash)
                .bind(i64::from(changed))
                .bind(now())
                .bind(name)
                .execute(pool)
                .await?
                .rows_affected()
        );
        if done == 0 {
            return Err(StoreError::NoUser(name.to_string()));
        }
        self.changed();
        Ok(())
    }

    /// Disables or enables `name`.
    pub async fn set_disabled(&self, name: &str, disabled: bool) -> Result<(), StoreError> {
        let done = on!(
            self,
            "UPDATE users SET disabled = ? WHERE name = ?",
            "UPDATE users SET disabled = $1 WHERE name = $2::citext",
            |sql, pool| sqlx::query(sql)
                .bind(i64::from(disabled))
                .bind(name)
                .execute(pool)
                .await?
                .rows_affected()
        );
        if done == 0 {
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
        on!(
            self,
            "INSERT INTO user_groups (user, grp) VALUES ((SELECT name FROM users WHERE name = ?), ?) ON CONFLICT DO NOTHING",
            "INSERT INTO user_groups (\"user\", grp) VALUES ((SELECT name FROM users WHERE name = $1::citext), $2) ON CONFLICT DO NOTHING",
            |sql, pool| {
                let mut tx = pool.begin().await?;
                for g in add {
                    sqlx::query(sql)
                        .bind(name)
                        .bind(g)
                        .execute(&mut *tx)
                        .await?;
                }
                for g in remove {
                    sqlx::query(match self.db {
                        Db::Sqlite(_) => "DELETE FROM user_groups WHERE user = ? AND grp = ?",
                        Db::Postgres(_) => "DELETE FROM user_groups WHERE \"user\" = $1::citext AND grp = $2::citext",
                    })
                    .bind(name)
                    .bind(g)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
        );
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
        if let Some(r) = &self.redis {
            // The user's name as stored (sessions are listed and revoked by it).
            let Some(u) = self.user(user).await? else {
                return Err(StoreError::NoUser(user.to_string()));
            };
            let s = Session {
                id: token_hash.to_string(),
                user: u.name,
                host: host.to_string(),
                created: t,
                last_seen: t,
                address: address.to_string(),
                user_agent: user_agent.to_string(),
                second_factor_at: 0,
                second_factor: String::new(),
                unusual: unusual.to_string(),
            };
            return r.add_session(&s).await;
        }
        on!(
            self,
            "INSERT INTO sessions (token_hash, user, host, created, last_seen, address, user_agent, unusual) VALUES (?, (SELECT name FROM users WHERE name = ?), ?, ?, ?, ?, ?, ?)",
            "INSERT INTO sessions (token_hash, \"user\", host, created, last_seen, address, user_agent, unusual) VALUES ($1, (SELECT name FROM users WHERE name = $2::citext), $3, $4, $5, $6, $7, $8)",
            |sql, pool| {
                sqlx::query(sql)
                    .bind(token_hash)
                    .bind(user)
                    .bind(host)
                    .bind(t)
                    .bind(t)
                    .bind(address)
                    .bind(user_agent)
                    .bind(unusual)
                    .execute(pool)
                    .await?;
            }
        );
        Ok(())
    }

    /// The networks and countries `user` signed in from.
    pub async fn known_networks(&self, user: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(on!(
            self,
            "SELECT network, country FROM known_networks WHERE user = ?",
            "SELECT network, country FROM known_networks WHERE \"user\" = $1::citext",
            |sql, pool| sqlx::query_as(sql).bind(user).fetch_all(pool).await?
        ))
    }

    /// Remembers that `user` signed in from `network` in `country`.
    pub async fn add_known_network(
        &self,
        user: &str,
        network: &str,
        country: &str,
    ) -> Result<(), StoreError> {
        on!(
            self,
            "INSERT INTO known_networks (user, network, country, first_seen) SELECT name, ?, ?, ? FROM users WHERE name = ? ON CONFLICT DO NOTHING",
            "INSERT INTO known_networks (\"user\", network, country, first_seen) SELECT name, $1, $2, $3 FROM users WHERE name = $4::citext ON CONFLICT DO NOTHING",
            |sql, pool| {
                sqlx::query(sql)
                    .bind(network)
                    .bind(country)
                    .bind(now())
                    .bind(user)
                    .execute(pool)
                    .await?;
            }
        );
        Ok(())
    }

    /// The session stored under `token_hash`, if any.
    pub async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError> {
        if let Some(r) = &self.redis {
            return r.session(token_hash).await;
        }
        let row: Option<SessionRow> = on!(
            self,
            "SELECT token_hash, user, host, created, last_seen, address, user_agent, second_factor_at, second_factor, unusual FROM sessions WHERE token_hash = ?",
            "SELECT token_hash, \"user\"::text, host, created, last_seen, address, user_agent, second_factor_at, second_factor, unusual FROM sessions WHERE token_hash = $1",
            |sql, pool| sqlx::query_as(sql)
                .bind(token_hash)
                .fetch_optional(pool)
                .await?
        );
        Ok(row.map(Session::from))
    }

    /// Marks the session used now.
    pub async fn touch_session(&self, token_hash: &str) -> Result<(), StoreError> {
        if let Some(r) = &self.redis {
            return r.touch_session(token_hash, now()).await;
        }
        on!(
            self,
            "UPDATE sessions SET last_seen = ? WHERE token_hash = ?",
            "UPDATE sessions SET last_seen = $1 WHERE token_hash = $2",
            |sql, pool| {
                sqlx::query(sql)
                    .bind(now())
                    .bind(token_hash)
                    .execute(pool)
                    .await?;
            }
        );
        Ok(())
    }

    /// Every session, or those of `user`, newest first.
    pub async fn sessions(&self, user: Option<&str>) -> Result<Vec<Session>, StoreError> {
        if let Some(r) = &self.redis {
            return r.sessions(user).await;
        }
        let rows: Vec<SessionRow> = on!(
            self,
            "SELECT token_hash, user, host, created, last_seen, address, user_agent, second_factor_at, second_factor, unusual FROM sessions WHERE ?1 IS NULL OR user = ?1 ORDER BY created DESC",
            "SELECT token_hash, \"user\"::text, host, created, last_seen, address, user_agent, second_factor_at, second_factor, unusual FROM sessions WHERE $1::text IS NULL OR \"user\" = $1::citext ORDER BY created DESC",
            |sql, pool| sqlx::query_as(sql).bind(user).fetch_all(pool).await?
        );
        Ok(rows.into_iter().map(Session::from).collect())
    }

    /// Ends sessions: the one whose hash starts with `id` (as `gate sessions list` shows it),
    /// or every session of the user `id`. How many ended.
    pub async fn revoke_sessions(&self, id: &str) -> Result<u64, StoreError> {
        if let Some(r) = &self.redis {
            let n = r.revoke_sessions(id).await?;
            self.changed_shared(r).await?;
            return Ok(n);
        }
        let prefix = format!("{}%", id.replace(['%', '_'], ""));
        let done = on!(
            self,
            "DELETE FROM sessions WHERE user = ?1 OR (length(?1) >= 10 AND token_hash LIKE ?2)",
            "DELETE FROM sessions WHERE \"user\" = $1::citext OR (length($1) >= 10 AND token_hash LIKE $2)",
            |sql, pool| sqlx::query(sql)
                .bind(id)
                .bind(&prefix)
                .execute(pool)
                .await?
                .rows_affected()
        );
        self.changed();
        Ok(done)
    }

    /// Moves a session's last use `seconds` into the past (for tests of the idle timeout, and
    /// for an operator who wants a session to lapse sooner).
    pub async fn age_session(&self, token_hash: &str, seconds: i64) -> Result<(), StoreError> {
        if let Some(r) = &self.redis {
            r.age_session(token_hash, seconds).await?;
            return self.changed_shared(r).await;
        }
        on!(
            self,
            "UPDATE sessions SET last_seen = last_seen - ?1, created = created - ?1, second_factor_at = CASE WHEN second_factor_at > 0 THEN second_factor_at - ?1 ELSE 0 END WHERE token_hash = ?2",
            "UPDATE sessions SET last_seen = last_seen - $1, created = created - $1, second_factor_at = CASE WHEN second_factor_at > 0 THEN second_factor_at - $1 ELSE 0 END WHERE token_hash = $2",
            |sql, pool| {
                sqlx::query(sql)
                    .bind(seconds)
                    .bind(token_hash)
                    .execute(pool)
                    .await?;
            }
        );
        self.changed();
        Ok(())
    }

    /// Records a failed login against `key` (a user or an address) at `at`.
    pub async fn add_failure(&self, kind: &str, key: &str, at: i64) -> Result<(), StoreError> {
        if let Some(r) = &self.redis {
            return r.add_failure(kind, key, at).await;
        }
        on!(
            self,
            "INSERT INTO failures (kind, key, at) VALUES (?, ?, ?)",
            "INSERT INTO failures (kind, key, at) VALUES ($1, $2, $3)",
            |sql, pool| {
                sqlx::query(sql)
                    .bind(kind)
                    .bind(key)
                    .bind(at)
                    .execute(pool)
                    .await?;
            }
        );
        // What is past the longest window (an hour) is of no use any more.
        on!(
            self,
            "DELETE FROM failures WHERE kind = ? AND key = ? AND at < ?",
            "DELETE FROM failures WHERE kind = $1 AND key = $2::citext AND at < $3",
            |sql, pool| {
                sqlx::query(sql)
                    .bind(kind)
                    .bind(key)
                    .bind(at - 3600)
                    .execute(pool)
                    .await?;
            }
        );
        Ok(())
    }

    /// Failed logins against `key` at or after `since`.
    pub async fn failures(&self, kind: &str, key: &str, since: i64) -> Result<u64, StoreError> {
        if let Some(r) = &self.redis {
            return r.failures(kind, key, since).await;
        }
        let (n,): (i64,) = on!(
            self,
            "SELECT count(*) FROM failures WHERE kind = ? AND key = ? AND at >= ?",
            "SELECT count(*) FROM failures WHERE kind = $1 AND key = $2::citext AND at >= $3",
            |sql, pool| sqlx::query_as(sql)
                .bind(kind)
                .bind(key)
                .bind(since)
                .fetch_one(pool)
                .await?
        );
        Ok(n.max(0) as u64)
    }

    /// The oldest failed login against `key` at or after `since`.
    pub async fn oldest_failure(
        &self,
        kind: &str,
        key: &str,
        since: i64,
    ) -> Result<Option<i64>, StoreError> {
        if let Some(r) = &self.redis {
            return r.oldest_failure(kind, key, since).await;
        }
        let (t,): (Option<i64>,) = on!(
            self,
            "SELECT min(at) FROM failures WHERE kind = ? AND key = ? AND at >= ?",
            "SELECT min(at) FROM failures WHERE kind = $1 AND key = $2::citext AND at >= $3",
            |sql, pool| sqlx::query_as(sql)
                .bind(kind)
                .bind(key)
                .bind(since)
                .fetch_one(pool)
                .await?
        );
        Ok(t)
    }

    /// Clears the failed logins against `key`.
    pub async fn clear_failures(&self, kind: &str, key: &str) -> Result<(), StoreError> {
        if let Some(r) = &self.redis {
            return r.clear_failures(kind, key).await;
        }
        on!(
            self,
            "DELETE FROM failures WHERE kind = ? AND key = ?",
            "DELETE FROM failures WHERE kind = $1 AND key = $2::citext",
            |sql, pool| {
                sqlx::query(sql).bind(kind).bind(key).execute(pool).await?;
            }
        );
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
        let ban = Ban {
            kind: kind.to_string(),
            key: key.to_string(),
            since,
            until,
            locks,
            reason: reason.to_string(),
        };
        if let Some(r) = &self.redis {
            r.set_ban(&ban).await?;
            return self.changed_shared(r).await;
        }
        on!(
            self,
            "INSERT INTO bans (kind, key, since, until, locks, reason) VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (kind, key) DO UPDATE SET since = excluded.since, until = excluded.until, \
             locks = excluded.locks, reason = excluded.reason",
            "INSERT INTO bans (kind, key, since, until, locks, reason) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (kind, key) DO UPDATE SET since = excluded.since, until = excluded.until, \
             locks = excluded.locks, reason = excluded.reason",
            |sql, pool| {
                sqlx::query(sql)
                    .bind(kind)
                    .bind(key)
                    .bind(since)
                    .bind(until)
                    .bind(locks)
                    .bind(reason)
                    .execute(pool)
                    .await?;
            }
        );
        self.changed();
        Ok(())
    }

    /// The lock or throttle of `key`, current or past.
    pub async fn ban(&self, kind: &str, key: &str) -> Result<Option<Ban>, StoreError> {
        if let Some(r) = &self.redis {
            return r.ban(kind, key).await;
        }
        let row: Option<(String, String, i64, i64, i64, String)> = on!(
            self,
            "SELECT kind, key, since, until, locks, reason FROM bans WHERE kind = ? AND key = ?",
            "SELECT kind, key::text, since, until, locks, reason FROM bans WHERE kind = $1 AND key = $2::citext",
            |sql, pool| sqlx::query_as(sql)
                .bind(kind)
                .bind(key)
                .fetch_optional(pool)
                .await?
        );
        Ok(row.map(Ban::from))
    }

    /// The locks and throttles in force at `now`, soonest to end first.
    pub async fn bans(&self, now: i64) -> Result<Vec<Ban>, StoreError> {
        if let Some(r) = &self.redis {
            return r.bans(now).await;
        }
        let rows: Vec<(String, String, i64, i64, i64, String)> = on!(
            self,
            "SELECT kind, key, since, until, locks, reason FROM bans WHERE until > ? ORDER BY until",
            "SELECT kind, key::text, since, until, locks, reason FROM bans WHERE until > $1 ORDER BY until",
            |sql, pool| sqlx::query_as(sql).bind(now).fetch_all(pool).await?
        );
        Ok(rows.into_iter().map(Ban::from).collect())
    }

    /// Lifts the locks and throttles of `key` (a user or an address), or all of them; how many
    /// were in force. The failures behind them go too.
    pub async fn clear_bans(&self, key: Option<&str>) -> Result<u64, StoreError> {
        let t = now();
        if let Some(r) = &self.redis {
            let n = r.clear_bans(key, t).await?;
            self.changed_shared(r).await?;
            return Ok(n);
        }
        let done = on!(
            self,
            "DELETE FROM bans WHERE (?1 IS NULL OR key = ?1) AND until > ?2",
            "DELETE FROM bans WHERE ($1::text IS NULL OR key = $1::citext) AND until > $2",
            |sql, pool| sqlx::query(sql)
                .bind(key)
                .bind(t)
                .execute(pool)
                .await?
                .rows_affected()
        );
        on!(
            self,
            "DELETE FROM bans WHERE ?1 IS NULL OR key = ?1",
            "DELETE FROM bans WHERE $1::text IS NULL OR key = $1::citext",
            |sql, pool| {
                sqlx::query(sql).bind(key).execute(pool).await?;
            }
        );
        on!(
            self,
            "DELETE FROM failures WHERE ?1 IS NULL OR key = ?1",
            "DELETE FROM failures WHERE $1::text IS NULL OR key = $1::citext",
            |sql, pool| {
                sqlx::query(sql).bind(key).execute(pool).await?;
            }
        );
        self.changed();
        Ok(done)
    }

    /// Marks the session's second factor given now, as `kind`.
    pub async fn session_second_factor(
        &self,
        token_hash: &str,
        kind: &str,
    ) -> Result<(), StoreError> {
        if let Some(r) = &self.redis {
            r.session_second_factor(token_hash, kind, now()).await?;
            return self.changed_shared(r).await;
        }
        on!(
            self,
            "UPDATE sessions SET second_factor_at = ?, second_factor = ? WHERE token_hash = ?",
            "UPDATE sessions SET second_factor_at = $1, second_factor = $2 WHERE token_hash = $3",
            |sql, pool| {
                sqlx::query(sql)
                    .bind(now())
                    .bind(kind)
                    .bind(token_hash)
                    .execute(pool)
                    .await?;
            }
        );
        self.changed();
        Ok(())
    }

    /// Adds a factor for `user`; `confirmed` false until it is proved to work.
    pub async fn add_factor(&self, f: &NewFactor<'_>) -> Result<(), StoreError> {
        let done = on!(
            self,
            "INSERT INTO factors (id, user, kind, label, secret, credential, confirmed, created) \
             SELECT ?, name, ?, ?, ?, ?, ?, ? FROM users WHERE name = ?",
            "INSERT INTO factors (id, \"user\", kind, label, secret, credential, confirmed, created) \
             SELECT $1, name, $2, $3, $4, $5, $6, $7 FROM users WHERE name = $8::citext",
            |sql, pool| sqlx::query(sql)
                .bind(f.id)
                .bind(f.kind)
                .bind(f.label)
                .bind(f.secret)
                .bind(f.credential)
                .bind(i64::from(f.confirmed))
                .bind(now())
                .bind(f.user)
                .execute(pool)
                .await?
                .rows_affected()
        );
        if done == 0 {
            return Err(StoreError::NoUser(f.user.to_string()));
        }
        self.changed();
        Ok(())
    }

    /// The factors of `user`, oldest first.
    pub async fn factors(&self, user: &str) -> Result<Vec<Factor>, StoreError> {
        let rows: Vec<FactorRow> = on!(
            self,
            "SELECT id, user, kind, label, secret, credential, last_step, confirmed, created, last_used FROM factors WHERE user = ? ORDER BY created, id",
            "SELECT id, \"user\"::text, kind, label, secret, credential, last_step, confirmed, created, last_used FROM factors WHERE \"user\" = $1::citext ORDER BY created, id",
            |sql, pool| sqlx::query_as(sql).bind(user).fetch_all(pool).await?
        );
        Ok(rows.into_iter().map(Factor::from).collect())
    }

    /// Marks a factor proved to work.
    pub async fn confirm_factor(&self, id: &str) -> Result<(), StoreError> {
        on!(
            self,
            "UPDATE factors SET confirmed = 1 WHERE id = ?",
            "UPDATE factors SET confirmed = 1 WHERE id = $1",
            |sql, pool| {
                sqlx::query(sql).bind(id).execute(pool).await?;
            }
        );
        self.changed();
        Ok(())
    }

    /// Records a TOTP code's time step as used: true if `step` is later than every step
    /// accepted before for this factor (so a code is good once, on every instance sharing
    /// the store), false for a replay.
    pub async fn use_totp_step(&self, id: &str, step: i64) -> Result<bool, StoreError> {
        if let Some(r) = &self.redis
            && !r.use_totp_step(id, step).await?
        {
            return Ok(false);
        }
        let done = on!(
            self,
            "UPDATE factors SET last_step = ?1, last_used = ?2 WHERE id = ?3 AND last_step < ?1",
            "UPDATE factors SET last_step = $1, last_used = $2 WHERE id = $3 AND last_step < $1",
            |sql, pool| sqlx::query(sql)
                .bind(step)
                .bind(now())
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        );
        Ok(done == 1)
    }

    /// Stores a WebAuthn credential again (its counter and backup state moved).
    pub async fn update_credential(&self, id: &str, credential: &str) -> Result<(), StoreError> {
        on!(
            self,
            "UPDATE factors SET credential = ?, last_used = ? WHERE id = ?",
            "UPDATE factors SET credential = $1, last_used = $2 WHERE id = $3",
            |sql, pool| {
                sqlx::query(sql)
                    .bind(credential)
                    .bind(now())
                    .bind(id)
                    .execute(pool)
                    .await?;
            }
        );
        Ok(())
    }

    /// Removes a factor of `user` (by id or its first 8 characters); how many went.
    pub async fn remove_factor(&self, user: &str, id: &str) -> Result<u64, StoreError> {
        let prefix = format!("{}%", id.replace(['%', '_'], ""));
        let done = on!(
            self,
            "DELETE FROM factors WHERE user = ?1 AND (id = ?2 OR (length(?2) >= 8 AND id LIKE ?3))",
            "DELETE FROM factors WHERE \"user\" = $1::citext AND (id = $2 OR (length($2) >= 8 AND id LIKE $3))",
            |sql, pool| sqlx::query(sql)
                .bind(user)
                .bind(id)
                .bind(&prefix)
                .execute(pool)
                .await?
                .rows_affected()
        );
        self.changed();
        Ok(done)
    }

    /// Replaces `user`'s recovery codes with these hashes.
    pub async fn set_recovery_codes(
        &self,
        user: &str,
        hashes: &[String],
    ) -> Result<(), StoreError> {
        on!(
            self,
            "INSERT INTO recovery_codes (user, code_hash) SELECT name, ? FROM users WHERE name = ?",
            "INSERT INTO recovery_codes (\"user\", code_hash) SELECT name, $1 FROM users WHERE name = $2::citext",
            |sql, pool| {
                let mut tx = pool.begin().await?;
                sqlx::query(match self.db {
                    Db::Sqlite(_) => "DELETE FROM recovery_codes WHERE user = ?",
                    Db::Postgres(_) => "DELETE FROM recovery_codes WHERE \"user\" = $1::citext",
                })
                .bind(user)
                .execute(&mut *tx)
                .await?;
                for h in hashes {
                    sqlx::query(sql)
                        .bind(h)
                        .bind(user)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
        );
        Ok(())
    }

    /// Uses up one recovery code of `user`: true if it was there (and is now gone).
    pub async fn use_recovery_code(&self, user: &str, hash: &str) -> Result<bool, StoreError> {
        let done = on!(
            self,
            "DELETE FROM recovery_codes WHERE user = ? AND code_hash = ?",
            "DELETE FROM recovery_codes WHERE \"user\" = $1::citext AND code_hash = $2",
            |sql, pool| sqlx::query(sql)
                .bind(user)
                .bind(hash)
                .execute(pool)
                .await?
                .rows_affected()
        );
        Ok(done == 1)
    }

    /// How many recovery codes `user` has left.
    pub async fn recovery_codes_left(&self, user: &str) -> Result<i64, StoreError> {
        let (n,): (i64,) = on!(
            self,
            "SELECT count(*) FROM recovery_codes WHERE user = ?",
            "SELECT count(*) FROM recovery_codes WHERE \"user\" = $1::citext",
            |sql, pool| sqlx::query_as(sql).bind(user).fetch_one(pool).await?
        );
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
        if let Some(r) = &self.redis {
            return r.put_ceremony(id, session, kind, state).await;
        }
        let t = now();
        on!(
            self,
            "DELETE FROM ceremonies WHERE expires < ?",
            "DELETE FROM ceremonies WHERE expires < $1",
            |sql, pool| {
                sqlx::query(sql).bind(t).execute(pool).await?;
            }
        );
        on!(
            self,
            "INSERT INTO ceremonies (id, session, kind, state, expires) VALUES (?, ?, ?, ?, ?)",
            "INSERT INTO ceremonies (id, session, kind, state, expires) VALUES ($1, $2, $3, $4, $5)",
            |sql, pool| {
                sqlx::query(sql)
                    .bind(id)
                    .bind(session)
                    .bind(kind)
                    .bind(state)
                    .bind(t + 300)
                    .execute(pool)
                    .await?;
            }
        );
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
        if let Some(r) = &self.redis {
            return r.take_ceremony(id, session, kind).await;
        }
        let row: Option<(String,)> = on!(
            self,
            "DELETE FROM ceremonies WHERE id = ? AND session = ? AND kind = ? AND expires >= ? RETURNING state",
            "DELETE FROM ceremonies WHERE id = $1 AND session = $2 AND kind = $3 AND expires >= $4 RETURNING state",
            |sql, pool| sqlx::query_as(sql)
                .bind(id)
                .bind(session)
                .bind(kind)
                .bind(now())
                .fetch_optional(pool)
                .await?
        );
        Ok(row.map(|(s,)| s))
    }

    /// Ends one session.
    pub async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        // Nothing ended (a made-up cookie at logout): nothing remembered needs to go.
        if let Some(r) = &self.redis {
            if r.end_session(token_hash).await? {
                return self.changed_shared(r).await;
            }
            return Ok(());
        }
        let done = on!(
            self,
            "DELETE FROM sessions WHERE token_hash = ?",
            "DELETE FROM sessions WHERE token_hash = $1",
            |sql, pool| sqlx::query(sql)
                .bind(token_hash)
                .execute(pool)
                .await?
                .rows_affected()
        );
        if done > 0 {
            self.changed();
        }
        Ok(())
    }

    /// Appends audit lines (the JSON of each entry) to the PostgreSQL audit trail, in one
    /// transaction; `false` when this store is not PostgreSQL.
    pub async fn append_audit<'a>(
        &self,
        lines: impl IntoIterator<Item = &'a crate::audit::TrailLine>,
    ) -> Result<bool, StoreError> {
        let Db::Postgres(pool) = &self.db else {
            return Ok(false);
        };
        let mut b = sqlx::QueryBuilder::<sqlx::Postgres>::new(
            "INSERT INTO audit (time, request_id, kind, status, result, \"user\", address, entry) ",
        );
        b.push_values(lines, |mut row, l| {
            row.push_bind(&l.time)
                .push_bind(&l.request_id)
                .push_bind(l.kind)
                .push_bind(i32::from(l.status))
                .push_bind(&l.result)
                .push_bind(l.user.as_deref())
                .push_bind(&l.address)
                .push_bind(&l.json);
        });
        // One statement, one round trip; committed without waiting for the WAL's flush (the
        // pool's synchronous_commit = off, see `connect`).
        b.build().execute(pool).await?;
        Ok(true)
    }

    /// The audit lines of `request_id` in the PostgreSQL audit trail, in order.
    pub async fn audit_lines(&self, request_id: &str) -> Result<Vec<String>, StoreError> {
        let Db::Postgres(pool) = &self.db else {
            return Ok(Vec::new());
        };
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT entry FROM audit WHERE request_id = $1 ORDER BY id")
                .bind(request_id)
                .fetch_all(pool)
                .await?;
        Ok(rows.into_iter().map(|(e,)| e).collect())
    }

    /// Keeps an explain record (the audit line of a decision) in Redis, for any instance's
    /// explain endpoint; nothing without Redis.
    pub async fn put_explain(&self, request_id: &str, line: &str) -> Result<(), StoreError> {
        match &self.redis {
            Some(r) => r.put_explain(request_id, line).await,
            None => Ok(()),
        }
    }

    /// The explain records of `request_id` in Redis.
    pub async fn explain_lines(&self, request_id: &str) -> Result<Vec<String>, StoreError> {
        match &self.redis {
            Some(r) => r.explain(request_id).await,
            None => Ok(Vec::new()),
        }
    }
}

async fn open_sqlite(path: &Path) -> Result<SqlitePool, StoreError> {
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
    Ok(pool)
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
    i64,
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
            confirmed: confirmed != 0,
            created,
            last_used,
        }
    }
}
