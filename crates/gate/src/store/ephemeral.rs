//! What several instances share in Redis: sessions, failed-login counters and bans, TOTP replay
//! marks, WebAuthn ceremonies, the explain records, and a change counter. Every key has a time
//! to live, so nothing outlives its use. A command that fails or times out (a second) is an
//! error: the gateway answers 503, it never guesses.
//!
//! Keys (all under `why401:`):
//! - `session:{hash}`: a hash of the session's fields; `user-sessions:{user}`: a set of hashes;
//! - `failures:{kind}:{key}`: a sorted set of failure times; `ban:{kind}:{key}`: a hash;
//! - `totp:{factor}`: the last time step accepted; `ceremony:{id}`: JSON;
//! - `explain:{request id}`: a list of audit lines; `generation`: the change counter.

use std::collections::HashMap;
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::{Ban, Session, StoreError};

const P: &str = "why401:";
/// How long Redis keeps a session at most (the gateway ends it sooner: idle, absolute).
const SESSION_TTL: i64 = 31 * 86_400;
/// How long the explain records are kept.
const EXPLAIN_TTL: i64 = 7 * 86_400;

/// The Redis side of the store.
#[derive(Clone)]
pub(super) struct Ephemeral {
    conn: ConnectionManager,
}

impl std::fmt::Debug for Ephemeral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ephemeral(redis)")
    }
}

fn err(e: redis::RedisError) -> StoreError {
    StoreError::Redis(e.to_string())
}

/// Names folded as SQLite's `NOCASE` folds them (ASCII only), so that Redis's keys and the
/// SQL store agree on who is one user.
fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

impl Ephemeral {
    /// Connects to `url`; fails when Redis does not answer (a gateway that cannot reach it does
    /// not start). Later, lost connections are made again in the background.
    pub(super) async fn connect(url: &str) -> Result<Ephemeral, StoreError> {
        let client = redis::Client::open(url).map_err(err)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(err)?;
        Ok(Ephemeral { conn })
    }

    fn c(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub(super) async fn bump(&self) -> Result<(), StoreError> {
        let _: i64 = self
            .c()
            .incr(format!("{P}generation"), 1)
            .await
            .map_err(err)?;
        Ok(())
    }

    pub(super) async fn generation(&self) -> Result<i64, StoreError> {
        let v: Option<i64> = self.c().get(format!("{P}generation")).await.map_err(err)?;
        Ok(v.unwrap_or(0))
    }

    pub(super) async fn add_session(&self, s: &Session) -> Result<(), StoreError> {
        let key = format!("{P}session:{}", s.id);
        let set = format!("{P}user-sessions:{}", lower(&s.user));
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(
                &key,
                &[
                    ("user", s.user.clone()),
                    ("host", s.host.clone()),
                    ("created", s.created.to_string()),
                    ("last_seen", s.last_seen.to_string()),
                    ("address", s.address.clone()),
                    ("user_agent", s.user_agent.clone()),
                    ("second_factor_at", s.second_factor_at.to_string()),
                    ("second_factor", s.second_factor.clone()),
                    ("unusual", s.unusual.clone()),
                ],
            )
            .ignore()
            .expire(&key, SESSION_TTL)
            .ignore()
            .sadd(&set, &s.id)
            .ignore()
            .expire(&set, SESSION_TTL)
            .ignore();
        let () = pipe.query_async(&mut self.c()).await.map_err(err)?;
        Ok(())
    }

    pub(super) async fn session(&self, hash: &str) -> Result<Option<Session>, StoreError> {
        let m: HashMap<String, String> = self
            .c()
            .hgetall(format!("{P}session:{hash}"))
            .await
            .map_err(err)?;
        Ok(session_of(hash, &m))
    }

    pub(super) async fn touch_session(&self, hash: &str, now: i64) -> Result<(), StoreError> {
        // Only a session that is still there (HSET would make a fragment of one).
        let script = redis::Script::new(
            "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'last_seen', ARGV[1]) end return 1",
        );
        let _: i64 = script
            .key(format!("{P}session:{hash}"))
            .arg(now)
            .invoke_async(&mut self.c())
            .await
            .map_err(err)?;
        Ok(())
    }

    pub(super) async fn sessions(&self, user: Option<&str>) -> Result<Vec<Session>, StoreError> {
        let hashes: Vec<String> = match user {
            Some(u) => self
                .c()
                .smembers(format!("{P}user-sessions:{}", lower(u)))
                .await
                .map_err(err)?,
            None => {
                let keys = self.scan(&format!("{P}session:*")).await?;
                keys.into_iter()
                    .filter_map(|k| k.strip_prefix(&format!("{P}session:")).map(String::from))
                    .collect()
            }
        };
        let mut out = Vec::new();
        for h in hashes {
            if let Some(s) = self.session(&h).await? {
                out.push(s);
            }
        }
        out.sort_by_key(|s| std::cmp::Reverse(s.created));
        Ok(out)
    }

    async fn scan(&self, pattern: &str) -> Result<Vec<String>, StoreError> {
        let mut c = self.c();
        let mut it: redis::AsyncIter<'_, String> = c.scan_match(pattern).await.map_err(err)?;
        let mut keys = Vec::new();
        while let Some(k) = it.next_item().await {
            keys.push(k.map_err(err)?);
        }
        Ok(keys)
    }

    /// Ends a session; whether there was one.
    pub(super) async fn end_session(&self, hash: &str) -> Result<bool, StoreError> {
        let key = format!("{P}session:{hash}");
        let user: Option<String> = self.c().hget(&key, "user").await.map_err(err)?;
        let Some(u) = user else {
            return Ok(false);
        };
        let mut pipe = redis::pipe();
        pipe.atomic()
            .del(&key)
            .ignore()
            .srem(format!("{P}user-sessions:{}", lower(&u)), hash)
            .ignore();
        let () = pipe.query_async(&mut self.c()).await.map_err(err)?;
        Ok(true)
    }

    pub(super) async fn revoke_sessions(&self, id: &str) -> Result<u64, StoreError> {
        // A user's name: every session of theirs.
        let of_user: Vec<String> = self
            .c()
            .smembers(format!("{P}user-sessions:{}", lower(id)))
            .await
            .map_err(err)?;
        let hashes: Vec<String> = if !of_user.is_empty() {
            of_user
        } else if id.len() >= 10 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
            self.scan(&format!("{P}session:{}*", id.to_ascii_lowercase()))
                .await?
                .into_iter()
                .filter_map(|k| k.strip_prefix(&format!("{P}session:")).map(String::from))
                .collect()
        } else {
            Vec::new()
        };
        let mut n = 0;
        for h in hashes {
            if self.end_session(&h).await? {
                n += 1;
            } else {
                // A hash left in the user's set after its session expired.
                let _: i64 = self
                    .c()
                    .srem(format!("{P}user-sessions:{}", lower(id)), &h)
                    .await
                    .map_err(err)?;
            }
        }
        Ok(n)
    }

    pub(super) async fn age_session(&self, hash: &str, seconds: i64) -> Result<(), StoreError> {
        let script = redis::Script::new(
            "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end \
             redis.call('HINCRBY', KEYS[1], 'last_seen', -ARGV[1]) \
             redis.call('HINCRBY', KEYS[1], 'created', -ARGV[1]) \
             local f = tonumber(redis.call('HGET', KEYS[1], 'second_factor_at') or '0') \
             if f > 0 then redis.call('HSET', KEYS[1], 'second_factor_at', f - ARGV[1]) end \
             return 1",
        );
        let _: i64 = script
            .key(format!("{P}session:{hash}"))
            .arg(seconds)
            .invoke_async(&mut self.c())
            .await
            .map_err(err)?;
        Ok(())
    }

    pub(super) async fn session_second_factor(
        &self,
        hash: &str,
        kind: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let script = redis::Script::new(
            "if redis.call('EXISTS', KEYS[1]) == 1 then \
             redis.call('HSET', KEYS[1], 'second_factor_at', ARGV[1], 'second_factor', ARGV[2]) end \
             return 1",
        );
        let _: i64 = script
            .key(format!("{P}session:{hash}"))
            .arg(now)
            .arg(kind)
            .invoke_async(&mut self.c())
            .await
            .map_err(err)?;
        Ok(())
    }

    fn failures_key(kind: &str, key: &str) -> String {
        format!("{P}failures:{kind}:{}", lower(key))
    }

    pub(super) async fn add_failure(
        &self,
        kind: &str,
        key: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        let k = Ephemeral::failures_key(kind, key);
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).expect("the system's random source");
        let member = format!("{at}:{}", hex::encode(nonce));
        let mut pipe = redis::pipe();
        pipe.atomic()
            .zadd(&k, member, at)
            .ignore()
            // What is past the longest window (an hour) is of no use any more.
            .zrembyscore(&k, "-inf", at - 3600 - 1)
            .ignore()
            .expire(&k, 3700)
            .ignore();
        let () = pipe.query_async(&mut self.c()).await.map_err(err)?;
        Ok(())
    }

    pub(super) async fn failures(
        &self,
        kind: &str,
        key: &str,
        since: i64,
    ) -> Result<u64, StoreError> {
        let n: u64 = self
            .c()
            .zcount(Ephemeral::failures_key(kind, key), since, "+inf")
            .await
            .map_err(err)?;
        Ok(n)
    }

    pub(super) async fn oldest_failure(
        &self,
        kind: &str,
        key: &str,
        since: i64,
    ) -> Result<Option<i64>, StoreError> {
        let first: Vec<(String, f64)> = self
            .c()
            .zrangebyscore_limit_withscores(Ephemeral::failures_key(kind, key), since, "+inf", 0, 1)
            .await
            .map_err(err)?;
        Ok(first.first().map(|(_, s)| *s as i64))
    }

    pub(super) async fn clear_failures(&self, kind: &str, key: &str) -> Result<(), StoreError> {
        let _: i64 = self
            .c()
            .del(Ephemeral::failures_key(kind, key))
            .await
            .map_err(err)?;
        Ok(())
    }

    fn ban_key(kind: &str, key: &str) -> String {
        format!("{P}ban:{kind}:{}", lower(key))
    }

    pub(super) async fn set_ban(&self, b: &Ban) -> Result<(), StoreError> {
        let k = Ephemeral::ban_key(&b.kind, &b.key);
        // Kept a day past its end: a lock within a day of the last is a lock in a row.
        let ttl = (b.until - super::now()).max(0) + 86_400;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(
                &k,
                &[
                    ("kind", b.kind.clone()),
                    ("key", b.key.clone()),
                    ("since", b.since.to_string()),
                    ("until", b.until.to_string()),
                    ("locks", b.locks.to_string()),
                    ("reason", b.reason.clone()),
                ],
            )
            .ignore()
            .expire(&k, ttl)
            .ignore();
        let () = pipe.query_async(&mut self.c()).await.map_err(err)?;
        Ok(())
    }

    pub(super) async fn ban(&self, kind: &str, key: &str) -> Result<Option<Ban>, StoreError> {
        let m: HashMap<String, String> = self
            .c()
            .hgetall(Ephemeral::ban_key(kind, key))
            .await
            .map_err(err)?;
        Ok(ban_of(&m))
    }

    pub(super) async fn bans(&self, now: i64) -> Result<Vec<Ban>, StoreError> {
        let mut out = Vec::new();
        for k in self.scan(&format!("{P}ban:*")).await? {
            let m: HashMap<String, String> = self.c().hgetall(&k).await.map_err(err)?;
            if let Some(b) = ban_of(&m).filter(|b| b.until > now) {
                out.push(b);
            }
        }
        out.sort_by_key(|b| b.until);
        Ok(out)
    }

    pub(super) async fn clear_bans(&self, key: Option<&str>, now: i64) -> Result<u64, StoreError> {
        let (bans, failures) = match key {
            Some(k) => (
                vec![
                    Ephemeral::ban_key("user", k),
                    Ephemeral::ban_key("address", k),
                ],
                vec![
                    Ephemeral::failures_key("user", k),
                    Ephemeral::failures_key("address", k),
                ],
            ),
            None => (
                self.scan(&format!("{P}ban:*")).await?,
                self.scan(&format!("{P}failures:*")).await?,
            ),
        };
        let mut in_force = 0;
        for k in &bans {
            let m: HashMap<String, String> = self.c().hgetall(k).await.map_err(err)?;
            if ban_of(&m).is_some_and(|b| b.until > now) {
                in_force += 1;
            }
        }
        for k in bans.iter().chain(&failures) {
            let _: i64 = self.c().del(k).await.map_err(err)?;
        }
        Ok(in_force)
    }

    /// Marks TOTP step `step` of factor `id` used: true if it is later than every step
    /// accepted before (atomically, for every instance).
    pub(super) async fn use_totp_step(&self, id: &str, step: i64) -> Result<bool, StoreError> {
        let script = redis::Script::new(
            "local cur = tonumber(redis.call('GET', KEYS[1]) or '0') \
             if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'EX', 3600) return 1 end \
             return 0",
        );
        let ok: i64 = script
            .key(format!("{P}totp:{id}"))
            .arg(step)
            .invoke_async(&mut self.c())
            .await
            .map_err(err)?;
        Ok(ok == 1)
    }

    pub(super) async fn put_ceremony(
        &self,
        id: &str,
        session: &str,
        kind: &str,
        state: &str,
    ) -> Result<(), StoreError> {
        let v = serde_json::json!({ "session": session, "kind": kind, "state": state });
        let () = self
            .c()
            .set_ex(format!("{P}ceremony:{id}"), v.to_string(), 300)
            .await
            .map_err(err)?;
        Ok(())
    }

    pub(super) async fn take_ceremony(
        &self,
        id: &str,
        session: &str,
        kind: &str,
    ) -> Result<Option<String>, StoreError> {
        let v: Option<String> = self
            .c()
            .get_del(format!("{P}ceremony:{id}"))
            .await
            .map_err(err)?;
        let Some(v) = v.and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok()) else {
            return Ok(None);
        };
        Ok((v["session"] == session && v["kind"] == kind)
            .then(|| v["state"].as_str().map(String::from))
            .flatten())
    }

    pub(super) async fn put_explain(&self, request_id: &str, line: &str) -> Result<(), StoreError> {
        let k = format!("{P}explain:{request_id}");
        let mut pipe = redis::pipe();
        pipe.rpush(&k, line)
            .ignore()
            .expire(&k, EXPLAIN_TTL)
            .ignore();
        let () = pipe.query_async(&mut self.c()).await.map_err(err)?;
        Ok(())
    }

    pub(super) async fn explain(&self, request_id: &str) -> Result<Vec<String>, StoreError> {
        self.c()
            .lrange(format!("{P}explain:{request_id}"), 0, -1)
            .await
            .map_err(err)
    }
}

fn int(m: &HashMap<String, String>, k: &str) -> i64 {
    m.get(k).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn session_of(hash: &str, m: &HashMap<String, String>) -> Option<Session> {
    let user = m.get("user")?.clone();
    let text = |k: &str| m.get(k).cloned().unwrap_or_default();
    Some(Session {
        id: hash.to_string(),
        user,
        host: text("host"),
        created: int(m, "created"),
        last_seen: int(m, "last_seen"),
        address: text("address"),
        user_agent: text("user_agent"),
        second_factor_at: int(m, "second_factor_at"),
        second_factor: text("second_factor"),
        unusual: text("unusual"),
    })
}

fn ban_of(m: &HashMap<String, String>) -> Option<Ban> {
    Some(Ban {
        kind: m.get("kind")?.clone(),
        key: m.get("key")?.clone(),
        since: int(m, "since"),
        until: int(m, "until"),
        locks: int(m, "locks"),
        reason: m.get("reason").cloned().unwrap_or_default(),
    })
}
