//! The second factor in the browser: the page that asks for it (a TOTP code, a recovery code,
//! a passkey or security key), enrolment right after the password for a user who has none
//! (`[mfa] enroll_on_login`), and the page where a user manages their factors.
//!
//! Everything here needs a session (a password already given) on this host. A wrong code counts
//! as a failed login towards the account's lockout, so a second factor cannot be guessed
//! faster than a password. A TOTP code is good once, on every instance sharing the store.
//! WebAuthn runs through webauthn-rs; the ceremony's challenge state stays server-side, bound
//! to the session that started it, good for five minutes and once. The pages need JavaScript
//! only for WebAuthn (`/.why401/webauthn.js`, served by the gateway, CSP `script-src 'self'`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Query, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, SecurityKey,
    SecurityKeyAuthentication, SecurityKeyRegistration,
};

use crate::factors::{self, RECOVERY, TOTP, WEBAUTHN};
use crate::login::Refusal;
use crate::policy::Identity;
use crate::server::{Gate, client_address};
use crate::store::{Factor, NewFactor, StoreError};
use crate::web::{
    CSRF_COOKIE, SESSION_COOKIE, cookie, escape, html, page, random_token, request_host,
    safe_return, same_origin, set_cookie, token_digest, unavailable,
};

/// How recent a second factor must be to change one's factors (ASVS 5 §6.4: re-authenticate
/// before changing an authentication factor).
const MANAGE_WITHIN: i64 = 15 * 60;

/// A WebAuthn credential as stored: a passkey (user verification required) or a security key
/// (user verification preferred).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Credential {
    Passkey(Passkey),
    SecurityKey(SecurityKey),
}

impl Credential {
    fn id(&self) -> &webauthn_rs::prelude::CredentialID {
        match self {
            Credential::Passkey(p) => p.cred_id(),
            Credential::SecurityKey(k) => k.cred_id(),
        }
    }
}

/// A ceremony's server-side state.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Ceremony {
    RegisterPasskey(PasskeyRegistration),
    RegisterKey(SecurityKeyRegistration),
    AuthPasskey(PasskeyAuthentication),
    AuthKey(SecurityKeyAuthentication),
}

/// The session of a request: its user and the hash its store row is under.
struct Current {
    who: Identity,
    hash: String,
    id: [u8; 32],
}

async fn current(gate: &Gate, headers: &HeaderMap) -> Result<Option<Current>, StoreError> {
    let host = request_host(headers);
    let Some(who) = crate::web::session_identity(gate, headers, &host).await? else {
        return Ok(None);
    };
    let token = cookie(headers, SESSION_COOKIE).unwrap_or_default();
    let id = token_digest(token);
    Ok(Some(Current {
        who,
        hash: hex::encode(id),
        id,
    }))
}

/// The factors proved to work (an enrolment not yet confirmed is not one).
fn confirmed(all: &[Factor]) -> Vec<&Factor> {
    all.iter().filter(|f| f.confirmed).collect()
}

fn address(gate: &Gate, peer: SocketAddr, headers: &HeaderMap) -> String {
    client_address(gate, peer, headers).map_or_else(|| peer.ip().to_string(), |a| a.to_string())
}

/// Writes a refused second factor to the audit log (as a login refused with its cause); false if
/// it could not be.
async fn refused(gate: &Gate, rid: &str, user: &str, address: &str, why: Refusal) -> bool {
    record(
        gate,
        rid,
        401,
        "refused",
        user,
        address,
        Some(why),
        Some("credentials-rejected"),
    )
    .await
}

/// Writes a second-factor attempt to the audit log (as a login); false if it could not be.
#[allow(clippy::too_many_arguments)]
async fn record(
    gate: &Gate,
    rid: &str,
    status: u16,
    result: &str,
    user: &str,
    address: &str,
    refusal: Option<Refusal>,
    finding: Option<&str>,
) -> bool {
    gate.record(&crate::audit::Entry {
        time: jiff::Timestamp::now().to_string(),
        request_id: rid.to_string(),
        kind: crate::audit::Kind::Login,
        status,
        auth_status: if refusal.is_some() { 401 } else { status },
        result: result.to_string(),
        finding: finding.map(String::from),
        user: Some(user.to_string()),
        address: address.to_string(),
        refusal,
        check: None,
    })
    .await
}

fn redirect(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::empty())
        .expect("a valid response")
}

fn to_login(rd: &str) -> Response {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("rd", rd)
        .finish();
    redirect(&format!("/.why401/login?{q}"))
}

/// A page that runs the gateway's WebAuthn script: the CSP allows it and nothing else.
fn scripted(status: StatusCode, body: String, cookies: &[String]) -> Response {
    let mut r = html(status, body, cookies);
    r.headers_mut().insert(
        "content-security-policy",
        http::HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    r
}

fn meta(csrf: &str, rd: &str) -> String {
    format!(
        "<meta name=\"why401-csrf\" content=\"{}\"><meta name=\"why401-rd\" content=\"{}\">",
        escape(csrf),
        escape(rd)
    )
}

const SCRIPT_TAG: &str = "<p id=\"webauthn-status\" role=\"status\"></p><pre id=\"recovery-codes\" hidden></pre><p id=\"continue\" hidden><a id=\"continue-link\" href=\"/\">Continue</a></p><script src=\"/.why401/webauthn.js\"></script>";

#[derive(Deserialize)]
pub(crate) struct RdQuery {
    rd: Option<String>,
}

/// `GET /.why401/second-factor`: asks for a second factor, or offers enrolment to a user who
/// has none.
pub(crate) async fn page_get(
    State(gate): State<Arc<Gate>>,
    headers: HeaderMap,
    Query(q): Query<RdQuery>,
) -> Response {
    let rd = safe_return(q.rd.as_deref());
    let cur = match current(&gate, &headers).await {
        Ok(Some(c)) => c,
        Ok(None) => return to_login(&rd),
        Err(_) => return unavailable(),
    };
    let factors = match gate.store.factors(&cur.who.user).await {
        Ok(f) => f,
        Err(_) => return unavailable(),
    };
    let csrf = random_token();
    if confirmed(&factors).is_empty() {
        return enrol_page(&gate, &cur, &factors, &rd, &csrf).await;
    }
    ask_page(&factors, &rd, &csrf, None)
}

fn ask_page(factors: &[Factor], rd: &str, csrf: &str, error: Option<&str>) -> Response {
    let has_totp = factors.iter().any(|f| f.confirmed && f.kind == TOTP);
    let has_key = factors.iter().any(|f| f.confirmed && f.kind == WEBAUTHN);
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let key = if has_key {
        "<button type=\"button\" id=\"passkey-use\">Use a passkey or security key</button><p>or</p>"
    } else {
        ""
    };
    let label = if has_totp {
        "Code from your authenticator app, or a recovery code"
    } else {
        "Recovery code"
    };
    let body = format!(
        "{meta}<h1>Second factor</h1>{error}{key}\
         <form method=\"post\" action=\"/.why401/second-factor\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"rd\" value=\"{rde}\">\
         <label for=\"code\">{label}</label>\
         <input id=\"code\" name=\"code\" autocomplete=\"one-time-code\" inputmode=\"numeric\" spellcheck=\"false\" required autofocus>\
         <button type=\"submit\">Verify</button></form>{SCRIPT_TAG}",
        meta = meta(csrf, rd),
        csrf = escape(csrf),
        rde = escape(rd),
    );
    scripted(
        if error.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        },
        page("Second factor", &body),
        &[set_cookie(CSRF_COOKIE, csrf)],
    )
}

/// The enrolment page: a new TOTP secret (QR code, and the secret in base32 for typing) to
/// confirm with a first code, or a passkey to register.
async fn enrol_page(
    gate: &Gate,
    cur: &Current,
    factors: &[Factor],
    rd: &str,
    csrf: &str,
) -> Response {
    let allowed = may_enrol_first(gate, &cur.who) || recent(&cur.who);
    if !allowed {
        return html(
            StatusCode::FORBIDDEN,
            page(
                "Second factor needed",
                "<h1>A second factor is needed</h1><p>This page needs a second factor, and your account has none yet. Ask your administrator to enrol one (<code>why401 gate totp enroll</code>).</p>",
            ),
            &[],
        );
    }
    // One pending secret per user: a reload replaces it.
    for f in factors.iter().filter(|f| !f.confirmed && f.kind == TOTP) {
        if gate
            .store
            .remove_factor(&cur.who.user, &f.id)
            .await
            .is_err()
        {
            return unavailable();
        }
    }
    let Ok((id, secret)) = factors::add_totp(
        &gate.store,
        &gate.sealer,
        &cur.who.user,
        "authenticator app",
        false,
    )
    .await
    else {
        return unavailable();
    };
    let uri = factors::otpauth(&secret, &gate.config.mfa.issuer, &cur.who.user);
    let body = format!(
        "{meta}<h1>Set up a second factor</h1>\
         <h2>A passkey or security key</h2>\
         <p>The strongest choice: it cannot be phished.</p>\
         <button type=\"button\" id=\"passkey-register\">Register a passkey</button>\
         <h2>Or an authenticator app</h2>\
         <p>Scan this code with the app, or type the key.</p>{qr}\
         <p>Key: <code id=\"totp-secret\">{b32}</code></p>\
         <form method=\"post\" action=\"/.why401/second-factor/enrol\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"rd\" value=\"{rde}\">\
         <input type=\"hidden\" name=\"factor\" value=\"{id}\">\
         <label for=\"code\">The code the app shows</label>\
         <input id=\"code\" name=\"code\" autocomplete=\"one-time-code\" inputmode=\"numeric\" spellcheck=\"false\" required>\
         <button type=\"submit\">Confirm</button></form>{SCRIPT_TAG}",
        meta = meta(csrf, rd),
        qr = factors::qr_svg(&uri),
        b32 = escape(&factors::base32(&secret)),
        csrf = escape(csrf),
        rde = escape(rd),
    );
    scripted(
        StatusCode::OK,
        page("Set up a second factor", &body),
        &[set_cookie(CSRF_COOKIE, csrf)],
    )
}

/// Whether a user with no second factor may enrol one after the password alone: when the
/// config lets them, and never from an unusual sign-in (whoever signs in from a new place
/// with a stolen password must not be able to enrol their own factor).
fn may_enrol_first(gate: &Gate, who: &Identity) -> bool {
    gate.config.mfa.enroll_on_login && who.unusual.is_none()
}

/// Whether the session's second factor is recent enough to change factors.
fn recent(who: &Identity) -> bool {
    who.second_factor_at
        .is_some_and(|t| jiff::Timestamp::now().as_second() - t <= MANAGE_WITHIN)
}

#[derive(Deserialize)]
pub(crate) struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    factor: String,
    rd: Option<String>,
}

/// What checking a code gave.
enum Checked {
    Accepted(&'static str),
    Refused(Refusal),
    Locked,
}

/// Checks a TOTP or recovery code for `user`, within the lockout: a wrong code counts as a
/// failed login.
async fn check_code(
    gate: &Gate,
    user: &str,
    address: &str,
    code: &str,
    only: Option<&Factor>,
) -> Result<Checked, StoreError> {
    let _account = crate::login::serialised(format!("user {}", user.to_lowercase())).await;
    // Wrong second factors are counted under a key of their own, which only a right second
    // factor clears: a right password (which clears the account's) must not reset them.
    let counted = crate::lockout::second_factor_key(user);
    match crate::lockout::before(&gate.store, &counted, address).await? {
        crate::lockout::Gate::Open => {}
        _ => return Ok(Checked::Locked),
    }
    let outcome = if only.is_none() && factors::is_recovery_code(code) {
        if gate
            .store
            .use_recovery_code(user, &factors::recovery_hash(code))
            .await?
        {
            Checked::Accepted(RECOVERY)
        } else {
            Checked::Refused(Refusal::WrongCode)
        }
    } else {
        let all = gate.store.factors(user).await?;
        let candidates: Vec<&Factor> = match only {
            Some(f) => vec![f],
            None => all
                .iter()
                .filter(|f| f.confirmed && f.kind == TOTP)
                .collect(),
        };
        let now = jiff::Timestamp::now().as_second().max(0) as u64;
        let mut outcome = Checked::Refused(Refusal::WrongCode);
        for f in candidates {
            let Some(secret) = f.secret.as_deref().and_then(|s| gate.sealer.open(&f.id, s)) else {
                continue;
            };
            if let Some(step) = factors::check_totp(&secret, code, now) {
                outcome = if gate.store.use_totp_step(&f.id, step as i64).await? {
                    Checked::Accepted(TOTP)
                } else {
                    Checked::Refused(Refusal::CodeReused)
                };
                break;
            }
        }
        outcome
    };
    match &outcome {
        Checked::Accepted(_) => crate::lockout::succeeded(&gate.store, &counted).await?,
        _ => {
            crate::lockout::failed(
                &gate.store,
                &gate.config.lockout,
                &counted,
                address,
                &gate.notifier,
            )
            .await?;
        }
    }
    Ok(outcome)
}

/// Marks the session's second factor given, forgetting what was remembered of it; the sign-in
/// is complete, so its network is known from now on.
async fn given(gate: &Gate, cur: &Current, kind: &str, address: &str) -> Result<(), StoreError> {
    gate.sessions.forget(&cur.id);
    gate.store.session_second_factor(&cur.hash, kind).await?;
    if let Ok(ip) = address.parse() {
        gate.signed_in_from(&cur.who.user, ip).await?;
    }
    Ok(())
}

/// `POST /.why401/second-factor`: a TOTP or recovery code.
pub(crate) async fn page_post(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CodeForm>,
) -> Response {
    let rd = safe_return(form.rd.as_deref());
    let rid = crate::server::request_id();
    let cur = match current(&gate, &headers).await {
        Ok(Some(c)) => c,
        Ok(None) => return to_login(&rd),
        Err(_) => return unavailable(),
    };
    let address = address(&gate, peer, &headers);
    if !same_origin(&headers, &form.csrf) {
        record(
            &gate,
            &rid,
            403,
            "forbidden",
            &cur.who.user,
            &address,
            None,
            None,
        )
        .await;
        return redirect(&format!("/.why401/second-factor?{}", rd_query(&rd)));
    }
    let user = cur.who.user.clone();
    let outcome = check_code(&gate, &user, &address, &form.code, None).await;
    let factors = gate.store.factors(&user).await.unwrap_or_default();
    match outcome {
        Ok(Checked::Accepted(kind)) => {
            if given(&gate, &cur, kind, &address).await.is_err()
                || !record(&gate, &rid, 303, "accepted", &user, &address, None, None).await
            {
                return unavailable();
            }
            if kind == RECOVERY {
                gate.notify_factor_change(&user, "a recovery code was used");
            }
            redirect(&rd)
        }
        Ok(Checked::Refused(why)) => {
            if !refused(&gate, &rid, &user, &address, why).await {
                return unavailable();
            }
            let msg = match why {
                Refusal::CodeReused => {
                    "That code was used already. Wait for the next one and try again."
                }
                _ => "That code is not right. Check that your device's clock is right.",
            };
            ask_page(&factors, &rd, &random_token(), Some(msg))
        }
        Ok(Checked::Locked) => {
            refused(&gate, &rid, &user, &address, Refusal::Locked).await;
            ask_page(
                &factors,
                &rd,
                &random_token(),
                Some("Too many failed attempts. Please try again later."),
            )
        }
        Err(_) => unavailable(),
    }
}

fn rd_query(rd: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("rd", rd)
        .finish()
}

/// `POST /.why401/second-factor/enrol`: the first code of a new TOTP secret confirms it.
pub(crate) async fn enrol_post(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CodeForm>,
) -> Response {
    let rd = safe_return(form.rd.as_deref());
    let rid = crate::server::request_id();
    let cur = match current(&gate, &headers).await {
        Ok(Some(c)) => c,
        Ok(None) => return to_login(&rd),
        Err(_) => return unavailable(),
    };
    let address = address(&gate, peer, &headers);
    let user = cur.who.user.clone();
    let factors = match gate.store.factors(&user).await {
        Ok(f) => f,
        Err(_) => return unavailable(),
    };
    let first = confirmed(&factors).is_empty();
    let may = (first && may_enrol_first(&gate, &cur.who)) || recent(&cur.who);
    let pending = factors
        .iter()
        .find(|f| f.id == form.factor && !f.confirmed && f.kind == TOTP);
    if !same_origin(&headers, &form.csrf) || !may || pending.is_none() {
        record(&gate, &rid, 403, "forbidden", &user, &address, None, None).await;
        return redirect(&format!("/.why401/second-factor?{}", rd_query(&rd)));
    }
    let pending = pending.expect("checked");
    match check_code(&gate, &user, &address, &form.code, Some(pending)).await {
        Ok(Checked::Accepted(_)) => {}
        Ok(_) => {
            refused(&gate, &rid, &user, &address, Refusal::WrongCode).await;
            // The same secret again: the user has scanned it already.
            return enrol_retry(&gate, pending, &user, &rd);
        }
        Err(_) => return unavailable(),
    }
    if gate.store.confirm_factor(&pending.id).await.is_err()
        || given(&gate, &cur, TOTP, &address).await.is_err()
        || !record(&gate, &rid, 200, "enrolled", &user, &address, None, None).await
    {
        return unavailable();
    }
    gate.notify_factor_change(&user, "an authenticator app was added");
    let codes = if first {
        match factors::replace_recovery_codes(&gate.store, &user).await {
            Ok(c) => Some(c),
            Err(_) => return unavailable(),
        }
    } else {
        None
    };
    done_page(&rd, codes.as_deref())
}

fn enrol_retry(gate: &Gate, pending: &Factor, user: &str, rd: &str) -> Response {
    let Some(secret) = pending
        .secret
        .as_deref()
        .and_then(|s| gate.sealer.open(&pending.id, s))
    else {
        return unavailable();
    };
    let csrf = random_token();
    let uri = factors::otpauth(&secret, &gate.config.mfa.issuer, user);
    let body = format!(
        "<h1>Set up an authenticator app</h1><p class=\"error\" role=\"alert\">That code is not right. Check that your device's clock is right, and try the next code.</p>{qr}\
         <p>Key: <code id=\"totp-secret\">{b32}</code></p>\
         <form method=\"post\" action=\"/.why401/second-factor/enrol\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"rd\" value=\"{rd}\">\
         <input type=\"hidden\" name=\"factor\" value=\"{id}\">\
         <label for=\"code\">The code the app shows</label>\
         <input id=\"code\" name=\"code\" autocomplete=\"one-time-code\" inputmode=\"numeric\" required>\
         <button type=\"submit\">Confirm</button></form>",
        qr = factors::qr_svg(&uri),
        b32 = escape(&factors::base32(&secret)),
        csrf = escape(&csrf),
        rd = escape(rd),
        id = escape(&pending.id),
    );
    html(
        StatusCode::UNAUTHORIZED,
        page("Set up an authenticator app", &body),
        &[set_cookie(CSRF_COOKIE, &csrf)],
    )
}

fn done_page(rd: &str, codes: Option<&[String]>) -> Response {
    let codes = codes
        .map(|c| {
            format!(
                "<h2>Recovery codes</h2><p>Keep these somewhere safe: each signs you in once if you lose your device. They are shown only now.</p><pre id=\"recovery-codes\">{}</pre>",
                escape(&c.join("\n"))
            )
        })
        .unwrap_or_default();
    html(
        StatusCode::OK,
        page(
            "Second factor set up",
            &format!(
                "<h1>Your second factor is set up</h1>{codes}<p><a id=\"continue-link\" href=\"{}\">Continue</a></p>",
                escape(rd)
            ),
        ),
        &[],
    )
}

/// `GET /.why401/factors`: the user's factors, to add and remove (with a recent second
/// factor).
pub(crate) async fn manage_get(State(gate): State<Arc<Gate>>, headers: HeaderMap) -> Response {
    let cur = match current(&gate, &headers).await {
        Ok(Some(c)) => c,
        Ok(None) => return to_login("/.why401/factors"),
        Err(_) => return unavailable(),
    };
    let factors = match gate.store.factors(&cur.who.user).await {
        Ok(f) => f,
        Err(_) => return unavailable(),
    };
    if !confirmed(&factors).is_empty() && !recent(&cur.who) {
        return redirect(&format!(
            "/.why401/second-factor?{}",
            rd_query("/.why401/factors")
        ));
    }
    let left = gate
        .store
        .recovery_codes_left(&cur.who.user)
        .await
        .unwrap_or(0);
    let csrf = random_token();
    let rows: String = confirmed(&factors)
        .iter()
        .map(|f| {
            format!(
                "<li>{} ({}), added {}<form method=\"post\" action=\"/.why401/factors/remove\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"factor\" value=\"{id}\"><button type=\"submit\">Remove</button></form></li>",
                escape(&f.label),
                escape(&f.kind),
                jiff::Timestamp::from_second(f.created)
                    .map(|t| t.strftime("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                csrf = escape(&csrf),
                id = escape(&f.id),
            )
        })
        .collect();
    let body = format!(
        "{meta}<h1>Your second factors</h1><ul id=\"factors\">{rows}</ul>\
         <p>{left} recovery codes left.</p>\
         <form method=\"post\" action=\"/.why401/factors/recovery\"><input type=\"hidden\" name=\"csrf\" value=\"{csrfe}\"><button type=\"submit\">New recovery codes</button></form>\
         <button type=\"button\" id=\"passkey-register\">Add a passkey or security key</button>\
         <p><a href=\"/.why401/second-factor/add-app\">Add an authenticator app</a></p>{SCRIPT_TAG}",
        meta = meta(&csrf, "/.why401/factors"),
        csrfe = escape(&csrf),
    );
    scripted(
        StatusCode::OK,
        page("Your second factors", &body),
        &[set_cookie(CSRF_COOKIE, &csrf)],
    )
}

/// `GET /.why401/second-factor/add-app`: the enrolment page for another authenticator app.
pub(crate) async fn add_app(State(gate): State<Arc<Gate>>, headers: HeaderMap) -> Response {
    let cur = match current(&gate, &headers).await {
        Ok(Some(c)) => c,
        Ok(None) => return to_login("/.why401/factors"),
        Err(_) => return unavailable(),
    };
    if !recent(&cur.who) {
        return redirect(&format!(
            "/.why401/second-factor?{}",
            rd_query("/.why401/factors")
        ));
    }
    let Ok(factors) = gate.store.factors(&cur.who.user).await else {
        return unavailable();
    };
    enrol_page(&gate, &cur, &factors, "/.why401/factors", &random_token()).await
}

/// `POST /.why401/factors/remove` and `/.why401/factors/recovery`.
pub(crate) async fn manage_post(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: http::Uri,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CodeForm>,
) -> Response {
    let rid = crate::server::request_id();
    let cur = match current(&gate, &headers).await {
        Ok(Some(c)) => c,
        Ok(None) => return to_login("/.why401/factors"),
        Err(_) => return unavailable(),
    };
    let address = address(&gate, peer, &headers);
    let user = cur.who.user.clone();
    if !same_origin(&headers, &form.csrf) || !recent(&cur.who) {
        record(&gate, &rid, 403, "forbidden", &user, &address, None, None).await;
        return redirect("/.why401/factors");
    }
    if uri.path().ends_with("/recovery") {
        return match factors::replace_recovery_codes(&gate.store, &user).await {
            Ok(codes) => {
                record(
                    &gate,
                    &rid,
                    200,
                    "recovery-codes",
                    &user,
                    &address,
                    None,
                    None,
                )
                .await;
                gate.notify_factor_change(&user, "new recovery codes were made");
                done_page("/.why401/factors", Some(&codes))
            }
            Err(_) => unavailable(),
        };
    }
    match gate.store.remove_factor(&user, &form.factor).await {
        Ok(n) if n > 0 => {
            record(
                &gate,
                &rid,
                303,
                "factor-removed",
                &user,
                &address,
                None,
                None,
            )
            .await;
            gate.notify_factor_change(&user, "a second factor was removed");
            redirect("/.why401/factors")
        }
        Ok(_) => redirect("/.why401/factors"),
        Err(_) => unavailable(),
    }
}

/// A JSON error for the WebAuthn endpoints.
fn json_error(status: StatusCode, error: &str) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(
            serde_json::json!({ "error": error }).to_string(),
        ))
        .expect("a valid response")
}

fn json_ok(v: serde_json::Value) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(v.to_string()))
        .expect("a valid response")
}

/// The session of a WebAuthn call, checked as a form POST is: the CSRF token (in
/// `X-Why401-Csrf`, from the page) and the Origin.
async fn json_current(gate: &Gate, headers: &HeaderMap) -> Result<Current, Response> {
    let csrf = headers
        .get("x-why401-csrf")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !same_origin(headers, csrf) {
        return Err(json_error(
            StatusCode::FORBIDDEN,
            "this page expired or came from another site: reload it",
        ));
    }
    match current(gate, headers).await {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(json_error(
            StatusCode::UNAUTHORIZED,
            "sign in with your password first",
        )),
        Err(_) => Err(json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the gateway cannot check sign-ins right now",
        )),
    }
}

fn stored_credentials(factors: &[Factor]) -> Vec<(&Factor, Credential)> {
    factors
        .iter()
        .filter(|f| f.confirmed && f.kind == WEBAUTHN)
        .filter_map(|f| {
            let c = serde_json::from_str::<Credential>(f.credential.as_deref()?).ok()?;
            Some((f, c))
        })
        .collect()
}

#[derive(Deserialize, Default)]
pub(crate) struct StartBody {}

/// `POST /.why401/webauthn/register/start`.
pub(crate) async fn register_start(
    State(gate): State<Arc<Gate>>,
    headers: HeaderMap,
    Json(_): Json<StartBody>,
) -> Response {
    let cur = match json_current(&gate, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(factors) = gate.store.factors(&cur.who.user).await else {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
    };
    let first = confirmed(&factors).is_empty();
    if !((first && may_enrol_first(&gate, &cur.who)) || recent(&cur.who)) {
        return json_error(
            StatusCode::FORBIDDEN,
            "give your second factor again before adding another",
        );
    }
    let Some(rp) = factors::relying_party(&request_host(&headers)) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "WebAuthn needs a host name (not an address) on HTTPS",
        );
    };
    let exclude: Vec<_> = stored_credentials(&factors)
        .iter()
        .map(|(_, c)| c.id().clone())
        .collect();
    let handle = factors::user_handle(&cur.who.user);
    let (options, state): (CreationChallengeResponse, Ceremony) =
        if gate.config.mfa.user_verification_required {
            match rp.start_passkey_registration(handle, &cur.who.user, &cur.who.user, Some(exclude))
            {
                Ok((o, s)) => (o, Ceremony::RegisterPasskey(s)),
                Err(e) => return json_error(StatusCode::BAD_REQUEST, &e.to_string()),
            }
        } else {
            match rp.start_securitykey_registration(
                handle,
                &cur.who.user,
                &cur.who.user,
                Some(exclude),
                None,
                None,
            ) {
                Ok((o, s)) => (o, Ceremony::RegisterKey(s)),
                Err(e) => return json_error(StatusCode::BAD_REQUEST, &e.to_string()),
            }
        };
    ceremony_start(
        &gate,
        &cur,
        "register",
        &state,
        serde_json::to_value(options),
    )
    .await
}

async fn ceremony_start(
    gate: &Gate,
    cur: &Current,
    kind: &str,
    state: &Ceremony,
    options: Result<serde_json::Value, serde_json::Error>,
) -> Response {
    let id = factors::new_id();
    let (Ok(state), Ok(options)) = (serde_json::to_string(state), options) else {
        return json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the ceremony could not be kept",
        );
    };
    if gate
        .store
        .put_ceremony(&id, &cur.hash, kind, &state)
        .await
        .is_err()
    {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
    }
    json_ok(serde_json::json!({ "ceremony": id, "options": options }))
}

async fn take(gate: &Gate, cur: &Current, id: &str, kind: &str) -> Result<Ceremony, Response> {
    match gate.store.take_ceremony(id, &cur.hash, kind).await {
        Ok(Some(s)) => serde_json::from_str(&s).map_err(|_| {
            json_error(
                StatusCode::BAD_REQUEST,
                "the ceremony's state is damaged: start again",
            )
        }),
        Ok(None) => Err(json_error(
            StatusCode::BAD_REQUEST,
            "this ceremony is unknown, expired or used: start again",
        )),
        Err(_) => Err(json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the store is unavailable",
        )),
    }
}

#[derive(Deserialize)]
pub(crate) struct RegisterFinish {
    ceremony: String,
    credential: RegisterPublicKeyCredential,
    #[serde(default)]
    label: String,
    rd: Option<String>,
}

/// `POST /.why401/webauthn/register/finish`.
pub(crate) async fn register_finish(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<RegisterFinish>,
) -> Response {
    let rid = crate::server::request_id();
    let cur = match json_current(&gate, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let address = address(&gate, peer, &headers);
    let user = cur.who.user.clone();
    let state = match take(&gate, &cur, &body.ceremony, "register").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(rp) = factors::relying_party(&request_host(&headers)) else {
        return json_error(StatusCode::BAD_REQUEST, "WebAuthn needs a host name");
    };
    let credential = match &state {
        Ceremony::RegisterPasskey(s) => rp
            .finish_passkey_registration(&body.credential, s)
            .map(Credential::Passkey),
        Ceremony::RegisterKey(s) => rp
            .finish_securitykey_registration(&body.credential, s)
            .map(Credential::SecurityKey),
        _ => {
            return json_error(StatusCode::BAD_REQUEST, "not a registration");
        }
    };
    let credential = match credential {
        Ok(c) => c,
        Err(e) => {
            refused(&gate, &rid, &user, &address, Refusal::WebauthnFailed).await;
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("the authenticator's answer did not verify: {e}"),
            );
        }
    };
    let Ok(factors) = gate.store.factors(&user).await else {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
    };
    let first = confirmed(&factors).is_empty();
    let id = factors::new_id();
    let label = if body.label.trim().is_empty() {
        "passkey".to_string()
    } else {
        body.label.trim().chars().take(64).collect()
    };
    let json = serde_json::to_string(&credential).expect("a credential serialises");
    if gate
        .store
        .add_factor(&NewFactor {
            id: &id,
            user: &user,
            kind: WEBAUTHN,
            label: &label,
            secret: None,
            credential: Some(&json),
            confirmed: true,
        })
        .await
        .is_err()
        || given(&gate, &cur, WEBAUTHN, &address).await.is_err()
        || !record(&gate, &rid, 200, "enrolled", &user, &address, None, None).await
    {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
    }
    gate.notify_factor_change(&user, "a passkey or security key was added");
    let codes = if first {
        match factors::replace_recovery_codes(&gate.store, &user).await {
            Ok(c) => Some(c),
            Err(_) => {
                return json_error(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
            }
        }
    } else {
        None
    };
    json_ok(serde_json::json!({
        "redirect": safe_return(body.rd.as_deref()),
        "recovery_codes": codes,
    }))
}

/// `POST /.why401/webauthn/login/start`.
pub(crate) async fn login_start(
    State(gate): State<Arc<Gate>>,
    headers: HeaderMap,
    Json(_): Json<StartBody>,
) -> Response {
    let cur = match json_current(&gate, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(factors) = gate.store.factors(&cur.who.user).await else {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
    };
    let Some(rp) = factors::relying_party(&request_host(&headers)) else {
        return json_error(StatusCode::BAD_REQUEST, "WebAuthn needs a host name");
    };
    let creds = stored_credentials(&factors);
    let required = gate.config.mfa.user_verification_required;
    let started = if required {
        let keys: Vec<Passkey> = creds
            .into_iter()
            .filter_map(|(_, c)| match c {
                Credential::Passkey(p) => Some(p),
                Credential::SecurityKey(_) => None,
            })
            .collect();
        if keys.is_empty() {
            return json_error(
                StatusCode::BAD_REQUEST,
                "you have no passkey registered (a security key registered without user verification is not accepted now)",
            );
        }
        rp.start_passkey_authentication(&keys)
            .map(|(o, s)| (o, Ceremony::AuthPasskey(s)))
    } else {
        let keys: Vec<SecurityKey> = creds
            .into_iter()
            .filter_map(|(_, c)| match c {
                Credential::SecurityKey(k) => Some(k),
                Credential::Passkey(_) => None,
            })
            .collect();
        if keys.is_empty() {
            return json_error(
                StatusCode::BAD_REQUEST,
                "you have no security key registered",
            );
        }
        rp.start_securitykey_authentication(&keys)
            .map(|(o, s)| (o, Ceremony::AuthKey(s)))
    };
    let (options, state): (RequestChallengeResponse, Ceremony) = match started {
        Ok(s) => s,
        Err(e) => return json_error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    ceremony_start(
        &gate,
        &cur,
        "authenticate",
        &state,
        serde_json::to_value(options),
    )
    .await
}

#[derive(Deserialize)]
pub(crate) struct LoginFinish {
    ceremony: String,
    credential: PublicKeyCredential,
    rd: Option<String>,
}

/// `POST /.why401/webauthn/login/finish`.
pub(crate) async fn login_finish(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<LoginFinish>,
) -> Response {
    let rid = crate::server::request_id();
    let cur = match json_current(&gate, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let address = address(&gate, peer, &headers);
    let user = cur.who.user.clone();
    let _account = crate::login::serialised(format!("user {}", user.to_lowercase())).await;
    let counted = crate::lockout::second_factor_key(&user);
    match crate::lockout::before(&gate.store, &counted, &address).await {
        Ok(crate::lockout::Gate::Open) => {}
        Ok(_) => {
            refused(&gate, &rid, &user, &address, Refusal::Locked).await;
            return json_error(
                StatusCode::UNAUTHORIZED,
                "too many failed attempts: try again later",
            );
        }
        Err(_) => return json_error(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable"),
    }
    let state = match take(&gate, &cur, &body.ceremony, "authenticate").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(rp) = factors::relying_party(&request_host(&headers)) else {
        return json_error(StatusCode::BAD_REQUEST, "WebAuthn needs a host name");
    };
    let result = match &state {
        Ceremony::AuthPasskey(s) => rp.finish_passkey_authentication(&body.credential, s),
        Ceremony::AuthKey(s) => rp.finish_securitykey_authentication(&body.credential, s),
        _ => return json_error(StatusCode::BAD_REQUEST, "not an authentication"),
    };
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            if crate::lockout::failed(
                &gate.store,
                &gate.config.lockout,
                &counted,
                &address,
                &gate.notifier,
            )
            .await
            .is_err()
            {
                return json_error(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
            }
            refused(&gate, &rid, &user, &address, Refusal::WebauthnFailed).await;
            return json_error(
                StatusCode::UNAUTHORIZED,
                &format!("the authenticator's answer did not verify: {e}"),
            );
        }
    };
    // The counter and backup state moved: stored again, so a cloned key's older counter is
    // refused next time.
    let Ok(factors) = gate.store.factors(&user).await else {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
    };
    for (f, mut c) in stored_credentials(&factors) {
        if c.id() != result.cred_id() {
            continue;
        }
        let changed = match &mut c {
            Credential::Passkey(p) => p.update_credential(&result),
            Credential::SecurityKey(k) => k.update_credential(&result),
        };
        let json = serde_json::to_string(&c).expect("a credential serialises");
        if changed.is_some() && gate.store.update_credential(&f.id, &json).await.is_err() {
            return json_error(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
        }
    }
    if crate::lockout::succeeded(&gate.store, &counted)
        .await
        .is_err()
        || given(&gate, &cur, WEBAUTHN, &address).await.is_err()
        || !record(&gate, &rid, 200, "accepted", &user, &address, None, None).await
    {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
    }
    json_ok(serde_json::json!({ "redirect": safe_return(body.rd.as_deref()) }))
}

/// `GET /.why401/webauthn.js`: the pages' one script.
pub(crate) async fn script() -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/javascript; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .header("x-content-type-options", "nosniff")
        .body(Body::from(include_str!("webauthn.js")))
        .expect("a valid response")
}
