//! What IIS Failed Request Tracing files (`fr000001.xml`) said: per trace, the request, the
//! module that set the failing status and why, and what authentication did; per folder, the
//! traces summed up like a log.

use serde::Serialize;

use crate::logs::KeyCount;

/// One authentication event of a trace, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrebAuth {
    /// The event: `AUTH_START`, `AUTH_REQUEST_AUTH_TYPE`, `AUTH_SUCCEEDED`, `AUTH_END`,
    /// `AUTH_KERBEROS_FAILED`, `USER_SET`…
    pub event: String,
    /// Its values, as the trace renders them (`AuthTypeSupported: NT`).
    pub values: Vec<(String, String)>,
}

/// One trace file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrebTrace {
    /// The file, as named on the command line (or found in a folder).
    pub file: String,
    /// `failedRequest/@url`.
    pub url: String,
    /// `verb`.
    pub verb: String,
    /// `statusCode` as written: `401.2`, `401`.
    pub status: String,
    /// The HTTP status of `statusCode`.
    pub http_status: u16,
    /// Its substatus (0 when not written).
    pub substatus: u32,
    /// `authenticationType` (`anonymous`, `NTLM`, …).
    pub authentication_type: String,
    /// `remoteUserName`, `userName`, `tokenUserName` (the identity the request ran as).
    pub users: Vec<(String, String)>,
    /// `failureReason`: why the trace was written (`STATUS_CODE`, `TIME_TAKEN`…).
    pub failure_reason: String,
    /// `timeTaken`, milliseconds.
    pub time_taken: u64,
    /// The first event's time, Unix seconds.
    pub time: Option<i64>,
    /// The module that set the failing status (`MODULE_SET_RESPONSE_ERROR_STATUS`): its name.
    pub module: Option<String>,
    /// … the pipeline notification it ran in (`AUTHENTICATE_REQUEST`).
    pub notification: Option<String>,
    /// … the HRESULT it gave, `0x80070005`.
    pub error_code: Option<String>,
    /// … the HRESULT's text as the trace renders it.
    pub error_text: Option<String>,
    /// The authentication events, in order.
    pub auth: Vec<FrebAuth>,
}

/// A folder of traces summed up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FrebSummary {
    /// Traces read.
    pub traces: u64,
    /// Files that could not be read as a trace, with why.
    pub unreadable: Vec<(String, String)>,
    /// By `statusCode`, most first.
    pub by_status: Vec<KeyCount>,
    /// By module that set the status, most first.
    pub by_module: Vec<KeyCount>,
    /// By error code, most first.
    pub by_error: Vec<KeyCount>,
    /// By URL, most first.
    pub by_url: Vec<KeyCount>,
    /// By user (`remoteUserName`, else `userName`), most first.
    pub by_user: Vec<KeyCount>,
    /// Each failing trace (401, 403, 407 and 5xx), the first of each distinct
    /// (status, module, error) kept whole, in file order.
    pub examples: Vec<FrebTrace>,
    /// How many traces each example stands for (same status, module and error code).
    pub example_counts: Vec<u64>,
}
