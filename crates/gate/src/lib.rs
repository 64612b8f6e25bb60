//! why401 gate: an authenticating gateway that answers 401, 403 and redirects correctly every
//! time and explains every denial. This crate holds its configuration and its access policy;
//! the server, the stores and the login flows build on them.

pub mod answer;
pub mod audit;
pub mod bearer;
pub mod breached;
pub mod check;
pub mod config;
pub mod factors;
pub mod fresh;
pub mod geo;
pub mod htpasswd;
pub mod ldap;
pub mod lockout;
pub mod login;
pub mod metrics;
pub mod mfa;
pub mod notify;
pub mod password;
pub mod policy;
pub mod proxy;
pub mod risk;
pub mod server;
pub mod store;
pub mod web;

pub use config::{Config, ConfigError};
pub use policy::{Action, Decision, Identity, Policy, Request};
