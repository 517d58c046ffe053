//! Tavle: the school administration portal of a Norwegian municipality.
//!
//! The crate is laid out by feature (`pupils`, later `absence`, `timetable`, …) on a
//! shared spine: `db` (pools, migrations, the tenant transaction, embedded
//! PostgreSQL), `web` (layout, translations, security middleware), `auth` (sessions,
//! the current user), `policy` (every access decision), `audit` (the append-only log;
//! its page for the data protection officer is the feature `audit_log`).
//! `hr` imports staff from the municipality's HR system (`tavle import hr`).
//! `app` is the one place features are merged into the router; `state` holds what
//! every request may reach, and imports no feature.

pub mod absence;
pub mod admin;
pub mod app;
pub mod assessment;
pub mod audit;
pub mod audit_log;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod districts;
pub mod domain;
pub mod emergency;
pub mod error;
pub mod exchanges;
pub mod folkeregister;
pub mod groups;
pub mod home;
pub mod hr;
pub mod intake;
pub mod krr;
pub mod mail;
pub mod messages;
pub mod policy;
pub mod pupils;
pub mod server;
pub mod sfo;
pub mod sms;
pub mod state;
pub mod timetable;
pub mod web;
pub mod work;
