//! IIS Failed Request Tracing files (`fr000001.xml`): a `<failedRequest>` root whose attributes
//! describe the request, holding the request's ETW events (`<Event>`, each named by its
//! `RenderingInfo/Opcode`, its numbers given text by `freb:Description`). A trace is small (one
//! request) and read whole with roxmltree.
//!
//! The shape is the one real traces show (the `failedRequest` attributes, `EventData/Data`,
//! `RenderingInfo/Opcode`, `freb:Description`, `MODULE_SET_RESPONSE_ERROR_STATUS` with
//! `ModuleName`, `Notification`, `HttpStatus`, `HttpSubStatus`, `ErrorCode` as an unsigned
//! decimal HRESULT); see the closing notes for which parts of 401 traces are inferred.

use std::collections::HashMap;

use why401_evidence::freb::{FrebAuth, FrebSummary, FrebTrace};
use why401_evidence::logs::KeyCount;

use crate::xml::child;

/// Whether the first bytes are a FREB trace.
pub fn is_trace(head: &[u8]) -> bool {
    let head = &head[..head.len().min(1024)];
    memchr::memmem::find(head, b"<failedRequest").is_some()
}

/// IIS pipeline notifications by number (`RQ_*` of httpserv.h), for traces whose
/// `Notification` has no `freb:Description`.
fn notification(n: &str) -> Option<&'static str> {
    Some(match n {
        "1" => "BEGIN_REQUEST",
        "2" => "AUTHENTICATE_REQUEST",
        "4" => "AUTHORIZE_REQUEST",
        "8" => "RESOLVE_REQUEST_CACHE",
        "16" => "MAP_REQUEST_HANDLER",
        "32" => "ACQUIRE_REQUEST_STATE",
        "64" => "PRE_EXECUTE_REQUEST_HANDLER",
        "128" => "EXECUTE_REQUEST_HANDLER",
        "256" => "RELEASE_REQUEST_STATE",
        "512" => "UPDATE_REQUEST_CACHE",
        "1024" => "LOG_REQUEST",
        "2048" => "END_REQUEST",
        "536870912" => "SEND_RESPONSE",
        _ => return None,
    })
}

/// Reads one trace.
pub fn read(text: &str, file: &str) -> Result<FrebTrace, String> {
    let doc = roxmltree::Document::parse(text).map_err(|e| format!("not well-formed XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "failedRequest" {
        return Err(format!(
            "not a Failed Request Tracing file: its root is <{}>",
            root.tag_name().name()
        ));
    }
    let attr = |n: &str| root.attribute(n).unwrap_or("").to_string();
    let status = attr("statusCode");
    let (http, sub) = status.split_once('.').unwrap_or((status.as_str(), "0"));
    let mut t = FrebTrace {
        file: file.to_string(),
        url: attr("url"),
        verb: attr("verb"),
        http_status: http.trim().parse().unwrap_or(0),
        substatus: sub.trim().parse().unwrap_or(0),
        status: status.clone(),
        authentication_type: attr("authenticationType"),
        users: ["remoteUserName", "userName", "tokenUserName"]
            .iter()
            .map(|k| (k.to_string(), attr(k)))
            .filter(|(_, v)| !v.is_empty())
            .collect(),
        failure_reason: attr("failureReason"),
        time_taken: attr("timeTaken").parse().unwrap_or(0),
        time: None,
        module: None,
        notification: None,
        error_code: None,
        error_text: None,
        auth: Vec::new(),
    };
    for ev in root
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "Event")
    {
        if t.time.is_none() {
            t.time = child(ev, "System")
                .and_then(|s| child(s, "TimeCreated"))
                .and_then(|tc| tc.attribute("SystemTime"))
                .and_then(|s| why401_logs::time::rfc3339(s.as_bytes()));
        }
        let Some(info) = child(ev, "RenderingInfo") else {
            continue;
        };
        let opcode = child(info, "Opcode").and_then(|o| o.text()).unwrap_or("");
        // freb:Description gives text for numeric Data.
        let described: HashMap<&str, &str> = info
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "Description")
            .filter_map(|c| Some((c.attribute("Data")?, c.text().unwrap_or(""))))
            .collect();
        let data: Vec<(&str, &str)> = child(ev, "EventData")
            .map(|d| {
                d.children()
                    .filter(|c| c.is_element())
                    .filter_map(|c| Some((c.attribute("Name")?, c.text().unwrap_or(""))))
                    .collect()
            })
            .unwrap_or_default();
        let get = |name: &str| data.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        let shown = |name: &str| described.get(name).copied().or_else(|| get(name));
        if opcode == "MODULE_SET_RESPONSE_ERROR_STATUS" {
            // The last one wins: a later module may change the status again.
            t.module = get("ModuleName").map(String::from);
            t.notification = get("Notification").map(|n| {
                described
                    .get("Notification")
                    .map(|d| d.to_string())
                    .or_else(|| notification(n).map(String::from))
                    .unwrap_or_else(|| n.to_string())
            });
            t.error_code = get("ErrorCode").and_then(hresult);
            t.error_text = described.get("ErrorCode").map(|d| d.to_string());
        } else if opcode.starts_with("AUTH_") || opcode == "USER_SET" {
            let values = data
                .iter()
                .filter(|(n, _)| *n != "ContextId")
                .map(|(n, _)| (n.to_string(), shown(n).unwrap_or("").to_string()))
                .collect();
            t.auth.push(FrebAuth {
                event: opcode.to_string(),
                values,
            });
        }
    }
    Ok(t)
}

/// `2147942405` or `0x80070005` → `0x80070005`.
fn hresult(v: &str) -> Option<String> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    let n = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok()?,
        None => v.parse::<i64>().ok().map(|n| n as u32 as u64)?,
    };
    Some(format!("0x{n:08X}"))
}

/// Sums traces up: counts per status, module, error, URL and user, and one example per
/// distinct failure.
pub fn summarize(traces: Vec<FrebTrace>, unreadable: Vec<(String, String)>) -> FrebSummary {
    let mut s = FrebSummary {
        traces: traces.len() as u64,
        unreadable,
        ..FrebSummary::default()
    };
    let mut tables: [HashMap<String, u64>; 5] = Default::default();
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    for t in traces {
        let user = t
            .users
            .iter()
            .find(|(k, _)| k != "tokenUserName")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        for (table, key) in tables.iter_mut().zip([
            t.status.clone(),
            t.module.clone().unwrap_or_default(),
            t.error_code.clone().unwrap_or_default(),
            t.url.clone(),
            user,
        ]) {
            if !key.is_empty() {
                *table.entry(key).or_default() += 1;
            }
        }
        if t.http_status < 400 {
            continue;
        }
        let key = (
            t.status.clone(),
            t.module.clone().unwrap_or_default(),
            t.error_code.clone().unwrap_or_default(),
        );
        match seen.get(&key) {
            Some(&i) => s.example_counts[i] += 1,
            None => {
                seen.insert(key, s.examples.len());
                s.examples.push(t);
                s.example_counts.push(1);
            }
        }
    }
    let top = |m: &HashMap<String, u64>| {
        let mut v: Vec<KeyCount> = m
            .iter()
            .map(|(k, c)| KeyCount {
                key: k.clone(),
                count: *c,
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
        v.truncate(20);
        v
    };
    s.by_status = top(&tables[0]);
    s.by_module = top(&tables[1]);
    s.by_error = top(&tables[2]);
    s.by_url = top(&tables[3]);
    s.by_user = top(&tables[4]);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<?xml-stylesheet type='text/xsl' href='freb.xsl'?>
<!-- saved from url=(0014)about:internet -->
<failedRequest url="http://web01:80/secure/"
               siteId="1"
               appPoolId="DefaultAppPool"
               processId="4242"
               verb="GET"
               remoteUserName=""
               userName=""
               tokenUserName="NT AUTHORITY\IUSR"
               authenticationType="anonymous"
               activityId="{80000011-0000-F900-B63F-84710C7967BB}"
               failureReason="STATUS_CODE"
               statusCode="401.2"
               triggerStatusCode="401.2"
               timeTaken="3"
               xmlns:freb="http://schemas.microsoft.com/win/2006/06/iis/freb"
               >
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
 <System><Provider Name="WWW Server"/><EventID>0</EventID><Level>4</Level><Opcode>10</Opcode><TimeCreated SystemTime="2026-12-06T10:00:00.100Z"/></System>
 <EventData><Data Name="ContextId">{80000011-0000-F900-B63F-84710C7967BB}</Data><Data Name="AuthTypeSupported">4</Data></EventData>
 <RenderingInfo Culture="en-US"><Opcode>AUTH_START</Opcode><freb:Description Data="AuthTypeSupported">NT</freb:Description></RenderingInfo>
</Event>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
 <System><Provider Name="WWW Server"/><EventID>0</EventID><Level>3</Level><Opcode>16</Opcode><TimeCreated SystemTime="2026-12-06T10:00:00.101Z"/></System>
 <EventData><Data Name="ContextId">{80000011-0000-F900-B63F-84710C7967BB}</Data><Data Name="ModuleName">IIS Web Core</Data><Data Name="Notification">2</Data><Data Name="HttpStatus">401</Data><Data Name="HttpReason">Unauthorized</Data><Data Name="HttpSubStatus">2</Data><Data Name="ErrorCode">2147942405</Data><Data Name="ConfigExceptionInfo"></Data></EventData>
 <RenderingInfo Culture="en-US"><Opcode>MODULE_SET_RESPONSE_ERROR_STATUS</Opcode><freb:Description Data="ErrorCode">Access is denied. (0x80070005)</freb:Description></RenderingInfo>
</Event>
</failedRequest>"#;

    #[test]
    fn a_trace_names_the_module_the_notification_and_the_hresult() {
        assert!(is_trace(TRACE.as_bytes()));
        let t = read(TRACE, "fr000001.xml").unwrap();
        assert_eq!((t.http_status, t.substatus), (401, 2));
        assert_eq!(t.module.as_deref(), Some("IIS Web Core"));
        assert_eq!(t.notification.as_deref(), Some("AUTHENTICATE_REQUEST"));
        assert_eq!(t.error_code.as_deref(), Some("0x80070005"));
        assert_eq!(
            t.auth[0].values,
            [("AuthTypeSupported".to_string(), "NT".to_string())]
        );
        assert_eq!(t.time, Some(1_796_551_200));
        let s = summarize(vec![t.clone(), t], vec![]);
        assert_eq!(s.example_counts, [2]);
        assert_eq!(s.by_status[0].key, "401.2");
        assert!(read("<Events/>", "x").is_err());
        assert!(read("<failedRequest", "x").is_err());
    }
}
