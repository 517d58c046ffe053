//! Worked examples of the value rules, and properties over every combination.

use proptest::prelude::*;
use time::macros::date;

use super::*;

fn slot(kind: PeriodKind, grade_level: i16, scale: Scale, exempt: bool) -> Slot {
    Slot { kind, grade_level, scale, exempt }
}

#[test]
fn grades_one_to_seven_get_no_grades() {
    for level in 1..=7 {
        for kind in PeriodKind::ALL {
            let s = slot(*kind, level, Scale::Grade, true);
            assert!(s.allowed().is_empty(), "grade {level} {kind:?}");
            assert_eq!(s.check("4"), Err(ValueError::NotAtThisLevel));
            assert_eq!(s.check(""), Ok(None), "an empty field is never an error");
        }
    }
}

#[test]
fn lower_secondary_gets_half_years_and_final_grades_in_grade_ten() {
    let g = Scale::Grade;
    assert_eq!(slot(PeriodKind::Autumn, 8, g, false).check("4"), Ok(Some(GradeValue::Four)));
    assert_eq!(slot(PeriodKind::Spring, 9, g, false).check("6"), Ok(Some(GradeValue::Six)));
    assert_eq!(slot(PeriodKind::Autumn, 10, g, false).check("1"), Ok(Some(GradeValue::One)));
    // Grade 10's spring is the final assessment.
    assert_eq!(slot(PeriodKind::Spring, 10, g, false).check("3"), Err(ValueError::NotAtThisLevel));
    assert_eq!(slot(PeriodKind::Final, 10, g, false).check("3"), Ok(Some(GradeValue::Three)));
    assert_eq!(slot(PeriodKind::Final, 9, g, false).check("3"), Err(ValueError::NotAtThisLevel));
    assert_eq!(slot(PeriodKind::Final, 8, g, false).check("3"), Err(ValueError::NotAtThisLevel));
}

#[test]
fn upper_secondary_gets_half_years_and_final_grades_every_year() {
    for level in 11..=13 {
        for kind in [PeriodKind::Autumn, PeriodKind::Spring, PeriodKind::Final] {
            assert_eq!(slot(kind, level, Scale::Grade, false).check("5"), Ok(Some(GradeValue::Five)), "{level}");
        }
    }
}

#[test]
fn values_outside_one_to_six_or_unknown_are_refused() {
    let s = slot(PeriodKind::Autumn, 9, Scale::Grade, false);
    for bad in ["7", "0", "A", "4+", "-", "4.5", "44"] {
        assert_eq!(s.check(bad), Err(ValueError::Unknown), "{bad}");
    }
    assert_eq!(s.check(" iv "), Ok(Some(GradeValue::NotAssessed)));
    assert_eq!(s.check("IV"), Ok(Some(GradeValue::NotAssessed)));
}

#[test]
fn fritatt_needs_an_exemption() {
    let without = slot(PeriodKind::Autumn, 9, Scale::Grade, false);
    assert_eq!(without.check("FR"), Err(ValueError::ExemptWithoutExemption));
    assert_eq!(without.check("fritatt"), Err(ValueError::ExemptWithoutExemption));
    let with = slot(PeriodKind::Autumn, 9, Scale::Grade, true);
    assert_eq!(with.check("fr"), Ok(Some(GradeValue::Exempt)));
    assert!(with.allowed().contains(&GradeValue::Exempt));
    assert!(!without.allowed().contains(&GradeValue::Exempt));
}

#[test]
fn the_scale_decides_between_grades_pass_fail_and_participated() {
    let pf = slot(PeriodKind::Autumn, 9, Scale::PassFail, false);
    assert_eq!(pf.check("B"), Ok(Some(GradeValue::Passed)));
    assert_eq!(pf.check("ikke bestått"), Ok(Some(GradeValue::Failed)));
    assert_eq!(pf.check("4"), Err(ValueError::NotOnScale));
    let d = slot(PeriodKind::Autumn, 9, Scale::Participated, false);
    assert_eq!(d.check("D"), Ok(Some(GradeValue::Participated)));
    assert_eq!(d.check("B"), Err(ValueError::NotOnScale));
    let grade = slot(PeriodKind::Autumn, 9, Scale::Grade, false);
    assert_eq!(grade.check("B"), Err(ValueError::NotOnScale));
    let none = slot(PeriodKind::Autumn, 9, Scale::NotAssessed, true);
    assert!(none.allowed().is_empty());
    assert_eq!(none.check("4"), Err(ValueError::NotOnScale));
}

#[test]
fn exemptions_cover_their_days() {
    let e = Exemption { kind: ExemptionKind::Assessment, from: date!(2026 - 08 - 17), to: Some(date!(2026 - 12 - 18)) };
    assert!(e.covers(date!(2026 - 08 - 17)));
    assert!(e.covers(date!(2026 - 12 - 18)));
    assert!(!e.covers(date!(2026 - 12 - 19)));
    assert!(!e.covers(date!(2026 - 08 - 16)));
    let open = Exemption { to: None, ..e };
    assert!(open.covers(date!(2030 - 01 - 01)));
}

#[test]
fn the_window_is_open_from_its_first_to_its_last_day() {
    let (o, c) = (date!(2026 - 12 - 01), date!(2026 - 12 - 18));
    assert_eq!(Window::on(date!(2026 - 11 - 30), o, c), Window::NotYetOpen);
    assert_eq!(Window::on(o, o, c), Window::Open);
    assert_eq!(Window::on(c, o, c), Window::Open);
    assert_eq!(Window::on(date!(2026 - 12 - 19), o, c), Window::Closed);
}

#[test]
fn codes_round_trip() {
    for v in GradeValue::ALL {
        assert_eq!(GradeValue::read(v.typed()), Some(*v));
        assert_eq!(GradeValue::read(&v.code().to_lowercase()), Some(*v));
    }
    for r in ChangeReason::ALL {
        assert_eq!(ChangeReason::from_code(r.code()), Some(*r));
    }
}

fn any_kind() -> impl Strategy<Value = PeriodKind> {
    prop::sample::select(PeriodKind::ALL.to_vec())
}

fn any_scale() -> impl Strategy<Value = Scale> {
    prop::sample::select(Scale::ALL.to_vec())
}

proptest! {
    /// Whatever the slot, `check` accepts exactly the values `allowed` lists.
    #[test]
    fn check_accepts_exactly_what_allowed_lists(
        kind in any_kind(), level in 1i16..=13, scale in any_scale(), exempt in any::<bool>()
    ) {
        let s = slot(kind, level, scale, exempt);
        let allowed = s.allowed();
        for v in GradeValue::ALL {
            prop_assert_eq!(s.check(v.code()).is_ok(), allowed.contains(v), "{:?}", v);
        }
        // Fritatt is never allowed without an exemption, and a grade never below grade 8.
        if !exempt { prop_assert!(!allowed.contains(&GradeValue::Exempt)); }
        if level < 8 { prop_assert!(allowed.is_empty()); }
    }
}

#[test]
fn conduct_follows_the_grade_levels_of_grades() {
    assert!(!conduct_applies(PeriodKind::Autumn, 7));
    assert!(conduct_applies(PeriodKind::Autumn, 8));
    assert!(conduct_applies(PeriodKind::Final, 10));
    assert!(!conduct_applies(PeriodKind::Spring, 10));
    assert!(!conduct_applies(PeriodKind::Exam, 10), "exams have no conduct grade");
    assert!(!ConductValue::Good.lowered());
    assert!(ConductValue::FairlyGood.lowered() && ConductValue::Poor.lowered());
}

#[test]
fn remark_notes_are_short_and_hold_no_national_id() {
    assert_eq!(check_note("  "), Ok(None));
    assert_eq!(check_note(" Kom  15  min for sent "), Ok(Some("Kom 15 min for sent".to_owned())));
    assert_eq!(check_note("Kom\r\nfor sent"), Err(NoteError::Hidden), "one line");
    assert_eq!(check_note("for\u{202e}sent"), Err(NoteError::Hidden));
    assert_eq!(check_note("Kom 15 min for sent"), Ok(Some("Kom 15 min for sent".to_owned())));
    assert_eq!(check_note(&"a".repeat(201)), Err(NoteError::TooLong));
    assert_eq!(check_note(&"a".repeat(200)).map(|n| n.map(|s| s.len())), Ok(Some(200)));
    assert_eq!(check_note("fnr 12345678901"), Err(NoteError::NationalId));
    assert_eq!(check_note("fnr 123456 78901"), Err(NoteError::NationalId));
    assert_eq!(check_note("rom 101, time 3"), Ok(Some("rom 101, time 3".to_owned())));
    for c in RemarkCategory::ALL {
        assert_eq!(RemarkCategory::from_code(c.code()), Some(*c));
    }
}
