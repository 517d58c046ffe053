//! Leave applications (permisjon): a guardian with parental responsibility applies in
//! advance for whole school days with a reason from the municipality's list; the
//! school decides. Up to the school's limit of school days (a municipal default,
//! changed per school by its principal) the child's contact teacher decides, longer
//! leave the principal or a department head, who may also decide short leave. Both
//! guardians see the answer: approved or rejected with a code, and in which capacity
//! it was decided, never by whom. Approved leave shows in the register.
//!
//! - `apply`: the guardians' page for a child: apply, see, withdraw a pending one.
//! - `review`: the school's list of pending applications and the page to decide one.
//! - `settings`: a school's limit between short and longer leave.
//! - `queries`: the SQL, including [`queries::approved_leave`] for other features.

mod apply;
pub mod queries;
mod review;
mod settings;

pub use apply::{create, show, withdraw};
pub use review::{decide, list, show_application};
pub use settings::{save_settings, show_settings};

/// How far ahead one may apply (a school year's planning horizon).
pub const MAX_DAYS_AHEAD: i64 = 180;

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveStatus {
    Pending,
    Approved,
    Rejected,
    Withdrawn,
}

impl LeaveStatus {
    pub const ALL: [LeaveStatus; 4] =
        [LeaveStatus::Pending, LeaveStatus::Approved, LeaveStatus::Rejected, LeaveStatus::Withdrawn];

    pub fn code(self) -> &'static str {
        match self {
            LeaveStatus::Pending => "pending",
            LeaveStatus::Approved => "approved",
            LeaveStatus::Rejected => "rejected",
            LeaveStatus::Withdrawn => "withdrawn",
        }
    }

    /// Unknown codes read as pending: the schema allows no others.
    pub fn from_code(code: &str) -> Self {
        LeaveStatus::ALL.into_iter().find(|s| s.code() == code).unwrap_or(LeaveStatus::Pending)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            LeaveStatus::Pending => "leave.status.pending",
            LeaveStatus::Approved => "leave.status.approved",
            LeaveStatus::Rejected => "leave.status.rejected",
            LeaveStatus::Withdrawn => "leave.status.withdrawn",
        }
    }

    /// The tag colour of the status.
    pub fn color(self) -> &'static str {
        match self {
            LeaveStatus::Pending => "warning",
            LeaveStatus::Approved => "success",
            LeaveStatus::Rejected => "danger",
            LeaveStatus::Withdrawn => "neutral",
        }
    }
}

/// `1.12.2026` or `1.12.2026–3.12.2026`.
pub fn period(first: time::Date, last: time::Date) -> String {
    use super::domain::display_date;
    if first == last {
        display_date(first)
    } else {
        format!("{}–{}", display_date(first), display_date(last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for s in LeaveStatus::ALL {
            assert_eq!(LeaveStatus::from_code(s.code()), s);
        }
        assert_eq!(LeaveStatus::from_code("nonsense"), LeaveStatus::Pending);
    }
}
