//! The day list's page: what the template shows for each child, the form each child's
//! buttons post, and the form values and messages after a refused post.

use serde::Deserialize;
use time::Date;
use uuid::Uuid;

use super::domain::{Action, Collector, LeaveCode};
use super::queries::{ChildRow, CollectorRow, SfoGroupRow};
use crate::domain::date as dates;
use crate::web::form::FieldErrors;
use crate::web::layout::Ui;

/// One child's form, whichever button sent it. Strict: a field not named here (a
/// "note", a "comment") makes the whole request fail (400) before anything is read.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendanceForm {
    #[serde(default)]
    #[expect(dead_code, reason = "read by the CSRF middleware, not here")]
    pub csrf: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub arrived: String,
    #[serde(default)]
    pub left: String,
    #[serde(default)]
    pub collector: String,
}

/// A child's refused post: its messages (from `attendance::check`, by the short
/// names `act` (the action as a whole), `q` (the collector beside "left now"),
/// `arr`, `left` and `col` (the correction)) put in the page's errors under the
/// controls' ids (`arr-{child}`), with the messages' ids `arr-err-{child}`.
pub fn child_errors(page: &mut FieldErrors, child: Uuid, name: &str, errors: &FieldErrors) {
    for e in errors {
        let field = format!("{}-{child}", e.field);
        let target = if e.field == "act" { format!("child-{child}") } else { field.clone() };
        page.add(field, e.msg.clone()).target(target).id(format!("{}-err-{child}", e.field)).about(name);
    }
}

/// What a refused post sent, shown again.
#[derive(Debug, Clone)]
pub struct Sent {
    pub action: Action,
    pub arrived: String,
    pub left: String,
    pub collector: String,
}

impl Sent {
    pub fn from_form(form: &AttendanceForm, action: Action) -> Self {
        Self { action, arrived: form.arrived.clone(), left: form.left.clone(), collector: form.collector.clone() }
    }
}

/// A child's line.
#[derive(Debug, Clone)]
pub struct DayRow {
    pub child: ChildRow,
    /// Who may collect the child (guardians with parental responsibility, contact
    /// persons with a pick-up permission).
    pub collectors: Vec<CollectorRow>,
    /// The ways the child may leave without a named person, by the guardians' word.
    pub codes: Vec<LeaveCode>,
    pub sent: Option<Sent>,
}

impl DayRow {
    pub fn new(child: ChildRow, collectors: Vec<CollectorRow>, codes: Vec<LeaveCode>) -> Self {
        Self { child, collectors, codes, sent: None }
    }

    fn sent_for(&self, action: Action) -> Option<&Sent> {
        self.sent.as_ref().filter(|s| s.action == action)
    }
}

/// A choice in a "collected by" list.
pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(askama::Template)]
#[template(path = "sfo/day.html")]
pub struct DayPage {
    pub ui: Ui,
    pub group: SfoGroupRow,
    /// The date as typed (shown again with an error).
    pub date_value: String,
    pub date: Option<Date>,
    /// The date's error, and the refused child's.
    pub errors: FieldErrors,
    pub today: Date,
    /// The actor may record, and the date is within the correction window.
    pub editable: bool,
    pub rows: Vec<DayRow>,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub notice: Option<&'static str>,
}

impl DayPage {
    pub fn date_input(&self) -> String {
        dates::date_value(&self.date_value)
    }
    pub fn date_label(&self) -> String {
        self.date.map(dates::display_date).unwrap_or_default()
    }
    pub fn date_iso(&self) -> String {
        self.date.map(dates::iso).unwrap_or_default()
    }
    pub fn is_today(&self) -> bool {
        self.date == Some(self.today)
    }
    pub fn max_date(&self) -> String {
        dates::iso(self.today)
    }
    pub fn action_href(&self, row: &DayRow) -> String {
        format!("/sfo/groups/{}/attendance/{}", self.group.id, row.child.id)
    }
    pub fn day_href(&self, date: &str) -> String {
        format!("/sfo/groups/{}/attendance?date={date}", self.group.id)
    }
    pub fn name(&self, row: &DayRow) -> String {
        format!("{} {}", row.child.given_name, row.child.family_name)
    }
    pub fn grade(&self, row: &DayRow) -> String {
        row.child.grade.map(|g| self.ui.tf("sfo.grade", "grade", &g.to_string())).unwrap_or_default()
    }
    pub fn summary(&self) -> String {
        let here = self.rows.iter().filter(|r| r.child.arrived_at.is_some() && r.child.left_at.is_none()).count();
        let gone = self.rows.iter().filter(|r| r.child.left_at.is_some()).count();
        let all = self.rows.len();
        crate::web::i18n::tf(
            self.ui.lang,
            "sfo.day.summary",
            &[("here", &here.to_string()), ("gone", &gone.to_string()), ("all", &all.to_string())],
        )
    }
    /// `absent`, `here` or `gone`: the tag's colour and the buttons shown.
    pub fn state(&self, row: &DayRow) -> &'static str {
        match (row.child.arrived_at, row.child.left_at) {
            (None, _) => "absent",
            (Some(_), None) => "here",
            (Some(_), Some(_)) => "gone",
        }
    }
    pub fn status(&self, row: &DayRow) -> String {
        match (row.child.arrived_at, row.child.left_at) {
            (None, _) => self.ui.t("sfo.status.absent").to_owned(),
            (Some(a), None) => self.ui.tf("sfo.status.here", "time", &dates::display_time(a)),
            (Some(_), Some(l)) => self.ui.tf("sfo.status.gone", "time", &dates::display_time(l)),
        }
    }
    pub fn arrived_text(&self, row: &DayRow) -> String {
        row.child
            .arrived_at
            .map(|a| self.ui.tf("sfo.status.arrived_at", "time", &dates::display_time(a)))
            .unwrap_or_default()
    }
    pub fn collected_by(&self, row: &DayRow) -> String {
        row.child.collector().map(|c| self.collector_label(row, c)).unwrap_or_default()
    }
    fn collector_label(&self, row: &DayRow, c: Collector) -> String {
        if let Collector::Code(code) = c {
            return self.ui.t(code.label_key()).to_owned();
        }
        match row.collectors.iter().find(|r| r.collector() == c) {
            Some(r) => {
                let what = match &r.relation {
                    None => self.ui.t("sfo.collector.guardian"),
                    Some(rel) => self.ui.t(&format!("relation.{rel}")),
                };
                format!("{} {} ({what})", r.given_name, r.family_name)
            }
            // Collected by someone no longer on the child's list.
            None => self.ui.t("sfo.collector.former").to_owned(),
        }
    }
    pub fn choices(&self, row: &DayRow) -> Vec<Choice> {
        row.collectors
            .iter()
            .map(|r| r.collector())
            .chain(row.codes.iter().copied().map(Collector::Code))
            .map(|c| Choice { value: c.value(), label: self.collector_label(row, c) })
            .collect()
    }
    /// The collector chosen beside "left now" (after a refused post).
    pub fn quick_selected(&self, row: &DayRow, value: &str) -> bool {
        row.sent_for(Action::Leave).is_some_and(|s| s.collector == value)
    }
    pub fn correction_open(&self, row: &DayRow) -> bool {
        ["arr", "left", "col"].iter().any(|f| self.errors.has(format_args!("{f}-{}", row.child.id)))
    }
    pub fn arrived_value(&self, row: &DayRow) -> String {
        match row.sent_for(Action::Correct) {
            Some(s) => dates::time_value(&s.arrived),
            None => row.child.arrived_at.map(dates::display_time).unwrap_or_default(),
        }
    }
    pub fn left_value(&self, row: &DayRow) -> String {
        match row.sent_for(Action::Correct) {
            Some(s) => dates::time_value(&s.left),
            None => row.child.left_at.map(dates::display_time).unwrap_or_default(),
        }
    }
    pub fn correction_selected(&self, row: &DayRow, value: &str) -> bool {
        match row.sent_for(Action::Correct) {
            Some(s) => s.collector == value,
            None => row.child.collector().is_some_and(|c| c.value() == value),
        }
    }
}
