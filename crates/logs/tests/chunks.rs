//! The parallel scan is exact: cutting a log into chunks anywhere (inside a handshake, next to a
//! `#Fields` change, among broken lines) gives the summary of one sequential read. Arbitrary
//! logs are built from realistic lines (some written the way other W3C writers do: quoted
//! values, runs of blanks), NTLM handshake legs, directives and garbage; some have no header
//! at all (a rotated fragment, read with `--format iis`).

use proptest::prelude::*;
use why401_evidence::logs::LogSummary;
use why401_logs::{Input, Options, analyze};

const WIDE: &str = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken\n";
const NARROW: &str = "#Fields: date time c-ip cs-username cs-method cs-uri-stem sc-status sc-substatus sc-win32-status\n";

/// One piece of an IIS log: a line in the layout in force (`odd`: quoted and padded), a whole
/// NTLM handshake, a layout change, another directive or garbage.
#[derive(Debug, Clone)]
enum Piece {
    Hit {
        sec: u32,
        ip: u8,
        user: u8,
        status: u16,
        sub: u8,
        win32: u32,
        odd: bool,
    },
    Handshake {
        sec: u32,
        ip: u8,
        user: u8,
        ok: bool,
    },
    Switch,
    Directive(&'static str),
    Garbage(String),
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        8 => (0u32..7200, 0u8..6, 0u8..5, prop::sample::select(vec![200u16, 302, 401, 403, 500]),
              0u8..4, prop::sample::select(vec![0u32, 5, 1326, 1909, 2148074254]), prop::bool::weighted(0.2))
            .prop_map(|(sec, ip, user, status, sub, win32, odd)| Piece::Hit { sec, ip, user, status, sub, win32, odd }),
        4 => (0u32..7200, 0u8..6, 0u8..5, any::<bool>())
            .prop_map(|(sec, ip, user, ok)| Piece::Handshake { sec, ip, user, ok }),
        1 => Just(Piece::Switch),
        1 => prop::sample::select(vec![
            "#Remark: app pool recycled",
            "#Start-Date: 2026-11-20 00:00:00",
            "#End-Date: 2026-11-20 02:00:00",
            "#Date: 2026-11-20 01:00:00",
        ]).prop_map(Piece::Directive),
        1 => "[ -~]{0,40}".prop_map(Piece::Garbage),
    ]
}

/// The log; without `header` it starts with data lines, in `WIDE`'s layout (IIS 7's default).
fn render(pieces: &[Piece], header: bool) -> String {
    let mut out = String::new();
    if header {
        out.push_str("#Software: Microsoft Internet Information Services 10.0\n");
        out.push_str(WIDE);
    }
    let mut wide = true;
    let line = |out: &mut String,
                wide: bool,
                sec: u32,
                ip: u8,
                user: &str,
                st: (u16, u8, u32),
                odd: bool| {
        let (h, m, s) = (sec / 3600, sec / 60 % 60, sec % 60);
        let user = if user.is_empty() { "-" } else { user };
        let text = if wide {
            let agent = if odd {
                "\"Mozilla/5.0 (Windows NT 10.0)\""
            } else {
                "Mozilla/5.0+(Windows+NT+10.0)"
            };
            format!(
                "2026-11-20 {h:02}:{m:02}:{s:02} 10.0.0.1 GET /app/x.aspx - 443 {user} 192.0.2.{ip} {agent} {} {} {} 15\n",
                st.0, st.1, st.2
            )
        } else {
            format!(
                "2026-11-20 {h:02}:{m:02}:{s:02} 192.0.2.{ip} {user} GET /app/x.aspx {} {} {}\n",
                st.0, st.1, st.2
            )
        };
        out.push_str(&if odd {
            text.replace(" 192.", "  \t192.").replace(" GET", "   GET")
        } else {
            text
        });
    };
    for p in pieces {
        match p {
            Piece::Hit {
                sec,
                ip,
                user,
                status,
                sub,
                win32,
                odd,
            } => {
                let u = if *status == 401 && *user == 0 {
                    String::new()
                } else {
                    format!("CORP\\u{user}")
                };
                line(&mut out, wide, *sec, *ip, &u, (*status, *sub, *win32), *odd);
            }
            Piece::Handshake { sec, ip, user, ok } => {
                let u = format!("CORP\\u{user}");
                line(&mut out, wide, *sec, *ip, "", (401, 2, 5), false);
                line(&mut out, wide, *sec, *ip, "", (401, 1, 2148074254), false);
                let last = if *ok { (200, 0, 0) } else { (401, 1, 1326) };
                line(&mut out, wide, *sec, *ip, &u, last, false);
            }
            Piece::Switch => {
                wide = !wide;
                out.push_str(if wide { WIDE } else { NARROW });
            }
            Piece::Directive(d) => {
                out.push_str(d);
                out.push('\n');
            }
            Piece::Garbage(g) => {
                out.push_str(g);
                out.push('\n');
            }
        }
    }
    out
}

fn summary(path: &std::path::Path, chunk: usize, header: bool) -> LogSummary {
    let opts = Options {
        chunk_size: chunk,
        format: (!header).then(|| "iis".into()),
        ..Options::default()
    };
    analyze(&[Input::Path(path.display().to_string())], &opts, &|_| {})
        .expect("a readable file")
        .into_summary()
}

proptest! {
    #[test]
    fn any_chunking_gives_the_sequential_summary(
        pieces in prop::collection::vec(piece(), 1..300),
        chunk in 1usize..2000,
        header in prop::bool::weighted(0.8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("u_ex261120.log");
        let text = render(&pieces, header);
        std::fs::write(&path, &text).unwrap();
        let whole = summary(&path, usize::MAX / 2, header);
        let cut = summary(&path, chunk, header);
        prop_assert_eq!(&cut, &whole);
        // Every request line is read, however it was written and whether or not the file
        // has its header.
        let written: u64 = pieces
            .iter()
            .map(|p| match p {
                Piece::Hit { .. } => 1,
                Piece::Handshake { .. } => 3,
                _ => 0,
            })
            .sum();
        prop_assert!(whole.requests >= written, "{} of {written} lines read", whole.requests);
        // And nothing vanished: every line is a request, an unparsed line or a directive.
        let directives = text.lines().filter(|l| l.starts_with('#')).count() as u64;
        let blank = text.lines().filter(|l| l.is_empty()).count() as u64;
        prop_assert_eq!(
            whole.requests + whole.unparsed + whole.filtered_out + directives + blank,
            text.lines().count() as u64
        );
    }
}
