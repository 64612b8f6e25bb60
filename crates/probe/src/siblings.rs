//! A credential-free look at the target's siblings — the other scheme, the other trailing
//! slash, the other names on its certificate — to spot a URL variant that behaves differently.
//! No credentials are ever sent here.

use url::Url;
use why401_evidence::{ProbeEvidence, Sibling};

use crate::net::{self, Route};
use crate::spec::ProbeSpec;

/// The variants worth comparing for `url`.
pub(crate) fn variants(url: &Url, cert_names: &[String]) -> Vec<(String, Url)> {
    let mut out = Vec::new();
    let mut other = url.clone();
    let flipped = if url.scheme() == "https" {
        "http"
    } else {
        "https"
    };
    if other.set_scheme(flipped).is_ok() {
        if url.port().is_some() {
            // An explicit port belongs to one scheme; the other scheme's default is the guess.
            let _ = other.set_port(None);
        }
        out.push((flipped.to_string(), other));
    }
    let path = url.path();
    if path != "/" {
        let mut slash = url.clone();
        let (variant, new_path) = match path.strip_suffix('/') {
            Some(p) => ("no-trailing-slash", p.to_string()),
            None => ("trailing-slash", format!("{path}/")),
        };
        slash.set_path(&new_path);
        out.push((variant.to_string(), slash));
    }
    let host = url.host_str().unwrap_or("");
    for name in cert_names
        .iter()
        .filter(|n| !n.starts_with('*') && !n.eq_ignore_ascii_case(host))
        .take(2)
    {
        let mut alias = url.clone();
        if alias.set_host(Some(name)).is_ok() {
            out.push(("host-alias".to_string(), alias));
        }
    }
    out
}

/// Looks at every variant concurrently, without credentials or cookies.
pub(crate) async fn look(spec: &ProbeSpec, ev: &ProbeEvidence) -> Vec<Sibling> {
    let names: Vec<String> = ev
        .tls
        .as_ref()
        .and_then(|t| t.chain.first())
        .map(|c| c.names.clone())
        .unwrap_or_default();
    let mut set = tokio::task::JoinSet::new();
    for (variant, url) in variants(&spec.url, &names) {
        let proxy = spec.proxy_for(&url).cloned();
        let pins = spec.resolve.clone();
        let dns_server = spec.dns_server;
        let (insecure, cacert, timeout) = (
            spec.insecure,
            spec.cacert.clone(),
            spec.timeout.min(std::time::Duration::from_secs(3)),
        );
        set.spawn(async move {
            let route = Route {
                target: &url,
                proxy: proxy.as_ref(),
                proxy_authorization: None,
                insecure,
                cacert: cacert.as_deref(),
                timeout,
                pins: &pins,
                dns_server,
            };
            let mut s = Sibling {
                variant,
                url: url.to_string(),
                status: None,
                challenges: Vec::new(),
                error: None,
            };
            match net::connect(&route, u32::MAX).await {
                Err(e) => {
                    s.error = Some(match e {
                        net::ConnectError::Reach { detail, .. } => detail,
                        net::ConnectError::ProxyRefused { response } => {
                            format!("the proxy answered {}", response.status)
                        }
                    })
                }
                Ok(mut conn) => {
                    let req =
                        http::Request::get(net::request_line_target(&url, conn.absolute_form))
                            .header("Host", net::host_header(&url))
                            .header("User-Agent", concat!("why401/", env!("CARGO_PKG_VERSION")))
                            .body(http_body_util::Full::new(bytes::Bytes::new()));
                    match req {
                        Err(e) => s.error = Some(format!("could not build the request: {e}")),
                        Ok(req) => match net::send(&mut conn, req, timeout).await {
                            Ok(resp) => {
                                s.status = Some(resp.status);
                                s.challenges = resp
                                    .headers_named("www-authenticate")
                                    .map(String::from)
                                    .collect();
                            }
                            Err((_, detail)) => s.error = Some(detail),
                        },
                    }
                }
            }
            s
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        if let Ok(s) = r {
            out.push(s);
        }
    }
    out.sort_by(|a, b| a.variant.cmp(&b.variant).then(a.url.cmp(&b.url)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_of_a_url() {
        let v = variants(
            &Url::parse("https://app.corp.example/api").unwrap(),
            &[
                "app.corp.example".into(),
                "app".into(),
                "*.corp.example".into(),
            ],
        );
        let urls: Vec<String> = v.iter().map(|(k, u)| format!("{k} {u}")).collect();
        assert_eq!(
            urls,
            [
                "http http://app.corp.example/api",
                "trailing-slash https://app.corp.example/api/",
                "host-alias https://app/api"
            ]
        );
    }
}
