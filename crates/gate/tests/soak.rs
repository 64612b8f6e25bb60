//! A bounded soak of two gateway instances sharing PostgreSQL and Redis: a fixed number of mixed
//! requests (form logins, wrong passwords, second factors, API calls with Basic, browser
//! navigations with sessions made on the other instance), sixteen at a time, alternating
//! between the instances. It must end within 60 s with no unexpected 5xx, every decision in the
//! PostgreSQL audit trail exactly once, and the process's memory flat.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::{Reply, ask, cookie_value, request, session_of, set_cookie, sign_in};
use why401_gate::store::{Backends, Sql, Store};
use why401_gate::{Config, factors, password, server};

const HOST: &str = "app.example.com";
const USERS: usize = 20;
/// The fixed number of requests after the warm-up.
const REQUESTS: usize = 3000;

fn peer(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: scripts/test.sh starts redis-server and PostgreSQL and sets it")
    })
}

/// A fresh PostgreSQL database on the suite's server; its URL.
async fn pg_database(name: &str) -> String {
    let base = peer("WHY401_POSTGRES_URL");
    let db = format!("why401_{name}_{}", std::process::id());
    let pool = sqlx::PgPool::connect(&base).await.unwrap();
    for sql in [
        format!("DROP DATABASE IF EXISTS {db}"),
        format!("CREATE DATABASE {db}"),
    ] {
        // The name is this test's own (no input reaches it).
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .unwrap();
    }
    format!("{}/{db}", base.rsplit_once('/').unwrap().0)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

fn basic(user: &str, pw: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
    )
}

fn pw(i: usize) -> String {
    format!("soak passphrase number {i} long")
}

async fn decide(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    let url = format!("https://{HOST}{path}");
    let mut h = vec![("X-Original-URL", url.as_str())];
    h.extend_from_slice(headers);
    ask(addr, "/.why401/authz/forward-auth", &h).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server and PostgreSQL (scripts/test.sh starts them)"]
async fn two_instances_soak_without_errors_lost_lines_or_growth() {
    let started = std::time::Instant::now();
    let pg = pg_database("soak").await;
    let redis = format!("{}/9", peer("WHY401_REDIS_URL"));
    {
        let client = redis::Client::open(redis.as_str()).unwrap();
        let mut c = client.get_multiplexed_async_connection().await.unwrap();
        let () = redis::cmd("FLUSHDB").query_async(&mut c).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let config = "[lockout]\naccount_failures = 100000\naccount_per_hour = 100\naddress_failures = 100000\n\n[[access.rule]]\npaths = [\"/secure/\"]\npolicy = \"two_factor\"\n\n[[access.rule]]\npaths = [\"/app/\"]\npolicy = \"one_factor\"\n";
    let backends = Backends {
        sql: Sql::Postgres(pg.clone()),
        redis: Some(redis.clone()),
    };
    let mut addrs = Vec::new();
    let mut stores = Vec::new();
    for _ in 0..2 {
        let store = Store::connect(&backends).await.unwrap();
        let gate = server::Gate::start(
            Config::parse(config, "gate.toml").unwrap(),
            store.clone(),
            None,
            dir.path(),
        )
        .await
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        addrs.push(listener.local_addr().unwrap());
        tokio::spawn(server::serve(gate, listener, None));
        stores.push(store);
    }
    let store = &stores[0];
    let sealer = factors::Sealer::load(&dir.path().join("gate.key")).unwrap();
    let mut secrets = Vec::new();
    for i in 0..USERS {
        store
            .add(&format!("user{i}"), &password::hash(&pw(i)), None, &[])
            .await
            .unwrap();
        let (_, s) = factors::add_totp(store, &sealer, &format!("user{i}"), "phone", true)
            .await
            .unwrap();
        secrets.push(s);
    }
    let secrets = Arc::new(secrets);

    // Each request: which instance, what; the status and the decision's request id.
    #[derive(Clone, Copy)]
    enum Step {
        Api(usize),
        Wrong(usize),
        Login(usize),
        SecondFactor(usize),
    }
    let plan: Vec<Step> = (0..REQUESTS)
        .map(|n| match n % 30 {
            0 => Step::Login(n % USERS),
            1 | 2 => Step::Wrong(n % USERS),
            3 if n < USERS * 30 => Step::SecondFactor(n / 30 % USERS),
            _ => Step::Api(n % USERS),
        })
        .collect();
    let run = |steps: Vec<(usize, Step)>| {
        let addrs = addrs.clone();
        let secrets = secrets.clone();
        async move {
            let mut seen: Vec<(u16, Vec<String>, bool)> = Vec::new();
            for (n, step) in steps {
                let (here, there) = (addrs[n % 2], addrs[(n + 1) % 2]);
                match step {
                    Step::Api(u) => {
                        let auth = basic(&format!("user{u}"), &pw(u));
                        let r = decide(here, "/app/api", &[("Authorization", &auth)]).await;
                        seen.push((r.status, vec![rid(&r)], r.status == 200));
                    }
                    Step::Wrong(u) => {
                        let auth = basic(&format!("user{u}"), "not the password");
                        let r = decide(here, "/app/api", &[("Authorization", &auth)]).await;
                        seen.push((r.status, vec![rid(&r)], r.status == 401));
                    }
                    Step::Login(u) => {
                        let r = sign_in(here, &format!("user{u}"), &pw(u), None).await;
                        let ok = r.status == 303;
                        let cookie = session_of(&r);
                        // The session, on the other instance.
                        let r2 = decide(there, "/app/x", &[("Cookie", &cookie)]).await;
                        seen.push((r.status, Vec::new(), ok));
                        seen.push((r2.status, vec![rid(&r2)], r2.status == 200));
                    }
                    Step::SecondFactor(u) => {
                        let r = sign_in(here, &format!("user{u}"), &pw(u), None).await;
                        let cookie = session_of(&r);
                        let page = ask(
                            there,
                            "/.why401/second-factor",
                            &[("Host", HOST), ("Cookie", &cookie)],
                        )
                        .await;
                        let csrf = set_cookie(&page, "__Host-why401-csrf")
                            .map(|c| cookie_value(c).to_string())
                            .unwrap_or_default();
                        let code = factors::totp_code(
                            &secrets[u],
                            jiff::Timestamp::now().as_second() as u64,
                        );
                        let r3 = request(
                            there,
                            "POST",
                            "/.why401/second-factor",
                            &[
                                ("Host", HOST),
                                ("Origin", "https://app.example.com"),
                                ("Content-Type", "application/x-www-form-urlencoded"),
                                ("Cookie", &format!("{cookie}; __Host-why401-csrf={csrf}")),
                            ],
                            &format!("csrf={csrf}&code={code}&rd=%2Fsecure%2F"),
                        )
                        .await;
                        let r4 = decide(here, "/secure/x", &[("Cookie", &cookie)]).await;
                        seen.push((r3.status, Vec::new(), r3.status == 303));
                        seen.push((r4.status, vec![rid(&r4)], r4.status == 200));
                    }
                }
            }
            seen
        }
    };
    // Warm-up, then the memory the soak starts from.
    run((0..200).map(|n| (n, Step::Api(n % USERS))).collect()).await;
    let before = rss_kib();
    let mut tasks = Vec::new();
    for t in 0..16 {
        let mine: Vec<(usize, Step)> = plan
            .iter()
            .enumerate()
            .filter(|(n, _)| n % 16 == t)
            .map(|(n, s)| (n, *s))
            .collect();
        tasks.push(tokio::spawn(run(mine)));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.extend(t.await.unwrap());
    }
    let after = rss_kib();
    let took = started.elapsed();

    let errors: Vec<u16> = results
        .iter()
        .filter(|(s, _, _)| *s >= 500)
        .map(|(s, _, _)| *s)
        .collect();
    assert!(errors.is_empty(), "5xx answers: {errors:?}");
    let unexpected = results.iter().filter(|(_, _, ok)| !ok).count();
    assert_eq!(unexpected, 0, "answers other than the expected ones");
    // Every decision in the trail exactly once (the warm-up's too).
    let pool = sqlx::PgPool::connect(&pg).await.unwrap();
    let ids: Vec<String> = results
        .iter()
        .flat_map(|(_, ids, _)| ids.iter().cloned())
        .collect();
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT request_id, count(*) FROM audit WHERE kind = 'authz' GROUP BY request_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let counts: std::collections::HashMap<String, i64> = rows.into_iter().collect();
    for id in &ids {
        assert_eq!(counts.get(id), Some(&1), "request {id}");
    }
    assert_eq!(
        counts.len(),
        ids.len() + 200,
        "no decision the trail holds that was not made"
    );
    let growth = after.saturating_sub(before);
    eprintln!(
        "soak: {} requests in {:.1} s, RSS {} KiB -> {} KiB",
        results.len(),
        took.as_secs_f64(),
        before,
        after
    );
    assert!(growth < 32 * 1024, "memory grew by {growth} KiB");
    assert!(took.as_secs() <= 60, "the soak took {took:?}");
}

fn rid(r: &Reply) -> String {
    r.header("x-request-id").unwrap_or_default().to_string()
}
