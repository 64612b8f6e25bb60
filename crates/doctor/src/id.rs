//! The finding ids the doctor can emit, as a type.
//!
//! A [`Finding`](crate::Finding) is made only from a [`FindingId`], and a `FindingId` only from
//! the constants below, so [`FindingId::ALL`] is every id any rule can emit, computed ones
//! included: a rule that picks its id at run time (by reach failure, IIS substatus, Kerberos
//! error) picks among these constants. A test checks each against the catalogue.

use std::fmt;

/// A stable finding id (`credentials-rejected`): part of the JSON contract and of `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FindingId(&'static str);

impl FindingId {
    /// The id as it appears in JSON and in the catalogue.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Declares each id once, as a constant and as a member of [`FindingId::ALL`].
macro_rules! finding_ids {
    ($($name:ident = $id:literal,)*) => {
        impl FindingId {
            $(
                #[doc = concat!("`", $id, "`")]
                pub const $name: FindingId = FindingId($id);
            )*
            /// Every id a rule can emit.
            pub const ALL: &[FindingId] = &[$(FindingId::$name),*];
        }
    };
}

finding_ids! {
    ACCESS_GRANTED = "access-granted",
    ACCOUNT_LOCKOUT = "account-lockout",
    LOCKOUT_SOURCE = "lockout-source",
    ACCOUNT_STATE = "account-state",
    NTLM_INSTEAD_OF_KERBEROS = "ntlm-instead-of-kerberos",
    AUTH_DROPPED_ON_REDIRECT = "auth-dropped-on-redirect",
    AUTH_REGRESSION = "auth-regression",
    BACKEND_DIFFERS = "backend-differs",
    BASIC_OVER_HTTP = "basic-over-http",
    GATE_POLICY_DENIED = "gate-policy-denied",
    GATE_STORE_UNAVAILABLE = "gate-store-unavailable",
    GATE_THROTTLED = "gate-throttled",
    GATE_UPSTREAM_UNREACHABLE = "gate-upstream-unreachable",
    GATE_UNUSUAL_SIGN_IN = "gate-unusual-sign-in",
    BRUTE_FORCE = "brute-force",
    CLOCK_SKEW = "clock-skew",
    CONNECTION_REFUSED = "connection-refused",
    COOKIE_ATTRIBUTE_IGNORED = "cookie-attribute-ignored",
    COOKIE_INSECURE_SAMESITE_NONE = "cookie-insecure-samesite-none",
    COOKIE_NOT_SENT = "cookie-not-sent",
    COOKIE_PREFIX_VIOLATION = "cookie-prefix-violation",
    CREDENTIAL_STUFFING = "credential-stuffing",
    CREDENTIALS_REJECTED = "credentials-rejected",
    DNS_FAILURE = "dns-failure",
    DPOP_REQUIRED = "dpop-required",
    HANDSHAKE_NOISE = "handshake-noise",
    ID_TOKEN_AS_ACCESS_TOKEN = "id-token-as-access-token",
    IIS_401_1_LOGON_FAILED = "iis-401.1-logon-failed",
    IIS_401_2_CONFIG = "iis-401.2-config",
    IIS_401_3_ACL = "iis-401.3-acl",
    IIS_401_4_FILTER = "iis-401.4-filter",
    IIS_401_5_APP = "iis-401.5-app",
    IIS_401_50X_IP_RESTRICTION = "iis-401.50x-ip-restriction",
    IIS_401_7_URL_AUTHORIZATION = "iis-401.7-url-authorization",
    INSUFFICIENT_SCOPE = "insufficient-scope",
    JWT_ALG_NONE = "jwt-alg-none",
    KERBEROS_ERROR = "kerberos-error",
    KERBEROS_CLIENT_UNKNOWN = "kerberos-client-unknown",
    KERBEROS_FALLBACK_TO_NTLM = "kerberos-fallback-to-ntlm",
    KERBEROS_KDC_UNREACHABLE = "kerberos-kdc-unreachable",
    KERBEROS_PREAUTH_FAILED = "kerberos-preauth-failed",
    KERBEROS_SPN_UNKNOWN = "kerberos-spn-unknown",
    KERBEROS_SPN_ALIAS = "kerberos-spn-alias",
    KERBEROS_DUPLICATE_SPN = "kerberos-duplicate-spn",
    KERBEROS_CLOCK_SKEW = "kerberos-clock-skew",
    KERBEROS_ETYPE_UNSUPPORTED = "kerberos-etype-unsupported",
    KERBEROS_TICKET_EXPIRED = "kerberos-ticket-expired",
    KERBEROS_NO_TICKET = "kerberos-no-ticket",
    KERBEROS_TICKET_REJECTED = "kerberos-ticket-rejected",
    MALFORMED_CHALLENGE = "malformed-challenge",
    MALFORMED_CREDENTIALS = "malformed-credentials",
    MISSING_WWW_AUTHENTICATE = "missing-www-authenticate",
    NO_CREDENTIALS_SENT = "no-credentials-sent",
    NON_UTF8_BYTES = "non-utf8-bytes",
    NTLM_CONNECTION_RESET = "ntlm-connection-reset",
    NTLMV1_IN_USE = "ntlmv1-in-use",
    PASSWORD_SPRAY = "password-spray",
    PROBLEM_DETAILS = "problem-details",
    PROXY_AUTH_REQUIRED = "proxy-auth-required",
    REDIRECTED_TO_LOGIN = "redirected-to-login",
    SCHEME_MISMATCH = "scheme-mismatch",
    SERVER_REJECTED_TOKEN = "server-rejected-token",
    SHOULD_BE_403 = "should-be-403",
    STALE_NONCE = "stale-nonce",
    STEP_UP_REQUIRED = "step-up-required",
    TOKEN_REVOKED_CAE = "token-revoked-cae",
    CONDITIONAL_ACCESS_BLOCKED = "conditional-access-blocked",
    STUCK_CLIENT = "stuck-client",
    TIMEOUT = "timeout",
    TLS_FAILURE = "tls-failure",
    TLS_INTERCEPTION = "tls-interception",
    TOKEN_AUDIENCE_MISMATCH = "token-audience-mismatch",
    TOKEN_ENCRYPTED = "token-encrypted",
    TOKEN_EXPIRED = "token-expired",
    TOKEN_ISSUER_MISMATCH = "token-issuer-mismatch",
    TOKEN_NOT_YET_VALID = "token-not-yet-valid",
    TOKEN_WITHOUT_EXPIRY = "token-without-expiry",
    UNPARSED_LINES = "unparsed-lines",
    URL_VARIANT = "url-variant",
    WEAK_DIGEST_ALGORITHM = "weak-digest-algorithm",
    // Browser captures (`why401 har`).
    AUTH_PROMPT_LOOP = "auth-prompt-loop",
    CACHED_RESPONSE_HIDES_401 = "cached-response-hides-401",
    CORS_PREFLIGHT_UNAUTHORIZED = "cors-preflight-unauthorized",
    EVIDENCE_HIDDEN_BY_EXPORTER = "evidence-hidden-by-exporter",
    INTEGRATED_AUTH_NOT_ATTEMPTED = "integrated-auth-not-attempted",
    SSO_REDIRECT_LOOP = "sso-redirect-loop",
    THIRD_PARTY_COOKIE_BLOCKED = "third-party-cookie-blocked",
    TOKEN_IN_URL = "token-in-url",
    // Configuration (`why401 lint`).
    ANONYMOUS_IDENTITY_PASSWORD = "anonymous-identity-password",
    ANONYMOUS_WITH_WINDOWS = "anonymous-with-windows",
    APP_POOL_CREDENTIALS_MISMATCH = "app-pool-credentials-mismatch",
    ASPNET_AUTHORIZATION_BYPASSED = "aspnet-authorization-bypassed",
    BASIC_WITHOUT_SSL = "basic-without-ssl",
    EXTENDED_PROTECTION_BEHIND_PROXY = "extended-protection-behind-proxy",
    IP_RESTRICTION_AS_401 = "ip-restriction-as-401",
    NEGOTIATE_PROVIDER_ORDER = "negotiate-provider-order",
    NO_AUTH_METHOD_ENABLED = "no-auth-method-enabled",
    SECTION_LOCKED = "section-locked",
    URL_AUTHORIZATION_SHADOWED = "url-authorization-shadowed",
    WINDOWS_AUTH_ON_HTTP2 = "windows-auth-on-http2",
    APACHE_AUTHMERGING_REPLACED = "apache-authmerging-replaced",
    APACHE_AUTHTYPE_WITHOUT_REQUIRE = "apache-authtype-without-require",
    APACHE_DIGEST_FILE_FORMAT = "apache-digest-file-format",
    APACHE_DIGEST_REALM_MISMATCH = "apache-digest-realm-mismatch",
    APACHE_FORBIDDEN_ON_FAILURE = "apache-forbidden-on-failure",
    APACHE_HTACCESS_IGNORED = "apache-htaccess-ignored",
    APACHE_HTACCESS_NOT_ALLOWED = "apache-htaccess-not-allowed",
    APACHE_MIXED_ACCESS_SYNTAX = "apache-mixed-access-syntax",
    AUTH_REQUEST_REDIRECT = "auth-request-redirect",
    HTPASSWD_CRLF = "htpasswd-crlf",
    HTPASSWD_DUPLICATE_USER = "htpasswd-duplicate-user",
    HTPASSWD_IN_DOCROOT = "htpasswd-in-docroot",
    HTPASSWD_MALFORMED_LINE = "htpasswd-malformed-line",
    MISSING_HTPASSWD_FILE = "missing-htpasswd-file",
    NGINX_ADD_HEADER_INHERITANCE = "nginx-add-header-inheritance",
    NGINX_ALLOW_WITHOUT_DENY = "nginx-allow-without-deny",
    NGINX_AUTH_BASIC_OFF_SCOPE = "nginx-auth-basic-off-scope",
    NGINX_AUTH_HEADER_NOT_ALWAYS = "nginx-auth-header-not-always",
    NGINX_HTPASSWD_LIBC_HASH = "nginx-htpasswd-libc-hash",
    NGINX_NTLM_UPSTREAM = "nginx-ntlm-upstream",
    NGINX_RETURN_BEFORE_AUTH = "nginx-return-before-auth",
    NGINX_SATISFY_ANY_OPEN = "nginx-satisfy-any-open",
    NGINX_UPSTREAM_AUTH_LEAK = "nginx-upstream-auth-leak",
    WEAK_PASSWORD_HASH = "weak-password-hash",
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use why401_catalogue::catalogue;

    use super::FindingId;

    #[test]
    fn every_id_a_rule_can_emit_is_in_the_catalogue() {
        let cat = catalogue();
        for id in FindingId::ALL {
            assert!(
                cat.finding(id.as_str()).is_some(),
                "unknown finding id {id}"
            );
        }
        let distinct: HashSet<_> = FindingId::ALL.iter().collect();
        assert_eq!(
            distinct.len(),
            FindingId::ALL.len(),
            "an id is declared twice"
        );
    }
}
