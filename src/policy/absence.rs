//! Absence: the register (per lesson and per day), the guardians' reports, the review
//! and totals, and the school office's statistics and settings.

use crate::db::Conn;
use uuid::Uuid;

use super::actor::*;
use crate::domain::role::Role;
use crate::error::{AppError, Result};

// ---------------------------------------------------------------------------------
// Absence: the teacher's register and the guardians' reports
// ---------------------------------------------------------------------------------

/// School roles that may take the register for a lesson: a teacher registers for any
/// pupil of a school where they teach (DOMAIN.md: "record absence … for all pupils
/// at own school"), and the school office may correct it. In this order of
/// preference when the actor holds several.
const ABSENCE_REGISTRARS: [Role; 4] = [Role::Teacher, Role::OfficeClerk, Role::Principal, Role::DepartmentHead];

/// The schools where the actor may take registers, and whether as the school office
/// (which lists every lesson of the school, not only the actor's own).
#[derive(Debug, Clone)]
pub struct AbsenceRegisterScope {
    pub teacher_at: Vec<Uuid>,
    pub office_at: Vec<Uuid>,
}

impl AbsenceRegisterScope {
    pub fn schools(&self) -> Vec<Uuid> {
        let mut all: Vec<Uuid> = self.teacher_at.iter().chain(&self.office_at).copied().collect();
        all.sort();
        all.dedup();
        all
    }
}

/// May the actor open the register at all? Not found otherwise.
pub fn absence_register_scope(actor: &Actor) -> Result<AbsenceRegisterScope> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let at = |roles: &[Role]| -> Vec<Uuid> {
        let mut v: Vec<Uuid> =
            actor.grants.iter().filter(|g| roles.contains(&g.role)).filter_map(|g| g.school_id).collect();
        v.sort();
        v.dedup();
        v
    };
    let scope = AbsenceRegisterScope { teacher_at: at(&[Role::Teacher]), office_at: at(&SCHOOL_ADMINISTRATORS) };
    if scope.teacher_at.is_empty() && scope.office_at.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(scope)
}

/// The actor may take the register of a group's lessons, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct AbsenceRegisterAccess {
    pub group_id: Uuid,
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

impl AbsenceRegisterAccess {
    /// How a registration records who made it.
    pub fn source(&self) -> &'static str {
        if self.role == Role::Teacher {
            "teacher"
        } else {
            "office"
        }
    }
}

/// May the actor take the register of `group` (a class or teaching group with
/// lessons)? Only at the group's own school. Not found otherwise.
pub async fn absence_register_access(mut conn: Conn<'_>, actor: &Actor, group: Uuid) -> Result<AbsenceRegisterAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let school: Option<Uuid> =
        sqlx::query_scalar("SELECT school_id FROM groups WHERE tenant_id = $1 AND id = $2 AND kind <> 'sfo'")
            .bind(conn.tenant)
            .bind(group)
            .fetch_optional(&mut *conn)
            .await?;
    let school = school.ok_or(AppError::NotFound)?;
    let role = actor.at_school(school, &ABSENCE_REGISTRARS).ok_or(AppError::NotFound)?;
    Ok(AbsenceRegisterAccess { group_id: group, school_id: school, role, purpose: Purpose::for_role(role) })
}

/// The actor may read and make absence reports for a child, as their guardian.
#[derive(Debug, Clone, Copy)]
pub struct AbsenceReportAccess {
    pub pupil_id: Uuid,
    pub purpose: Purpose,
}

/// May the actor report absence for `pupil`? Only a guardian with parental
/// responsibility for a child under 18 (`Actor::children`); the other guardian with
/// responsibility sees the same reports. Not found otherwise.
pub fn absence_report_access(actor: &Actor, pupil: Uuid) -> Result<AbsenceReportAccess> {
    // The child's absence page names lessons, teachers and the school: not for a
    // guardian from whom the child's whereabouts are protected.
    if actor.audience == Audience::Guardian && actor.children.contains(&pupil) && !actor.whereabouts_protected(pupil) {
        Ok(AbsenceReportAccess { pupil_id: pupil, purpose: Purpose::GuardianAccess })
    } else {
        Err(AppError::NotFound)
    }
}

impl Actor {
    /// Whether the actor may take registers (for the navigation).
    pub fn may_register_absence(&self) -> bool {
        absence_register_scope(self).is_ok()
    }

    /// Whether the actor may report a child's absence (for the navigation).
    pub fn may_report_absence(&self) -> bool {
        self.audience == Audience::Guardian && !self.placed_children().is_empty()
    }
}

// ---------------------------------------------------------------------------------
// Absence review, deduction and totals
// ---------------------------------------------------------------------------------

/// The actor may review a pupil's absence (mark days documented or not, deduct), and
/// see the pupil's totals, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct AbsenceReviewAccess {
    pub pupil_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
    /// How a review records who made it: `contact_teacher` or `office`.
    pub source: &'static str,
}

/// The schools where the actor (`$3`) is the pupil's (`$2`) contact teacher today.
static CONTACT_AT_SQL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {}", super::staffing::contact_teacher_schools("$2", "$3")));

/// May the actor review `pupil`'s absence? The contact teacher of a base group the
/// pupil belongs to now, teaching at that group's school (DOMAIN.md: contact teachers
/// review "their" pupils' absence), and the office of a school where the pupil is
/// enrolled now (principal, clerk, department head decide and document too). Not
/// found otherwise: other teachers register absence but do not review it.
pub async fn absence_review_access(mut conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<AbsenceReviewAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let schools: Vec<Uuid> = sqlx::query_scalar(
        "SELECT school_id FROM enrolments WHERE tenant_id = $1 AND pupil_id = $2 AND from_date <= tavle_today() \
           AND (to_date IS NULL OR to_date > tavle_today())",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?;
    for &school in &schools {
        if let Some(role) = actor.at_school(school, &SCHOOL_ADMINISTRATORS) {
            return Ok(AbsenceReviewAccess {
                pupil_id: pupil,
                role,
                purpose: Purpose::for_role(role),
                source: "office",
            });
        }
    }
    let contact_at: Vec<Uuid> = sqlx::query_scalar(&CONTACT_AT_SQL)
        .bind(conn.tenant)
        .bind(pupil)
        .bind(actor.person_id)
        .fetch_one(&mut *conn)
        .await?;
    if contact_at.iter().any(|&s| schools.contains(&s) && actor.at_school(s, &[Role::Teacher]).is_some()) {
        return Ok(AbsenceReviewAccess {
            pupil_id: pupil,
            role: Role::Teacher,
            purpose: Purpose::Teaching,
            source: "contact_teacher",
        });
    }
    Err(AppError::NotFound)
}

/// The actor may see a class's absence overview, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct AbsenceClassAccess {
    pub group_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

/// May the actor see the absence overview of `group` (a base group)? Its contact
/// teacher, teaching at its school, and the office of its school. Not found otherwise.
pub async fn absence_class_access(mut conn: Conn<'_>, actor: &Actor, group: Uuid) -> Result<AbsenceClassAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let row: Option<(Uuid, bool)> = sqlx::query_as(
        "SELECT g.school_id, EXISTS (SELECT 1 FROM group_staff s WHERE s.tenant_id = $1 \
                AND s.group_id = g.id AND s.staff_id = $3 AND s.assignment = 'contact_teacher') \
         FROM groups g WHERE g.tenant_id = $1 AND g.id = $2 AND g.kind = 'base'",
    )
    .bind(conn.tenant)
    .bind(group)
    .bind(actor.person_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (school, contact) = row.ok_or(AppError::NotFound)?;
    if let Some(role) = actor.at_school(school, &SCHOOL_ADMINISTRATORS) {
        return Ok(AbsenceClassAccess { group_id: group, role, purpose: Purpose::for_role(role) });
    }
    if contact && actor.at_school(school, &[Role::Teacher]).is_some() {
        return Ok(AbsenceClassAccess { group_id: group, role: Role::Teacher, purpose: Purpose::Teaching });
    }
    Err(AppError::NotFound)
}

/// The base groups of the current school years whose overview the actor may open:
/// those they are contact teacher of (at a school where they teach), and every class
/// of a school where they work in the office. Empty for everyone else.
pub async fn absence_classes(mut conn: Conn<'_>, actor: &Actor) -> Result<Vec<Uuid>> {
    if !actor.is_staff() {
        return Ok(Vec::new());
    }
    let at = |roles: &[Role]| -> Vec<Uuid> {
        actor.grants.iter().filter(|g| roles.contains(&g.role)).filter_map(|g| g.school_id).collect()
    };
    Ok(sqlx::query_scalar(
        "SELECT g.id FROM groups g JOIN school_years y ON y.tenant_id = g.tenant_id AND y.id = g.school_year_id \
         WHERE g.tenant_id = $1 AND g.kind = 'base' AND y.starts <= tavle_today() AND y.ends >= tavle_today() \
           AND (g.school_id = ANY($3) OR (g.school_id = ANY($4) AND EXISTS (SELECT 1 FROM group_staff s \
                WHERE s.tenant_id = $1 AND s.group_id = g.id AND s.staff_id = $2 \
                  AND s.assignment = 'contact_teacher')))",
    )
    .bind(conn.tenant)
    .bind(actor.person_id)
    .bind(at(&SCHOOL_ADMINISTRATORS))
    .bind(at(&[Role::Teacher]))
    .fetch_all(&mut *conn)
    .await?)
}

/// The actor may see a pupil's absence overview as the pupil or their guardian.
#[derive(Debug, Clone, Copy)]
pub struct AbsenceOverviewAccess {
    pub pupil_id: Uuid,
    pub purpose: Purpose,
}

/// The signed-in pupil's own overview. Not found for anyone else.
pub fn own_absence_access(actor: &Actor) -> Result<AbsenceOverviewAccess> {
    if actor.audience == Audience::Pupil {
        Ok(AbsenceOverviewAccess { pupil_id: actor.person_id, purpose: Purpose::OwnData })
    } else {
        Err(AppError::NotFound)
    }
}

/// A child's overview for a guardian: as the child's reports (parental
/// responsibility, child under 18). Not found otherwise.
pub fn child_absence_access(actor: &Actor, pupil: Uuid) -> Result<AbsenceOverviewAccess> {
    let a = absence_report_access(actor, pupil)?;
    Ok(AbsenceOverviewAccess { pupil_id: a.pupil_id, purpose: a.purpose })
}

impl Actor {
    /// Whether the actor has an absence overview of their own (for the navigation).
    pub fn may_see_own_absence(&self) -> bool {
        own_absence_access(self).is_ok()
    }
}

// ---------------------------------------------------------------------------------
// Absence for the school office: the day register, the school's registration mode,
// and the school's absence statistics
// ---------------------------------------------------------------------------------

/// May the actor take the day register of `class` (a base group)? The same people as
/// for a lesson's register ([`absence_register_access`]): teachers and the office of
/// the class's own school. Not found otherwise, also for a group that is not a class.
pub async fn absence_day_register_access(
    mut conn: Conn<'_>,
    actor: &Actor,
    class: Uuid,
) -> Result<AbsenceRegisterAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let is_class: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM groups WHERE tenant_id = $1 AND id = $2 AND kind = 'base')")
            .bind(conn.tenant)
            .bind(class)
            .fetch_one(&mut *conn)
            .await?;
    if !is_class {
        return Err(AppError::NotFound);
    }
    absence_register_access(conn.re(), actor, class).await
}

/// Who reads a school's absence statistics: its office (principal, department head,
/// office clerk) and the municipality-wide readers (municipal director, system
/// administrator, IT support). The statistics are counts per class, not about a
/// pupil; teachers see their own pupils elsewhere.
const ABSENCE_STATISTICS_SCHOOL_READERS: [Role; 3] = [Role::Principal, Role::DepartmentHead, Role::OfficeClerk];

/// The actor may read `school`'s absence statistics, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct AbsenceStatisticsAccess {
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

/// May the actor read the absence statistics of `school`? Not found otherwise.
pub fn absence_statistics_access(actor: &Actor, school: Uuid) -> Result<AbsenceStatisticsAccess> {
    let role = actor
        .at_school(school, &ABSENCE_STATISTICS_SCHOOL_READERS)
        .or_else(|| actor.tenant_wide(&TENANT_WIDE_PUPIL_READERS))
        .ok_or(AppError::NotFound)?;
    Ok(AbsenceStatisticsAccess { school_id: school, role, purpose: Purpose::for_role(role) })
}

/// The actor may change how `school` takes the register, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct AbsenceSettingsEditor {
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

/// May the actor set whether `school` registers per lesson or per day? The school's
/// principal (a decision of the school's management) and the municipality's system
/// administrator. Not found otherwise.
pub fn absence_settings_editor(actor: &Actor, school: Uuid) -> Result<AbsenceSettingsEditor> {
    let role = actor
        .at_school(school, &[Role::Principal])
        .or_else(|| actor.tenant_wide(&[Role::SystemAdmin]))
        .ok_or(AppError::NotFound)?;
    Ok(AbsenceSettingsEditor { school_id: school, role, purpose: Purpose::for_role(role) })
}

impl Actor {
    /// The schools whose absence statistics the actor may open from their own
    /// employment (for the navigation; municipal readers choose a school elsewhere).
    pub fn absence_statistics_schools(&self) -> Vec<Uuid> {
        let mut v: Vec<Uuid> = self
            .grants
            .iter()
            .filter(|g| self.is_staff() && ABSENCE_STATISTICS_SCHOOL_READERS.contains(&g.role))
            .filter_map(|g| g.school_id)
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// The schools whose absence statistics the actor may open: every school for the
/// municipality-wide readers, the schools of their employment for the school office.
/// Not found when none.
pub async fn absence_statistics_school_list(mut conn: Conn<'_>, actor: &Actor) -> Result<Vec<Uuid>> {
    if actor.tenant_wide(&TENANT_WIDE_PUPIL_READERS).is_some() {
        return Ok(sqlx::query_scalar("SELECT id FROM schools WHERE tenant_id = $1 ORDER BY name")
            .bind(conn.tenant)
            .fetch_all(&mut *conn)
            .await?);
    }
    let schools = actor.absence_statistics_schools();
    if schools.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(schools)
}

impl Actor {
    /// Whether the actor may open any school's absence statistics (for the navigation).
    pub fn may_read_absence_statistics(&self) -> bool {
        self.tenant_wide(&TENANT_WIDE_PUPIL_READERS).is_some() || !self.absence_statistics_schools().is_empty()
    }
}

access_in_role!(
    AbsenceRegisterAccess,
    AbsenceReviewAccess,
    AbsenceClassAccess,
    AbsenceStatisticsAccess,
    AbsenceSettingsEditor,
);
access_as_themself!(AbsenceReportAccess, AbsenceOverviewAccess);
