//! The audit log: one JSON line per decision, an authorization (the decision endpoints) or a
//! login (the form). Each line carries the request id the client was told, so that
//! `why401 gate explain ID` can say which rule matched, which criterion failed and what would
//! have been needed, and the cause a client must not learn (unknown user, wrong password,
//! disabled) is written here and only here.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::check::Check;
use crate::login::Refusal;

/// What a line records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A decision of the decision endpoints.
    Authz,
    /// A login through the form.
    Login,
}

/// One audit line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// RFC 3339.
    pub time: String,
    /// The id the client was given (`X-Request-Id`, the problem document).
    pub request_id: String,
    /// What was decided on.
    pub kind: Kind,
    /// The status answered.
    pub status: u16,
    /// What the authentication came to, as an HTTP status: the status answered, except for a
    /// login through the form, whose page answers 200 either way: 401 when refused. This is the
    /// field `why401 logs` counts failures by.
    #[serde(default)]
    pub auth_status: u16,
    /// `allow`, `login` (sent to log in), `rejected`, `deny`, `unavailable`, `accepted`
    /// (a login), `refused` (a login).
    pub result: String,
    /// The finding id of a denial.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub finding: Option<String>,
    /// The user, as authenticated or as typed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub user: Option<String>,
    /// The client's address.
    pub address: String,
    /// Why credentials were refused.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub refusal: Option<Refusal>,
    /// The policy's decision, rule by rule.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub check: Option<Check>,
}

/// The audit log's file, appended to one whole line at a time.
pub struct Audit {
    file: Mutex<std::fs::File>,
    path: std::path::PathBuf,
}

impl Audit {
    /// Opens (creating it, readable by its owner only) the log at `path`.
    pub fn open(path: &Path) -> std::io::Result<Audit> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut o = std::fs::OpenOptions::new();
        o.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        Ok(Audit {
            file: Mutex::new(o.open(path)?),
            path: path.to_path_buf(),
        })
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `e` as one line. A failed write is returned: the caller fails closed.
    pub fn write(&self, e: &Entry) -> std::io::Result<()> {
        let line = serde_json::to_string(e).map_err(std::io::Error::other)?;
        self.write_line(&line)
    }

    /// Appends `line` (an entry's JSON, without its newline) as one line.
    pub fn write_line(&self, line: &str) -> std::io::Result<()> {
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        self.file
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .write_all(&bytes)
    }
}

/// The entries of `request_id`, wherever this gateway keeps them: the explain records in
/// Redis (any instance's decisions), else the PostgreSQL trail, else the file log.
pub async fn lookup(gate: &crate::server::Gate, request_id: &str) -> Result<Vec<Entry>, String> {
    let parse = |lines: Vec<String>| -> Vec<Entry> {
        lines
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    };
    let shared = gate
        .store
        .explain_lines(request_id)
        .await
        .map_err(|e| e.to_string())?;
    if !shared.is_empty() {
        return Ok(parse(shared));
    }
    let trail = gate
        .store
        .audit_lines(request_id)
        .await
        .map_err(|e| e.to_string())?;
    if !trail.is_empty() {
        return Ok(parse(trail));
    }
    let Some(audit) = &gate.audit else {
        return Ok(Vec::new());
    };
    let path = audit.path().to_path_buf();
    let id = request_id.to_string();
    match tokio::task::spawn_blocking(move || find(&path, &id)).await {
        Ok(Ok((entries, _))) => Ok(entries),
        _ => Err("the audit log cannot be read".into()),
    }
}

/// The PostgreSQL audit trail, appended in batches (group commit, a few batches in flight).
///
/// A gateway with a file log writes each line there before it answers, and hands it to the trail
/// without waiting ([`Trail::append_detached`]): the trail follows within milliseconds, and a
/// batch PostgreSQL refuses is tried again (doubling pauses up to 5 s) until it takes it. The
/// queue is bounded: a PostgreSQL gone for long fills it, and then every decision is a 503. A
/// gateway without a file log waits for the commit ([`Trail::append`]): nothing is answered
/// that no log holds.
pub struct Trail {
    tx: tokio::sync::mpsc::Sender<Pending>,
}

/// A line of the PostgreSQL trail: the columns it is found by, and the entry's JSON (the
/// entry itself, with its policy check, is not kept for the writer).
pub struct TrailLine {
    /// RFC 3339.
    pub time: String,
    /// The request id.
    pub request_id: String,
    /// `authz` or `login`.
    pub kind: &'static str,
    /// The status answered.
    pub status: u16,
    /// The result.
    pub result: String,
    /// The user named, if any (client text: a NUL is kept as U+FFFD, which PostgreSQL's text
    /// holds, so that one hostile line cannot fail a whole batch).
    pub user: Option<String>,
    /// The client's address.
    pub address: String,
    /// The entry as the file log's line (JSON escapes a NUL itself).
    pub json: String,
}

impl TrailLine {
    /// The line of `e`, whose JSON is `json`.
    pub fn of(e: &Entry, json: String) -> TrailLine {
        TrailLine {
            time: e.time.clone(),
            request_id: e.request_id.clone(),
            kind: match e.kind {
                Kind::Authz => "authz",
                Kind::Login => "login",
            },
            status: e.status,
            result: e.result.clone(),
            user: e.user.as_ref().map(|u| u.replace('\0', "\u{fffd}")),
            address: e.address.clone(),
            json,
        }
    }
}

/// A line for the trail, and who waits for its commit (nobody: it is retried until taken).
type Pending = (TrailLine, Option<tokio::sync::oneshot::Sender<bool>>);

impl Trail {
    /// Starts the writer for `store`.
    pub fn start(store: crate::store::Store) -> Trail {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Pending>(8192);
        let in_flight = Arc::new(tokio::sync::Semaphore::new(4));
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < 512 {
                    match rx.try_recv() {
                        Ok(p) => batch.push(p),
                        Err(_) => break,
                    }
                }
                let Ok(permit) = in_flight.clone().acquire_owned().await else {
                    return;
                };
                let store = store.clone();
                tokio::spawn(async move {
                    let mut pause = std::time::Duration::from_millis(100);
                    loop {
                        let lines = batch.iter().map(|(l, _)| l);
                        let ok = matches!(store.append_audit(lines).await, Ok(true));
                        // Those who wait are told either way; a refused batch keeps only the
                        // lines nobody waits for, and tries them again.
                        batch.retain_mut(|(_, waiter)| match waiter.take() {
                            Some(w) => {
                                let _ = w.send(ok);
                                false
                            }
                            None => !ok,
                        });
                        if batch.is_empty() {
                            break;
                        }
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(std::time::Duration::from_secs(5));
                    }
                    drop(permit);
                });
            }
        });
        Trail { tx }
    }

    /// Appends `line`; true once committed.
    pub async fn append(&self, line: TrailLine) -> bool {
        let (done, committed) = tokio::sync::oneshot::channel();
        if self.tx.send((line, Some(done))).await.is_err() {
            return false;
        }
        committed.await.unwrap_or(false)
    }

    /// Hands `line` to the trail without waiting (the file log holds it already); false when
    /// the queue is full (PostgreSQL gone for long): the caller fails closed.
    pub fn append_detached(&self, line: TrailLine) -> bool {
        self.tx.try_send((line, None)).is_ok()
    }
}

/// The entries of the log at `path` for `request_id` (a login and a decision may share none;
/// one id is one request), in order; lines that do not parse are counted.
pub fn find(path: &Path, request_id: &str) -> std::io::Result<(Vec<Entry>, usize)> {
    let text = std::fs::read_to_string(path)?;
    let mut found = Vec::new();
    let mut bad = 0;
    for line in text.lines().filter(|l| l.contains(request_id)) {
        match serde_json::from_str::<Entry>(line) {
            Ok(e) if e.request_id == request_id => found.push(e),
            Ok(_) => {}
            Err(_) => bad += 1,
        }
    }
    Ok((found, bad))
}

/// The entries of one request in words: what was decided, why credentials were refused (what
/// the client was never told), and the policy's rule-by-rule reasoning.
pub fn explain(entries: &[Entry]) -> String {
    let mut text = String::new();
    for e in entries {
        let what = match e.kind {
            Kind::Authz => "decision",
            Kind::Login => "login",
        };
        text.push_str(&format!(
            "request {} ({what}) at {} from {}: {} {}{}\n",
            e.request_id,
            e.time,
            e.address,
            e.status,
            e.result,
            e.finding
                .as_deref()
                .map(|f| format!(" [{f}]"))
                .unwrap_or_default()
        ));
        if let Some(r) = e.refusal {
            let mut directory = None;
            let why = match r {
                crate::login::Refusal::UnknownUser => "there is no such user",
                crate::login::Refusal::WrongPassword => "the password was wrong",
                crate::login::Refusal::Disabled => "the account is disabled",
                crate::login::Refusal::Locked => {
                    "the account is locked after too many failed logins (why401 gate bans list)"
                }
                crate::login::Refusal::UnusableHash => {
                    "the stored hash cannot be verified: set a new password (why401 gate user passwd)"
                }
                crate::login::Refusal::WrongCode => {
                    "the second factor's code was wrong (an authenticator app's clock more than 30 s off gives wrong codes; a recovery code is good once)"
                }
                crate::login::Refusal::CodeReused => {
                    "the TOTP code was used before: each code is good once (a replayed or phished code, or two sign-ins within 30 s)"
                }
                crate::login::Refusal::WebauthnFailed => {
                    "the passkey or security key's answer did not verify (another site's origin, an unknown credential, a cloned key's counter, or user verification missing)"
                }
                crate::login::Refusal::UnusualSignIn => {
                    "the sign-in came from a network or country never seen for this user, and [risk] unusual = \"deny\""
                }
                crate::login::Refusal::NoSecondFactor => {
                    "a second factor is required and the user has none: enrol one (why401 gate totp enroll USER)"
                }
                r @ (crate::login::Refusal::DirectoryLocked
                | crate::login::Refusal::PasswordExpired
                | crate::login::Refusal::AccountExpired
                | crate::login::Refusal::MustChangePassword
                | crate::login::Refusal::LogonHours
                | crate::login::Refusal::Workstation) => {
                    let code = r.directory_code().unwrap_or_default();
                    let title = why401_catalogue::catalogue()
                        .code(why401_catalogue::CodeKind::Ldap, code)
                        .map_or_else(String::new, |c| c.title.clone());
                    directory = Some(format!(
                        "the directory refused it: LDAP data {code}: {title} (why401 explain ldap:{code})"
                    ));
                    "the directory refused the account"
                }
            };
            text.push_str(&format!(
                "credentials of {} refused: {why} (the client was only told they were not accepted)\n",
                e.user.as_deref().unwrap_or("?")
            ));
            if let Some(d) = directory {
                text.push_str(&format!("  {d}\n"));
            }
        }
        if let Some(c) = &e.check {
            text.push_str(&format!("{c}\n"));
        }
    }
    text
}
