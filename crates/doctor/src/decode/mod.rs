//! `why401 decode`: recognise what was pasted (a header line, a bare challenge or credentials,
//! a JWT, an NTLM or SPNEGO token), lay out every field in plain words, and judge it.

mod bytes;
mod cookie;
mod entra;
mod headers;
mod jwt;
mod windows;

use serde::Serialize;
use why401_wire::{token, token::TokenKind};

use crate::{Finding, rank};

/// What judging depends on besides the input.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The local clock, Unix seconds.
    pub now: i64,
    /// Tolerance for token times, seconds.
    pub leeway: i64,
    /// Show passwords and full tokens.
    pub show_secrets: bool,
    /// What the user expects the token to carry.
    pub expect: Expectations,
}

/// What the user says a token must carry (`--expect-audience` and friends).
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// `--expect-audience`: a value the JWT's `aud` must contain.
    pub audience: Option<String>,
    /// `--expect-issuer`: the JWT's `iss`, compared without a trailing `/`.
    pub issuer: Option<String>,
    /// `--expect-scope`: each must be among the token's scopes (`scope`/`scp`) or roles.
    pub scopes: Vec<String>,
}

/// One decoded thing: a header, a challenge, a token, a message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// What it is: `WWW-Authenticate`, `JWT`, `NTLM CHALLENGE`.
    pub what: String,
    /// The input as shown (secrets redacted unless asked).
    pub input: String,
    /// Its parts in order (scheme, realm, claims, NTLM flags…), each with a note when one helps.
    pub fields: Vec<Field>,
    /// What it contains (the challenges of a header, the NTLM inside SPNEGO, the JWT in Bearer).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Item>,
}

/// One field in plain words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    /// The parameter, claim or message field, as its spec names it (`realm`, `Max-Age`,
    /// `mechListMIC`) or in plain words (`server time`).
    pub name: String,
    /// Its value as decoded, secrets redacted unless `--show-secrets`.
    pub value: String,
    /// What the value means, or what is wrong with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Item {
    fn new(what: impl Into<String>, input: impl Into<String>) -> Self {
        Item {
            what: what.into(),
            input: input.into(),
            fields: Vec::new(),
            children: Vec::new(),
        }
    }

    fn field(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.fields.push(Field {
            name: name.into(),
            value: value.into(),
            note: None,
        });
    }

    fn noted(
        &mut self,
        name: impl Into<String>,
        value: impl Into<String>,
        note: impl Into<String>,
    ) {
        self.fields.push(Field {
            name: name.into(),
            value: value.into(),
            note: Some(note.into()),
        });
    }
}

/// Everything decoded from the input, and what is wrong with it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Decoded {
    /// One per recognised input line, in input order.
    pub items: Vec<Item>,
    /// Ranked: the first is the most important.
    pub findings: Vec<Finding>,
    /// Lines that could not be recognised, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Decodes every non-empty line of `text` (several lines = several headers).
pub fn decode_text(text: &str, ctx: &Context) -> Decoded {
    let mut out = Decoded::default();
    // A JSON body pasted whole (a token endpoint's or an API's error), pretty-printed or not.
    if text.trim_start().starts_with('{')
        && let Some(item) = entra::body(text, &mut out.findings)
    {
        out.items.push(item);
        rank(&mut out.findings);
        return out;
    }
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match decode_line(line, ctx, &mut out.findings) {
            Ok(item) => out.items.push(item),
            Err(why) if text.lines().count() > 1 => {
                out.errors.push(format!("line {}: {why}", n + 1))
            }
            Err(why) => out.errors.push(why),
        }
    }
    rank(&mut out.findings);
    out
}

/// Decodes input given as bytes (stdin, an argument). Lines that are not all UTF-8 are read
/// with their other bytes as ISO-8859-1, and a `non-utf8-bytes` finding says which bytes.
pub fn decode_bytes(input: &[u8], ctx: &Context) -> Decoded {
    if why401_wire::keytab::is_keytab(input) {
        return keytab(input);
    }
    if why401_wire::ccache::is_ccache(input) {
        return ccache(input, ctx);
    }
    let mut text = String::with_capacity(input.len());
    let mut odd_lines = Vec::new();
    for (n, line) in input.split(|b| *b == b'\n').enumerate() {
        let (line_text, odd) = bytes::latin1_fallback(line);
        if n > 0 {
            text.push('\n');
        }
        text.push_str(&line_text);
        if !odd.is_empty() {
            odd_lines.push((n + 1, odd));
        }
    }
    let mut out = decode_text(&text, ctx);
    // Numbered as `decode_text` numbers its errors: only when there are several lines.
    let several = text.lines().count() > 1;
    for (n, odd) in odd_lines {
        out.findings
            .push(bytes::finding(several.then_some(n), &odd));
    }
    rank(&mut out.findings);
    out
}

/// A keytab file: each key's principal, kvno, encryption type and time; never the key.
fn keytab(input: &[u8]) -> Decoded {
    let mut out = Decoded::default();
    let kt = match why401_wire::keytab::decode(input) {
        Ok(kt) => kt,
        Err(e) => {
            out.errors.push(e.to_string());
            return out;
        }
    };
    let mut item = Item::new(
        "Kerberos keytab",
        format!("({} bytes, format version {})", input.len(), kt.version),
    );
    item.field("keys", kt.entries.len().to_string());
    for e in &kt.entries {
        let mut k = Item::new("keytab entry", e.principal());
        k.field("principal", e.principal());
        if let Some(t) = e.name_type {
            let what = match t {
                1 => "KRB5_NT_PRINCIPAL",
                2 => "KRB5_NT_SRV_INST",
                3 => "KRB5_NT_SRV_HST",
                _ => "other",
            };
            k.noted("name type", t.to_string(), what);
        }
        k.noted(
            "kvno",
            e.kvno.to_string(),
            "tickets must be encrypted under this key version (klist -kt; kvno HTTP/host on a client)",
        );
        let etype = why401_wire::spnego::etype_name(i64::from(e.enctype));
        let note = match e.enctype {
            1 | 3 => "DES: disabled everywhere since Windows 7 / MIT 1.18",
            23 => "RC4-HMAC: being retired by Microsoft; AES keys should be there too",
            17 | 18 => "AES, what Active Directory issues by default",
            _ => "",
        };
        k.noted("enctype", format!("{} ({etype})", e.enctype), note);
        k.field("written", crate::time::timestamp(i64::from(e.timestamp)));
        k.noted("key", format!("{} bytes", e.key_len), "never shown");
        item.children.push(k);
    }
    out.items.push(item);
    out
}

/// An MIT credential cache: whose it is, and each ticket's service, flags, key version and
/// lifetime against "now"; never a session key.
fn ccache(input: &[u8], ctx: &Context) -> Decoded {
    use why401_wire::ccache;
    let mut out = Decoded::default();
    let cc = match ccache::decode(input) {
        Ok(cc) => cc,
        Err(e) => {
            out.errors.push(e.to_string());
            return out;
        }
    };
    let mut item = Item::new(
        "Kerberos credential cache",
        format!("({} bytes, format version {})", input.len(), cc.version),
    );
    item.field("default principal", cc.default_principal.display());
    if let Some(off) = cc.kdc_offset.filter(|o| *o != 0) {
        item.noted(
            "KDC clock offset",
            format!("{off} s"),
            "the KDC's clock minus this machine's, as the cache recorded it",
        );
    }
    let etype = |e: i64| format!("{e} ({})", why401_wire::spnego::etype_name(e));
    for c in &cc.credentials {
        if c.config {
            let mut k = Item::new("cache configuration", c.server.display());
            k.noted(
                "entry",
                c.server.components.join("/"),
                "MIT's own bookkeeping, not a ticket",
            );
            item.children.push(k);
            continue;
        }
        let mut k = Item::new("ticket", c.server.display());
        k.field("service", c.server.display());
        k.field("client", c.client.display());
        let flags = ccache::flag_names(c.flags);
        let note = if c.server.components.first().is_some_and(|s| s == "krbtgt") {
            if flags.contains(&"forwardable") {
                "the TGT: forwardable, so it can be delegated (double hop)"
            } else {
                "the TGT: not forwardable, so no delegation"
            }
        } else if flags.contains(&"ok-as-delegate") {
            "the KDC trusts this service for delegation"
        } else {
            ""
        };
        k.noted(
            "flags",
            format!("{:#010x} {}", c.flags, flags.join(" ")),
            note,
        );
        k.field(
            "authenticated",
            crate::time::timestamp(i64::from(c.auth_time)),
        );
        if c.start_time != 0 {
            k.field(
                "valid from",
                crate::time::timestamp(i64::from(c.start_time)),
            );
        }
        let end = i64::from(c.end_time);
        let state = if end <= ctx.now {
            format!(
                "expired {} ago: kinit again",
                crate::time::duration(ctx.now - end)
            )
        } else {
            format!("valid for {} more", crate::time::duration(end - ctx.now))
        };
        k.noted("expires", crate::time::timestamp(end), state);
        if c.renew_till != 0 {
            k.field(
                "renewable until",
                crate::time::timestamp(i64::from(c.renew_till)),
            );
        }
        k.noted(
            "session key",
            etype(i64::from(c.session_etype)),
            "never shown",
        );
        if let Some(e) = c.ticket_etype {
            k.field("ticket enctype", etype(e));
        }
        if let Some(v) = c.ticket_kvno {
            k.noted(
                "ticket kvno",
                v.to_string(),
                "the service's key version this ticket is encrypted under: its keytab must hold it",
            );
        }
        item.children.push(k);
    }
    out.items.push(item);
    out
}

/// Header names `decode` understands, lower-case.
const HEADERS: &[&str] = &[
    "www-authenticate",
    "proxy-authenticate",
    "authorization",
    "proxy-authorization",
    "set-cookie",
    "cookie",
];

fn decode_line(line: &str, ctx: &Context, findings: &mut Vec<Finding>) -> Result<Item, String> {
    if let Some((name, value)) = split_header(line) {
        let lower = name.to_ascii_lowercase();
        return match lower.as_str() {
            "www-authenticate" | "proxy-authenticate" => {
                Ok(headers::challenges(name, value, ctx, findings))
            }
            "authorization" | "proxy-authorization" => {
                Ok(headers::credentials(name, value, ctx, findings))
            }
            "set-cookie" => Ok(cookie::set_cookie(value, ctx, findings)),
            "cookie" => Ok(cookie::cookie_header(value, ctx)),
            _ => Err(format!(
                "`{name}` is not an authentication header; decode reads {}",
                HEADERS.join(", ")
            )),
        };
    }
    let (first, rest) = line.split_once([' ', '\t']).unwrap_or((line, ""));
    if headers::is_known_scheme(first) {
        return Ok(if headers::looks_like_credentials(first, rest.trim()) {
            headers::credentials("Authorization", line, ctx, findings)
        } else {
            headers::challenges("WWW-Authenticate", line, ctx, findings)
        });
    }
    if line.contains(char::is_whitespace) {
        return Err(format!(
            "cannot tell what `{}` is: not a header, a challenge or a token",
            shorten(line)
        ));
    }
    bare_token(line, ctx, findings)
}

/// A token with no scheme: JWT, NTLM, SPNEGO, or Basic's base64.
fn bare_token(t: &str, ctx: &Context, findings: &mut Vec<Finding>) -> Result<Item, String> {
    match token::classify(t) {
        TokenKind::Jwt | TokenKind::Jwe => Ok(jwt::jwt(t, ctx, findings)),
        TokenKind::Ntlm | TokenKind::Spnego => windows::negotiate_token(t, ctx, findings, None),
        TokenKind::BasicPair => Ok(headers::credentials(
            "Authorization",
            &format!("Basic {t}"),
            ctx,
            findings,
        )),
        TokenKind::Unknown => Err(format!(
            "`{}` is not a JWT, an NTLM or SPNEGO token, or Basic credentials",
            shorten(t)
        )),
    }
}

/// `Name: value` when `Name` is a header-like token.
fn split_header(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    let ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    // `Basic user:pass` is not a header; a header name has no spaces and at least one letter.
    (ok && name.bytes().any(|b| b.is_ascii_alphabetic()) && !headers::is_known_scheme(name))
        .then(|| (name, value.trim()))
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Shows a secret: whole with `--show-secrets`, else its first characters.
fn secret(s: &str, ctx: &Context) -> String {
    if ctx.show_secrets {
        s.to_string()
    } else {
        why401_wire::b64::redact(s)
    }
}

#[cfg(test)]
mod tests;
