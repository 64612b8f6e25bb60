#![no_main]
//! What a KDC or server sends back to the Kerberos client (a TGS-REP, a KRB-ERROR, a Negotiate
//! answer carrying an AP-REP) never panics the client, whatever the bytes.
use libfuzzer_sys::fuzz_target;
use why401_wire::krb5::{Credential, Now, Principal, SessionKey, check_server_token, request_summary, tgs_rep};

fuzz_target!(|data: &[u8]| {
    let cred = Credential {
        client: Principal { name_type: 1, components: vec!["alice".into()], realm: "LAB.TEST".into() },
        server: Principal::service("krbtgt/LAB.TEST", "LAB.TEST"),
        key: SessionKey::new(18, vec![7; 32]),
        ticket: Vec::new(),
        flags: 0,
        auth_time: 0,
        start_time: 0,
        end_time: 0,
        renew_till: 0,
    };
    let _ = tgs_rep(data, &cred, 1);
    let _ = check_server_token(data, &cred, Now { secs: 0, usec: 0 });
    let _ = request_summary(data);
});
