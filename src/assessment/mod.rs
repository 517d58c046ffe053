//! Assessment (vurdering): the directorate's subject codes, grade scales and grades.

pub mod subjects_import;
