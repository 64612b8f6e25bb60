//! Notifications (ASVS 5 §6.3.7, §6.4: tell the user and the admins of lockouts, unusual
//! sign-ins and changes to authentication factors): a webhook (JSON POST) and/or a command
//! (the JSON on its standard input), from `[notify]`.
//!
//! A request never waits for one: events go into a bounded queue that one task empties; each
//! delivery is tried at most `retries` more times with a doubling pause, then given up and
//! said on stderr. A full queue drops the event and counts it (`why401_gate_notifications_total
//! {result="dropped"}`), it does not slow the gateway.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::io::AsyncWriteExt;

/// Where notifications go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// A URL to POST each event to, as JSON.
    pub webhook: Option<String>,
    /// A program and its arguments, run with each event as JSON on its standard input.
    pub command: Vec<String>,
    /// Further attempts after a failed one (default 3).
    pub retries: u32,
}

impl Targets {
    /// Whether anything is to be told.
    pub fn any(&self) -> bool {
        self.webhook.is_some() || !self.command.is_empty()
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An account was locked, or an address throttled.
    Lockout,
    /// A sign-in from a network or country this user never signed in from.
    UnusualSignIn,
    /// A second factor added or removed, recovery codes made or used.
    FactorChanged,
}

/// An event, as sent.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// What happened.
    pub event: Kind,
    /// RFC 3339.
    pub time: String,
    /// Whose account.
    pub user: String,
    /// The client's address, when known.
    pub address: Option<String>,
    /// In words.
    pub detail: String,
}

/// The queue's sending end.
#[derive(Clone)]
pub struct Notifier {
    tx: Option<tokio::sync::mpsc::Sender<Event>>,
    counted: crate::metrics::Notified,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notifier")
    }
}

const QUEUE: usize = 1024;

impl Notifier {
    /// A notifier that tells nobody.
    pub fn none() -> Notifier {
        Notifier {
            tx: None,
            counted: Default::default(),
        }
    }

    /// Starts the task that delivers to `targets` (nothing when there are none).
    pub fn start(
        targets: Targets,
        client: crate::proxy::HttpClient,
        counted: crate::metrics::Notified,
    ) -> Notifier {
        if !targets.any() {
            return Notifier::none();
        }
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Event>(QUEUE);
        let targets = Arc::new(targets);
        let m = counted.clone();
        tokio::spawn(async move {
            while let Some(e) = rx.recv().await {
                let ok = deliver(&targets, &client, &e).await;
                m.count(if ok { "delivered" } else { "failed" });
            }
        });
        Notifier {
            tx: Some(tx),
            counted,
        }
    }

    /// Queues `e`; never waits.
    pub fn send(&self, e: Event) {
        let Some(tx) = &self.tx else { return };
        if tx.try_send(e).is_err() {
            eprintln!("why401 gate: the notification queue is full: an event was dropped");
            self.counted.count("dropped");
        }
    }
}

/// Delivers `e` now, with the retries, waiting for it (for the CLI, whose process ends after).
pub async fn deliver_now(targets: &Targets, e: &Event) -> bool {
    deliver(targets, &crate::proxy::HttpClient::new(), e).await
}

/// Delivers `e` to every target, retrying each; true if all took it.
async fn deliver(targets: &Targets, client: &crate::proxy::HttpClient, e: &Event) -> bool {
    let body = serde_json::to_vec(e).expect("an event serialises");
    let mut all = true;
    if let Some(url) = &targets.webhook {
        all &= attempt(targets.retries, "webhook", || {
            client.post_json(url, body.clone(), Duration::from_secs(5))
        })
        .await;
    }
    if !targets.command.is_empty() {
        all &= attempt(targets.retries, "command", || run(&targets.command, &body)).await;
    }
    all
}

async fn attempt<F, Fut>(retries: u32, what: &str, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut pause = Duration::from_millis(500);
    for n in 0..=retries {
        match f().await {
            Ok(()) => return true,
            Err(e) if n == retries => {
                eprintln!(
                    "why401 gate: the notification {what} failed {} times, given up: {e}",
                    n + 1
                );
            }
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(30));
            }
        }
    }
    false
}

/// Runs the command with `body` on its standard input, within 10 s.
async fn run(command: &[String], body: &[u8]) -> Result<(), String> {
    let mut child = tokio::process::Command::new(&command[0])
        .args(&command[1..])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{}: {e}", command[0]))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(body).await.map_err(|e| e.to_string())?;
    }
    match tokio::time::timeout(Duration::from_secs(10), child.wait()).await {
        Ok(Ok(s)) if s.success() => Ok(()),
        Ok(Ok(s)) => Err(format!("{} exited with {s}", command[0])),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("{} took more than 10 s", command[0])),
    }
}
