//! CSV exports: one cell, written so that a spreadsheet never runs it.

/// A CSV cell: a cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, a tab
/// or a carriage return first) gets a leading apostrophe, and a cell with the
/// separator, a quote or a line break is quoted.
pub fn csv_cell(raw: &str) -> String {
    let mut s = String::with_capacity(raw.len() + 2);
    if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        s.push('\'');
    }
    s.push_str(raw);
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}
