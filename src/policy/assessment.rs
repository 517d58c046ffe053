//! Assessment: who enters a group's grades, who reads a pupil's grades and their
//! history, who changes a grade after its period has closed, and who sets a school's
//! assessment periods.
//!
//! From the issue and DOMAIN.md: the teachers who teach a group enter its grades while
//! the period's window is open; the school's leaders (principal, department head) read
//! every grade of their school and alone change one after the window has closed (with a
//! reason); a pupil's contact teacher reads the pupil's grades; the school office sets
//! the periods (with the leaders). Pupils read their own published grades, guardians
//! with parental responsibility their child's (under 18; see `Actor::children`). No
//! municipal role reads named grades (statistics come without names).

use crate::db::Conn;
use uuid::Uuid;

use super::actor::*;
use super::pupils::{current_schools, office_for_pupil, OFFICE};
use crate::domain::role::Role;
use crate::error::{AppError, Result};

/// The school's leaders: they read every grade and change closed ones.
const LEADERS: [Role; 2] = [Role::Principal, Role::DepartmentHead];
/// Who sets a school's periods: the office and the leaders.
const PERIOD_KEEPERS: [Role; 3] = OFFICE;

/// The schools where the actor has grade work: as a teacher (their own groups), as a
/// leader (every group), or in the office (the periods).
#[derive(Debug, Clone)]
pub struct AssessmentScope {
    pub person_id: Uuid,
    pub teacher_at: Vec<Uuid>,
    pub leader_at: Vec<Uuid>,
    pub office_at: Vec<Uuid>,
}

fn schools_with(actor: &Actor, roles: &[Role]) -> Vec<Uuid> {
    let mut v: Vec<Uuid> =
        actor.grants.iter().filter(|g| roles.contains(&g.role)).filter_map(|g| g.school_id).collect();
    v.sort();
    v.dedup();
    v
}

/// May the actor open the staff side of assessment? Staff with a school role there.
/// Not found otherwise.
pub fn assessment_scope(actor: &Actor) -> Result<AssessmentScope> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let scope = AssessmentScope {
        person_id: actor.person_id,
        teacher_at: schools_with(actor, &[Role::Teacher]),
        leader_at: schools_with(actor, &LEADERS),
        office_at: schools_with(actor, &PERIOD_KEEPERS),
    };
    if scope.teacher_at.is_empty() && scope.leader_at.is_empty() && scope.office_at.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(scope)
}

impl Actor {
    /// Whether "Grades" is in the actor's menu: staff with grade work, a pupil, a
    /// guardian with a child to follow.
    pub fn may_open_assessment(&self) -> bool {
        match self.audience {
            Audience::Staff => assessment_scope(self).is_ok(),
            Audience::Pupil => true,
            Audience::Guardian => !self.placed_children().is_empty(),
        }
    }
}

/// The actor may see a teaching group's grid of grades, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct GradeGroupAccess {
    pub group_id: Uuid,
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
    /// Teaches the group: enters its grades while the window is open.
    pub teaches: bool,
    /// A leader of the school: reads, and changes grades after the window has closed.
    pub leads: bool,
}

/// May the actor open the grid of `group` (a teaching group with a subject)? Its
/// teachers (at its school) and the school's leaders. Not found otherwise, so a
/// teacher cannot learn of another group's grades, nor anyone of another school's.
pub async fn grade_group_access(conn: Conn<'_>, actor: &Actor, group: Uuid) -> Result<GradeGroupAccess> {
    assigned_or_leader(conn, actor, group, "teaching", "teacher").await
}

/// May the actor open the order and conduct grades and the written warnings of `class`
/// (a base group)? Its contact teacher (a teacher at its school) sets and sends them;
/// the school's leaders read them, change them after closing and send warnings too.
/// The answer is a [`GradeGroupAccess`] whose `teaches` means "is the contact teacher".
/// Not found otherwise.
pub async fn class_assessment_access(conn: Conn<'_>, actor: &Actor, class: Uuid) -> Result<GradeGroupAccess> {
    assigned_or_leader(conn, actor, class, "base", "contact_teacher").await
}

/// The rule both answers share: a group of `kind` (a teaching group only with a
/// subject) is opened by staff assigned to it as `assignment` who teach at its school,
/// and by its school's leaders.
async fn assigned_or_leader(
    mut conn: Conn<'_>,
    actor: &Actor,
    group: Uuid,
    kind: &str,
    assignment: &str,
) -> Result<GradeGroupAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let facts: Option<(Uuid, bool)> = sqlx::query_as(
        "SELECT g.school_id, \
           EXISTS (SELECT 1 FROM group_staff s WHERE s.tenant_id = $1 AND s.group_id = g.id \
                   AND s.staff_id = $3 AND s.assignment = $5) \
         FROM groups g \
         WHERE g.tenant_id = $1 AND g.id = $2 AND g.kind = $4 AND (g.kind <> 'teaching' OR g.subject_id IS NOT NULL)",
    )
    .bind(conn.tenant)
    .bind(group)
    .bind(actor.person_id)
    .bind(kind)
    .bind(assignment)
    .fetch_optional(&mut *conn)
    .await?;
    let (school, assigned) = facts.ok_or(AppError::NotFound)?;
    let teaches = assigned && actor.at_school(school, &[Role::Teacher]).is_some();
    let leader = actor.at_school(school, &LEADERS);
    let role = match (teaches, leader) {
        (true, _) => Role::Teacher,
        (false, Some(r)) => r,
        (false, None) => return Err(AppError::NotFound),
    };
    Ok(GradeGroupAccess {
        group_id: group,
        school_id: school,
        role,
        purpose: Purpose::for_role(role),
        teaches,
        leads: leader.is_some(),
    })
}

/// The actor may see and record a pupil's remarks, acting as `role`, at `school`.
#[derive(Debug, Clone, Copy)]
pub struct RemarkAccess {
    pub pupil_id: Uuid,
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
    /// A leader of the school: may withdraw any remark, not only their own.
    pub leads: bool,
}

/// May the actor see and record remarks (anmerkninger) for `pupil`? The teachers and the
/// leaders of a school where the pupil is enrolled now (a remark is given in a lesson).
/// Not found otherwise.
pub async fn remark_access(conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<RemarkAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    for school in current_schools(conn, pupil).await? {
        if let Some(role) = actor.at_school(school, &[Role::Principal, Role::DepartmentHead, Role::Teacher]) {
            let leads = actor.at_school(school, &LEADERS).is_some();
            return Ok(RemarkAccess {
                pupil_id: pupil,
                school_id: school,
                role,
                purpose: Purpose::for_role(role),
                leads,
            });
        }
    }
    Err(AppError::NotFound)
}

access_in_role!(RemarkAccess);

/// The actor may read a pupil's grades: staff (with the history) or the pupil or a
/// guardian (published grades only).
#[derive(Debug, Clone, Copy)]
pub struct PupilGradesAccess {
    pub pupil_id: Uuid,
    pub acting_as: Option<Role>,
    pub purpose: Purpose,
    /// Staff: every grade as entered, and each grade's history. Others: only grades
    /// whose period is published.
    pub as_school: bool,
}

static GRADES_FACTS_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT \
           coalesce((SELECT array_agg(DISTINCT e.school_id) FROM enrolments e \
                     WHERE e.tenant_id = $1 AND e.pupil_id = p.person_id AND e.from_date <= tavle_today() \
                       AND (e.to_date IS NULL OR e.to_date > tavle_today())), '{{}}'), \
           {contact} \
         FROM pupils p WHERE p.tenant_id = $1 AND p.person_id = $2",
        contact = super::staffing::contact_teacher_schools("p.person_id", "$3")
    )
});

/// May staff read `pupil`'s grades? The leaders of a school where the pupil is enrolled
/// now, and the pupil's contact teacher (of a base group the pupil belongs to now, at
/// a school where they teach). Not found otherwise.
pub async fn pupil_grades_access(mut conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<PupilGradesAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    // The pupil's current schools, and the schools where the actor is the pupil's
    // contact teacher now.
    let facts: Option<(Vec<Uuid>, Vec<Uuid>)> = sqlx::query_as(&GRADES_FACTS_SQL)
        .bind(conn.tenant)
        .bind(pupil)
        .bind(actor.person_id)
        .fetch_optional(&mut *conn)
        .await?;
    let (schools, contact_at) = facts.ok_or(AppError::NotFound)?;
    let role = schools
        .iter()
        .find_map(|s| actor.at_school(*s, &LEADERS))
        .or_else(|| contact_at.iter().find_map(|s| actor.at_school(*s, &[Role::Teacher])))
        .ok_or(AppError::NotFound)?;
    Ok(PupilGradesAccess { pupil_id: pupil, acting_as: Some(role), purpose: Purpose::for_role(role), as_school: true })
}

/// May the actor record an exemption for the pupil whose grades they see as the school?
/// The school's leaders (the exemption comes from the principal's individual decision).
/// Refused for the contact teacher, who sees the page; the others never get here.
pub fn exemption_access(access: &PupilGradesAccess) -> Result<()> {
    match access.acting_as {
        Some(Role::Principal | Role::DepartmentHead) if access.as_school => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

/// The actor may make a pupil's diploma (vitnemål), acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct DiplomaAccess {
    pub pupil_id: Uuid,
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

/// May the actor make `pupil`'s diploma? The office and the leaders of the school where
/// the pupil is enrolled now. Not found otherwise.
pub async fn diploma_access(conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<DiplomaAccess> {
    let (school_id, role) = office_for_pupil(conn, actor, pupil).await?;
    Ok(DiplomaAccess { pupil_id: pupil, school_id, role, purpose: Purpose::for_role(role) })
}

access_in_role!(DiplomaAccess);

/// The signed-in pupil's own published grades. Not found for anyone else.
pub fn own_grades_access(actor: &Actor) -> Result<PupilGradesAccess> {
    if actor.audience == Audience::Pupil {
        Ok(PupilGradesAccess {
            pupil_id: actor.person_id,
            acting_as: None,
            purpose: Purpose::OwnData,
            as_school: false,
        })
    } else {
        Err(AppError::NotFound)
    }
}

/// A child's published grades for a guardian: parental responsibility for a child
/// under 18 (a pupil who has turned 18 decides alone), and not a child whose
/// whereabouts are kept from this guardian (the page names the school). Not found
/// otherwise.
pub fn child_grades_access(actor: &Actor, pupil: Uuid) -> Result<PupilGradesAccess> {
    if actor.audience == Audience::Guardian && actor.placed_children().contains(&pupil) {
        Ok(PupilGradesAccess { pupil_id: pupil, acting_as: None, purpose: Purpose::GuardianAccess, as_school: false })
    } else {
        Err(AppError::NotFound)
    }
}

/// The actor may see and set a school's assessment periods, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct AssessmentPeriodsAccess {
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

/// May the actor set `school`'s periods (entry windows and publication)? The school
/// office and the school's leaders. Not found otherwise.
pub fn assessment_periods_access(actor: &Actor, school: Uuid) -> Result<AssessmentPeriodsAccess> {
    let role = actor.at_school(school, &PERIOD_KEEPERS).ok_or(AppError::NotFound)?;
    Ok(AssessmentPeriodsAccess { school_id: school, role, purpose: Purpose::for_role(role) })
}

/// May the actor draw a school's pupils for exams, record their written form, export
/// the registration for PAS and see what PAS sent back? The same people as for the
/// periods: the school office and the school's leaders. Not found otherwise.
pub fn exam_access(actor: &Actor, school: Uuid) -> Result<AssessmentPeriodsAccess> {
    assessment_periods_access(actor, school)
}

/// May the actor keep a school's list of remark categories (from its rules of order
/// and conduct)? The school office and the school's leaders. Not found otherwise.
pub fn remark_categories_access(actor: &Actor, school: Uuid) -> Result<AssessmentPeriodsAccess> {
    assessment_periods_access(actor, school)
}

access_in_role!(GradeGroupAccess, AssessmentPeriodsAccess);
access_acting_as!(PupilGradesAccess);

/// The list page has no single object: its audit rows (if any) name the role.
#[derive(Debug, Clone, Copy)]
pub struct AssessmentListAccess {
    pub role: Role,
    pub purpose: Purpose,
}

impl AssessmentScope {
    /// The role the list is read in: a leader's where the actor leads, else teacher,
    /// else the office's.
    pub fn access(&self, actor: &Actor) -> AssessmentListAccess {
        let role = [Role::Principal, Role::DepartmentHead, Role::Teacher, Role::OfficeClerk]
            .into_iter()
            .find(|r| actor.grants.iter().any(|g| g.role == *r && g.school_id.is_some()))
            .unwrap_or(Role::Teacher);
        AssessmentListAccess { role, purpose: Purpose::for_role(role) }
    }
}

access_in_role!(AssessmentListAccess);

/// The actor may read grade statistics (counts, no names) of `schools` (`None`: every
/// school of the municipality), acting as `role`.
#[derive(Debug, Clone)]
pub struct GradeStatisticsScope {
    pub schools: Option<Vec<Uuid>>,
    pub role: Role,
    pub purpose: Purpose,
}

/// May the actor read grade statistics? The municipal director for the municipality;
/// a school's leaders for their schools. Not found otherwise.
pub fn grade_statistics_scope(actor: &Actor) -> Result<GradeStatisticsScope> {
    if let Some(role) = actor.tenant_wide(&[Role::MunicipalDirector]) {
        return Ok(GradeStatisticsScope { schools: None, role, purpose: Purpose::for_role(role) });
    }
    let schools = schools_with(actor, &LEADERS);
    let role = [Role::Principal, Role::DepartmentHead]
        .into_iter()
        .find(|r| actor.is_staff() && actor.grants.iter().any(|g| g.role == *r && g.school_id.is_some()))
        .ok_or(AppError::NotFound)?;
    Ok(GradeStatisticsScope { schools: Some(schools), role, purpose: Purpose::for_role(role) })
}

impl Actor {
    /// Whether "Grade statistics" is in the actor's menu.
    pub fn may_read_grade_statistics(&self) -> bool {
        grade_statistics_scope(self).is_ok()
    }
}

access_in_role!(GradeStatisticsScope);
