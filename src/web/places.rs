//! The places a signed-in person can go, in one list: the main menu (`Ui::nav`) and
//! the start page's cards are both made from it, so that every menu entry has a card
//! and every card a menu entry, for every role. A place names its path, its label (the
//! menu entry and the card's heading), the card's description, which of the policy's
//! answers shows it, and which paths count as being there (the menu marks that entry
//! as the current page).
//!
//! Not places: the start page itself (first in the menu, no card), and the cards for a
//! person (a pupil's own card, a guardian's children), which lead to one record.

use crate::policy::Actor;

pub struct Place {
    pub href: &'static str,
    pub label_key: &'static str,
    pub text_key: &'static str,
    /// The policy's answer: whether this actor has anything there.
    pub shown: fn(&Actor) -> bool,
    /// Whether a request path is in this place.
    pub current: fn(&str) -> bool,
}

/// In menu order.
pub static PLACES: &[Place] = &[
    Place {
        href: "/timetable",
        label_key: "nav.timetable",
        text_key: "home.timetable_text",
        // Everyone signed in has a week: their own, their children's, or their teaching;
        // but a guardian whose only child is not at school yet (the intake alone).
        shown: |a| a.audience != crate::policy::Audience::Guardian || !a.children.is_empty(),
        current: |p| p.contains("/timetable"),
    },
    Place {
        href: "/pupils",
        label_key: "nav.pupils",
        text_key: "home.pupils_text",
        shown: Actor::may_list_pupils,
        current: |p| {
            (p.starts_with("/pupils") || p.starts_with("/schools"))
                && !p.contains("/timetable")
                && !p.ends_with("/mail")
                && !p.ends_with("/emergency")
        },
    },
    Place {
        href: "/messages",
        label_key: "nav.messages",
        text_key: "home.messages_text",
        shown: Actor::may_open_messages,
        current: |p| p.starts_with("/messages"),
    },
    Place {
        href: "/emergency",
        label_key: "nav.emergency",
        text_key: "home.emergency_text",
        shown: Actor::may_send_emergency_notices,
        current: |p| p.starts_with("/emergency") || (p.starts_with("/schools/") && p.ends_with("/emergency")),
    },
    Place {
        href: "/absence",
        label_key: "nav.absence",
        text_key: "home.absence_text",
        shown: |a| {
            a.may_register_absence() || a.may_report_absence() || a.may_see_own_absence() || a.may_open_leave_queue()
        },
        current: |p| {
            p.starts_with("/absence") && !p.starts_with("/absence/classes") && !p.starts_with("/absence/statistics")
        },
    },
    Place {
        href: "/assessment",
        label_key: "nav.assessment",
        text_key: "home.assessment_text",
        shown: Actor::may_open_assessment,
        current: |p| p.starts_with("/assessment") && !p.starts_with("/assessment/statistics"),
    },
    Place {
        href: "/assessment/statistics",
        label_key: "nav.grade_statistics",
        text_key: "home.grade_statistics_text",
        shown: Actor::may_read_grade_statistics,
        current: |p| p.starts_with("/assessment/statistics"),
    },
    Place {
        href: "/absence/statistics",
        label_key: "nav.absence_statistics",
        text_key: "home.absence_statistics_text",
        shown: Actor::may_read_absence_statistics,
        current: |p| p.contains("/absence/statistics"),
    },
    Place {
        href: "/absence/classes",
        label_key: "nav.absence_classes",
        text_key: "home.absence_classes_text",
        // Review and totals: the contact teacher's classes, the office's school.
        shown: Actor::may_register_absence,
        current: |p| p.starts_with("/absence/classes"),
    },
    Place {
        href: "/sfo",
        label_key: "nav.sfo",
        text_key: "home.sfo_text",
        shown: Actor::may_open_sfo,
        current: |p| p.starts_with("/sfo"),
    },
    Place {
        href: "/mail",
        label_key: "nav.mail",
        text_key: "home.mail_text",
        shown: Actor::may_view_mail_outbox,
        current: |p| p == "/mail" || (p.starts_with("/schools/") && p.contains("/mail")),
    },
    Place {
        href: "/audit",
        label_key: "nav.audit",
        text_key: "home.audit_text",
        shown: Actor::may_view_audit,
        current: |p| p.starts_with("/audit"),
    },
    Place {
        href: "/admin/role-mappings",
        label_key: "nav.role_mappings",
        text_key: "home.role_mappings_text",
        shown: Actor::may_manage_role_mappings,
        current: |p| p.starts_with("/admin/role-mappings"),
    },
    Place {
        href: "/admin/features",
        label_key: "nav.features",
        text_key: "home.features_text",
        shown: Actor::may_manage_features,
        current: |p| p.starts_with("/admin/features"),
    },
    Place {
        href: "/intake",
        label_key: "nav.intake",
        text_key: "home.intake_text",
        shown: Actor::may_see_intake,
        current: |p| p == "/intake",
    },
    Place {
        href: "/exchanges",
        label_key: "nav.exchanges",
        text_key: "home.exchanges_text",
        shown: Actor::may_export_rosters,
        current: |p| p.starts_with("/exchanges"),
    },
];

/// The places `actor` has, in menu order.
pub fn places_for(actor: &Actor) -> impl Iterator<Item = &'static Place> + '_ {
    PLACES.iter().filter(move |p| (p.shown)(actor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::{self, Lang};

    #[test]
    fn every_place_is_named_and_described_in_every_language() {
        for lang in Lang::ALL {
            let keys = i18n::keys(lang);
            for p in PLACES {
                for key in [p.label_key, p.text_key] {
                    assert!(keys.contains(&key), "{key} missing in {lang:?}");
                }
            }
        }
    }

    #[test]
    fn each_place_is_current_on_its_own_path_only() {
        for p in PLACES {
            assert!((p.current)(p.href), "{} on its own path", p.href);
            let others: Vec<_> = PLACES.iter().filter(|o| (o.current)(p.href)).map(|o| o.href).collect();
            assert_eq!(others, [p.href], "one current entry on {}", p.href);
        }
    }
}
