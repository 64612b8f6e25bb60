//! `why401 logs`, end to end: real nginx and Apache logs written by real traffic (curl), IIS
//! files in Microsoft's documented layout, stdin, filters, the HTML report in a real browser.

mod common;

use std::io::Write;
use std::process::Command as Std;

use assert_cmd::Command;
use serde_json::Value;

fn peer(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: these tests need the servers `bash scripts/test.sh` starts")
    })
}

fn logs(args: &[&str]) -> (i32, Value) {
    let out = Command::cargo_bin("why401")
        .unwrap()
        .arg("logs")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let j = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), j)
}

fn count(j: &Value, table: &str, key: &str) -> u64 {
    j["summary"][table]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .map(|r| r["count"].as_u64().unwrap())
        .unwrap_or(0)
}

fn reason(j: &Value, why: &str) -> u64 {
    j["summary"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["reason"] == why)
        .map(|r| r["count"].as_u64().unwrap())
        .unwrap_or(0)
}

fn status(j: &Value, code: u64) -> u64 {
    j["summary"]["by_status"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == code)
        .map(|p| p[1].as_u64().unwrap())
        .unwrap_or(0)
}

/// Real traffic: none, wrong passwords, an unknown user, right passwords, a brute-force burst.
fn traffic(base: &str) {
    let url = format!("{base}/basic/");
    let run = |args: &[&str], n: usize| {
        for _ in 0..n {
            let out = Std::new("curl")
                .args(["-s", "-o", "/dev/null"])
                .args(args)
                .arg(&url)
                .output()
                .expect("curl");
            assert!(out.status.success());
        }
    };
    run(&[], 3);
    run(&["-u", "alice:wrong"], 4);
    run(&["-u", "mallory:whatever"], 2);
    run(&["-u", "alice:s3cret"], 5);
    run(&["-u", "bob:guess"], 25);
    // Both servers write their logs as requests finish; give them a moment.
    std::thread::sleep(std::time::Duration::from_millis(300));
}

fn files(var: &str) -> Vec<String> {
    peer(var).split_whitespace().map(String::from).collect()
}

#[test]
#[ignore = "needs nginx on loopback and curl: run by scripts/test.sh"]
fn nginx_access_and_error_logs() {
    traffic(&peer("WHY401_NGINX_LOGTEST_URL"));
    let f = files("WHY401_NGINX_LOGTEST_LOGS");
    let (code, j) = logs(&[&f[0], &f[1]]);
    assert_eq!(code, 1, "a brute force is an auth problem: {j}");
    assert_eq!(status(&j, 401), 34, "{j}");
    assert_eq!(status(&j, 200), 5, "{j}");
    assert_eq!(reason(&j, "wrong password"), 29, "{j}");
    assert_eq!(reason(&j, "unknown user"), 2, "{j}");
    assert_eq!(reason(&j, "no credentials sent"), 3, "{j}");
    assert_eq!(
        j["summary"]["handshake_noise"], 3,
        "requests without credentials, then a success from the same client within a minute: the challenge leg: {j}"
    );
    assert_eq!(j["summary"]["real_failures"], 31, "{j}");
    assert_eq!(count(&j, "by_user", "bob"), 25);
    let f0 = &j["findings"][0];
    assert_eq!(f0["id"], "brute-force", "{j}");
    assert!(f0["title"].as_str().unwrap().contains("bob"), "{j}");
    assert_eq!(
        j["summary"]["inputs"].as_array().unwrap().len(),
        2,
        "the error log is recognised as such"
    );
}

#[test]
#[ignore = "needs Apache httpd on loopback and curl: run by scripts/test.sh"]
fn apache_access_and_error_logs() {
    traffic(&peer("WHY401_APACHE_LOGTEST_URL"));
    let f = files("WHY401_APACHE_LOGTEST_LOGS");
    let (code, j) = logs(&[&f[0], &f[1]]);
    assert_eq!(code, 1, "{j}");
    assert_eq!(status(&j, 401), 34, "{j}");
    assert_eq!(
        reason(&j, "wrong password"),
        29,
        "AH01617 lines joined to the access log: {j}"
    );
    assert_eq!(reason(&j, "unknown user"), 2, "AH01618: {j}");
    assert!(
        j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "brute-force" && f["title"].as_str().unwrap().contains("bob")),
        "{j}"
    );
}

/// Microsoft's documented W3C fields, an app-pool restart with a new `#Fields` line, a method
/// GoAccess refuses, a broken line.
const IIS: &str = "#Software: Microsoft Internet Information Services 10.0\r
#Version: 1.0\r
#Date: 2026-11-27 08:00:00\r
#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r
2026-11-27 08:00:01 10.0.0.10 GET /reports/ - 443 - 10.1.1.5 Mozilla/5.0+(Windows+NT+10.0) - 401 2 5 0\r
2026-11-27 08:00:01 10.0.0.10 GET /reports/ - 443 - 10.1.1.5 Mozilla/5.0+(Windows+NT+10.0) - 401 1 2148074254 0\r
2026-11-27 08:00:01 10.0.0.10 GET /reports/ - 443 CORP\\alice 10.1.1.5 Mozilla/5.0+(Windows+NT+10.0) - 200 0 0 15\r
2026-11-27 08:00:05 10.0.0.10 RPC_IN_DATA /rpc/rpcproxy.dll - 443 CORP\\svc-sync 10.1.1.9 MSRPC - 401 1 1326 0\r
this line is broken\r
#Software: Microsoft Internet Information Services 10.0\r
#Version: 1.0\r
#Date: 2026-11-27 09:00:00\r
#Fields: date time s-sitename s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs-version cs(User-Agent) cs-host sc-status sc-substatus sc-win32-status sc-bytes time-taken\r
2026-11-27 09:00:02 W3SVC1 10.0.0.10 GET /owa/ - 443 CORP\\bob 10.1.1.7 HTTP/1.1 Outlook intranet 401 1 1909 340 0\r
2026-11-27 09:00:03 W3SVC1 10.0.0.10 GET /owa/ - 443 CORP\\bob 10.1.1.7 HTTP/1.1 Outlook intranet 401 3 5 340 0\r
";

#[test]
fn iis_documented_layout_with_a_mid_file_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u_ex261127.log");
    std::fs::write(&path, IIS).unwrap();
    let (code, j) = logs(&[path.to_str().unwrap()]);
    assert_eq!(code, 1, "{j}");
    let s = &j["summary"];
    assert_eq!(s["requests"], 6);
    assert_eq!(
        s["handshake_noise"], 2,
        "401 2 5 and 401 1 2148074254 before the 200 are the handshake: {j}"
    );
    assert_eq!(s["real_failures"], 3);
    assert_eq!(s["unparsed"], 1);
    assert_eq!(
        s["unparsed_examples"][0]["line"], 9,
        "file:line of the broken line: {j}"
    );
    assert_eq!(
        count(&j, "by_user", "CORP\\svc-sync"),
        1,
        "RPC_IN_DATA is a method like any other"
    );
    assert_eq!(
        count(&j, "by_agent", "Mozilla/5.0 (Windows NT 10.0)"),
        0,
        "handshake legs are not failures"
    );
    let codes = s["by_code"].to_string();
    assert!(
        codes.contains(r#""substatus":3"#) && codes.contains(r#""win32":1909"#),
        "{codes}"
    );
    assert!(
        j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "account-lockout"),
        "{j}"
    );
}

#[test]
fn stdin_filters_and_bad_input() {
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args(["logs", "--json", "--since", "2026-11-27 09:00"])
        .write_stdin(IIS)
        .output()
        .unwrap();
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["summary"]["requests"], 2, "only the 09:00 lines: {j}");
    assert_eq!(j["summary"]["filtered_out"], 4);
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args(["logs", "--json"])
        .write_stdin("random words\nmore words\n")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "unrecognisable input is bad input"
    );
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args(["logs", "/no/such/file.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
}

#[test]
fn a_directory_of_compressed_rotations() {
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(dir.path().join("access.log.1.gz")).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(b"10.0.0.1 - bob [27/Nov/2026:10:00:00 +0000] \"GET /x HTTP/1.1\" 401 12 \"-\" \"curl/8\"\n").unwrap();
    gz.finish().unwrap();
    std::fs::write(
        dir.path().join("access.log"),
        "10.0.0.1 - bob [27/Nov/2026:10:00:05 +0000] \"GET /x HTTP/1.1\" 200 12 \"-\" \"curl/8\"\n",
    )
    .unwrap();
    let (_, j) = logs(&[dir.path().to_str().unwrap()]);
    assert_eq!(j["summary"]["requests"], 2, "{j}");
    assert_eq!(j["summary"]["inputs"].as_array().unwrap().len(), 2);
}

#[test]
#[ignore = "needs headless Chromium: run by scripts/test.sh"]
fn html_report_renders_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("u_ex.log");
    let hostile = IIS.replace("Outlook", "<script>document.title='pwned'</script>");
    std::fs::write(&log, hostile).unwrap();
    let html = dir.path().join("report.html");
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args([
            "logs",
            log.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.code().is_some());
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| Std::new(c).arg("--version").output().is_ok())
        .expect("chromium must be installed (scripts/test.sh installs it)");
    let profile = tempfile::tempdir().unwrap();
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ];
    let url = format!("file://{}", html.display());
    let dom = Std::new(chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--virtual-time-budget=2000", "--dump-dom", &url])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("id=\"kpi-requests\"><b>6</b>"),
        "the figures are on the rendered page: {dom}"
    );
    assert!(dom.contains("account-lockout"), "{dom}");
    assert!(dom.contains("<svg"), "the chart is inline SVG");
    assert!(
        !dom.contains("<title>pwned"),
        "log text is escaped, never executed"
    );
    let shot = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/why401-logs-report.png");
    let out = Std::new(chromium)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args([
            "--window-size=1200,1600",
            &format!("--screenshot={}", shot.display()),
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        shot.exists(),
        "screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `why401 logs ARGS --json` on stdin `input` (empty for none): exit code, JSON, stderr.
fn logs_stdin(args: &[&str], input: &str) -> (i32, Value, String) {
    let out = Command::cargo_bin("why401")
        .unwrap()
        .arg("logs")
        .args(args)
        .arg("--json")
        .write_stdin(input)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let j = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), j, stderr)
}

/// Writes `text` as `name` in a fresh directory.
fn log_file(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path.display().to_string())
}

/// Every directive the W3C format defines, before and between `#Fields` lines.
const IIS_DIRECTIVES: &str = "#Software: Microsoft Internet Information Services 10.0\r
#Version: 1.0\r
#Start-Date: 2026-11-27 08:00:00\r
#Remark: written after an app-pool recycle\r
#Date: 2026-11-27 08:00:00\r
#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\r
2026-11-27 08:00:05 10.0.0.10 GET /reports/ - 443 CORP\\alice 10.1.1.5 Mozilla/5.0+(Windows+NT+10.0) - 401 1 1326 0\r
#Remark: configuration changed\r
#Fields: date time c-ip cs-username cs-method cs-uri-stem sc-status sc-substatus sc-win32-status\r
2026-11-27 08:00:06 10.1.1.5 CORP\\alice GET /reports/ 200 0 0\r
#End-Date: 2026-11-27 09:00:00\r
";

#[test]
fn iis_directives_before_and_between_fields() {
    let (_dir, path) = log_file("u_ex261127.log", IIS_DIRECTIVES);
    for format in [None, Some("iis"), Some("IIS"), Some("W3c")] {
        let mut args = vec![path.as_str()];
        if let Some(f) = format {
            args.extend(["--format", f]);
        }
        let (_, j) = logs(&args);
        let s = &j["summary"];
        assert_eq!(
            (s["requests"].as_u64(), s["unparsed"].as_u64()),
            (Some(2), Some(0)),
            "--format {format:?}: {j}"
        );
        assert_eq!(status(&j, 401), 1, "{j}");
        assert_eq!(status(&j, 200), 1, "the second layout is read too: {j}");
        assert_eq!(s["inputs"][0]["format"], "iis-w3c", "{j}");
    }
    // A #Fields line without sc-status is refused, and with --format given the message does
    // not tell the user to give --format.
    let (_dir, bad) = log_file(
        "u_ex.log",
        "#Start-Date: 2026-11-27 08:00:00\n#Fields: date time cs-method\n2026-11-27 08:00:05 GET\n",
    );
    let (code, _, stderr) = logs_stdin(&[&bad, "--format", "iis"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("has no sc-status") && !stderr.contains("use --format"),
        "{stderr}"
    );
}

/// IIS Advanced Logging's way: local-time fields, the agent quoted with its spaces, columns
/// padded with runs of spaces.
const ADVANCED: &str = "#Software: IIS Advanced Logging Module\r
#Version: 1.0\r
#Start-Date: 2026-11-27 09:00:00.000\r
#Fields: date-local time-local s-computername c-ip cs-username cs-method cs-uri-stem sc-status sc-substatus sc-win32-status cs(User-Agent)\r
2026-11-27 09:15:00.123 WEB01 10.1.1.5 \"CORP\\bob\" GET /owa/ 401 1 1326 \"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36\"\r
2026-11-27  09:15:01.456   WEB01 10.1.1.5   \"CORP\\bob\"  GET /owa/ 401 1 1326 \"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36\"\r
2026-11-27 10:15:02.789 WEB01 10.1.1.6 - GET /owa/ 200 0 0 \"Microsoft Office/16.0 (Windows NT 10.0)\"\r
";

#[test]
fn quoted_values_runs_of_spaces_and_local_times() {
    let (_dir, path) = log_file("advanced.log", ADVANCED);
    let (_, j) = logs(&[&path]);
    let s = &j["summary"];
    assert_eq!(s["requests"], 3, "{j}");
    assert_eq!(s["unparsed"], 0, "{j}");
    assert_eq!(
        count(
            &j,
            "by_agent",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"
        ),
        2,
        "the quoted agent is one field, without its quotes: {j}"
    );
    assert_eq!(count(&j, "by_user", "CORP\\bob"), 2, "{j}");
    assert_eq!(s["local_time"], true, "{j}");
    assert_eq!(s["inputs"][0]["format"], "iis-w3c (local time)", "{j}");
    // 2026-11-27 09:15:00 and 10:15:02 on the server's clock.
    assert_eq!(
        (s["first"].as_i64(), s["last"].as_i64()),
        (Some(1_795_770_900), Some(1_795_774_502)),
        "{j}"
    );
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args(["logs", &path])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2026-11-27 09:15:00 → 2026-11-27 10:15:02 server local time, not UTC"),
        "{text}"
    );
    // The same log with UTC fields says nothing of local time.
    let (_dir, utc) = log_file(
        "utc.log",
        &ADVANCED.replace("date-local time-local", "date time"),
    );
    let (_, j) = logs(&[&utc]);
    assert_eq!(j["summary"]["local_time"], false, "{j}");
    assert_eq!(j["summary"]["requests"], 3, "{j}");
}

/// The lines of a rotated file whose `#Fields` line stayed in the previous file.
const FRAGMENT: &str = "2026-11-27 10:00:01 10.0.0.10 GET /reports/ - 443 - 10.1.1.5 Mozilla/5.0+(Windows+NT+10.0) - 401 2 5 0\r
2026-11-27 10:00:01 10.0.0.10 GET /reports/ - 443 - 10.1.1.5 Mozilla/5.0+(Windows+NT+10.0) - 401 1 2148074254 0\r
2026-11-27 10:00:01 10.0.0.10 GET /reports/ - 443 CORP\\alice 10.1.1.5 Mozilla/5.0+(Windows+NT+10.0) - 200 0 0 15\r
2026-11-27 10:00:09 10.0.0.10 GET /reports/ - 443 CORP\\carol 10.1.1.8 Mozilla/5.0+(Windows+NT+10.0) - 401 1 1326 0\r
";

#[test]
fn a_headerless_fragment_with_format_iis_or_fields() {
    let (_dir, path) = log_file("u_ex26112710_x.log", FRAGMENT);
    let (code, _, stderr) = logs_stdin(&[&path], "");
    assert_eq!(code, 2);
    assert!(
        stderr.contains("without the #Fields line") && stderr.contains("use --format iis"),
        "sniffing says what it saw: {stderr}"
    );
    let expect = |j: &Value| {
        let s = &j["summary"];
        assert_eq!(
            (s["requests"].as_u64(), s["unparsed"].as_u64()),
            (Some(4), Some(0)),
            "{j}"
        );
        assert_eq!(s["handshake_noise"], 2, "{j}");
        assert_eq!(count(j, "by_user", "CORP\\carol"), 1, "{j}");
    };
    // IIS 8.5+'s default (15 fields), from a file and from stdin.
    expect(&logs(&[&path, "--format", "iis"]).1);
    let (code, j, stderr) = logs_stdin(&["--format", "iis"], FRAGMENT);
    assert_eq!(code, 0, "{stderr}");
    expect(&j);
    // IIS 7's default has no cs(Referer) (14 fields).
    let iis7 = FRAGMENT.replace("(Windows+NT+10.0) - ", "(Windows+NT+10.0) ");
    let (_dir7, path7) = log_file("u_ex.log", &iis7);
    expect(&logs(&[&path7, "--format", "Iis"]).1);
    // A site that logs other fields: --fields (which alone means IIS).
    let custom = "2026-11-27 10:00:09 10.1.1.8 CORP\\carol 401 1 1326\n2026-11-27 10:00:10 10.1.1.8 CORP\\carol 401 1 1326\n";
    let (_dirc, pathc) = log_file("u_ex.log", custom);
    let fields = "date time c-ip cs-username sc-status sc-substatus sc-win32-status";
    for args in [
        vec![pathc.as_str(), "--fields", fields],
        vec![pathc.as_str(), "--format", "iis", "--fields", fields],
    ] {
        let (_, j) = logs(&args);
        assert_eq!(j["summary"]["requests"], 2, "{args:?}: {j}");
        assert_eq!(count(&j, "by_user", "CORP\\carol"), 2, "{j}");
    }
    // --fields with another format, or without sc-status, is refused by name.
    let (code, _, stderr) = logs_stdin(&[&pathc, "--format", "combined", "--fields", fields], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("--fields"), "{stderr}");
    let (code, _, stderr) = logs_stdin(&[&pathc, "--fields", "date time c-ip"], "");
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--fields") && stderr.contains("sc-status"),
        "{stderr}"
    );
}

#[test]
fn format_names_in_any_case() {
    let line =
        "10.0.0.1 - bob [27/Nov/2026:10:00:00 +0000] \"GET /x HTTP/1.1\" 401 12 \"-\" \"curl/8\"\n";
    let (_dir, path) = log_file("access.log", line);
    for f in ["combined", "Combined", "COMBINED"] {
        let (_, j) = logs(&[&path, "--format", f]);
        assert_eq!(j["summary"]["requests"], 1, "--format {f}: {j}");
        assert_eq!(j["summary"]["unparsed"], 0, "--format {f}: {j}");
    }
    let json = "{\"ts\":1795255200,\"request\":{\"remote_ip\":\"10.0.0.1\",\"method\":\"GET\",\"uri\":\"/x\"},\"status\":401}\n";
    let (_dir, path) = log_file("caddy.log", json);
    let (_, j) = logs(&[&path, "--format", "CADDY"]);
    assert_eq!(j["summary"]["requests"], 1, "{j}");
}

/// NCSA lines varied enough that their compressed form is not tiny.
fn ncsa(lines: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..lines {
        let (ip, url, status) = (i % 251, i * 7919 % 100_003, [200, 401, 302][i % 3]);
        writeln!(
            out,
            "10.0.{}.{ip} - bob [27/Nov/2026:10:{:02}:00 +0000] \"GET /x/{url} HTTP/1.1\" {status} 12 \"-\" \"curl/8\"",
            i % 7,
            i % 60
        )
        .unwrap();
    }
    out
}

/// Runs `why401 logs --json` on `paths`: exit status, JSON, stderr.
fn logs_with_stderr(paths: &[&std::path::Path]) -> (i32, Value, String) {
    let out = Command::cargo_bin("why401")
        .unwrap()
        .arg("logs")
        .args(paths)
        .arg("--json")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let j = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    (out.status.code().unwrap_or(-1), j, stderr)
}

#[test]
fn a_truncated_gzip_and_a_corrupt_zstd_are_reported_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let text = ncsa(30_000);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&text).unwrap();
    let gz = gz.finish().unwrap();
    let cut = dir.path().join("access.log.1.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    // As the `zstd` tool writes it, with the content checksum that shows a flipped byte.
    let mut z = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    z.include_checksum(true).unwrap();
    z.write_all(&text).unwrap();
    let mut zst = z.finish().unwrap();
    let mid = zst.len() / 2;
    zst[mid] ^= 0x10;
    let flipped = dir.path().join("access.log.2.zst");
    std::fs::write(&flipped, &zst).unwrap();

    let (code, j, stderr) = logs_with_stderr(&[&cut]);
    assert_eq!(
        code, 2,
        "input not read in full is unreadable input: {stderr}"
    );
    let input = &j["summary"]["inputs"][0];
    assert!(
        input["ended_early"]
            .as_str()
            .is_some_and(|e| e.contains("incomplete")),
        "{input}"
    );
    let lines = input["lines"].as_u64().unwrap();
    assert!(
        lines > 0 && lines < 30_000,
        "the lines before the cut: {input}"
    );
    assert_eq!(j["summary"]["requests"].as_u64(), Some(lines), "{j}");
    assert!(
        stderr.contains("access.log.1.gz")
            && stderr.contains(&format!("ended early, after {lines} lines")),
        "{stderr}"
    );

    let (code, j, stderr) = logs_with_stderr(&[&flipped]);
    assert_eq!(code, 2, "{stderr}");
    assert!(j["summary"]["inputs"][0]["ended_early"].is_string(), "{j}");
    assert!(stderr.contains("access.log.2.zst"), "{stderr}");

    // The same file whole: no problem with the input, the findings decide.
    let whole = dir.path().join("access.log");
    std::fs::write(&whole, &text).unwrap();
    let (code, j, _) = logs_with_stderr(&[&whole]);
    assert_ne!(code, 2, "{j}");
    assert!(j["summary"]["inputs"][0]["ended_early"].is_null(), "{j}");
}

#[test]
fn a_directory_with_a_link_loop_and_a_dangling_link_is_read_and_they_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("access.log"), ncsa(30)).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("loop")).unwrap();
    // Tests run as root, so permission bits cannot make an entry unreadable: a dangling link can.
    std::os::unix::fs::symlink("rotated-away.log", dir.path().join("access.log.1")).unwrap();
    let (code, j, stderr) = logs_with_stderr(&[dir.path()]);
    assert_eq!(code, 2, "an entry was not read: {stderr}");
    assert_eq!(
        j["summary"]["requests"], 30,
        "the readable log is read once: {j}"
    );
    let unreadable = j["summary"]["unreadable"].as_array().unwrap();
    let paths: Vec<&str> = unreadable
        .iter()
        .map(|u| u["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 2, "{unreadable:?}");
    assert!(
        paths.iter().any(|p| p.ends_with("/loop"))
            && paths.iter().any(|p| p.ends_with("/access.log.1")),
        "{unreadable:?}"
    );
    assert!(
        stderr.contains("access.log.1: not read") && stderr.contains("loop: not read"),
        "{stderr}"
    );
}
