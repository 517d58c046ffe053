//! The municipality's roster on one day, as the exports need it: the schools, the
//! pupils enrolled, their guardians, the staff employed at a school, and the classes,
//! teaching groups and SFO groups of the school year with their pupils and teachers.
//! Loaded in a handful of set-wise queries; the writers (`pifu`, `oneroster`) are pure
//! functions of it.
//!
//! What is never loaded, so no export can carry it: an address (neither Feide nor a
//! learning platform needs one, so a protected address cannot leak through them), a
//! guardian's national id number, and a guardian's e-mail or phone where the guardian
//! has reserved themself against digital communication (KRR). Guardians are those the
//! school may write to about the child (`policy::guardianship::writes_to`): parental
//! responsibility, no restriction, the child's whereabouts not kept from them.

use std::collections::HashMap;
use std::sync::LazyLock;
use time::Date;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;
use crate::policy::guardianship;

#[derive(Debug, Clone)]
pub struct Roster {
    /// The system and place the ids belong to (`tavle@{slug}`).
    pub source: String,
    /// When the roster was read, `YYYY-MM-DDThh:mm:ss` (local time).
    pub created: String,
    pub owner: Owner,
    pub year: Year,
    pub schools: Vec<School>,
    pub pupils: Vec<Pupil>,
    pub staff: Vec<Staff>,
    pub guardians: Vec<Guardian>,
    pub groups: Vec<Group>,
}

/// The school owner: the municipality.
#[derive(Debug, Clone)]
pub struct Owner {
    pub name: String,
    pub municipality_number: String,
}

#[derive(Debug, Clone)]
pub struct Year {
    /// `2026-2027`.
    pub name: String,
    pub starts: Date,
    pub ends: Date,
}

#[derive(Debug, Clone)]
pub struct School {
    pub id: Uuid,
    pub org_number: String,
    pub name: String,
    /// Who works there and as what.
    pub staff: Vec<(Uuid, StaffRole)>,
}

/// What a member of staff is at a school, from the role their position gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StaffRole {
    Teacher,
    /// The principal and department heads.
    Leader,
    /// The office.
    Office,
    /// SFO staff.
    Assistant,
}

impl StaffRole {
    fn of(role: &str) -> Option<Self> {
        match role {
            "teacher" => Some(Self::Teacher),
            "principal" | "department_head" => Some(Self::Leader),
            "office_clerk" => Some(Self::Office),
            "sfo_staff" => Some(Self::Assistant),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Pupil {
    pub id: Uuid,
    pub national_id: String,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: Option<Date>,
    pub feide_id: Option<String>,
    pub school_id: Uuid,
    pub grade: i16,
    /// The guardians the school may write to about the pupil.
    pub guardians: Vec<Uuid>,
}

#[derive(Debug, Clone)]
pub struct Staff {
    pub id: Uuid,
    pub national_id: String,
    pub given_name: String,
    pub family_name: String,
    pub feide_id: Option<String>,
    pub resource_number: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Guardian {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    /// None where the guardian is reserved against digital communication.
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Base,
    Teaching,
    Sfo,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: Uuid,
    pub school_id: Uuid,
    pub kind: GroupKind,
    pub name: String,
    pub grade: Option<i16>,
    /// The subject's code and name (teaching groups).
    pub subject: Option<(String, String)>,
    /// The directorate's subject code (Grep), where the subject has one.
    pub grep_code: Option<String>,
    pub pupils: Vec<Uuid>,
    pub teachers: Vec<Uuid>,
    pub contact_teachers: Vec<Uuid>,
}

impl Roster {
    /// Every person the roster names, for the audit row of its export.
    pub fn person_ids(&self) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self
            .pupils
            .iter()
            .map(|p| p.id)
            .chain(self.staff.iter().map(|s| s.id))
            .chain(self.guardians.iter().map(|g| g.id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The grades taught at each school today, in order: the school's grade groups.
    pub fn grades(&self, school: Uuid) -> Vec<i16> {
        let mut grades: Vec<i16> = self.pupils.iter().filter(|p| p.school_id == school).map(|p| p.grade).collect();
        grades.sort_unstable();
        grades.dedup();
        grades
    }
}

#[derive(sqlx::FromRow)]
struct HeadRow {
    name: String,
    municipality_number: String,
    slug: String,
    created: String,
}

#[derive(sqlx::FromRow)]
struct PupilRow {
    id: Uuid,
    national_id: String,
    given_name: String,
    family_name: String,
    birth_date: Option<Date>,
    feide_id: Option<String>,
    school_id: Uuid,
    grade: i16,
}

#[derive(sqlx::FromRow)]
struct StaffRow {
    id: Uuid,
    national_id: String,
    given_name: String,
    family_name: String,
    feide_id: Option<String>,
    resource_number: String,
    email: Option<String>,
    school_id: Uuid,
    role: String,
}

#[derive(sqlx::FromRow)]
struct GuardianRow {
    pupil_id: Uuid,
    id: Uuid,
    given_name: String,
    family_name: String,
    email: Option<String>,
    phone: Option<String>,
}

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: Uuid,
    school_id: Uuid,
    kind: String,
    name: String,
    grade_level: Option<i16>,
    subject_code: Option<String>,
    subject_name: Option<String>,
    grep_code: Option<String>,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    group_id: Uuid,
    person_id: Uuid,
    /// 'pupil', 'teacher' or 'contact_teacher'.
    role: String,
}

const HEAD_SQL: &str = "SELECT t.name, t.municipality_number::text AS municipality_number, t.slug, \
       to_char(now() AT TIME ZONE 'Europe/Oslo', 'YYYY-MM-DD\"T\"HH24:MI:SS') AS created \
     FROM tenants t WHERE t.id = $1";

/// The school year a roster on `day` is for: the one running, or in the summer the next.
pub async fn year(mut conn: Conn<'_>, day: Date) -> Result<Option<Year>> {
    let year: Option<(String, Date, Date)> = sqlx::query_as(
        "SELECT y.name, y.starts, y.ends FROM school_years y WHERE y.tenant_id = $1 AND y.ends >= $2 \
         ORDER BY y.starts LIMIT 1",
    )
    .bind(conn.tenant)
    .bind(day)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(year.map(|(name, starts, ends)| Year { name, starts, ends }))
}

const PUPILS_SQL: &str = "SELECT p.id, p.national_id, p.given_name, p.family_name, p.birth_date, p.feide_id, \
       e.school_id, e.grade_level AS grade \
     FROM enrolments e JOIN persons p ON p.tenant_id = $1 AND p.id = e.pupil_id \
     WHERE e.tenant_id = $1 AND e.from_date <= $2 AND (e.to_date IS NULL OR e.to_date > $2) \
       AND p.deceased_on IS NULL \
     ORDER BY e.school_id, e.grade_level, p.family_name, p.given_name, p.id";

const STAFF_SQL: &str = "SELECT DISTINCT p.id, p.national_id, p.given_name, p.family_name, p.feide_id, \
       s.resource_number, p.email, em.school_id, rm.role \
     FROM employments em \
     JOIN staff s ON s.tenant_id = $1 AND s.person_id = em.staff_id \
     JOIN persons p ON p.tenant_id = $1 AND p.id = em.staff_id \
     JOIN role_mappings rm ON rm.tenant_id = $1 AND rm.workplace_kind = 'school' \
       AND rm.position_code = em.position_code \
     WHERE em.tenant_id = $1 AND em.school_id IS NOT NULL AND em.from_date <= $2 \
       AND (em.to_date IS NULL OR em.to_date > $2) AND p.deceased_on IS NULL \
     ORDER BY p.family_name, p.given_name, p.id, em.school_id, rm.role";

static GUARDIANS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT g.pupil_id, gp.id, gp.given_name, gp.family_name, \
           CASE WHEN {digital} THEN gp.email END AS email, CASE WHEN {digital} THEN gp.phone END AS phone \
         FROM enrolments e \
         JOIN persons c ON c.tenant_id = $1 AND c.id = e.pupil_id \
         JOIN guardianships g ON g.tenant_id = $1 AND g.pupil_id = e.pupil_id \
         JOIN persons gp ON gp.tenant_id = $1 AND gp.id = g.guardian_id \
         WHERE e.tenant_id = $1 AND e.from_date <= $2 AND (e.to_date IS NULL OR e.to_date > $2) AND {writes} \
         ORDER BY g.pupil_id, gp.family_name, gp.given_name, gp.id",
        digital = guardianship::digital("gp.id"),
        writes = guardianship::writes_to("g", "c", "$2::date")
    )
});

const GROUPS_SQL: &str = "SELECT g.id, g.school_id, g.kind, g.name, g.grade_level, s.code AS subject_code, \
       s.name_nb AS subject_name, s.grep_code \
     FROM groups g \
     JOIN school_years y ON y.tenant_id = $1 AND y.id = g.school_year_id \
     LEFT JOIN subjects s ON s.tenant_id = $1 AND s.id = g.subject_id \
     WHERE g.tenant_id = $1 AND y.name = $3 AND (g.closed_on IS NULL OR g.closed_on > $2) \
     ORDER BY g.school_id, g.kind, g.grade_level NULLS LAST, g.name, g.id";

/// Pupils in a group on the day (or from its first day, before the year has begun),
/// then its teachers.
const MEMBERS_SQL: &str = "SELECT m.group_id, m.pupil_id AS person_id, 'pupil' AS role \
     FROM group_memberships m \
     JOIN groups g ON g.tenant_id = $1 AND g.id = m.group_id \
     JOIN school_years y ON y.tenant_id = $1 AND y.id = g.school_year_id \
     WHERE m.tenant_id = $1 AND y.name = $3 AND m.from_date <= greatest($2, y.starts) \
       AND (m.to_date IS NULL OR m.to_date > greatest($2, y.starts)) \
     UNION ALL \
     SELECT gs.group_id, gs.staff_id, gs.assignment \
     FROM group_staff gs \
     JOIN groups g ON g.tenant_id = $1 AND g.id = gs.group_id \
     JOIN school_years y ON y.tenant_id = $1 AND y.id = g.school_year_id \
     WHERE gs.tenant_id = $1 AND y.name = $3 \
     ORDER BY 1, 3, 2";

/// The roster on `day`. `None` when the municipality has no school year from `day` on.
pub async fn load(mut conn: Conn<'_>, day: Date) -> Result<Option<Roster>> {
    let Some(year) = year(conn.re(), day).await? else {
        return Ok(None);
    };
    let head: HeadRow = sqlx::query_as(HEAD_SQL).bind(conn.tenant).fetch_one(&mut *conn).await?;
    // Before the year has begun (the summer), the roster is the year's first day's.
    let on = day.max(year.starts);
    let year_name = year.name.clone();
    let tenant = conn.tenant;
    let pupils: Vec<PupilRow> = sqlx::query_as(PUPILS_SQL).bind(tenant).bind(on).fetch_all(&mut *conn).await?;
    let staff: Vec<StaffRow> = sqlx::query_as(STAFF_SQL).bind(tenant).bind(on).fetch_all(&mut *conn).await?;
    let guardians: Vec<GuardianRow> =
        sqlx::query_as(&GUARDIANS_SQL).bind(tenant).bind(on).fetch_all(&mut *conn).await?;
    let groups: Vec<GroupRow> =
        sqlx::query_as(GROUPS_SQL).bind(tenant).bind(on).bind(&year_name).fetch_all(&mut *conn).await?;
    let members: Vec<MemberRow> =
        sqlx::query_as(MEMBERS_SQL).bind(tenant).bind(on).bind(&year_name).fetch_all(&mut *conn).await?;
    let schools: Vec<(Uuid, String, String)> = sqlx::query_as(
        "SELECT s.id, s.org_number::text, s.name FROM schools s WHERE s.tenant_id = $1 ORDER BY s.name, s.id",
    )
    .bind(tenant)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(assemble(
        RosterHead {
            source: format!("tavle@{}", head.slug),
            created: head.created,
            owner: Owner { name: head.name, municipality_number: head.municipality_number },
            year,
        },
        schools,
        pupils,
        staff,
        guardians,
        groups,
        members,
    )))
}

struct RosterHead {
    source: String,
    created: String,
    owner: Owner,
    year: Year,
}

fn assemble(
    head: RosterHead,
    schools: Vec<(Uuid, String, String)>,
    pupils: Vec<PupilRow>,
    staff: Vec<StaffRow>,
    guardians: Vec<GuardianRow>,
    groups: Vec<GroupRow>,
    members: Vec<MemberRow>,
) -> Roster {
    // A pupil enrolled twice on one day (a move on that day) counts at the first school.
    let mut seen = std::collections::HashSet::new();
    let mut pupils: Vec<Pupil> = pupils
        .into_iter()
        .filter(|p| seen.insert(p.id))
        .map(|p| Pupil {
            id: p.id,
            national_id: p.national_id,
            given_name: p.given_name,
            family_name: p.family_name,
            birth_date: p.birth_date,
            feide_id: p.feide_id,
            school_id: p.school_id,
            grade: p.grade,
            guardians: Vec::new(),
        })
        .collect();
    let index: HashMap<Uuid, usize> = pupils.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
    let staff_ids: std::collections::HashSet<Uuid> =
        staff.iter().filter(|s| StaffRole::of(&s.role).is_some()).map(|s| s.id).collect();
    let mut guardian_list: Vec<Guardian> = Vec::new();
    let mut guardian_seen = std::collections::HashSet::new();
    for g in guardians {
        if let Some(&i) = index.get(&g.pupil_id) {
            if !pupils[i].guardians.contains(&g.id) {
                pupils[i].guardians.push(g.id);
            }
        }
        // A guardian who is also a pupil or member of staff is in the roster once, as that.
        if guardian_seen.insert(g.id) && !index.contains_key(&g.id) && !staff_ids.contains(&g.id) {
            guardian_list.push(Guardian {
                id: g.id,
                given_name: g.given_name,
                family_name: g.family_name,
                email: g.email,
                phone: g.phone,
            });
        }
    }
    let mut school_staff: HashMap<Uuid, Vec<(Uuid, StaffRole)>> = HashMap::new();
    let mut staff_list: Vec<Staff> = Vec::new();
    for s in staff {
        let Some(role) = StaffRole::of(&s.role) else { continue };
        let at = school_staff.entry(s.school_id).or_default();
        if !at.contains(&(s.id, role)) {
            at.push((s.id, role));
        }
        // A person's rows come together (the query's order): the first makes the person.
        if staff_list.last().is_none_or(|last: &Staff| last.id != s.id) {
            staff_list.push(Staff {
                id: s.id,
                national_id: s.national_id,
                given_name: s.given_name,
                family_name: s.family_name,
                feide_id: s.feide_id,
                resource_number: s.resource_number,
                email: s.email,
            });
        }
    }
    let mut group_list: Vec<Group> = groups
        .into_iter()
        .map(|g| Group {
            id: g.id,
            school_id: g.school_id,
            kind: match g.kind.as_str() {
                "teaching" => GroupKind::Teaching,
                "sfo" => GroupKind::Sfo,
                _ => GroupKind::Base,
            },
            name: g.name,
            grade: g.grade_level,
            subject: g.subject_code.zip(g.subject_name),
            grep_code: g.grep_code,
            pupils: Vec::new(),
            teachers: Vec::new(),
            contact_teachers: Vec::new(),
        })
        .collect();
    let groups_at: HashMap<Uuid, usize> = group_list.iter().enumerate().map(|(i, g)| (g.id, i)).collect();
    for m in members {
        let Some(&i) = groups_at.get(&m.group_id) else { continue };
        let group = &mut group_list[i];
        // Only people the roster has: a pupil enrolled today, staff employed today.
        match m.role.as_str() {
            "pupil" if index.contains_key(&m.person_id) => group.pupils.push(m.person_id),
            "teacher" if staff_ids.contains(&m.person_id) => group.teachers.push(m.person_id),
            "contact_teacher" if staff_ids.contains(&m.person_id) => group.contact_teachers.push(m.person_id),
            _ => {}
        }
    }
    // A school with no pupils, staff or groups today is not in the roster.
    let schools = schools
        .into_iter()
        .filter_map(|(id, org_number, name)| {
            let staff = school_staff.remove(&id);
            let kept = staff.is_some()
                || pupils.iter().any(|p| p.school_id == id)
                || group_list.iter().any(|g| g.school_id == id);
            kept.then(|| School { id, org_number, name, staff: staff.unwrap_or_default() })
        })
        .collect();
    Roster {
        source: head.source,
        created: head.created,
        owner: head.owner,
        year: head.year,
        schools,
        pupils,
        staff: staff_list,
        guardians: guardian_list,
        groups: group_list,
    }
}
