//! Messages between school and home (issue 19, point 2; messaging.md rules 6, 11, 13):
//! who starts a thread about a pupil, and who reads and answers one.
//!
//! - A guardian with the child (not one whose whereabouts are protected from them)
//!   writes to the child's contact teacher or to the school office, and reads the
//!   threads they are on the home side of, while they still have the child.
//! - Staff write to the pupil's guardians: the school's office and leaders, the pupil's
//!   contact teacher, and those who teach the pupil now.
//! - Who reads a thread (rule 11): those on it; the school's office for threads to the
//!   office; the pupil's contact teacher; the school's leaders. Everyone else, another
//!   guardian included, gets "not found".

use uuid::Uuid;

use super::actor::*;
use super::pupils::OFFICE;
use super::staffing;
use crate::db::Conn;
use crate::domain::role::Role;
use crate::error::{AppError, Result};

const LEADERS: [Role; 2] = [Role::Principal, Role::DepartmentHead];

/// Which side of a thread a participant is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Home,
    School,
}

impl Side {
    pub fn code(self) -> &'static str {
        match self {
            Side::Home => "home",
            Side::School => "school",
        }
    }
}

/// The actor may start a thread about `pupil_id` at `school_id`.
#[derive(Debug, Clone)]
pub struct NewThreadAccess {
    pub pupil_id: Uuid,
    pub school_id: Uuid,
    pub acting_as: Option<Role>,
    pub purpose: Purpose,
    pub side: Side,
    /// The pupil's contact teachers now (whom a guardian may write to).
    pub contact_teachers: Vec<Uuid>,
}

/// Facts about a pupil relative to the actor, in one query.
#[derive(sqlx::FromRow)]
struct PupilFacts {
    school_id: Option<Uuid>,
    contact_teachers: Vec<Uuid>,
    teaches: bool,
}

static PUPIL_FACTS_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT (SELECT e.school_id FROM enrolments e WHERE e.tenant_id = $1 AND e.pupil_id = p.person_id \
                   AND e.from_date <= tavle_today() AND (e.to_date IS NULL OR e.to_date > tavle_today()) \
                 ORDER BY e.from_date DESC LIMIT 1) AS school_id, \
           {contact_teachers} AS contact_teachers, {teaches} AS teaches \
         FROM pupils p WHERE p.tenant_id = $1 AND p.person_id = $2",
        contact_teachers = staffing::contact_teachers("p.person_id"),
        teaches = staffing::teaches("p.person_id", "$3"),
    )
});

async fn pupil_facts(mut conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<PupilFacts> {
    let facts: Option<PupilFacts> = sqlx::query_as(&PUPIL_FACTS_SQL)
        .bind(conn.tenant)
        .bind(pupil)
        .bind(actor.person_id)
        .fetch_optional(&mut *conn)
        .await?;
    facts.ok_or(AppError::NotFound)
}

/// May the actor start a thread about `pupil`? A guardian with the child; the office,
/// leaders, contact teacher and teachers of the pupil at the pupil's school. Not found
/// otherwise, and for a pupil at no school today.
pub async fn new_thread_access(conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<NewThreadAccess> {
    let may_guardian = actor.audience == Audience::Guardian && actor.placed_children().contains(&pupil);
    if !may_guardian && !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let facts = pupil_facts(conn, actor, pupil).await?;
    let school = facts.school_id.ok_or(AppError::NotFound)?;
    let access = |acting_as: Option<Role>, side: Side| NewThreadAccess {
        pupil_id: pupil,
        school_id: school,
        acting_as,
        purpose: acting_as.map(Purpose::for_role).unwrap_or(Purpose::GuardianAccess),
        side,
        contact_teachers: facts.contact_teachers.clone(),
    };
    if may_guardian {
        return Ok(access(None, Side::Home));
    }
    if let Some(role) = actor.at_school(school, &OFFICE) {
        return Ok(access(Some(role), Side::School));
    }
    let contact_teacher = facts.contact_teachers.contains(&actor.person_id);
    if (contact_teacher || facts.teaches) && actor.at_school(school, &[Role::Teacher]).is_some() {
        return Ok(access(Some(Role::Teacher), Side::School));
    }
    Err(AppError::NotFound)
}

/// The actor reads the thread `thread_id`; `answers`: and may reply to it.
#[derive(Debug, Clone, Copy)]
pub struct ThreadAccess {
    pub thread_id: Uuid,
    pub pupil_id: Uuid,
    pub school_id: Uuid,
    pub acting_as: Option<Role>,
    pub purpose: Purpose,
    /// The side the actor writes on.
    pub side: Side,
    /// Already a participant (otherwise joins the school side on their first reply).
    pub participant: bool,
    pub answers: bool,
    /// May flag the thread as worth keeping for the archive (the school's office and
    /// leaders; point 8: such threads are not deleted by the retention rule).
    pub keeps: bool,
}

#[derive(sqlx::FromRow)]
struct ThreadFacts {
    pupil_id: Uuid,
    school_id: Uuid,
    office: bool,
    side: Option<String>,
    contact_teacher: bool,
    /// A group message's copy withdrawn before it was read.
    withdrawn: bool,
    /// A group message's copy, and whether the municipality lets guardians answer one.
    group_copy: bool,
    group_replies: bool,
}

static THREAD_FACTS_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT t.pupil_id, t.school_id, t.office, \
           (SELECT tp.side FROM thread_participants tp WHERE tp.tenant_id = $1 AND tp.thread_id = t.id \
              AND tp.person_id = $3) AS side, \
           {contact} AS contact_teacher, t.withdrawn_at IS NOT NULL AS withdrawn, \
           t.broadcast_id IS NOT NULL AS group_copy, {group_replies} AS group_replies \
         FROM message_threads t WHERE t.tenant_id = $1 AND t.id = $2",
        contact = staffing::is_contact_teacher("t.pupil_id", "$3", Some("t.school_id")),
        group_replies = super::features::enabled_sql(super::features::Feature::GroupReplies, "$1"),
    )
});

/// May the actor read the thread `id`, and answer it? See the module. Not found otherwise.
pub async fn thread_access(mut conn: Conn<'_>, actor: &Actor, id: Uuid) -> Result<ThreadAccess> {
    if actor.audience == Audience::Pupil {
        return Err(AppError::NotFound);
    }
    let facts: Option<ThreadFacts> = sqlx::query_as(&THREAD_FACTS_SQL)
        .bind(conn.tenant)
        .bind(id)
        .bind(actor.person_id)
        .fetch_optional(&mut *conn)
        .await?;
    let f = facts.ok_or(AppError::NotFound)?;
    let access = |acting_as: Option<Role>, side: Side| ThreadAccess {
        thread_id: id,
        pupil_id: f.pupil_id,
        school_id: f.school_id,
        acting_as,
        purpose: acting_as.map(Purpose::for_role).unwrap_or(Purpose::GuardianAccess),
        side,
        participant: f.side.is_some(),
        answers: true,
        keeps: acting_as.is_some() && actor.at_school(f.school_id, &OFFICE).is_some(),
    };
    match actor.audience {
        Audience::Guardian => {
            // On the home side, and still with the child.
            if f.side.as_deref() == Some("home") && !f.withdrawn && actor.placed_children().contains(&f.pupil_id) {
                // A group message's copy is answered only where the municipality lets
                // guardians answer group messages (messaging.md M12).
                let answers = !f.group_copy || f.group_replies;
                return Ok(ThreadAccess { answers, ..access(None, Side::Home) });
            }
            Err(AppError::NotFound)
        }
        Audience::Staff => {
            let school_role = |roles: &[Role]| actor.at_school(f.school_id, roles);
            if f.side.as_deref() == Some("school") {
                let role = school_role(&[Role::Principal, Role::DepartmentHead, Role::OfficeClerk, Role::Teacher])
                    .ok_or(AppError::NotFound)?;
                return Ok(access(Some(role), Side::School));
            }
            if let Some(role) = school_role(&LEADERS) {
                return Ok(access(Some(role), Side::School));
            }
            if f.office {
                if let Some(role) = school_role(&OFFICE) {
                    return Ok(access(Some(role), Side::School));
                }
            }
            if f.contact_teacher && school_role(&[Role::Teacher]).is_some() {
                return Ok(access(Some(Role::Teacher), Side::School));
            }
            Err(AppError::NotFound)
        }
        Audience::Pupil => Err(AppError::NotFound),
    }
}

/// May the actor flag the thread they read as archive-worthy? The school's office and
/// leaders; others who read it are refused (403).
pub fn thread_archiving(access: &ThreadAccess) -> Result<()> {
    if access.keeps {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The actor's inbox: a guardian's threads, or staff's own and their office's.
#[derive(Debug, Clone)]
pub struct InboxAccess {
    pub acting_as: Option<Role>,
    pub purpose: Purpose,
    /// Guardians: the children whose threads they read.
    pub children: Vec<Uuid>,
    /// Staff: the schools whose office threads they read.
    pub office_schools: Vec<Uuid>,
}

/// Who has an inbox? A guardian with a child at school, and staff at a school. Not
/// found otherwise.
pub fn inbox_access(actor: &Actor) -> Result<InboxAccess> {
    match actor.audience {
        Audience::Guardian if !actor.placed_children().is_empty() => Ok(InboxAccess {
            acting_as: None,
            purpose: Purpose::GuardianAccess,
            children: actor.placed_children(),
            office_schools: Vec::new(),
        }),
        Audience::Staff => {
            let at_school: Vec<&Grant> = actor
                .grants
                .iter()
                .filter(|g| g.school_id.is_some() && (g.role == Role::Teacher || OFFICE.contains(&g.role)))
                .collect();
            let first = at_school.first().ok_or(AppError::NotFound)?;
            let mut office_schools: Vec<Uuid> =
                at_school.iter().filter(|g| OFFICE.contains(&g.role)).filter_map(|g| g.school_id).collect();
            office_schools.sort();
            office_schools.dedup();
            Ok(InboxAccess {
                acting_as: Some(first.role),
                purpose: Purpose::for_role(first.role),
                children: Vec::new(),
                office_schools,
            })
        }
        _ => Err(AppError::NotFound),
    }
}

impl Actor {
    /// Whether the menu links to the messages.
    pub fn may_open_messages(&self) -> bool {
        inbox_access(self).is_ok()
    }
}

access_acting_as!(NewThreadAccess, ThreadAccess, InboxAccess);

/// The actor writes to the guardians of the pupils in `group_id`, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct GroupMessageAccess {
    pub group_id: Uuid,
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
    /// Written by the school's office (the copies are the office's threads).
    pub office: bool,
}

/// Who writes to a class's or teaching group's guardians? The school's office and
/// leaders, and the teachers assigned to the group who teach at its school. Not found
/// otherwise (SFO groups too, for now).
pub async fn group_message_access(mut conn: Conn<'_>, actor: &Actor, group: Uuid) -> Result<GroupMessageAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let facts: Option<(Uuid, bool)> = sqlx::query_as(
        "SELECT g.school_id, EXISTS (SELECT 1 FROM group_staff s WHERE s.tenant_id = $1 AND s.group_id = g.id \
                                      AND s.staff_id = $3) \
         FROM groups g WHERE g.tenant_id = $1 AND g.id = $2 AND g.kind IN ('base', 'teaching')",
    )
    .bind(conn.tenant)
    .bind(group)
    .bind(actor.person_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (school, assigned) = facts.ok_or(AppError::NotFound)?;
    let access = |role: Role, office: bool| GroupMessageAccess {
        group_id: group,
        school_id: school,
        role,
        purpose: Purpose::for_role(role),
        office,
    };
    if let Some(role) = actor.at_school(school, &OFFICE) {
        return Ok(access(role, true));
    }
    if assigned && actor.at_school(school, &[Role::Teacher]).is_some() {
        return Ok(access(Role::Teacher, false));
    }
    Err(AppError::NotFound)
}

/// The actor sees a group message's status, acting as `role`; `withdraws`: the sender.
#[derive(Debug, Clone, Copy)]
pub struct BroadcastAccess {
    pub broadcast_id: Uuid,
    pub school_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
    pub withdraws: bool,
}

/// Who sees who a group message reached and read it? Its sender (who may withdraw it),
/// while at the school, and the school's leaders. Not found otherwise.
pub async fn broadcast_access(mut conn: Conn<'_>, actor: &Actor, id: Uuid) -> Result<BroadcastAccess> {
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let facts: Option<(Uuid, Uuid)> =
        sqlx::query_as("SELECT b.school_id, b.sent_by FROM broadcasts b WHERE b.tenant_id = $1 AND b.id = $2")
            .bind(conn.tenant)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let (school, sender) = facts.ok_or(AppError::NotFound)?;
    let staff_roles = [Role::Principal, Role::DepartmentHead, Role::OfficeClerk, Role::Teacher];
    let access = |role: Role, withdraws: bool| BroadcastAccess {
        broadcast_id: id,
        school_id: school,
        role,
        purpose: Purpose::for_role(role),
        withdraws,
    };
    if sender == actor.person_id {
        if let Some(role) = actor.at_school(school, &staff_roles) {
            return Ok(access(role, true));
        }
    }
    if let Some(role) = actor.at_school(school, &LEADERS) {
        return Ok(access(role, false));
    }
    Err(AppError::NotFound)
}

/// May the actor withdraw the group message they see? Its sender; a leader who reads
/// it is refused (403).
pub fn broadcast_withdrawal(access: &BroadcastAccess) -> Result<()> {
    if access.withdraws {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

access_in_role!(GroupMessageAccess, BroadcastAccess);
