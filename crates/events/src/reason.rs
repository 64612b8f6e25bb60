//! A failure status in words, through the catalogue: NTSTATUS for 4625/4776, Kerberos codes for
//! 4771/4768/4769.

use why401_catalogue::{CodeKind, catalogue};

/// The status as events write it in output (`0xC000006A`, `0x18`) and its short meaning
/// (`wrong password`).
pub fn of(kerberos: bool, code: u32) -> (String, String) {
    let c = catalogue();
    if kerberos {
        let name = format!("0x{code:X}");
        let short = c
            .code_by_value(CodeKind::Kerberos, u64::from(code))
            .map(|k| k.short())
            .unwrap_or_else(|| "Kerberos error".into());
        (name, short)
    } else {
        let name = format!("0x{code:08X}");
        let short = c
            .code_by_value(CodeKind::Ntstatus, u64::from(code))
            .map(|k| k.short())
            .unwrap_or_else(|| "NTSTATUS not in the catalogue".into());
        (name, short)
    }
}

/// `0xC000006A wrong password`.
pub fn label(kerberos: bool, code: u32) -> String {
    let (c, s) = of(kerberos, code);
    format!("{c} {s}")
}

/// The account state a refusal reports, when it is one (a wrong password is not; a lockout
/// has its own finding).
pub fn account_state(kerberos: bool, code: u32) -> Option<&'static str> {
    Some(match (kerberos, code) {
        (false, 0xC000_0072) => "disabled",
        (false, 0xC000_0193) => "expired",
        (false, 0xC000_0071) | (true, 0x17) => "password-expired",
        (false, 0xC000_0224) => "must-change-password",
        (false, 0xC000_006F) => "logon-hours",
        (false, 0xC000_0070) => "workstation-restriction",
        (false, 0xC000_015B) => "logon-type-not-granted",
        (false, 0xC000_006E) | (true, 0xC) => "account-restriction",
        (false, 0xC000_0413) => "authentication-firewall",
        (true, 0x12) => "disabled-expired-or-locked",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_in_words() {
        assert_eq!(label(false, 0xC000_006A), "0xC000006A wrong password");
        assert_eq!(
            label(true, 0x18),
            "0x18 wrong password (pre-authentication failed)"
        );
        assert_eq!(account_state(false, 0xC000_0072), Some("disabled"));
        assert_eq!(account_state(false, 0xC000_006A), None);
    }
}
