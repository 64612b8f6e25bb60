//! One leg of an SSPI security context, client side (`InitializeSecurityContext`) or server side
//! (`AcceptSecurityContext`), for any `sspi` package. The probe's NTLM/Negotiate client and the
//! lab's acceptors both go through here, so the buffer handling and the `CompleteAuthToken` rule
//! are written once.

use sspi::{
    BufferType, ClientRequestFlags, DataRepresentation, SecurityBuffer, SecurityStatus,
    ServerRequestFlags, Sspi,
};

/// What one leg produced: the package's status and the token to send (possibly empty).
#[derive(Debug)]
pub struct Leg {
    /// `ContinueNeeded` while more legs are expected.
    pub status: SecurityStatus,
    /// The token for the peer; empty when there is nothing to send.
    pub token: Vec<u8>,
}

impl Leg {
    /// Whether the peer still has to answer.
    pub fn continues(&self) -> bool {
        matches!(
            self.status,
            SecurityStatus::ContinueNeeded | SecurityStatus::CompleteAndContinue
        )
    }
}

/// The client's next leg towards `target` (an SPN), given the server's last token (none first).
/// A Kerberos leg talks to the KDC through `kdc` (AS and TGS exchanges) before it answers.
pub fn initialize<P: Sspi>(
    ctx: &mut P,
    handle: &mut P::CredentialsHandle,
    target: &str,
    flags: ClientRequestFlags,
    input: Option<&[u8]>,
    kdc: &dyn sspi::network_client::NetworkClient,
) -> sspi::Result<Leg> {
    let mut in_buf = vec![SecurityBuffer::new(
        input.map(<[u8]>::to_vec).unwrap_or_default(),
        BufferType::Token,
    )];
    let mut out_buf = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
    let status = {
        let mut b = ctx
            .initialize_security_context()
            .with_credentials_handle(handle)
            .with_context_requirements(flags | ClientRequestFlags::ALLOCATE_MEMORY)
            .with_target_data_representation(DataRepresentation::Native)
            .with_target_name(target)
            .with_input(&mut in_buf)
            .with_output(&mut out_buf);
        ctx.initialize_security_context_impl(&mut b)?
            .resolve_with_client(kdc)?
            .status
    };
    finish(ctx, status, out_buf)
}

/// The server's answer to the client's `token`.
pub fn accept<P: Sspi>(
    ctx: &mut P,
    handle: &mut P::CredentialsHandle,
    token: &[u8],
) -> sspi::Result<Leg> {
    let mut in_buf = vec![SecurityBuffer::new(token.to_vec(), BufferType::Token)];
    let mut out_buf = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
    let status = {
        let b = ctx
            .accept_security_context()
            .with_credentials_handle(handle)
            .with_context_requirements(ServerRequestFlags::ALLOCATE_MEMORY)
            .with_target_data_representation(DataRepresentation::Native)
            .with_input(&mut in_buf)
            .with_output(&mut out_buf);
        ctx.accept_security_context_impl(b)
            .and_then(|mut g| g.resolve_to_result())?
            .status
    };
    finish(ctx, status, out_buf)
}

/// `CompleteAndContinue`/`CompleteNeeded` ask the caller to complete the token before sending
/// it (SSPI's contract); then the output buffer is the leg's token.
fn finish<P: Sspi>(
    ctx: &mut P,
    status: SecurityStatus,
    mut out_buf: Vec<SecurityBuffer>,
) -> sspi::Result<Leg> {
    if matches!(
        status,
        SecurityStatus::CompleteAndContinue | SecurityStatus::CompleteNeeded
    ) {
        ctx.complete_auth_token(&mut out_buf)?;
    }
    let token = out_buf
        .first_mut()
        .map(|b| std::mem::take(&mut b.buffer))
        .unwrap_or_default();
    Ok(Leg { status, token })
}
