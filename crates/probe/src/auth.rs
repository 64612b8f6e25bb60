//! Answering challenges: choosing the scheme as browsers do, and computing each leg's
//! credentials — Basic and Digest here, NTLM and Negotiate through `sspi`.

use sspi::{
    AuthIdentity, ClientRequestFlags, CredentialUse, Negotiate, NegotiateConfig, Ntlm, Sspi,
    SspiImpl, Username,
};
use why401_wire::challenge::Challenges;
use why401_wire::digest::{self, DigestChallenge, RequestFacts};
use why401_wire::{b64, basic};

use why401_wire::krb5::{self, Credential, Now, Principal, gss_flags};

use crate::kdc::Kdc;
use crate::spec::{Delegation, Scheme, UserCredentials};
use crate::{kerberos, security_context};

/// The scheme to answer with: the forced one if offered, else the browser preference among
/// those offered.
pub fn choose(offered: &Challenges, forced: Option<Scheme>) -> Option<Scheme> {
    let is_offered = |s: Scheme| offered.find(s.name()).is_some();
    match forced {
        Some(s) => is_offered(s).then_some(s),
        None => Scheme::PREFERENCE.into_iter().find(|&s| is_offered(s)),
    }
}

/// `Basic base64(user:password)`.
pub fn basic_header(c: &UserCredentials) -> String {
    format!("Basic {}", basic::encode(&c.full_name(), &c.password))
}

/// A Digest answer for `challenge`.
pub fn digest_header(
    challenge: &DigestChallenge,
    c: &UserCredentials,
    req: RequestFacts,
    nc: u32,
) -> String {
    let cnonce = b64::encode(&random_bytes::<12>());
    digest::respond(challenge, &c.full_name(), &c.password, req, &cnonce, nc).to_header_value()
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The OS random source; a failure here leaves zeros, which only weakens a test nonce.
    let _ = getrandom::fill(&mut b);
    b
}

/// Errors of the Windows security packages.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WindowsAuthError(pub String);

impl From<sspi::Error> for WindowsAuthError {
    fn from(e: sspi::Error) -> Self {
        WindowsAuthError(format!("{:?}: {}", e.error_type, e.description))
    }
}

enum Package {
    Ntlm(Box<Ntlm>, <Ntlm as SspiImpl>::CredentialsHandle),
    Negotiate(Box<Negotiate>, <Negotiate as SspiImpl>::CredentialsHandle),
    /// Kerberos from the user's credential cache, by our own client.
    Tickets(Box<TicketLeg>),
}

/// Kerberos from the user's tickets: what the cache and the KDC gave, and what was sent.
pub struct TicketLeg {
    /// What the cache held.
    pub cache: kerberos::CachedTickets,
    /// The KDCs to ask, and how they were found; `Err` says why none was.
    pub kdcs: Result<kerberos::KdcLocation, String>,
    /// The realm of the service.
    pub realm: String,
    /// `--delegation`.
    pub delegation: Delegation,
    /// The service ticket presented.
    pub service: Option<Credential>,
    /// What came of `--delegation`.
    pub delegation_note: Option<String>,
    sent: Option<Now>,
}

impl TicketLeg {
    /// A leg from the cache and the KDC location.
    pub fn new(
        cache: kerberos::CachedTickets,
        kdcs: Result<kerberos::KdcLocation, String>,
        realm: String,
        delegation: Delegation,
    ) -> Self {
        TicketLeg {
            cache,
            kdcs,
            realm,
            delegation,
            service: None,
            delegation_note: None,
            sent: None,
        }
    }

    fn urls(&self) -> &[String] {
        self.kdcs.as_ref().map(|k| k.urls.as_slice()).unwrap_or(&[])
    }

    /// A service ticket for `spn`: from the cache when it holds a current one, else by TGS.
    pub fn ticket_for(&self, kdc: &Kdc, spn: &str) -> Result<(Credential, bool), WindowsAuthError> {
        if let Some(c) = self.cache.services.iter().find(|c| c.server.name() == spn) {
            return Ok((c.clone(), true));
        }
        let tgt =
            self.cache.tgt.as_ref().ok_or_else(|| {
                WindowsAuthError(
                    self.cache.record.problem.clone().unwrap_or_else(|| {
                        "no ticket-granting ticket in the cache: run kinit".into()
                    }),
                )
            })?;
        if self.urls().is_empty() {
            let why = self.kdcs.as_ref().err().cloned().unwrap_or_default();
            return Err(WindowsAuthError(why));
        }
        kerberos::tgs(
            kdc,
            self.urls(),
            tgt,
            &Principal::service(spn, &self.realm),
            0,
        )
        .map(|c| (c, false))
        .map_err(|e| WindowsAuthError(e.to_string()))
    }

    /// Whether the KDC issues a ticket for `spn`: `Some(false)` only for "principal unknown".
    /// The exchange is recorded as a comparison, not as the attempt.
    pub fn spn_known(&self, kdc: &Kdc, spn: &str) -> Option<bool> {
        let tgt = self.cache.tgt.as_ref()?;
        let compare = kdc.for_comparison();
        match kerberos::tgs(
            &compare,
            self.urls(),
            tgt,
            &Principal::service(spn, &self.realm),
            0,
        ) {
            Ok(_) => Some(true),
            Err(kerberos::TicketError::Refused(e)) if e.code == 7 => Some(false),
            Err(_) => None,
        }
    }

    fn first(&mut self, kdc: &Kdc, spn: &str) -> Result<Vec<u8>, WindowsAuthError> {
        let (service, _) = self.ticket_for(kdc, spn)?;
        let deleg = self.delegate(kdc, &service);
        let now = kerberos::now();
        let mut seq = [0u8; 4];
        let _ = getrandom::fill(&mut seq);
        let gss = gss_flags::MUTUAL | gss_flags::INTEG | gss_flags::SEQUENCE;
        let token = krb5::negotiate_token(
            &service,
            gss,
            deleg.as_deref(),
            now,
            u32::from_be_bytes(seq) & 0x3fff_ffff,
        )
        .map_err(|e| WindowsAuthError(e.to_string()))?;
        self.sent = Some(now);
        self.service = Some(service);
        Ok(token)
    }

    /// The KRB-CRED to send with `service`, when `--delegation` asks and the tickets allow it.
    fn delegate(&mut self, kdc: &Kdc, service: &Credential) -> Option<Vec<u8>> {
        let trusted = service.flags & krb5::flags::OK_AS_DELEGATE != 0;
        let go = match self.delegation {
            Delegation::None => {
                self.delegation_note = Some("none: no TGT sent (--delegation none)".into());
                false
            }
            Delegation::Policy if !trusted => {
                self.delegation_note = Some(format!(
                    "policy: not sent, the KDC does not mark {} ok-as-delegate (trusted for delegation)",
                    service.server.display()
                ));
                false
            }
            Delegation::Policy | Delegation::Always => true,
        };
        if !go {
            return None;
        }
        let tgt = self.cache.tgt.clone()?;
        if tgt.flags & krb5::flags::FORWARDABLE == 0 {
            self.delegation_note = Some(format!(
                "{}: not sent, the TGT of {} is not forwardable (kinit -f, or the account is sensitive and cannot be delegated)",
                self.delegation.name(),
                tgt.client.display()
            ));
            return None;
        }
        let krbtgt = Principal::service(&format!("krbtgt/{}", tgt.client.realm), &tgt.client.realm);
        let options = krb5::flags::FORWARDABLE | krb5::flags::FORWARDED;
        let result = kerberos::tgs(kdc, self.urls(), &tgt, &krbtgt, options)
            .map_err(|e| e.to_string())
            .and_then(|fwd| {
                krb5::krb_cred(&fwd, &service.key, kerberos::now()).map_err(|e| e.to_string())
            });
        match result {
            Ok(cred) => {
                self.delegation_note = Some(format!(
                    "{}: a forwarded TGT of {} was sent to {}",
                    self.delegation.name(),
                    tgt.client.display(),
                    service.server.display()
                ));
                Some(cred)
            }
            Err(why) => {
                self.delegation_note = Some(format!(
                    "{}: not sent, the forwarded TGT could not be obtained: {why}",
                    self.delegation.name()
                ));
                None
            }
        }
    }

    fn last(&mut self, token: &[u8]) -> Result<Vec<u8>, WindowsAuthError> {
        let (Some(service), Some(sent)) = (&self.service, self.sent) else {
            return Err(WindowsAuthError("no AP-REQ was sent".into()));
        };
        match krb5::check_server_token(token, service, sent) {
            Ok(krb5::ServerProof::Verified) => Ok(Vec::new()),
            Ok(krb5::ServerProof::Refused(e)) => Err(WindowsAuthError(format!(
                "the server refused the ticket with KRB-ERROR {}{}",
                e.code,
                e.e_text.map(|t| format!(" ({t})")).unwrap_or_default()
            ))),
            Err(e) => Err(WindowsAuthError(e.to_string())),
        }
    }
}

/// A client security context for NTLM or Negotiate: feed it the server's tokens, get the next
/// token to send, until it is done.
pub struct WindowsContext {
    package: Package,
    target: String,
    /// The KDC link Kerberos legs use, with its log of exchanges.
    pub kdc: Kdc,
    /// What came of the server's final token (Negotiate only): `Ok` when its mechListMIC (or
    /// AP-REP) verified, `Err` saying why not; `None` when the handshake ended without one.
    pub server_token: Option<Result<(), String>>,
    /// The last token completed the handshake on our side: a further server token is not
    /// answered.
    pub done: bool,
}

impl WindowsContext {
    /// A context for `scheme` (NTLM or Negotiate), authenticating `c` to `spn`.
    /// `kdc_url` (`--kdc`) replaces sspi's own search for the KDC.
    pub fn new(
        scheme: Scheme,
        c: &UserCredentials,
        spn: &str,
        kdc_url: Option<&str>,
    ) -> Result<Self, WindowsAuthError> {
        // `alice@REALM` under Negotiate is a Kerberos principal: the realm is what finds the KDC
        // and names the client (sspi would otherwise ask for `alice\@REALM@REALM`). Plain NTLM
        // sends a UPN whole, as Windows does.
        let (user, domain) = match (scheme, c.domain.as_deref(), c.user.rsplit_once('@')) {
            (Scheme::Negotiate, None, Some((name, realm)))
                if !name.is_empty() && !realm.is_empty() =>
            {
                (name, Some(realm))
            }
            _ => (c.user.as_str(), c.domain.as_deref()),
        };
        let username = Username::new(user, domain).map_err(|e| WindowsAuthError(e.to_string()))?;
        let identity = AuthIdentity {
            username,
            password: c.password.clone().into(),
        };
        let package = match scheme {
            Scheme::Ntlm => {
                let mut ntlm = Box::new(Ntlm::new());
                let handle = ntlm
                    .acquire_credentials_handle()
                    .with_credential_use(CredentialUse::Outbound)
                    .with_auth_data(&identity)
                    .execute(&mut *ntlm)?
                    .credentials_handle;
                Package::Ntlm(ntlm, handle)
            }
            _ => {
                let protocol: Box<dyn sspi::negotiate::ProtocolConfig> = match kdc_url {
                    Some(url) => {
                        Box::new(sspi::KerberosConfig::new_with_kdc_url(url, workstation()))
                    }
                    None => Box::new(sspi::ntlm::NtlmConfig::new(workstation())),
                };
                let config =
                    NegotiateConfig::new(protocol, Some("kerberos,ntlm".into()), workstation());
                let mut nego = Box::new(Negotiate::new_client(config)?);
                let handle = nego
                    .acquire_credentials_handle()
                    .with_credential_use(CredentialUse::Outbound)
                    .with_auth_data(&identity.into())
                    .execute(&mut *nego)?
                    .credentials_handle;
                Package::Negotiate(nego, handle)
            }
        };
        Ok(WindowsContext {
            package,
            target: spn.to_string(),
            server_token: None,
            kdc: Kdc::new(kerberos::KDC_TIMEOUT),
            done: false,
        })
    }

    /// A Negotiate context with the user's own Kerberos tickets (no password).
    pub fn from_tickets(leg: TicketLeg, spn: &str) -> Self {
        WindowsContext {
            package: Package::Tickets(Box::new(leg)),
            target: spn.to_string(),
            server_token: None,
            kdc: Kdc::new(kerberos::KDC_TIMEOUT),
            done: false,
        }
    }

    /// The ticket path's state, when this context uses the user's tickets.
    pub fn tickets(&self) -> Option<&TicketLeg> {
        match &self.package {
            Package::Tickets(t) => Some(t),
            _ => None,
        }
    }

    /// The next token, given the server's last one (none for the first leg).
    pub fn step(&mut self, input: Option<&[u8]>) -> Result<Vec<u8>, WindowsAuthError> {
        let kdc = self.kdc.clone();
        let leg = match &mut self.package {
            Package::Tickets(t) => {
                let out = match input {
                    None => t.first(&kdc, &self.target),
                    Some(token) => t.last(token),
                };
                // One AP-REQ, one AP-REP: after the server's answer nothing more is sent.
                self.done = input.is_some() || out.is_err();
                return out;
            }
            Package::Ntlm(ctx, handle) => {
                let flags = ClientRequestFlags::MUTUAL_AUTH;
                security_context::initialize(&mut **ctx, handle, &self.target, flags, input, &kdc)?
            }
            Package::Negotiate(ctx, handle) => {
                // SPNEGO protects its mechanism list with a mechListMIC (RFC 4178 §5), which NTLM
                // computes as a signature. Without NTLMSSP_NEGOTIATE_SIGN, Windows (and pyspnego,
                // which follows it) expect the dummy signature `01 00…00` and refuse a real one
                // as a bad MIC, so a right password looked wrong. Asking for integrity negotiates
                // SIGN (and KEY_EXCH), as Windows' own Negotiate clients do: the MIC is then a real
                // HMAC both sides compute.
                let flags = ClientRequestFlags::MUTUAL_AUTH | ClientRequestFlags::INTEGRITY;
                security_context::initialize(&mut **ctx, handle, &self.target, flags, input, &kdc)?
            }
        };
        self.done = !leg.continues();
        Ok(leg.token)
    }

    /// Whether this is a Negotiate (SPNEGO) context.
    pub fn is_negotiate(&self) -> bool {
        matches!(self.package, Package::Negotiate(..) | Package::Tickets(..))
    }

    /// For Negotiate: whether Kerberos or NTLM is in use.
    pub fn mechanism(&self) -> &'static str {
        match &self.package {
            Package::Ntlm(..) => "ntlm",
            // No AP-REQ left: nothing travelled.
            Package::Tickets(t) if t.service.is_none() => "none",
            Package::Tickets(..) => "kerberos",
            Package::Negotiate(n, _) if n.negotiated_protocol().is_kerberos() => "kerberos",
            Package::Negotiate(..) => "ntlm",
        }
    }
}

/// The name this machine gives as its NTLM workstation.
fn workstation() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "WHY401".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use why401_wire::{challenge, ntlm, spnego};

    fn creds() -> UserCredentials {
        UserCredentials::new("CORP\\alice", "s3cret".into())
    }

    #[test]
    fn preference_and_forcing() {
        let c = challenge::parse(["Basic realm=\"x\"", "NTLM", "Negotiate"]);
        assert_eq!(choose(&c, None), Some(Scheme::Negotiate));
        assert_eq!(choose(&c, Some(Scheme::Basic)), Some(Scheme::Basic));
        assert_eq!(choose(&c, Some(Scheme::Digest)), None);
        assert_eq!(choose(&challenge::parse_one("Bearer"), None), None);
    }

    #[test]
    fn ntlm_context_speaks_ms_nlmp() {
        let mut ctx =
            WindowsContext::new(Scheme::Ntlm, &creds(), "HTTP/web.corp.example", None).unwrap();
        let t1 = ctx.step(None).unwrap();
        assert!(matches!(ntlm::decode(&t1), Ok(ntlm::Message::Negotiate(_))));
        let ch = ntlm::encode_challenge(
            0xe2898215,
            "CORP",
            [7; 8],
            &[
                ntlm::AvPair::NbDomainName("CORP".into()),
                ntlm::AvPair::Timestamp(1_790_000_000),
            ],
        );
        let t3 = ctx.step(Some(&ch)).unwrap();
        let Ok(ntlm::Message::Authenticate(a)) = ntlm::decode(&t3) else {
            panic!("type 3 expected")
        };
        assert_eq!((a.user.as_str(), a.domain.as_str()), ("alice", "CORP"));
        assert_eq!(a.response, ntlm::ResponseKind::NtlmV2);
        assert!(ctx.done);
    }

    #[test]
    fn negotiate_without_kdc_wraps_ntlm_in_spnego() {
        let mut ctx =
            WindowsContext::new(Scheme::Negotiate, &creds(), "HTTP/web.corp.example", None)
                .unwrap();
        let t1 = ctx.step(None).unwrap();
        let tok = spnego::decode(&t1).unwrap();
        assert!(tok.is_ntlm_fallback(), "{tok:?}");
        assert_eq!(ctx.mechanism(), "ntlm");
        // SPNEGO's mechListMIC is an NTLM signature: without NTLMSSP_NEGOTIATE_SIGN, Windows and
        // pyspnego expect the dummy `01 00…00` and refuse a real MIC (BadMICError on a right
        // password). The NEGOTIATE inside SPNEGO must ask for signing.
        const NEGOTIATE_SIGN: u32 = 0x0000_0010;
        let Some(ntlm::Message::Negotiate(n)) = tok.ntlm() else {
            panic!("NTLM NEGOTIATE inside SPNEGO expected: {tok:?}")
        };
        assert_ne!(n.flags & NEGOTIATE_SIGN, 0, "flags {:#010x}", n.flags);
        // Plain NTLM (no SPNEGO, no mechListMIC) keeps curl's flags: no signing asked.
        let mut plain =
            WindowsContext::new(Scheme::Ntlm, &creds(), "HTTP/web.corp.example", None).unwrap();
        let Ok(ntlm::Message::Negotiate(p)) = ntlm::decode(&plain.step(None).unwrap()) else {
            panic!("NTLM NEGOTIATE expected")
        };
        assert_eq!(p.flags & NEGOTIATE_SIGN, 0, "flags {:#010x}", p.flags);
    }
}
