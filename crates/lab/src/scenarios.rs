//! The classic 401s, each as a request against the lab's servers and the finding it must yield.

use std::net::SocketAddr;

use url::Url;
use why401_probe::{ProbeSpec, UserCredentials};
use why401_wire::basic;

use crate::account::{self, PASSWORD, USER};
use crate::app;
use crate::server;

/// The running lab: two origins of the app and a proxy.
pub struct Lab {
    /// Origin A: the app, whose `/moved` redirects to origin B (credentials must stay behind).
    pub a: SocketAddr,
    /// Origin B: the same app on another port, the other end of the cross-origin redirect.
    pub b: SocketAddr,
    /// A proxy that answers every request with 407 and a Basic `Proxy-Authenticate`.
    pub proxy: SocketAddr,
}

impl Lab {
    /// Starts the servers on ephemeral loopback ports.
    pub async fn start() -> std::io::Result<Lab> {
        let b = server::start(app::handler(String::new())).await?;
        let a = server::start(app::handler(format!("http://{b}"))).await?;
        let proxy = server::start(app::proxy_handler()).await?;
        Ok(Lab { a, b, proxy })
    }

    /// A URL on origin A.
    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.a)).expect("a lab URL")
    }
}

/// A scenario: what to probe, and the finding that must come first.
pub struct Scenario {
    /// A stable name (`jwt-expired`), the first column of the table.
    pub name: &'static str,
    /// What it reproduces, in words.
    pub title: &'static str,
    /// The finding id that must come first.
    pub expect: &'static str,
    /// The request that reproduces it against the running lab (sibling URLs not probed).
    pub spec: fn(&Lab) -> ProbeSpec,
    /// The command to try it by hand (`--serve`).
    pub command: fn(&Lab) -> String,
}

fn spec(lab: &Lab, path: &str) -> ProbeSpec {
    let mut s = ProbeSpec::get(lab.url(path));
    s.siblings = false;
    s
}

fn with_user(mut s: ProbeSpec, user: &str, password: &str) -> ProbeSpec {
    s.credentials = Some(UserCredentials::new(user, password.into()));
    s
}

fn with_bearer(mut s: ProbeSpec, token: String) -> ProbeSpec {
    s.bearer = Some(token);
    s.headers.push(("Accept".into(), "application/json".into()));
    s
}

/// Every scenario, in the order the table shows them.
pub(crate) fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "basic-no-credentials",
            title: "Basic site, no credentials",
            expect: "no-credentials-sent",
            spec: |l| spec(l, "/basic"),
            command: |l| format!("why401 {}", l.url("/basic")),
        },
        Scenario {
            name: "digest-wrong-password",
            title: "Digest SHA-256, wrong password",
            expect: "credentials-rejected",
            spec: |l| with_user(spec(l, "/digest"), USER, "wrong"),
            command: |l| {
                format!(
                    "why401 {} -u alice          (try any password but {PASSWORD})",
                    l.url("/digest")
                )
            },
        },
        Scenario {
            name: "scheme-mismatch",
            title: "Basic header sent to a Digest-only server",
            expect: "scheme-mismatch",
            spec: |l| {
                let mut s = spec(l, "/digest");
                s.headers.push((
                    "Authorization".into(),
                    format!("Basic {}", basic::encode(USER, PASSWORD)),
                ));
                s
            },
            command: |l| {
                format!(
                    "why401 {} -H 'Authorization: Basic YWxpY2U6czNjcmV0'",
                    l.url("/digest")
                )
            },
        },
        Scenario {
            name: "missing-challenge",
            title: "401 without WWW-Authenticate",
            expect: "missing-www-authenticate",
            spec: |l| spec(l, "/no-challenge"),
            command: |l| format!("why401 {}", l.url("/no-challenge")),
        },
        Scenario {
            name: "jwt-expired",
            title: "expired JWT",
            expect: "token-expired",
            spec: |l| {
                with_bearer(
                    spec(l, "/api/orders"),
                    app::token("orders:read", -7200, 3600),
                )
            },
            command: |l| {
                format!(
                    "why401 {} --bearer {}",
                    l.url("/api/orders"),
                    app::token("orders:read", -7200, 3600)
                )
            },
        },
        Scenario {
            name: "jwt-not-yet-valid",
            title: "JWT from an issuer whose clock runs 10 minutes ahead",
            expect: "token-not-yet-valid",
            spec: |l| with_bearer(spec(l, "/api/orders"), app::token("orders:read", 600, 3600)),
            command: |l| {
                format!(
                    "why401 {} --bearer {}",
                    l.url("/api/orders"),
                    app::token("orders:read", 600, 3600)
                )
            },
        },
        Scenario {
            name: "insufficient-scope",
            title: "valid token without the scope (403)",
            expect: "insufficient-scope",
            spec: |l| {
                with_bearer(
                    spec(l, "/api/orders/export"),
                    app::token("orders:read", 0, 3600),
                )
            },
            command: |l| {
                format!(
                    "why401 {} --bearer {}",
                    l.url("/api/orders/export"),
                    app::token("orders:read", 0, 3600)
                )
            },
        },
        Scenario {
            name: "should-be-403",
            title: "insufficient_scope answered with 401",
            expect: "should-be-403",
            spec: |l| with_bearer(spec(l, "/api/admin"), app::token("orders:read", 0, 3600)),
            command: |l| {
                format!(
                    "why401 {} --bearer {}",
                    l.url("/api/admin"),
                    app::token("orders:read", 0, 3600)
                )
            },
        },
        Scenario {
            name: "redirect-drops-auth",
            title: "cross-origin redirect drops Authorization",
            expect: "auth-dropped-on-redirect",
            spec: |l| with_user(spec(l, "/moved"), USER, PASSWORD),
            command: |l| {
                format!(
                    "why401 {} -u alice          (password {PASSWORD}; add --location-trusted to compare)",
                    l.url("/moved")
                )
            },
        },
        Scenario {
            name: "api-login-redirect",
            title: "API call redirected to a login page",
            expect: "redirected-to-login",
            spec: |l| {
                let mut s = spec(l, "/api/reports");
                s.headers.push(("Accept".into(), "application/json".into()));
                s
            },
            command: |l| {
                format!(
                    "why401 {} -H 'Accept: application/json'",
                    l.url("/api/reports")
                )
            },
        },
        Scenario {
            name: "cookie-path-mismatch",
            title: "session cookie with the wrong Path",
            expect: "cookie-not-sent",
            spec: |l| spec(l, "/start"),
            command: |l| format!("why401 {}", l.url("/start")),
        },
        Scenario {
            name: "proxy-407",
            title: "a proxy answering 407",
            expect: "proxy-auth-required",
            spec: |l| {
                let mut s = spec(l, "/basic");
                s.proxy = Url::parse(&format!("http://{}", l.proxy)).ok();
                s
            },
            command: |l| format!("why401 {} -x http://{}", l.url("/basic"), l.proxy),
        },
        Scenario {
            name: "iis-401.2",
            title: "IIS detailed error page 401.2",
            expect: "iis-401.2-config",
            spec: |l| spec(l, "/iis/reports/"),
            command: |l| format!("why401 {}", l.url("/iis/reports/")),
        },
        Scenario {
            name: "ntlm-success",
            title: "NTLM with the right password",
            expect: "access-granted",
            spec: |l| {
                with_user(
                    spec(l, "/ntlm"),
                    &format!("{}\\{}", account::DOMAIN, account::USER),
                    account::PASSWORD,
                )
            },
            command: |l| {
                format!(
                    "why401 {} -u 'CORP\\alice'   (password {})",
                    l.url("/ntlm"),
                    account::PASSWORD
                )
            },
        },
        Scenario {
            name: "ntlm-wrong-password",
            title: "NTLM with a wrong password",
            expect: "credentials-rejected",
            spec: |l| {
                with_user(
                    spec(l, "/ntlm"),
                    &format!("{}\\{}", account::DOMAIN, account::USER),
                    "wrong",
                )
            },
            command: |l| {
                format!(
                    "why401 {} -u 'CORP\\alice'   (any password but {})",
                    l.url("/ntlm"),
                    account::PASSWORD
                )
            },
        },
        Scenario {
            name: "negotiate-ntlm-fallback",
            title: "Negotiate receiving NTLM (no Kerberos)",
            expect: "kerberos-fallback-to-ntlm",
            spec: |l| {
                with_user(
                    spec(l, "/negotiate"),
                    &format!("{}\\{}", account::DOMAIN, account::USER),
                    account::PASSWORD,
                )
            },
            command: |l| {
                format!(
                    "why401 {} -u 'CORP\\alice'   (password {})",
                    l.url("/negotiate"),
                    account::PASSWORD
                )
            },
        },
        Scenario {
            name: "graph-cae-revoked",
            title: "Microsoft Graph: token revoked by CAE",
            expect: "token-revoked-cae",
            spec: |l| {
                with_bearer(
                    spec(l, "/ms/graph/v1.0/me"),
                    app::token("User.Read", 0, 3600),
                )
            },
            command: |l| format!("why401 {} --bearer <any token>", l.url("/ms/graph/v1.0/me")),
        },
        Scenario {
            name: "entra-conditional-access",
            title: "Entra ID token endpoint: AADSTS53003",
            expect: "conditional-access-blocked",
            spec: |l| spec(l, "/ms/oauth2/v2.0/token"),
            command: |l| format!("why401 {}", l.url("/ms/oauth2/v2.0/token")),
        },
        Scenario {
            name: "sharepoint-graph-token",
            title: "SharePoint Online given a Graph token",
            expect: "token-audience-mismatch",
            spec: |l| {
                with_bearer(
                    spec(l, "/ms/sharepoint/_api/web"),
                    app::entra_token("https://graph.microsoft.com"),
                )
            },
            command: |l| {
                format!(
                    "why401 {} --bearer {}",
                    l.url("/ms/sharepoint/_api/web"),
                    app::entra_token("https://graph.microsoft.com")
                )
            },
        },
    ]
}
