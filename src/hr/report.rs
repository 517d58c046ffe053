//! What an HR import changed (or, for a dry run, would have changed), as the CLI
//! prints it. Its own file so that `apply` can count into it without importing the
//! import that drives it.

use std::fmt;

/// What an import changed (or, for a dry run, would have changed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub tenant: String,
    pub dry_run: bool,
    /// Employment lines read from the file.
    pub lines: usize,
    pub persons_created: usize,
    pub persons_updated: usize,
    pub staff_created: usize,
    pub employments_created: usize,
    pub employments_updated: usize,
    /// Current employments missing from a `full` file, ended on the import date.
    pub employments_ended: usize,
    /// Employments missing from a `full` file that had not begun, removed.
    pub employments_removed: usize,
    pub employments_unchanged: usize,
    /// Without `full`: current employments of staff in the file that the file does not
    /// contain, left as they are.
    pub employments_not_in_file: usize,
}

impl ImportReport {
    /// Whether anything was (or would be) written.
    #[must_use]
    pub fn changed(&self) -> bool {
        self.persons_created
            + self.persons_updated
            + self.staff_created
            + self.employments_created
            + self.employments_updated
            + self.employments_ended
            + self.employments_removed
            > 0
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = plural(self.lines, "line", "lines");
        let prefix = if self.dry_run { "dry run, nothing saved: " } else { "" };
        if !self.changed() {
            write!(f, "{prefix}HR import for {}: {lines}, no changes", self.tenant)?;
            if self.employments_unchanged > 0 {
                write!(f, " ({} unchanged)", plural(self.employments_unchanged, "employment", "employments"))?;
            }
        } else {
            writeln!(f, "{prefix}HR import for {}: {lines}", self.tenant)?;
            writeln!(f, "  persons:     {} created, {} updated", self.persons_created, self.persons_updated)?;
            writeln!(f, "  staff:       {} created", self.staff_created)?;
            write!(
                f,
                "  employments: {} created, {} updated, {} ended, {} unchanged",
                self.employments_created, self.employments_updated, self.employments_ended, self.employments_unchanged
            )?;
            if self.employments_removed > 0 {
                write!(f, ", {} removed before they began", self.employments_removed)?;
            }
        }
        if self.employments_not_in_file > 0 {
            write!(
                f,
                "\n  {} of staff in the file not in it: left as they are (--full ends them)",
                plural(self.employments_not_in_file, "current employment", "current employments")
            )?;
        }
        Ok(())
    }
}

pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
