//! The lab's NTLM and Negotiate acceptors, through `sspi`'s server side: a real MS-NLMP
//! implementation checking a real NTLMv2 response against the lab user's password.

use sspi::{
    AuthIdentity, CredentialUse, Negotiate, NegotiateConfig, Ntlm, Sspi, SspiImpl, Username,
};
use why401_probe::security_context;

use crate::account::{DOMAIN, PASSWORD, USER};

fn identity() -> AuthIdentity {
    AuthIdentity {
        username: Username::new(USER, Some(DOMAIN)).expect("a valid lab user name"),
        password: PASSWORD.to_string().into(),
    }
}

/// A server-side context in the middle of a handshake.
pub(crate) enum Acceptor {
    Ntlm(Box<Ntlm>, <Ntlm as SspiImpl>::CredentialsHandle),
    Negotiate(Box<Negotiate>, <Negotiate as SspiImpl>::CredentialsHandle),
}

/// What one leg came to.
pub(crate) enum Step {
    /// Send this token back with another 401.
    Continue(Vec<u8>),
    /// Authenticated; an optional final token for the 200.
    Done(Vec<u8>),
    /// Refused.
    Denied,
}

impl Acceptor {
    /// A fresh acceptor for `NTLM` or `Negotiate`.
    pub(crate) fn new(negotiate: bool) -> Result<Self, String> {
        let id = identity();
        if negotiate {
            let config = NegotiateConfig::new(
                Box::new(sspi::ntlm::NtlmConfig::default()),
                Some("ntlm".into()),
                "LAB".into(),
            );
            let mut n = Box::new(
                Negotiate::new_server(config, vec![id.clone()]).map_err(|e| e.to_string())?,
            );
            let handle = n
                .acquire_credentials_handle()
                .with_credential_use(CredentialUse::Inbound)
                .with_auth_data(&id.into())
                .execute(&mut *n)
                .map_err(|e| e.to_string())?
                .credentials_handle;
            Ok(Acceptor::Negotiate(n, handle))
        } else {
            let mut n = Box::new(Ntlm::new());
            let handle = n
                .acquire_credentials_handle()
                .with_credential_use(CredentialUse::Inbound)
                .with_auth_data(&id)
                .execute(&mut *n)
                .map_err(|e| e.to_string())?
                .credentials_handle;
            Ok(Acceptor::Ntlm(n, handle))
        }
    }

    /// Feeds the client's token.
    pub(crate) fn step(&mut self, token: &[u8]) -> Step {
        let leg = match self {
            Acceptor::Ntlm(ctx, handle) => security_context::accept(&mut **ctx, handle, token),
            Acceptor::Negotiate(ctx, handle) => security_context::accept(&mut **ctx, handle, token),
        };
        match leg {
            Ok(leg) if leg.continues() => Step::Continue(leg.token),
            Ok(leg) => Step::Done(leg.token),
            Err(_) => Step::Denied,
        }
    }
}
