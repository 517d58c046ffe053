//! What a refused form says, by field: one [`FieldErrors`] for every form, rendered by
//! the macros in `templates/macros/form.html` (the error summary at the top of the
//! page, and each field's message beside it, linked with `aria-describedby`).
//!
//! A field error has a *field* (the name the template asks for it by), a *target* (the
//! id the summary links to: the control that should get focus), a *message id* (the
//! paragraph beside the field) and, for a form with one line per pupil or child, whose
//! line it is (the summary then says "Name: message"). The defaults (`target` = field,
//! message id = `{field}-err`) fit a plain input; a radio group points its target at
//! its first radio.

use std::borrow::Borrow;
use std::fmt::Display;

use crate::web::i18n::{self, Lang};

/// A message: a translation key and its placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

/// A message without placeholders.
pub fn msg(key: &'static str) -> Msg {
    Msg { key, args: Vec::new() }
}

impl Msg {
    #[must_use]
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, value.into()));
        self
    }

    /// The message in `lang` (a `Borrow` so that templates may pass `ui.lang` as askama
    /// does: by reference).
    pub fn text(&self, lang: impl Borrow<Lang>) -> String {
        let lang = *lang.borrow();
        let args: Vec<(&str, &str)> = self.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        i18n::tf(lang, self.key, &args)
    }
}

impl From<&'static str> for Msg {
    fn from(key: &'static str) -> Self {
        msg(key)
    }
}

/// Whether a radio's value is the one chosen (the `radios` macro compares values of
/// whatever type a page has: `&str`, `String`, a code).
pub fn same(value: impl Display, chosen: impl Display) -> bool {
    let (value, chosen) = (value.to_string(), chosen.to_string());
    value == chosen
}

/// One field's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    /// The id the error summary links to.
    pub target: String,
    /// The id of the message beside the field.
    pub id: String,
    /// Whose line of a list form this is (a pupil's or child's name), for the summary.
    pub about: Option<String>,
    pub msg: Msg,
}

impl FieldError {
    /// Link the summary to another control than the field itself (a group's first radio).
    pub fn target(&mut self, target: impl Into<String>) -> &mut Self {
        self.target = target.into();
        self
    }

    /// Give the message another id than `{field}-err`.
    pub fn id(&mut self, id: impl Into<String>) -> &mut Self {
        self.id = id.into();
        self
    }

    /// Say in the summary whose line it is.
    pub fn about(&mut self, name: impl Into<String>) -> &mut Self {
        self.about = Some(name.into());
        self
    }

    /// The summary's line: "Name: message", or the message alone.
    pub fn summary_text(&self, lang: impl Borrow<Lang>) -> String {
        let lang = *lang.borrow();
        match &self.about {
            Some(name) => format!("{name}: {}", self.msg.text(lang)),
            None => self.msg.text(lang),
        }
    }
}

/// A form's errors in the order the summary lists them (the order they were found in,
/// which the handlers keep to the form's order). A field has at most one message: a
/// second one for the same field replaces the first in its place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors {
    list: Vec<FieldError>,
}

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// A form with one mistake.
    pub fn one(field: impl Into<String>, msg: impl Into<Msg>) -> Self {
        let mut errors = Self::new();
        errors.add(field, msg);
        errors
    }

    /// `field`'s message is `msg` (replacing any it had); returns it to adjust.
    pub fn add(&mut self, field: impl Into<String>, msg: impl Into<Msg>) -> &mut FieldError {
        let field = field.into();
        let msg = msg.into();
        let at = match self.list.iter().position(|e| e.field == field) {
            Some(i) => {
                self.list[i].msg = msg;
                i
            }
            None => {
                self.list.push(FieldError {
                    target: field.clone(),
                    id: format!("{field}-err"),
                    field,
                    about: None,
                    msg,
                });
                self.list.len() - 1
            }
        };
        &mut self.list[at]
    }

    /// Take over another form's errors after these (a list form's lines).
    pub fn extend(&mut self, other: FieldErrors) {
        for e in other.list {
            let FieldError { field, target, id, about, msg } = e;
            let added = self.add(field, msg);
            added.target = target;
            added.id = id;
            added.about = about;
        }
    }

    pub fn any(&self) -> bool {
        !self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// `field`'s error. A `Display` so that templates can ask with `"s-" ~ id`.
    pub fn get(&self, field: impl Display) -> Option<&FieldError> {
        let field = field.to_string();
        self.list.iter().find(|e| e.field == field)
    }

    pub fn has(&self, field: impl Display) -> bool {
        self.get(field).is_some()
    }

    /// `field`'s message key (for handlers and tests that branch on which mistake it was).
    pub fn key(&self, field: impl Display) -> Option<&'static str> {
        self.get(field).map(|e| e.msg.key)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.list.iter()
    }

    /// Put the errors in the form's order (`fields`; any other field after them), for
    /// a handler that found them in another order (the database's checks last).
    pub fn order(&mut self, fields: &[&str]) {
        self.list.sort_by_key(|e| fields.iter().position(|f| *f == e.field).unwrap_or(fields.len()));
    }

    /// Point a radio group's summary link at its first radio (`{field}-{value}`, as the
    /// `radios` macro names them), if the group has an error.
    pub fn at_first_radio(&mut self, field: &str, first_value: Option<&str>) {
        if let Some(value) = first_value {
            self.retarget(field, format!("{field}-{value}"));
        }
    }

    /// Point `field`'s summary link at `target`, if it has an error.
    pub fn retarget(&mut self, field: &str, target: impl Into<String>) {
        if let Some(e) = self.list.iter_mut().find(|e| e.field == field) {
            e.target = target.into();
        }
    }
}

impl<'a> IntoIterator for &'a FieldErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fit_a_plain_input() {
        let mut e = FieldErrors::new();
        assert!(!e.any());
        e.add("first_day", "absence.error.date_format");
        let f = e.get("first_day").expect("added");
        assert_eq!((f.target.as_str(), f.id.as_str()), ("first_day", "first_day-err"));
        assert!(e.has("first_day") && !e.has("last_day"));
    }

    #[test]
    fn a_second_message_replaces_the_first_in_its_place() {
        let mut e = FieldErrors::new();
        e.add("date", "a.one");
        e.add("lesson", "a.two");
        e.add("date", "a.three").target("date-x");
        let fields: Vec<_> = e.iter().map(|f| (f.field.as_str(), f.msg.key, f.target.as_str())).collect();
        assert_eq!(fields, [("date", "a.three", "date-x"), ("lesson", "a.two", "lesson")]);
    }

    #[test]
    fn a_line_says_whose_it_is() {
        let mut e = FieldErrors::new();
        e.add("status-1", "form.error_summary").about("Kari Nordmann").id("err-1");
        let f = e.get(format_args!("status-{}", 1)).expect("found by a Display");
        assert!(f.summary_text(Lang::Nb).starts_with("Kari Nordmann: "));
        assert_eq!(f.id, "err-1");
    }
}

/// A form that is a button: nothing but the CSRF token, which the middleware checks.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}
