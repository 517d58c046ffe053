//! Staff from the municipality's HR system (`tavle import hr`): who is employed where,
//! in which position, how much, and whether on leave. Staff roles are derived from these
//! employments on every request, so this import is what grants and ends staff access.
//!
//! `file` reads and checks the CSV file on its own (`fields` parses each field);
//! `import` checks it against the municipality's data and applies it (`apply`) in one
//! transaction, all or nothing, counting what it changed into a `report`. The CLI is
//! a thin wrapper around [`import`]; tests call it directly.

mod apply;
pub(crate) mod fields;
pub mod file;
pub mod import;
mod report;

pub use fields::Percentage;
pub use file::{parse, HrLine, LineError, ParsedFile, COLUMNS};
pub use import::{import, ImportError, ImportOptions};
pub use report::ImportReport;
