//! The rules of assessment as pure code (no database, no clock): which kinds of
//! assessment a grade level gets, which values a subject's scale allows, when Fritatt
//! may be given, and how a typed value is read.
//!
//! The rules (opplæringsforskrifta as in force from 1 August 2024, chapter 9 and the
//! directorate's guidance):
//!
//! - Grades 1-7 get no grades (only assessment without grades).
//! - Grades 8-10: half-year assessment with grade in autumn and spring (the spring one
//!   of grade 10 is the final assessment, standpunkt); final grades in grade 10.
//! - Upper secondary (11-13, Vg1-Vg3): half-year assessment with grade per subject in
//!   autumn and spring, and the final grade when the subject ends (any year).
//! - Values: whole grades 1-6; IV (ikke vurdert, not assessed: too little basis);
//!   Fritatt only where an exemption from assessment or from the subject is recorded;
//!   bestått / ikke bestått and deltatt where the subject's scale says so.

use time::Date;

use crate::domain::coded::coded_enum;

coded_enum! {
    /// A kind of assessment period (stored in `assessment_periods.kind`).
    pub enum PeriodKind {
        Autumn = "autumn",
        Spring = "spring",
        Final = "final",
        Exam = "exam",
    }
}

impl PeriodKind {
    pub fn label_key(self) -> &'static str {
        match self {
            PeriodKind::Autumn => "assessment.kind.autumn",
            PeriodKind::Spring => "assessment.kind.spring",
            PeriodKind::Final => "assessment.kind.final",
            PeriodKind::Exam => "assessment.kind.exam",
        }
    }

    /// Whether teachers enter this kind in the group's grid (exam grades come from PAS).
    pub fn in_grid(self) -> bool {
        self != PeriodKind::Exam
    }

    /// Whether a pupil at `grade` level gets an assessment with grade of this kind.
    pub fn applies_to_grade(self, grade: i16) -> bool {
        match self {
            PeriodKind::Autumn => (8..=13).contains(&grade),
            // The spring of grade 10 is the final assessment.
            PeriodKind::Spring => matches!(grade, 8 | 9 | 11..=13),
            PeriodKind::Final | PeriodKind::Exam => (10..=13).contains(&grade),
        }
    }
}

/// Whether a grade level gets grades at all.
pub fn grade_level_has_grades(grade: i16) -> bool {
    grade >= 8
}

coded_enum! {
    /// The scale a subject uses for a kind of assessment (`subjects.*_scale`).
    pub enum Scale {
        Grade = "grade",
        PassFail = "pass_fail",
        Participated = "participated",
        NotAssessed = "none",
    }
}

impl Scale {
    pub fn label_key(self) -> &'static str {
        match self {
            Scale::Grade => "assessment.scale.grade",
            Scale::PassFail => "assessment.scale.pass_fail",
            Scale::Participated => "assessment.scale.participated",
            Scale::NotAssessed => "assessment.scale.none",
        }
    }
}

coded_enum! {
    /// A grade value (stored in `grades.value`; never rename a code).
    pub enum GradeValue {
        One = "1",
        Two = "2",
        Three = "3",
        Four = "4",
        Five = "5",
        Six = "6",
        /// Ikke vurdert: too little basis for a grade.
        NotAssessed = "IV",
        /// Fritatt: exempt (only with an exemption recorded).
        Exempt = "FR",
        /// Bestått.
        Passed = "B",
        /// Ikke bestått.
        Failed = "IB",
        /// Deltatt.
        Participated = "D",
    }
}

impl GradeValue {
    pub const GRADES: [GradeValue; 6] =
        [GradeValue::One, GradeValue::Two, GradeValue::Three, GradeValue::Four, GradeValue::Five, GradeValue::Six];

    /// The value's name in words (for the legend, screen readers and the pupil's page).
    pub fn label_key(self) -> &'static str {
        match self {
            GradeValue::One => "assessment.value.1",
            GradeValue::Two => "assessment.value.2",
            GradeValue::Three => "assessment.value.3",
            GradeValue::Four => "assessment.value.4",
            GradeValue::Five => "assessment.value.5",
            GradeValue::Six => "assessment.value.6",
            GradeValue::NotAssessed => "assessment.value.iv",
            GradeValue::Exempt => "assessment.value.fr",
            GradeValue::Passed => "assessment.value.b",
            GradeValue::Failed => "assessment.value.ib",
            GradeValue::Participated => "assessment.value.d",
        }
    }

    /// What a teacher types for the value (the code; `FR` for Fritatt).
    pub fn typed(self) -> &'static str {
        self.code()
    }

    /// Read what was typed: the code in any case, with surrounding space. `Fritatt`
    /// and the Norwegian words for passed and failed are accepted too.
    pub fn read(raw: &str) -> Option<GradeValue> {
        let s = raw.trim().to_uppercase();
        match s.as_str() {
            "FRITATT" => Some(GradeValue::Exempt),
            "BESTÅTT" => Some(GradeValue::Passed),
            "IKKE BESTÅTT" => Some(GradeValue::Failed),
            "DELTATT" => Some(GradeValue::Participated),
            _ => GradeValue::from_code(&s),
        }
    }
}

/// What kind of exemption is recorded (`assessment_exemptions.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExemptionKind {
    /// Fritatt fra vurdering med karakter (the directorate's subject note FAM02).
    Assessment,
    /// Fritatt fra opplæring i faget (FAM01).
    Subject,
}

impl ExemptionKind {
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "assessment" => Some(ExemptionKind::Assessment),
            "subject" => Some(ExemptionKind::Subject),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            ExemptionKind::Assessment => "assessment",
            ExemptionKind::Subject => "subject",
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            ExemptionKind::Assessment => "assessment.exemption.assessment",
            ExemptionKind::Subject => "assessment.exemption.subject",
        }
    }
}

/// An exemption as recorded: from a day, until a day (or open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exemption {
    pub kind: ExemptionKind,
    pub from: Date,
    pub to: Option<Date>,
}

impl Exemption {
    /// Whether it covers `day`.
    pub fn covers(&self, day: Date) -> bool {
        self.from <= day && self.to.is_none_or(|t| day <= t)
    }
}

/// What one pupil may get in one subject and period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub kind: PeriodKind,
    pub grade_level: i16,
    pub scale: Scale,
    /// An exemption covers the period (its last day of entry).
    pub exempt: bool,
}

/// Why a value is refused (each a message next to the field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueError {
    /// Not a value Tavle knows at all (e.g. `7`, `A`).
    Unknown,
    /// The grade level gets no assessment of this kind (e.g. grade 7, or a final
    /// grade in grade 8).
    NotAtThisLevel,
    /// A value the subject's scale does not use (a grade where the subject is
    /// passed/failed, or the subject is not assessed in this kind).
    NotOnScale,
    /// Fritatt without an exemption recorded for the subject.
    ExemptWithoutExemption,
}

impl ValueError {
    pub fn message_key(self) -> &'static str {
        match self {
            ValueError::Unknown => "assessment.error.unknown_value",
            ValueError::NotAtThisLevel => "assessment.error.not_at_level",
            ValueError::NotOnScale => "assessment.error.not_on_scale",
            ValueError::ExemptWithoutExemption => "assessment.error.exempt_without_exemption",
        }
    }
}

impl Slot {
    /// The values this pupil may get here, in the order the legend shows them.
    pub fn allowed(&self) -> Vec<GradeValue> {
        if !grade_level_has_grades(self.grade_level) || !self.kind.applies_to_grade(self.grade_level) {
            return Vec::new();
        }
        let mut values = match self.scale {
            Scale::Grade => GradeValue::GRADES.to_vec(),
            Scale::PassFail => vec![GradeValue::Passed, GradeValue::Failed],
            Scale::Participated => vec![GradeValue::Participated],
            Scale::NotAssessed => return Vec::new(),
        };
        values.push(GradeValue::NotAssessed);
        if self.exempt {
            values.push(GradeValue::Exempt);
        }
        values
    }

    /// Read a typed value: `Ok(None)` for an empty field (no grade, or clearing one),
    /// else the value if this pupil may get it here.
    pub fn check(&self, raw: &str) -> Result<Option<GradeValue>, ValueError> {
        if raw.trim().is_empty() {
            return Ok(None);
        }
        let value = GradeValue::read(raw).ok_or(ValueError::Unknown)?;
        if !grade_level_has_grades(self.grade_level) || !self.kind.applies_to_grade(self.grade_level) {
            return Err(ValueError::NotAtThisLevel);
        }
        if self.allowed().contains(&value) {
            return Ok(Some(value));
        }
        if value == GradeValue::Exempt {
            return Err(ValueError::ExemptWithoutExemption);
        }
        Err(ValueError::NotOnScale)
    }
}

coded_enum! {
    /// Why a grade was changed after its period's entry window closed
    /// (`grade_history.reason`; never rename a code).
    pub enum ChangeReason {
        RegistrationError = "registration_error",
        CalculationError = "calculation_error",
        ComplaintUpheld = "complaint_upheld",
        ExemptionRecorded = "exemption_recorded",
        LateAssessment = "late_assessment",
    }
}

impl ChangeReason {
    pub fn label_key(self) -> &'static str {
        match self {
            ChangeReason::RegistrationError => "assessment.reason.registration_error",
            ChangeReason::CalculationError => "assessment.reason.calculation_error",
            ChangeReason::ComplaintUpheld => "assessment.reason.complaint_upheld",
            ChangeReason::ExemptionRecorded => "assessment.reason.exemption_recorded",
            ChangeReason::LateAssessment => "assessment.reason.late_assessment",
        }
    }
}

/// Where a period's entry window stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    NotYetOpen,
    Open,
    Closed,
}

impl Window {
    pub fn on(day: Date, opens: Date, closes: Date) -> Self {
        if day < opens {
            Window::NotYetOpen
        } else if day <= closes {
            Window::Open
        } else {
            Window::Closed
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Window::NotYetOpen => "assessment.window.not_yet_open",
            Window::Open => "assessment.window.open",
            Window::Closed => "assessment.window.closed",
        }
    }

    /// The state in a word or two (a tag).
    pub fn label_key_short(self) -> &'static str {
        match self {
            Window::NotYetOpen => "assessment.window.short.not_yet_open",
            Window::Open => "assessment.window.short.open",
            Window::Closed => "assessment.window.short.closed",
        }
    }

    pub fn color(self) -> &'static str {
        match self {
            Window::NotYetOpen => "neutral",
            Window::Open => "success",
            Window::Closed => "warning",
        }
    }
}

coded_enum! {
    /// Order or conduct (orden, oppførsel): the two sides of the conduct grade.
    pub enum Aspect {
        Order = "order",
        Conduct = "conduct",
    }
}

impl Aspect {
    pub fn label_key(self) -> &'static str {
        match self {
            Aspect::Order => "assessment.aspect.order",
            Aspect::Conduct => "assessment.aspect.conduct",
        }
    }
}

coded_enum! {
    /// An order or conduct grade (`conduct_grades.value`; never rename a code).
    pub enum ConductValue {
        /// God.
        Good = "G",
        /// Nokså god.
        FairlyGood = "NG",
        /// Lite god.
        Poor = "LG",
    }
}

impl ConductValue {
    pub fn label_key(self) -> &'static str {
        match self {
            ConductValue::Good => "assessment.conduct.g",
            ConductValue::FairlyGood => "assessment.conduct.ng",
            ConductValue::Poor => "assessment.conduct.lg",
        }
    }

    /// Lowered: the pupil must be warned in good time before the period ends.
    pub fn lowered(self) -> bool {
        self != ConductValue::Good
    }
}

/// Whether a pupil at `grade` level gets order and conduct grades in a period of `kind`:
/// as for grades (from grade 8, half-years and the final assessment).
pub fn conduct_applies(kind: PeriodKind, grade: i16) -> bool {
    kind.in_grid() && kind.applies_to_grade(grade)
}

coded_enum! {
    /// A remark's category (anmerkning), each about order or conduct (`remarks.category`;
    /// never rename a code).
    pub enum RemarkCategory {
        Late = "late",
        Homework = "homework",
        Equipment = "equipment",
        LeftWithoutLeave = "left_without_leave",
        Disruption = "disruption",
        Phone = "phone",
        Language = "language",
        Threats = "threats",
    }
}

impl RemarkCategory {
    pub fn aspect(self) -> Aspect {
        match self {
            RemarkCategory::Late
            | RemarkCategory::Homework
            | RemarkCategory::Equipment
            | RemarkCategory::LeftWithoutLeave => Aspect::Order,
            RemarkCategory::Disruption | RemarkCategory::Phone | RemarkCategory::Language | RemarkCategory::Threats => {
                Aspect::Conduct
            }
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            RemarkCategory::Late => "assessment.remark.late",
            RemarkCategory::Homework => "assessment.remark.homework",
            RemarkCategory::Equipment => "assessment.remark.equipment",
            RemarkCategory::LeftWithoutLeave => "assessment.remark.left_without_leave",
            RemarkCategory::Disruption => "assessment.remark.disruption",
            RemarkCategory::Phone => "assessment.remark.phone",
            RemarkCategory::Language => "assessment.remark.language",
            RemarkCategory::Threats => "assessment.remark.threats",
        }
    }
}

/// The longest note a remark may carry.
pub const REMARK_NOTE_MAX: usize = 200;

/// Why a remark's note is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteError {
    TooLong,
    /// Eleven digits in a row: a national id does not belong in a note.
    NationalId,
    /// Control characters, line breaks or invisible characters.
    Hidden,
}

/// Check a remark's short note: empty is none; at most [`REMARK_NOTE_MAX`] characters,
/// on one line, and no national id.
pub fn check_note(raw: &str) -> Result<Option<String>, NoteError> {
    if crate::domain::text::has_hidden_characters(raw) {
        return Err(NoteError::Hidden);
    }
    let note = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if note.is_empty() {
        return Ok(None);
    }
    if note.chars().count() > REMARK_NOTE_MAX {
        return Err(NoteError::TooLong);
    }
    let mut run = 0;
    for c in note.chars() {
        run = if c.is_ascii_digit() {
            run + 1
        } else if c == ' ' || c == '.' {
            run
        } else {
            0
        };
        if run >= 11 {
            return Err(NoteError::NationalId);
        }
    }
    Ok(Some(crate::domain::text::nfc(&note)))
}

#[cfg(test)]
#[path = "domain_tests.rs"]
mod tests;
