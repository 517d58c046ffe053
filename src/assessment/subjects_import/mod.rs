//! The directorate's subject codes (fagkoder) from Grep, the curriculum service, into a
//! municipality's subject catalogue (`tavle import subjects`): each code with its
//! titles in bokmål, nynorsk and English and, once Grep says it has expired, its end.
//! The grades of assessment are given per subject, so these are the subjects they are
//! given in.
//!
//! - `file`: reading Grep's JSON on its own, every bad entry numbered by its position
//!   ([`parse`]); no database.
//! - `apply`: the entries against the subjects Tavle has, and the writes, in one
//!   transaction, all or nothing, counted into a [`Report`] ([`import`]).
//!
//! The CLI is a thin wrapper around [`import`]; tests call it directly.

mod apply;
mod file;

pub use apply::{import, ImportError, ImportOptions, Report};
pub use file::{parse, Entry, ParsedFile, Problem};
