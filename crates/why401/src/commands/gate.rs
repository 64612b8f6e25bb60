//! `why401 gate`: the gateway's tools.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use why401_gate::check::Check;
use why401_gate::htpasswd;
use why401_gate::password;
use why401_gate::store::{Backends, Sql, Store};
use why401_gate::{Config, Identity, Request};

use super::exit;
use crate::cli::{
    GateArgs, GateBansCommand, GateCheckArgs, GateCommand, GateFactorsCommand, GateSessionsCommand,
    GateTotpCommand, GateUserCommand,
};
use crate::output;

pub(crate) fn run(args: GateArgs) -> Result<ExitCode> {
    let config = match load(args.config.as_deref())? {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let store = store_path(args.store, args.config.as_deref(), &config)?;
    let audit = audit_path(&store, args.config.as_deref(), &config);
    let store = backends(&store, &config);
    match args.command {
        None => serve(config, args.config.as_deref(), &store, &audit),
        Some(GateCommand::Explain { request_id, json }) => {
            explain(&store, &audit, &request_id, json)
        }
        Some(GateCommand::Check(a)) => check(&config, &store, a),
        Some(GateCommand::User(c)) => runtime()?.block_on(user(&config, &store, c)),
        Some(GateCommand::Sessions(c)) => runtime()?.block_on(sessions(&store, c)),
        Some(GateCommand::Bans(c)) => runtime()?.block_on(bans(&store, c)),
        Some(GateCommand::Totp(c)) => {
            runtime()?.block_on(totp(&config, args.config.as_deref(), &store, c))
        }
        Some(GateCommand::Factors(c)) => runtime()?.block_on(factors(&config, &store, c)),
    }
}

/// Where the store is: the SQLite file, or the config's `[store] postgres`; with its `redis`.
fn backends(sqlite: &Path, config: &Config) -> Backends {
    Backends {
        sql: match &config.postgres {
            Some(url) => Sql::Postgres(url.clone()),
            None => Sql::Sqlite(sqlite.to_path_buf()),
        },
        redis: config.redis.clone(),
    }
}

async fn open_store(b: &Backends) -> Result<Store> {
    Store::connect(b)
        .await
        .with_context(|| format!("the user store {b}"))
}

/// Tells `[notify]` of a factor change made here (the gateway's own queue is in the serving
/// process): delivered, with its retries, before the command returns.
async fn tell_factor_change(config: &Config, user: &str, detail: &str) {
    if config.notify.any() {
        let e = why401_gate::notify::Event {
            event: why401_gate::notify::Kind::FactorChanged,
            time: jiff::Timestamp::now().to_string(),
            user: user.to_string(),
            address: None,
            detail: detail.to_string(),
        };
        why401_gate::notify::deliver_now(&config.notify, &e).await;
    }
}

async fn totp(
    config: &Config,
    config_file: Option<&Path>,
    path: &Backends,
    c: GateTotpCommand,
) -> Result<ExitCode> {
    let GateTotpCommand::Enroll { user, label } = c;
    let store = open_store(path).await?;
    let Some(u) = store.user(&user).await? else {
        bail!("no user {user:?} (why401 gate user list)");
    };
    let base = config_file.and_then(Path::parent).unwrap_or(Path::new("."));
    let key = why401_gate::factors::key_path(&config.mfa, base, &store);
    let sealer = why401_gate::factors::Sealer::load(&key).map_err(|e| anyhow!("[mfa] {e}"))?;
    let (id, secret) =
        why401_gate::factors::add_totp(&store, &sealer, &u.name, &label, true).await?;
    let uri = why401_gate::factors::otpauth(&secret, &config.mfa.issuer, &u.name);
    let mut text = format!(
        "TOTP factor {} for {} (SHA-1, 6 digits, 30 s). Scan the code with an authenticator app, or type the key:\n\n{}\n  key: {}\n  URI: {}\n",
        &id[..8],
        u.name,
        why401_gate::factors::qr_terminal(&uri),
        why401_gate::factors::base32(&secret),
        uri
    );
    if store.recovery_codes_left(&u.name).await? == 0 {
        let codes = why401_gate::factors::replace_recovery_codes(&store, &u.name).await?;
        text.push_str(&format!(
            "\nRecovery codes (each signs in once; shown only now):\n  {}\n",
            codes.join("\n  ")
        ));
    }
    output::print(&text)?;
    tell_factor_change(
        config,
        &u.name,
        "an authenticator app was added by an administrator",
    )
    .await;
    Ok(ExitCode::from(exit::OK))
}

async fn factors(config: &Config, path: &Backends, c: GateFactorsCommand) -> Result<ExitCode> {
    let store = open_store(path).await?;
    match c {
        GateFactorsCommand::List { user, json } => {
            let list = store.factors(&user).await?;
            let left = store.recovery_codes_left(&user).await?;
            if json {
                output::json(&serde_json::json!({ "factors": list, "recovery_codes_left": left }))?;
            } else {
                let mut text = String::new();
                for f in &list {
                    text.push_str(&format!(
                        "{}  {:<8}  {}  added {}  last used {}{}\n",
                        &f.id[..8],
                        f.kind,
                        f.label,
                        when(f.created),
                        if f.last_used == 0 {
                            "never".to_string()
                        } else {
                            when(f.last_used)
                        },
                        if f.confirmed {
                            ""
                        } else {
                            "  (not confirmed yet)"
                        }
                    ));
                }
                if list.is_empty() {
                    text.push_str(&format!("{user} has no second factor\n"));
                }
                text.push_str(&format!("{left} recovery codes left\n"));
                output::print(&text)?;
            }
        }
        GateFactorsCommand::Remove { user, id } => {
            let n = store.remove_factor(&user, &id).await?;
            if n == 0 {
                bail!("{user} has no factor {id:?} (why401 gate factors list {user})");
            }
            output::print(&format!(
                "removed {n} factor{}\n",
                if n == 1 { "" } else { "s" }
            ))?;
            tell_factor_change(
                config,
                &user,
                "a second factor was removed by an administrator",
            )
            .await;
        }
        GateFactorsCommand::Recovery { user } => {
            if store.user(&user).await?.is_none() {
                bail!("no user {user:?} (why401 gate user list)");
            }
            let codes = why401_gate::factors::replace_recovery_codes(&store, &user).await?;
            output::print(&format!(
                "Recovery codes for {user} (each signs in once; the old ones no longer work; shown only now):\n  {}\n",
                codes.join("\n  ")
            ))?;
            tell_factor_change(
                config,
                &user,
                "new recovery codes were made by an administrator",
            )
            .await;
        }
    }
    Ok(ExitCode::from(exit::OK))
}

/// The audit log: the config's `[audit] path` (relative to the config), else `audit.jsonl`
/// next to the store.
fn audit_path(store: &Path, config_file: Option<&Path>, config: &Config) -> PathBuf {
    match (&config.audit, config_file) {
        (Some(p), Some(file)) => file.parent().unwrap_or(Path::new(".")).join(p),
        (Some(p), None) => PathBuf::from(p),
        (None, _) => store.parent().unwrap_or(Path::new(".")).join("audit.jsonl"),
    }
}

/// `gate explain ID`: the audit log's lines for the request, in words.
fn explain(store: &Backends, audit: &Path, request_id: &str, json: bool) -> Result<ExitCode> {
    let id = request_id.trim().to_ascii_lowercase();
    if id.len() < 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!(
            "{request_id:?} is not a request id (32 hex digits, from X-Request-Id or the problem document)"
        );
    }
    // Several instances: every instance's decisions are in Redis's explain records and the
    // PostgreSQL trail, not in this host's file.
    if store.redis.is_some() || matches!(store.sql, Sql::Postgres(_)) {
        let lines = runtime()?.block_on(async {
            let s = open_store(store).await?;
            let mut lines = s.explain_lines(&id).await?;
            if lines.is_empty() {
                lines = s.audit_lines(&id).await?;
            }
            anyhow::Ok(lines)
        })?;
        let entries: Vec<why401_gate::audit::Entry> = lines
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if !entries.is_empty() {
            if json {
                output::json(&entries)?;
            } else {
                output::print(&why401_gate::audit::explain(&entries))?;
            }
            return Ok(ExitCode::from(exit::OK));
        }
    }
    let (entries, bad) = why401_gate::audit::find(audit, &id)
        .with_context(|| format!("reading the audit log {}", audit.display()))?;
    if bad > 0 {
        output::warning(&format!(
            "{}: {bad} line(s) with this id did not parse",
            audit.display()
        ))?;
    }
    if entries.is_empty() {
        bail!("no request {id} in the audit log {}", audit.display());
    }
    if json {
        output::json(&entries)?;
        return Ok(ExitCode::from(exit::OK));
    }
    let text = why401_gate::audit::explain(&entries);
    output::print(&text)?;
    Ok(ExitCode::from(exit::OK))
}

/// Serves the gateway until interrupted. Without `--config` it is the demo: the embedded
/// policy, the built-in echo app behind it, and a first user made when there is none.
fn serve(
    config: Config,
    config_file: Option<&Path>,
    store_path: &Backends,
    audit_path: &Path,
) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let base = config_file
        .and_then(Path::parent)
        .or_else(|| match &store_path.sql {
            Sql::Sqlite(p) => p.parent(),
            Sql::Postgres(_) => None,
        })
        .unwrap_or(Path::new("."))
        .to_path_buf();
    rt.block_on(async {
        let store = open_store(store_path).await?;
        let mut first = None;
        if config_file.is_none() && store.users().await?.is_empty() {
            first = Some(first_user(&config, &store).await?);
        }
        let users = store.users().await?.len();
        let tls = match &config.server.tls {
            Some((cert, key)) => Some(
                why401_gate::server::tls_acceptor_with_devices(
                    &base.join(cert),
                    &base.join(key),
                    config.server.client_ca.as_ref().map(|c| base.join(c)).as_deref(),
                )
                .map_err(|e| anyhow!("[server] TLS: {e}"))?,
            ),
            None => None,
        };
        let listen = config.server.listen;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{}", listener.local_addr()?);
        let mut text = format!(
            "why401 gate listening on {base_url} (config: {}, store: {}, {users} user{}, audit log: {})\n  \
             nginx auth_request:     {base_url}/.why401/authz/auth-request\n  \
             Traefik, Caddy (full):  {base_url}/.why401/authz/forward-auth\n",
            config.file,
            store_path,
            if users == 1 { "" } else { "s" },
            audit_path.display(),
        );
        if !config.routes.is_empty() {
            text.push_str(&format!(
                "  reverse proxy:          {base_url}/ ({} route{})\n",
                config.routes.len(),
                if config.routes.len() == 1 { "" } else { "s" }
            ));
        }
        if users == 0 {
            text.push_str("  no users yet: why401 gate user add NAME\n");
        }
        if let Some((name, shown)) = &first {
            text.push_str(&demo_hints(&base_url, name, shown.as_deref()));
        }
        // Everything it needs is ready before it says it listens: a gateway that cannot get
        // its keys or open its log does not start.
        let audit = why401_gate::audit::Audit::open(audit_path)
            .with_context(|| format!("the audit log {}", audit_path.display()))?;
        let gate = why401_gate::server::Gate::start(config, store, Some(audit), &base)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        output::print(&text)?;
        tokio::select! {
            r = why401_gate::server::serve(gate, listener, tls) => r.context("serving")?,
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The demo's first user, `admin` in group `admins`: the password typed twice at a terminal,
/// else (a script, a container) a random one printed this once and never stored unhashed.
async fn first_user(config: &Config, store: &Store) -> Result<(String, Option<String>)> {
    let name = "admin";
    let (password, shown) = if std::io::stdin().is_terminal() {
        output::print("No users yet: the demo makes one, admin (group admins).\n")?;
        (new_password(config, name, None, false)?, None)
    } else {
        let mut b = [0u8; 15];
        getrandom::fill(&mut b).context("the system's random source")?;
        let pw = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, b);
        (pw.clone(), Some(pw))
    };
    store
        .add(
            name,
            &password::hash(&password),
            None,
            &["admins".to_string()],
        )
        .await?;
    Ok((name.to_string(), shown))
}

/// What to try against the demo.
fn demo_hints(base: &str, user: &str, password: Option<&str>) -> String {
    let mut t = String::from("\nThe demo: the embedded policy in front of a built-in echo app.\n");
    if let Some(pw) = password {
        t.push_str(&format!(
            "  first user:  {user}, password {pw}  (shown this once; change it: why401 gate user passwd {user})\n"
        ));
    }
    t.push_str(&format!(
        "  in a browser:           {base}/  (the login page, then the echo of what the app receives)\n  \
         an API client, no login: curl -i {base}/api  (401 with WWW-Authenticate and a problem document)\n  \
         with Basic:             curl -u {user} {base}/  (403 step-up-required: admins always give a second factor, which Basic cannot carry)\n  \
         a second factor:        why401 gate totp enroll {user}  (or enrol one in the browser after the password)\n  \
         why it was refused:     why401 gate explain REQUEST_ID  (the X-Request-Id of any answer)\n  \
         what the probe says:    why401 {base}/api\n"
    ));
    t
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// The configuration named, or the embedded demo; errors printed as a compiler prints them.
fn load(path: Option<&Path>) -> Result<Result<Config, ExitCode>> {
    let Some(path) = path else {
        return Ok(Ok(Config::demo()));
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    match Config::parse(&text, &path.display().to_string()) {
        Ok(c) => Ok(Ok(c)),
        Err(errors) => {
            for e in &errors {
                output::error(&e.to_string())?;
            }
            output::error(&format!(
                "{}: {} error{}: the gateway would refuse to start",
                path.display(),
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ))?;
            Ok(Err(ExitCode::from(exit::USAGE)))
        }
    }
}

/// Where the user store is: `--store`, the config's `[store] sqlite` (relative to the config),
/// `gate.db` next to the config, or the user's data directory for the demo.
fn store_path(
    flag: Option<PathBuf>,
    config_file: Option<&Path>,
    config: &Config,
) -> Result<PathBuf> {
    if let Some(p) = flag {
        return Ok(p);
    }
    if let Some(file) = config_file {
        let dir = file.parent().unwrap_or(Path::new("."));
        return Ok(dir.join(config.sqlite.as_deref().unwrap_or("gate.db")));
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .ok_or_else(|| anyhow!("no data directory (HOME is not set): give --store FILE"))?;
    Ok(data.join("why401").join("gate.db"))
}

fn check(config: &Config, store: &Backends, a: GateCheckArgs) -> Result<ExitCode> {
    let url = url::Url::parse(&a.url).with_context(|| format!("--url {:?}", a.url))?;
    let host = url
        .host_str()
        .ok_or_else(|| anyhow!("--url {:?} has no host", a.url))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let at = match &a.at {
        Some(t) => t.parse::<jiff::Timestamp>().with_context(|| {
            format!("--at {t:?}: write RFC 3339, e.g. 2026-12-07T09:30:00+01:00")
        })?,
        None => jiff::Timestamp::now(),
    };
    let who = match a.user {
        // Without --group, the user's groups from the store when there is one.
        Some(user)
            if a.groups.is_empty()
                && match &store.sql {
                    Sql::Sqlite(p) => p.exists(),
                    Sql::Postgres(_) => true,
                } =>
        {
            let found = runtime()?
                .block_on(async { anyhow::Ok(open_store(store).await?.user(&user).await?) })?;
            Some(match found {
                Some(u) => Identity {
                    user: u.name,
                    groups: u.groups,
                    ..Default::default()
                },
                None => Identity {
                    user,
                    groups: Vec::new(),
                    ..Default::default()
                },
            })
        }
        Some(user) => Some(Identity {
            user,
            groups: a.groups,
            ..Default::default()
        }),
        None => None,
    };
    let method = a.method.to_ascii_uppercase();
    let request = Request {
        host: &host,
        path: url.path(),
        method: &method,
        ip: a.ip,
        at,
        who: who.as_ref(),
        country: a.country.as_deref(),
        device: a.device.as_deref(),
    };
    let decision = config.policy.decide(&request);
    let report = Check::new(config, &request, &decision);
    if a.json {
        output::json(&report)?;
    } else {
        output::print(&format!("{report}\n"))?;
    }
    Ok(ExitCode::from(if report.passes {
        exit::OK
    } else {
        exit::PROBLEM
    }))
}

/// A new password for `name`: from stdin, `WHY401_GATE_PASSWORD`, or prompted for twice; then
/// held to the password policy, every refusal said.
fn new_password(config: &Config, name: &str, email: Option<&str>, stdin: bool) -> Result<String> {
    let password = if stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else if let Ok(p) = std::env::var("WHY401_GATE_PASSWORD") {
        p
    } else if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {name}: "))
            .context("reading the password")?;
        let again = rpassword::prompt_password("Again: ").context("reading the password")?;
        if first != again {
            bail!("the two passwords differ: nothing changed");
        }
        first
    } else {
        bail!(
            "no password for {name}: use --password-stdin, set WHY401_GATE_PASSWORD, or run on a terminal to be prompted"
        );
    };
    let refusals = config.password.refusals(&password, name, email.as_slice());
    if !refusals.is_empty() {
        bail!(
            "the password is refused: {}; nothing changed",
            refusals.join("; ")
        );
    }
    Ok(password)
}

async fn user(config: &Config, path: &Backends, c: GateUserCommand) -> Result<ExitCode> {
    // Every question is asked before the store is touched.
    let password = match &c {
        GateUserCommand::Add {
            name,
            email,
            password_stdin,
            ..
        } => Some(new_password(
            config,
            name,
            email.as_deref(),
            *password_stdin,
        )?),
        GateUserCommand::Passwd {
            name,
            password_stdin,
        } => Some(new_password(config, name, None, *password_stdin)?),
        _ => None,
    };
    let store = open_store(path).await?;
    match c {
        GateUserCommand::Add {
            name,
            groups,
            email,
            ..
        } => {
            let hash = password::hash(&password.unwrap_or_default());
            store.add(&name, &hash, email.as_deref(), &groups).await?;
            output::print(&format!("added {name} to {path}\n"))?;
        }
        GateUserCommand::Passwd { name, .. } => {
            let hash = password::hash(&password.unwrap_or_default());
            store.set_hash(&name, &hash, true).await?;
            output::print(&format!("set a new password for {name}\n"))?;
        }
        GateUserCommand::Disable { name } => {
            store.set_disabled(&name, true).await?;
            output::print(&format!("disabled {name}: their logins are refused\n"))?;
        }
        GateUserCommand::Enable { name } => {
            store.set_disabled(&name, false).await?;
            output::print(&format!("enabled {name}\n"))?;
        }
        GateUserCommand::List { json } => {
            let users = store.users().await?;
            if json {
                output::json(&users)?;
            } else {
                let mut text = String::new();
                for u in &users {
                    let kind = u.hash_kind.map_or("unusable hash".to_string(), |k| {
                        serde_json::to_value(k)
                            .ok()
                            .and_then(|v| v.as_str().map(String::from))
                            .unwrap_or_default()
                    });
                    text.push_str(&format!(
                        "{}{}  groups: {}  hash: {kind}{}\n",
                        u.name,
                        if u.disabled { " (disabled)" } else { "" },
                        if u.groups.is_empty() {
                            "-".to_string()
                        } else {
                            u.groups.join(", ")
                        },
                        if u.hash_kind == Some(password::Kind::Argon2id) {
                            ""
                        } else {
                            " (upgraded to argon2id at the next login)"
                        }
                    ));
                }
                if users.is_empty() {
                    text.push_str("no users yet: why401 gate user add NAME\n");
                }
                output::print(&text)?;
            }
        }
        GateUserCommand::Groups { name, add, remove } => {
            if !add.is_empty() || !remove.is_empty() {
                store.change_groups(&name, &add, &remove).await?;
            }
            let groups = match store.user(&name).await? {
                Some(u) => u.groups,
                None => bail!("no user {name:?}"),
            };
            output::print(&format!(
                "{name}: {}\n",
                if groups.is_empty() {
                    "no group".to_string()
                } else {
                    groups.join(", ")
                }
            ))?;
        }
        GateUserCommand::Import { file, groups } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let (mut added, mut skipped) = (0, 0);
            for line in htpasswd::read(&text) {
                match line {
                    htpasswd::Line::User {
                        line, name, hash, ..
                    } => match store.add(&name, &hash, None, &groups).await {
                        Ok(()) => added += 1,
                        Err(why401_gate::store::StoreError::Exists(_)) => {
                            skipped += 1;
                            output::warning(&format!(
                                "{}:{line}: {name}: a user of that name exists already: kept as is",
                                file.display()
                            ))?;
                        }
                        Err(e) => return Err(e.into()),
                    },
                    htpasswd::Line::Skipped { line, name, why } => {
                        skipped += 1;
                        output::warning(&format!(
                            "{}:{line}: {}{why}",
                            file.display(),
                            name.map(|n| format!("{n}: ")).unwrap_or_default()
                        ))?;
                    }
                }
            }
            output::print(&format!(
                "imported {added} user{} from {} ({skipped} skipped); each is upgraded to Argon2id at their next login\n",
                if added == 1 { "" } else { "s" },
                file.display()
            ))?;
            if skipped > 0 {
                return Ok(ExitCode::from(exit::PROBLEM));
            }
        }
    }
    Ok(ExitCode::from(exit::OK))
}

fn when(t: i64) -> String {
    jiff::Timestamp::from_second(t).map_or_else(|_| t.to_string(), |t| t.to_string())
}

async fn sessions(path: &Backends, c: GateSessionsCommand) -> Result<ExitCode> {
    let store = open_store(path).await?;
    match c {
        GateSessionsCommand::List { user, json } => {
            let list = store.sessions(user.as_deref()).await?;
            if json {
                output::json(&list)?;
            } else if list.is_empty() {
                output::print("no sessions\n")?;
            } else {
                let mut text = String::new();
                for s in &list {
                    text.push_str(&format!(
                        "{}  {}  since {}  last used {}  from {}  {}\n",
                        &s.id[..12],
                        s.user,
                        when(s.created),
                        when(s.last_seen),
                        s.address,
                        s.user_agent
                    ));
                }
                output::print(&text)?;
            }
        }
        GateSessionsCommand::Revoke { target } => {
            let n = store.revoke_sessions(&target).await?;
            if n == 0 {
                bail!(
                    "no session {target:?} (a session id from why401 gate sessions list, or a user name)"
                );
            }
            output::print(&format!(
                "ended {n} session{}\n",
                if n == 1 { "" } else { "s" }
            ))?;
        }
    }
    Ok(ExitCode::from(exit::OK))
}

async fn bans(path: &Backends, c: GateBansCommand) -> Result<ExitCode> {
    let store = open_store(path).await?;
    match c {
        GateBansCommand::List { json } => {
            let list = store.bans(jiff::Timestamp::now().as_second()).await?;
            if json {
                output::json(&list)?;
            } else if list.is_empty() {
                output::print("no account is locked and no address is throttled\n")?;
            } else {
                let mut text = String::new();
                for b in &list {
                    let what = if b.kind == "user" {
                        "account"
                    } else {
                        "address"
                    };
                    text.push_str(&format!(
                        "{what} {}  until {}  ({}{})\n",
                        b.key,
                        when(b.until),
                        b.reason,
                        if b.locks > 1 {
                            format!(", lock {} in a row", b.locks)
                        } else {
                            String::new()
                        }
                    ));
                }
                output::print(&text)?;
            }
        }
        GateBansCommand::Clear { target } => {
            let mut n = store.clear_bans(target.as_deref()).await?;
            // A user's wrong second factors are counted under a key of their own.
            if let Some(t) = &target {
                n += store
                    .clear_bans(Some(&why401_gate::lockout::second_factor_key(t)))
                    .await?;
            }
            output::print(&format!(
                "lifted {n} lock{} or throttle{}\n",
                if n == 1 { "" } else { "s" },
                if n == 1 { "" } else { "s" }
            ))?;
        }
    }
    Ok(ExitCode::from(exit::OK))
}
