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

/// A CSV file to download: a byte order mark (spreadsheets then read UTF-8), the header
/// line, the rows (each cell through [`csv_cell`]), `;` between cells and CRLF after each
/// line; sent as an attachment named `{stem}.csv`, never stored by a cache.
pub fn attachment(
    stem: &str,
    header: &str,
    rows: impl IntoIterator<Item = Vec<String>>,
) -> crate::error::Result<axum::response::Response> {
    use axum::http::{header, HeaderValue};
    use axum::response::IntoResponse;
    let mut out = String::from("\u{feff}");
    out.push_str(header);
    out.push_str("\r\n");
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&cells.join(";"));
        out.push_str("\r\n");
    }
    let disposition = format!("attachment; filename=\"{stem}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(|_| crate::error::AppError::BadRequest)?,
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        out,
    )
        .into_response())
}
