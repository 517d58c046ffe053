//! Every access decision in Tavle: who (an [`Actor`]) may do what to which resource,
//! and the query scoping that follows from it. Handlers never decide access
//! themselves; they ask here and act on the answer.
//!
//! The rules come from the municipalities' own processing records (shared/DOMAIN.md):
//! school staff see pupils of the school where they work, a contact teacher sees their
//! own pupils' guardians, municipal roles see the whole municipality, a guardian sees
//! a child only through a guardianship *with* parental responsibility until the child
//! turns 18, a pupil sees themself. An object the actor may not see is reported as
//! not found, so that a refusal does not reveal that it exists.
//!
//! The folder has one file per resource behind this facade (`policy::pupil_card_access`
//! and so on, wherever the rule lives): `actor` (the actor, the purposes and the
//! [`Access`] answer), `pupils`, `groups`, `absence`, `leave`, `timetable`, `sfo`, `mail`, `admin`
//! (the role mapping) and `audit`. A rule for a new feature is a new file and one line
//! here; its access answer implements `Access` with one of the macros of `actor`.
//! Shared SQL conditions: `guardianship` (when a guardian has a child), `staffing`
//! (a pupil's contact teachers, who teaches a pupil), `recipients` (who a message reaches).

#[macro_use]
mod actor;
mod absence;
mod admin;
mod assessment;
mod audit;
mod emergency;
pub mod features;
mod groups;
pub mod guardianship;
mod intake;
mod leave;
mod mail;
mod messages;
mod pupils;
pub mod recipients;
mod sfo;
pub mod staffing;
mod timetable;

pub use absence::*;
pub use actor::{Access, Actor, Audience, Grant, Purpose};
pub use admin::*;
pub use assessment::*;
pub use audit::*;
pub use emergency::*;
pub use features::{feature_admin, Feature, FeatureAdmin};
pub use groups::*;
pub use intake::*;
pub use leave::*;
pub use mail::*;
pub use messages::*;
pub use pupils::*;
pub use sfo::*;
pub use timetable::*;

#[cfg(test)]
mod tests;
