//! `gate check`: which rule a request meets, why each rule before it did not match, and what
//! the gateway answers: the question Authelia's users ask of their access control.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::policy::{Action, Criterion, Decision, Request};

/// The request as judged, each rule passed over and the one that decided, and the answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Check {
    /// Where the policy was read from.
    pub config: String,
    /// The request as the policy saw it.
    pub request: Asked,
    /// The rules tried, in order: every one passed over, then the one that decided (if any).
    pub rules: Vec<Tried>,
    /// What applies.
    pub action: Action,
    /// The decision is the default policy: no rule matched.
    pub by_default: bool,
    /// The rule matched but for its subjects, which need the user: log in first.
    pub needs_identity: bool,
    /// What the gateway answers, in words.
    pub answer: String,
    /// Whether the request gets through as it is (no login, no second factor to give).
    pub passes: bool,
}

/// The request's facts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Asked {
    /// The method.
    pub method: String,
    /// The host, lowercase, without the port.
    pub host: String,
    /// The path.
    pub path: String,
    /// The client address the rules judged.
    pub ip: String,
    /// When (RFC 3339).
    pub at: String,
    /// The user, if known.
    pub user: Option<String>,
    /// The user's groups.
    pub groups: Vec<String>,
}

/// One rule tried.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tried {
    /// Its name.
    pub name: String,
    /// Where it is defined (`gate.toml:19`).
    pub at: String,
    /// What it grants.
    pub action: Action,
    /// `None`: it matched.
    pub missed_on: Option<Criterion>,
    /// Why it did not match, in words.
    pub why: Option<String>,
}

impl Check {
    /// The report of `decision`, made by `config`'s policy on `request`.
    pub fn new(config: &Config, request: &Request<'_>, decision: &Decision) -> Check {
        let policy = &config.policy;
        let mut rules: Vec<Tried> = decision
            .misses
            .iter()
            .map(|m| {
                let r = &policy.rules[m.rule];
                Tried {
                    name: r.name.clone(),
                    at: r.at.clone(),
                    action: r.action,
                    missed_on: Some(m.criterion),
                    why: Some(m.why.clone()),
                }
            })
            .collect();
        if let Some(i) = decision.rule {
            let r = &policy.rules[i];
            rules.push(Tried {
                name: r.name.clone(),
                at: r.at.clone(),
                action: r.action,
                missed_on: None,
                why: None,
            });
        }
        let who = request.who;
        let subjects = decision
            .rule
            .map(|i| {
                policy.rules[i]
                    .subjects
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" or ")
            })
            .unwrap_or_default();
        let step_up = decision
            .rule
            .and_then(|i| policy.rules[i].step_up)
            .map(|d| format!(" (given within the last {} minutes)", d.as_secs() / 60))
            .unwrap_or_default();
        let group = who.and_then(|w| config.second_factor_group(w));
        let (answer, passes) = match (decision.action, who) {
            (Action::Bypass, _) => ("let through without authentication".to_string(), true),
            (Action::Deny, Some(w)) => (
                format!(
                    "403 Forbidden: {} is authenticated but not allowed here (never a login \
                     redirect: logging in again would not help)",
                    w.user
                ),
                false,
            ),
            (Action::Deny, None) => (
                "403 Forbidden: nobody is allowed here (no login is asked: it would not help)"
                    .to_string(),
                false,
            ),
            (action, None) if decision.needs_identity => (
                format!(
                    "asks to log in first: only then can the rule's subjects ({subjects}) be \
                     judged; then {}",
                    factors(action)
                ),
                false,
            ),
            (action, None) => (
                format!(
                    "asks to log in ({}): 401 with a challenge for API clients, a redirect to the \
                     login page for browsers",
                    factors(action)
                ),
                false,
            ),
            (Action::OneFactor, Some(w)) => match &group {
                None => (format!("let through as {}", w.user), true),
                Some(g) => (
                    format!(
                        "let through as {} once a second factor has been given in this session: \
                         members of {g} always give one ([mfa] groups, [admin] group)",
                        w.user
                    ),
                    false,
                ),
            },
            (Action::TwoFactor, Some(w)) => (
                format!(
                    "let through as {} once a second factor has been given in this session{step_up}",
                    w.user
                ),
                false,
            ),
        };
        Check {
            config: config.file.clone(),
            request: Asked {
                method: request.method.to_string(),
                host: request.host.to_string(),
                path: request.path.to_string(),
                ip: request.ip.to_string(),
                at: request
                    .at
                    .round(jiff::Unit::Second)
                    .unwrap_or(request.at)
                    .to_string(),
                user: who.map(|w| w.user.clone()),
                groups: who.map(|w| w.groups.clone()).unwrap_or_default(),
            },
            rules,
            action: decision.action,
            by_default: decision.rule.is_none(),
            needs_identity: decision.needs_identity,
            answer,
            passes,
        }
    }
}

fn factors(action: Action) -> &'static str {
    match action {
        Action::TwoFactor => "a password and a second factor",
        _ => "a password, a token or a session",
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.request;
        let who = match &r.user {
            Some(u) if r.groups.is_empty() => format!("as {u} (no group)"),
            Some(u) => format!("as {u} (groups {})", r.groups.join(", ")),
            None => "anonymous".to_string(),
        };
        writeln!(
            f,
            "{} {}{} from {} {who}, at {}",
            r.method, r.host, r.path, r.ip, r.at
        )?;
        writeln!(f, "policy: {}", self.config)?;
        let width = self.rules.iter().map(|t| t.name.len()).max().unwrap_or(0);
        for t in &self.rules {
            match &t.why {
                Some(why) => writeln!(f, "  no    {:width$}  {}  {why}", t.name, t.at)?,
                None => writeln!(f, "  match {:width$}  {}  {}", t.name, t.at, t.action)?,
            }
        }
        if self.by_default {
            writeln!(f, "  no rule matched: default_policy = {}", self.action)?;
        }
        write!(f, "=> {}", self.answer)
    }
}
