//! The values of SFO attendance, parsed once at the edge: what the staff member did
//! (the button pressed), who collected the child, and which dates may be changed.

use time::{Date, Time};
use uuid::Uuid;

/// How far back a day may be corrected (yesterday is fine, last term is not: by then
/// the record has been used, for pick-up questions and for the invoice basis).
pub const CORRECTION_DAYS: i64 = 14;

/// The button that sent the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// "Arrived now": the server's current time.
    Arrive,
    /// "Left now", with the collector chosen beside the button.
    Leave,
    /// Times and collector as typed (a correction, or a day recorded afterwards).
    Correct,
    /// Remove the day's record (recorded for the wrong child).
    Clear,
}

impl Action {
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "arrive" => Some(Action::Arrive),
            "leave" => Some(Action::Leave),
            "correct" => Some(Action::Correct),
            "clear" => Some(Action::Clear),
            _ => None,
        }
    }
}

/// The ways a child may leave SFO without being collected by a named person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveCode {
    /// Went home alone, as agreed with the guardians.
    Alone,
    /// Taken by school transport or a taxi arranged by the municipality.
    Transport,
    /// Taken to an activity (sports, music school) by its organiser.
    Activity,
}

impl LeaveCode {
    pub const ALL: [LeaveCode; 3] = [LeaveCode::Alone, LeaveCode::Transport, LeaveCode::Activity];

    pub fn code(self) -> &'static str {
        match self {
            LeaveCode::Alone => "alone",
            LeaveCode::Transport => "transport",
            LeaveCode::Activity => "activity",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        LeaveCode::ALL.into_iter().find(|c| c.code() == code)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            LeaveCode::Alone => "sfo.collector.alone",
            LeaveCode::Transport => "sfo.collector.transport",
            LeaveCode::Activity => "sfo.collector.activity",
        }
    }
}

/// What the guardians have said about a child's way home (`pickup_arrangements`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Arrangement {
    pub home_alone: bool,
    /// From which day the child may go home alone (None: from when it was given).
    pub alone_from: Option<Date>,
    /// Not before this time of day (None: any time).
    pub alone_after: Option<Time>,
    pub school_transport: bool,
}

impl Arrangement {
    /// The ways a child may leave on `date` without a named person: home alone and
    /// school transport only as the guardians have said; an activity's organiser always
    /// (the guardians arrange the activity).
    pub fn codes(&self, date: Date) -> Vec<LeaveCode> {
        let mut codes = Vec::new();
        if self.home_alone && self.alone_from.is_none_or(|from| from <= date) {
            codes.push(LeaveCode::Alone);
        }
        if self.school_transport {
            codes.push(LeaveCode::Transport);
        }
        codes.push(LeaveCode::Activity);
        codes
    }

    /// Whether a child leaving alone at `at` leaves too early by the guardians' word.
    pub fn too_early_alone(&self, at: Time) -> bool {
        self.alone_after.is_some_and(|after| at < after)
    }
}

/// Who collected the child, as the form's `collector` value names it:
/// `guardian-<person id>`, `contact-<contact person id>` or a [`LeaveCode`].
/// Whether that person may collect *this* child is checked against the child's
/// list; parsing only says what the value means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collector {
    Guardian(Uuid),
    Contact(Uuid),
    Code(LeaveCode),
}

impl Collector {
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if let Some(id) = raw.strip_prefix("guardian-") {
            return Uuid::parse_str(id).ok().map(Collector::Guardian);
        }
        if let Some(id) = raw.strip_prefix("contact-") {
            return Uuid::parse_str(id).ok().map(Collector::Contact);
        }
        LeaveCode::from_code(raw).map(Collector::Code)
    }

    /// The form value (the inverse of [`Collector::parse`]).
    pub fn value(self) -> String {
        match self {
            Collector::Guardian(id) => format!("guardian-{id}"),
            Collector::Contact(id) => format!("contact-{id}"),
            Collector::Code(c) => c.code().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn home_alone_and_transport_only_as_the_guardians_have_said() {
        use time::macros::{date, time};
        let day = date!(2026 - 12 - 07);
        assert_eq!(Arrangement::default().codes(day), [LeaveCode::Activity]);
        let alone = Arrangement {
            home_alone: true,
            alone_from: Some(date!(2026 - 12 - 08)),
            alone_after: Some(time!(15:00)),
            school_transport: false,
        };
        assert_eq!(alone.codes(day), [LeaveCode::Activity], "not before the first day");
        assert_eq!(alone.codes(date!(2026 - 12 - 08)), [LeaveCode::Alone, LeaveCode::Activity]);
        assert!(alone.too_early_alone(time!(14:59)));
        assert!(!alone.too_early_alone(time!(15:00)));
        let transport = Arrangement { school_transport: true, ..Arrangement::default() };
        assert_eq!(transport.codes(day), [LeaveCode::Transport, LeaveCode::Activity]);
    }

    #[test]
    fn collectors_parse_and_print_back() {
        let id = Uuid::new_v4();
        for c in [Collector::Guardian(id), Collector::Contact(id), Collector::Code(LeaveCode::Alone)] {
            assert_eq!(Collector::parse(&c.value()), Some(c));
        }
        for bad in ["", "guardian-", "guardian-x", "teacher-00000000-0000-0000-0000-000000000000", "Mormor", "ALONE"] {
            assert_eq!(Collector::parse(bad), None, "{bad}");
        }
        assert_eq!(Action::from_code("arrive"), Some(Action::Arrive));
        assert_eq!(Action::from_code("delete"), None);
    }

    proptest! {
        /// Free text never becomes a collector: only the three codes and the two
        /// id forms parse.
        #[test]
        fn free_text_is_never_a_collector(s in "\\PC{0,40}") {
            let parsed = Collector::parse(&s);
            let is_code = ["alone", "transport", "activity"].contains(&s.trim());
            let is_id = s.trim().starts_with("guardian-") || s.trim().starts_with("contact-");
            prop_assert!(parsed.is_none() || is_code || is_id);
        }
    }
}
