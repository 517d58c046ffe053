//! The integration-test binary (one binary for the whole suite, so it links once).
//! A single embedded PostgreSQL server serves the whole run; every test gets a fresh
//! database cloned from a template that is migrated and holds the demo
//! municipalities. See `helpers`.

// Test code may panic on a broken invariant; helper functions are not `#[test]`s.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod days;
mod helpers;
mod idp;

mod absence;
mod absence_office;
mod absence_totals;
mod admin;
mod assessment;
mod audit;
mod authz;
mod backup;
mod bounds;
mod cli;
mod client_address;
mod emergency;
mod exams;
mod exchanges;
mod external_postgres;
mod folkeregister;
mod groups;
mod hostile;
mod hr_import;
mod intake;
mod krr;
mod leave;
mod mail;
mod messages;
mod oidc;
mod overload;
mod places;
mod pupils;
mod redirects;
mod registration;
mod schema;
mod server;
mod session_cache;
mod sessions;
mod sfo;
mod sms;
mod subjects_import;
mod timetable;
