//! Monitoring: Prometheus metrics (`/.why401/metrics`) and the admin's explain endpoint
//! (`/.why401/admin/explain/{request_id}`). Both answer only from `[admin] networks`
//! (loopback by default); explain also needs a user of `[admin] group`, as any request does.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode, header};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::audit::{Entry, Kind};
use crate::server::Gate;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Decision {
    result: String,
    finding: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Lock {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Stage {
    stage: String,
}

/// What the gateway counts.
pub struct Metrics {
    registry: Mutex<Registry>,
    decisions: Family<Decision, Counter>,
    logins: Family<Outcome, Counter>,
    lockouts: Family<Lock, Counter>,
    latency: Family<Stage, Histogram>,
    /// Notifications, by result.
    pub notified: Notified,
}

/// Counts notifications by result (delivered, failed, dropped): a handle for the notifier's
/// task.
#[derive(Clone, Default)]
pub struct Notified(Family<Outcome, Counter>);

impl Notified {
    /// One more notification with this result.
    pub fn count(&self, result: &str) {
        self.0
            .get_or_create(&Outcome {
                result: result.to_string(),
            })
            .inc();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registered, at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("why401_gate");
        let decisions = Family::<Decision, Counter>::default();
        let logins = Family::<Outcome, Counter>::default();
        let lockouts = Family::<Lock, Counter>::default();
        let latency = Family::<Stage, Histogram>::new_with_constructor(|| {
            // 50 µs to 2.5 s: a cached decision is well under a millisecond, a password hash
            // a few hundred.
            Histogram::new([
                0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                0.25, 0.5, 1.0, 2.5,
            ])
        });
        registry.register(
            "decisions",
            "Authorization decisions, by result (allow, login, rejected, deny, throttled, unavailable) and finding",
            decisions.clone(),
        );
        registry.register(
            "logins",
            "Logins on the login page, by result",
            logins.clone(),
        );
        registry.register(
            "lockouts",
            "Refusals because an account was locked or an address throttled",
            lockouts.clone(),
        );
        let notified = Notified::default();
        registry.register(
            "notifications",
            "Notifications of lockouts, unusual sign-ins and factor changes, by result (delivered, failed, dropped)",
            notified.0.clone(),
        );
        registry.register(
            "latency_seconds",
            "Time to decide (stage=decision) and to verify a login (stage=login)",
            latency.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            decisions,
            logins,
            lockouts,
            latency,
            notified,
        }
    }

    /// Counts a decision or login as the audit line records it.
    pub fn decided(&self, e: &Entry) {
        match e.kind {
            Kind::Authz => {
                self.decisions
                    .get_or_create(&Decision {
                        result: e.result.clone(),
                        finding: e.finding.clone().unwrap_or_default(),
                    })
                    .inc();
            }
            Kind::Login => {
                self.logins
                    .get_or_create(&Outcome {
                        result: e.result.clone(),
                    })
                    .inc();
            }
        }
        if e.refusal == Some(crate::login::Refusal::Locked) {
            self.lockouts
                .get_or_create(&Lock {
                    kind: "account".into(),
                })
                .inc();
        }
        if e.result == "throttled" {
            self.lockouts
                .get_or_create(&Lock {
                    kind: "address".into(),
                })
                .inc();
        }
    }

    /// Records how long a stage took.
    pub fn took(&self, stage: &str, d: std::time::Duration) {
        self.latency
            .get_or_create(&Stage {
                stage: stage.to_string(),
            })
            .observe(d.as_secs_f64());
    }

    /// The Prometheus text exposition.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        prometheus_client::encoding::text::encode(&mut out, &registry)
            .expect("writing to a String does not fail");
        out
    }
}

/// 403 for a peer outside `[admin] networks`; `None` for one inside.
fn outside(gate: &Gate, peer: SocketAddr, headers: &HeaderMap) -> Option<Response> {
    (!admin_network(gate, peer, headers)).then(|| {
        text(
            StatusCode::FORBIDDEN,
            "text/plain; charset=utf-8",
            "the metrics and the admin endpoints answer only from [admin] networks\n".into(),
        )
    })
}

/// Whether the peer may reach the admin endpoints (the address the request came from, or the
/// client a trusted proxy names).
fn admin_network(gate: &Gate, peer: SocketAddr, headers: &HeaderMap) -> bool {
    crate::server::client_address(gate, peer, headers)
        .is_some_and(|ip| gate.config.admin.networks.iter().any(|n| n.contains(&ip)))
}

fn text(status: StatusCode, content_type: &str, body: String) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(body))
        .expect("a valid response")
}

/// `GET /.why401/metrics`.
pub(crate) async fn endpoint(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = outside(&gate, peer, &headers) {
        return refused;
    }
    text(
        StatusCode::OK,
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        gate.metrics.text(),
    )
}

/// `GET /.why401/admin/explain/{request_id}`: what `why401 gate explain` says, for a user of
/// the admin group (JSON when asked for).
pub(crate) async fn explain_endpoint(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = outside(&gate, peer, &headers) {
        return refused;
    }
    if let Some(refusal) = crate::server::admin_identity(&gate, peer, &headers).await {
        return refusal;
    }
    let id = request_id.trim().to_ascii_lowercase();
    if id.len() < 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return text(
            StatusCode::BAD_REQUEST,
            "text/plain; charset=utf-8",
            "not a request id (hex, from X-Request-Id or the problem document)\n".into(),
        );
    }
    let entries = match crate::audit::lookup(&gate, &id).await {
        Ok(entries) => entries,
        Err(why) => {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain; charset=utf-8",
                format!("{why}\n"),
            );
        }
    };
    if entries.is_empty() {
        return text(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "no such request in the audit log\n".into(),
        );
    }
    let json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("json"));
    if json {
        text(
            StatusCode::OK,
            "application/json",
            serde_json::to_string_pretty(&entries).expect("entries serialise"),
        )
    } else {
        text(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            crate::audit::explain(&entries),
        )
    }
}
