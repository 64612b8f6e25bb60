//! `why401 URL` / `why401 probe` and `why401 curl`: build the request, run the probe, print
//! the diagnosis.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use url::Url;
use why401_doctor::probe::{Outcome, diagnose};
use why401_probe::{Delegation, ProbeSpec, Scheme, UserCredentials, curl, spec, tls};

use crate::cli::{CurlArgs, ProbeArgs, ProbeOptions};
use crate::output;

/// Exit status when the target could not be reached.
const UNREACHABLE: u8 = 3;

pub(super) fn run_probe(args: ProbeArgs) -> Result<ExitCode> {
    let url = parse_url(&args.url)?;
    let mut spec = ProbeSpec::get(url);
    if let Some(m) = args.method {
        spec.method = m.to_ascii_uppercase();
    }
    for h in &args.headers {
        spec.headers.push(spec::header_line(h)?);
    }
    if let Some(d) = args.data {
        spec.body = Some(read_at(&d)?.into_bytes());
        if spec.method == "GET" {
            spec.method = "POST".into();
        }
    }
    if let Some(c) = args.cookie {
        cookies(&mut spec, &c)?;
    }
    run(spec, &args.opts)
}

pub(super) fn run_curl(args: CurlArgs) -> Result<ExitCode> {
    let req = if args.args.is_empty() {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the curl command from stdin")?;
        curl::parse(&text)?
    } else {
        curl::parse_args(&args.args)?
    };
    let mut spec = ProbeSpec::get(parse_url(&req.url)?);
    if let Some(m) = &req.method {
        spec.method = m.to_ascii_uppercase();
    }
    spec.headers = req.headers.clone();
    spec.body = req.data.clone().map(String::into_bytes);
    if let Some(c) = &req.cookies {
        cookies(&mut spec, c)?;
    }
    if !req.unknown.is_empty() {
        output::warning(&format!(
            "the probe does not do what these curl arguments ask: {}",
            req.unknown.join(" ")
        ))?;
    }
    let mut opts = args.opts;
    opts.user = opts.user.or(req.user.clone());
    opts.proxy = opts.proxy.or(req.proxy.clone());
    opts.proxy_user = opts.proxy_user.or(req.proxy_user.clone());
    opts.cacert = opts.cacert.or(req.cacert.clone().map(Into::into));
    opts.auth_type = opts.auth_type.or(req.auth_type.clone());
    if let Some(d) = &req.delegation
        && opts.delegation == "none"
    {
        opts.delegation = d.clone();
    }
    opts.insecure |= req.insecure;
    opts.location_trusted |= req.location_trusted;
    opts.resolve.extend(req.resolve.iter().cloned());
    if let Some(n) = req.max_redirs {
        opts.max_redirs = n;
    }
    run(spec, &opts)
}

fn parse_url(s: &str) -> Result<Url> {
    let with_scheme = if s.contains("://") {
        s.to_string()
    } else {
        format!("http://{s}")
    };
    let url = Url::parse(&with_scheme).with_context(|| format!("{s:?} is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("{s:?}: only http and https URLs can be probed");
    }
    if url.password().is_some() {
        bail!("{s:?}: put credentials in -u (with the password prompted for), not in the URL");
    }
    Ok(url)
}

/// `-b 'a=b; c=d'` or a Netscape cookie file.
fn cookies(spec: &mut ProbeSpec, value: &str) -> Result<()> {
    let path = std::path::Path::new(value);
    if !value.contains('=') && path.exists() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading cookie file {value}"))?;
        let (_, problems) = why401_probe::jar::Jar::new(Vec::new(), Some(&text), &spec.url);
        if let Some(p) = problems.first() {
            bail!("{value}: {p}");
        }
        spec.cookie_jar = Some(text);
        return Ok(());
    }
    for pair in value.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (n, v) = pair
            .split_once('=')
            .with_context(|| format!("-b {pair:?}: cookies are name=value"))?;
        spec.cookies
            .push((n.trim().to_string(), v.trim().to_string()));
    }
    Ok(())
}

/// `@FILE` reads the file; anything else is the value itself.
fn read_at(v: &str) -> Result<String> {
    match v.strip_prefix('@') {
        Some(path) => Ok(std::fs::read_to_string(path)
            .with_context(|| format!("reading {path}"))?
            .trim_end_matches(['\r', '\n'])
            .to_string()),
        None => Ok(v.to_string()),
    }
}

/// USER[:PASS] with the password from argv, stdin, the environment or a prompt.
fn credentials(
    spec: Option<&str>,
    password_stdin: bool,
    env: &str,
    what: &str,
) -> Result<Option<UserCredentials>> {
    let Some(spec) = spec else { return Ok(None) };
    if let Some((user, pass)) = spec.split_once(':') {
        return Ok(Some(UserCredentials::new(user, pass.to_string())));
    }
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else if let Ok(p) = std::env::var(env) {
        p
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("{what} password for {spec}: "))
            .context("reading the password")?
    } else {
        bail!(
            "no password for {spec}: use --password-stdin, set {env}, or run on a terminal to be prompted"
        );
    };
    Ok(Some(UserCredentials::new(spec, password)))
}

fn run(mut spec: ProbeSpec, o: &ProbeOptions) -> Result<ExitCode> {
    // Everything that can be refused is, before a password is asked for; the last check
    // covers the credentials and token.
    spec.check()?;
    if let Some(p) = &o.proxy {
        spec.set_proxy(p)?;
    }
    spec.proxy_from_env(|k| std::env::var_os(k))?;
    if let Some(path) = &o.cacert {
        spec.cacert = Some(
            tls::read_cacert(path)
                .map_err(|e| anyhow::anyhow!("--cacert {}: {e}", path.display()))?,
        );
    }
    spec.insecure = o.insecure;
    // curl's `--negotiate -u :` (an empty user) means "my own Kerberos tickets", as no -u does.
    let user = o.user.as_deref().filter(|u| !u.is_empty() && *u != ":");
    let negotiate = o.negotiate
        || o.auth_type
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("negotiate"));
    spec.kerberos.from_cache = negotiate && user.is_none();
    spec.kerberos.kdc = o.kdc.clone();
    spec.kerberos.delegation = Delegation::parse(&o.delegation)
        .with_context(|| format!("--delegation {:?}: none, policy or always", o.delegation))?;
    spec.credentials = credentials(user, o.password_stdin, "WHY401_PASSWORD", "server")?;
    // --proxy-user wins over credentials in the proxy URL.
    if let Some(c) = credentials(
        o.proxy_user.as_deref(),
        false,
        "WHY401_PROXY_PASSWORD",
        "proxy",
    )? {
        spec.proxy_credentials = Some(c);
    }
    spec.bearer = o.bearer.as_deref().map(read_at).transpose()?;
    spec.max_redirs = o.max_redirs;
    spec.location_trusted = o.location_trusted;
    spec.each_address = o.each_address;
    spec.dns_server = o
        .dns_server
        .as_deref()
        .map(|s| {
            s.parse::<std::net::SocketAddr>()
                .or_else(|_| {
                    s.trim_matches(['[', ']'])
                        .parse::<std::net::IpAddr>()
                        .map(|ip| std::net::SocketAddr::new(ip, 53))
                })
                .map_err(|_| {
                    anyhow::anyhow!("--dns-server {s:?}: not an IP address or IP:PORT (10.0.0.53, 10.0.0.53:5353, [::1]:53)")
                })
        })
        .transpose()?;
    spec.resolve = o
        .resolve
        .iter()
        .map(|r| {
            why401_probe::net::Pin::parse(r).map_err(|e| anyhow::anyhow!("--resolve {r:?}: {e}"))
        })
        .collect::<Result<_>>()?;
    spec.forced_scheme = match o
        .auth_type
        .as_deref()
        .or(o.negotiate.then_some("negotiate"))
    {
        Some(s) => Some(
            Scheme::parse(s)
                .with_context(|| format!("--auth-type {s:?}: basic, digest, ntlm or negotiate"))?,
        ),
        None => None,
    };
    spec.expect_scopes = o
        .expect_scope
        .iter()
        .flat_map(|s| s.split_whitespace())
        .map(String::from)
        .collect();
    spec.expect_audience = o.expect_audience.clone();
    spec.expect_issuer = o.expect_issuer.clone();
    spec.siblings = !o.no_siblings;
    spec.timeout = Duration::from_secs_f64(o.timeout.max(0.1));
    spec.check()?;

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let evidence = runtime.block_on(why401_probe::run(&spec, now));
    let diagnosis = diagnose(&evidence);
    if o.json {
        output::json(&why401_render::probe_json(
            &evidence,
            &diagnosis,
            o.show_secrets,
        ))?;
    } else {
        output::print(&why401_render::probe(
            &evidence,
            &diagnosis,
            o.verbose,
            o.show_secrets,
            output::options(),
        ))?;
    }
    Ok(ExitCode::from(match diagnosis.outcome {
        Outcome::Authorized => super::exit::OK,
        Outcome::Unauthorized | Outcome::Forbidden => super::exit::PROBLEM,
        Outcome::Error => UNREACHABLE,
    }))
}
