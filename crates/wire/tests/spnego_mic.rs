//! SPNEGO's mechListMIC over NTLM (RFC 4178 §5, MS-SPNG §3.1.5.1, MS-NLMP §3.4.4.2), checked
//! byte for byte on a real handshake: why401's tokens against pyspnego's Negotiate acceptor,
//! which accepted them (`tests/fixtures/negotiate-ntlm-pyspnego.txt`). Every key is derived here
//! from the password with MD4, HMAC-MD5 and MD5 alone, independently of sspi (which computed the
//! client's MIC) and of pyspnego (which computed the server's): both MICs must come out exactly.

use hmac::{Hmac, KeyInit, Mac};
use md4::Md4;
use md5::{Digest, Md5};
use why401_wire::{b64, spnego};

type HmacMd5 = Hmac<Md5>;

/// The DER `MechTypeList` the client offered: `SEQUENCE { 1.3.6.1.4.1.311.2.2.10 (NTLMSSP) }`.
/// This is what the mechListMIC signs.
const MECH_TYPES_NTLM: [u8; 14] = [
    0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
];
const NEGOTIATE_SIGN: u32 = 0x10;
const NEGOTIATE_KEY_EXCH: u32 = 0x4000_0000;

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut m = <HmacMd5 as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn u16_at(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]) as usize
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// A security buffer of an NTLM message (MS-NLMP §2.2.1): length at `at`, offset at `at + 4`.
fn field(msg: &[u8], at: usize) -> &[u8] {
    let (len, off) = (u16_at(msg, at), u32_at(msg, at + 4) as usize);
    &msg[off..off + len]
}

/// The NTLMSSP message inside a SPNEGO token.
fn ntlm_in(token: &[u8]) -> &[u8] {
    let at = token
        .windows(8)
        .position(|w| w == b"NTLMSSP\0")
        .expect("an NTLMSSP message inside");
    &token[at..]
}

fn tokens() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let text = include_str!("fixtures/negotiate-ntlm-pyspnego.txt");
    let (mut client, mut server) = (Vec::new(), Vec::new());
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (side, value) = line.split_once(": ").expect("C: or S:");
        let (bytes, _) = b64::decode_any(value).expect("base64");
        match side {
            "C" => client.push(bytes),
            _ => server.push(bytes),
        }
    }
    (client, server)
}

fn mic_of(token: &[u8]) -> Vec<u8> {
    match spnego::decode(token).expect("a SPNEGO token") {
        spnego::NegotiateToken::Init { mech_list_mic, .. }
        | spnego::NegotiateToken::Response { mech_list_mic, .. } => {
            mech_list_mic.expect("a mechListMIC")
        }
        other => panic!("not SPNEGO: {other:?}"),
    }
}

#[test]
fn both_mech_list_mics_are_what_ms_nlmp_says_they_are() {
    let (client, server) = tokens();
    assert_eq!((client.len(), server.len()), (2, 2));
    // The mechanism list the MICs sign is the one the client's NegTokenInit carried.
    assert!(
        client[0]
            .windows(MECH_TYPES_NTLM.len())
            .any(|w| w == MECH_TYPES_NTLM),
        "the NegTokenInit offers NTLMSSP alone"
    );
    let auth = ntlm_in(&client[1]);
    let flags = u32_at(auth, 60);
    // Signing was negotiated (without it Windows expects the dummy signature 01 00…00); no key
    // exchange, so the exported session key is the session base key and the checksum is not
    // RC4-sealed.
    assert_ne!(flags & NEGOTIATE_SIGN, 0, "flags {flags:#010x}");
    assert_eq!(flags & NEGOTIATE_KEY_EXCH, 0, "flags {flags:#010x}");

    // NTOWFv2 and the session base key (MS-NLMP §3.3.2), from the password.
    let user = String::from_utf16_lossy(
        &field(auth, 36)
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect::<Vec<_>>(),
    );
    let domain = String::from_utf16_lossy(
        &field(auth, 28)
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect::<Vec<_>>(),
    );
    assert_eq!((user.as_str(), domain.as_str()), ("alice", "CORP"));
    let nt_hash: [u8; 16] = Md4::digest(utf16("s3cret")).into();
    let response_key = hmac_md5(&nt_hash, &[&utf16(&(user.to_uppercase() + &domain))]);
    let nt_proof = &field(auth, 20)[..16];
    let session_key = hmac_md5(&response_key, &[nt_proof]);

    // SIGNKEY (MS-NLMP §3.4.5.2) and MAC with extended session security (§3.4.4.2), sequence 0.
    let mic = |magic: &[u8]| {
        let sign_key: [u8; 16] = Md5::digest([&session_key[..], magic].concat()).into();
        let checksum = hmac_md5(&sign_key, &[&0u32.to_le_bytes(), &MECH_TYPES_NTLM]);
        [&1u32.to_le_bytes()[..], &checksum[..8], &0u32.to_le_bytes()].concat()
    };
    let ours = mic(b"session key to client-to-server signing key magic constant\0");
    let theirs = mic(b"session key to server-to-client signing key magic constant\0");
    assert_eq!(
        mic_of(&client[1]),
        ours,
        "the client's (why401's) mechListMIC"
    );
    assert_eq!(
        mic_of(&server[1]),
        theirs,
        "the acceptor's (pyspnego's) mechListMIC"
    );
    // And not Windows' dummy signature, which is what a context without SIGN must send.
    assert_ne!(ours[4..], [0u8; 12]);
}
