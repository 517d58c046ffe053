//! What the rollover reads (its plan's input) and writes (the plan, set-wise: a handful
//! of statements with arrays whatever the school's size).

use std::collections::BTreeMap;

use time::Date;
use uuid::Uuid;

use super::plan::{GroupIn, Input, Plan, PupilIn};
use crate::db::Conn;
use crate::error::Result;
use crate::groups::queries::YearRow;

/// The school year running today, and the one after it.
pub async fn years(mut conn: Conn<'_>) -> Result<Option<(YearRow, Option<YearRow>)>> {
    let this: Option<YearRow> = sqlx::query_as(
        "SELECT y.id, y.name, y.starts, y.ends FROM school_years y \
         WHERE y.tenant_id = $1 AND y.starts <= tavle_today() AND y.ends >= tavle_today()",
    )
    .bind(conn.tenant)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(this) = this else { return Ok(None) };
    let next: Option<YearRow> = sqlx::query_as(
        "SELECT y.id, y.name, y.starts, y.ends FROM school_years y \
         WHERE y.tenant_id = $1 AND y.starts > $2 ORDER BY y.starts LIMIT 1",
    )
    .bind(conn.tenant)
    .bind(this.ends)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(Some((this, next)))
}

/// A rollover that has been done.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DoneRow {
    pub advanced: i32,
    pub leavers: i32,
    pub groups_created: i32,
    pub done_on: Date,
}

/// The school's rollover out of `year`, if done. Locks the school against a second
/// rollover running at the same time when `lock`.
pub async fn done(mut conn: Conn<'_>, school: Uuid, year: Uuid, lock: bool) -> Result<Option<DoneRow>> {
    if lock {
        sqlx::query("SELECT s.id FROM schools s WHERE s.tenant_id = $1 AND s.id = $2 FOR UPDATE")
            .bind(conn.tenant)
            .bind(school)
            .execute(&mut *conn)
            .await?;
    }
    Ok(sqlx::query_as(
        "SELECT r.advanced, r.leavers, r.groups_created, (r.done_at AT TIME ZONE 'Europe/Oslo')::date AS done_on \
         FROM rollovers r WHERE r.tenant_id = $1 AND r.school_id = $2 AND r.from_year_id = $3",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(year)
    .fetch_optional(&mut *conn)
    .await?)
}

#[derive(sqlx::FromRow)]
struct PupilRow {
    pupil_id: Uuid,
    enrolment_id: Uuid,
    name: String,
    grade: i16,
    ends: bool,
    national_id: String,
}

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: Uuid,
    kind: String,
    name: String,
    grade: Option<i16>,
    subject: Option<Uuid>,
    closed: bool,
    members: Vec<Uuid>,
    staff: Vec<Uuid>,
    assignments: Vec<String>,
}

/// What the plan starts from: the school's pupils at the end of `year`, its groups of
/// the year, and the groups it has in `next` already.
pub async fn input(mut conn: Conn<'_>, school: Uuid, last_grade: i16, year: &YearRow, next: &YearRow) -> Result<Input> {
    let pupils: Vec<PupilRow> = sqlx::query_as(
        "SELECT e.pupil_id, e.id AS enrolment_id, p.given_name || ' ' || p.family_name AS name, \
           e.grade_level AS grade, e.to_date IS NOT NULL AS ends, p.national_id \
         FROM enrolments e JOIN persons p ON p.tenant_id = $1 AND p.id = e.pupil_id \
         WHERE e.tenant_id = $1 AND e.school_id = $2 AND e.from_date <= $3 \
           AND (e.to_date IS NULL OR e.to_date > $3)",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(year.ends)
    .fetch_all(&mut *conn)
    .await?;
    let groups: Vec<GroupRow> = sqlx::query_as(
        "SELECT g.id, g.kind, g.name, g.grade_level AS grade, g.subject_id AS subject, g.closed_on IS NOT NULL AS closed, \
           coalesce((SELECT array_agg(m.pupil_id ORDER BY m.pupil_id) FROM group_memberships m \
              WHERE m.tenant_id = $1 AND m.group_id = g.id AND m.to_date IS NULL), '{}') AS members, \
           coalesce((SELECT array_agg(s.staff_id ORDER BY s.staff_id, s.assignment) FROM group_staff s \
              WHERE s.tenant_id = $1 AND s.group_id = g.id), '{}') AS staff, \
           coalesce((SELECT array_agg(s.assignment ORDER BY s.staff_id, s.assignment) FROM group_staff s \
              WHERE s.tenant_id = $1 AND s.group_id = g.id), '{}') AS assignments \
         FROM groups g WHERE g.tenant_id = $1 AND g.school_id = $2 AND g.school_year_id = $3",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(year.id)
    .fetch_all(&mut *conn)
    .await?;
    let next_groups: Vec<(String, Uuid, String, Option<i16>)> = sqlx::query_as(
        "SELECT g.name, g.id, g.kind, g.grade_level FROM groups g WHERE g.tenant_id = $1 AND g.school_id = $2 AND g.school_year_id = $3",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(next.id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Input {
        last_grade,
        pupils: pupils
            .into_iter()
            .map(|p| PupilIn {
                pupil_id: p.pupil_id,
                enrolment_id: p.enrolment_id,
                name: p.name,
                grade: p.grade,
                ends: p.ends,
                national_id: p.national_id,
            })
            .collect(),
        groups: groups
            .into_iter()
            .map(|g| GroupIn {
                id: g.id,
                kind: g.kind,
                name: g.name,
                grade: g.grade,
                subject: g.subject,
                closed: g.closed,
                members: g.members,
                staff: g.staff.into_iter().zip(g.assignments).collect(),
            })
            .collect(),
        next_groups: next_groups
            .into_iter()
            .map(|(name, id, kind, grade)| (name, (id, kind, grade)))
            .collect::<BTreeMap<_, _>>(),
        placements: Vec::new(),
    })
}

/// Apply the plan: enrolments end at the year's end (the next year's first day) and
/// those who advance are enrolled in the next grade from then, keeping a guest pupil's
/// home municipality; every stay in the year's groups ends then; the next year's groups
/// are created (or found) with their pupils and staff; the rollover is recorded. Returns
/// how many groups were created.
pub async fn apply(
    mut conn: Conn<'_>,
    school: Uuid,
    year: &YearRow,
    next: &YearRow,
    plan: &Plan,
    by: Uuid,
) -> Result<i32> {
    let advance: Vec<Uuid> = plan.advance.iter().map(|a| a.enrolment_id).collect();
    let grades: Vec<i16> = plan.advance.iter().map(|a| a.to).collect();
    sqlx::query(
        "INSERT INTO enrolments (tenant_id, pupil_id, school_id, grade_level, from_date, guest_home_municipality) \
         SELECT e.tenant_id, e.pupil_id, e.school_id, x.grade, $4, e.guest_home_municipality \
         FROM unnest($2::uuid[], $3::smallint[]) AS x (id, grade) \
         JOIN enrolments e ON e.tenant_id = $1 AND e.id = x.id",
    )
    .bind(conn.tenant)
    .bind(&advance)
    .bind(&grades)
    .bind(next.starts)
    .execute(&mut *conn)
    .await?;
    let leave: Vec<Uuid> = plan.leave.iter().map(|l| l.enrolment_id).collect();
    sqlx::query(
        "UPDATE enrolments e SET to_date = $4, ended_by = CASE WHEN e.id = ANY($3) THEN 'left' ELSE 'rolled_over' END \
         WHERE e.tenant_id = $1 AND (e.id = ANY($2) OR e.id = ANY($3)) AND e.to_date IS NULL",
    )
    .bind(conn.tenant)
    .bind(&advance)
    .bind(&leave)
    .bind(next.starts)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE group_memberships m SET to_date = $4 FROM groups g \
         WHERE m.tenant_id = $1 AND g.tenant_id = $1 AND g.id = m.group_id AND g.school_id = $2 \
           AND g.school_year_id = $3 AND m.to_date IS NULL AND m.from_date < $4",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(year.id)
    .bind(next.starts)
    .execute(&mut *conn)
    .await?;
    let new: Vec<_> = plan.groups.iter().filter(|g| g.existing.is_none()).collect();
    let created: Vec<(Uuid, String)> = sqlx::query_as(
        "INSERT INTO groups (tenant_id, school_id, school_year_id, kind, name, grade_level, subject_id) \
         SELECT $1, $2, $3, x.kind, x.name, x.grade, x.subject \
         FROM unnest($4::text[], $5::text[], $6::smallint[], $7::uuid[]) AS x (kind, name, grade, subject) \
         RETURNING id, name",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(next.id)
    .bind(new.iter().map(|g| g.kind.clone()).collect::<Vec<_>>())
    .bind(new.iter().map(|g| g.name.clone()).collect::<Vec<_>>())
    .bind(new.iter().map(|g| g.grade).collect::<Vec<_>>())
    .bind(new.iter().map(|g| g.subject).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    let id_of = |g: &super::plan::GroupOut| g.existing.or_else(|| created.iter().find(|c| c.1 == g.name).map(|c| c.0));
    let (mut member_groups, mut members) = (Vec::new(), Vec::new());
    let (mut staff_groups, mut staff, mut assignments) = (Vec::new(), Vec::new(), Vec::new());
    for g in &plan.groups {
        let Some(id) = id_of(g) else { continue };
        for m in &g.members {
            member_groups.push(id);
            members.push(*m);
        }
        for (s, a) in &g.staff {
            staff_groups.push(id);
            staff.push(*s);
            assignments.push(a.clone());
        }
    }
    sqlx::query(
        "INSERT INTO group_memberships (tenant_id, group_id, pupil_id, from_date) \
         SELECT $1, x.g, x.p, $4 FROM unnest($2::uuid[], $3::uuid[]) AS x (g, p) ON CONFLICT DO NOTHING",
    )
    .bind(conn.tenant)
    .bind(&member_groups)
    .bind(&members)
    .bind(next.starts)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO group_staff (tenant_id, group_id, staff_id, assignment) \
         SELECT $1, x.g, x.s, x.a FROM unnest($2::uuid[], $3::uuid[], $4::text[]) AS x (g, s, a) ON CONFLICT DO NOTHING",
    )
    .bind(conn.tenant)
    .bind(&staff_groups)
    .bind(&staff)
    .bind(&assignments)
    .execute(&mut *conn)
    .await?;
    let groups_created = i32::try_from(created.len()).unwrap_or(i32::MAX);
    sqlx::query(
        "INSERT INTO rollovers (tenant_id, school_id, from_year_id, to_year_id, advanced, leavers, groups_created, done_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(year.id)
    .bind(next.id)
    .bind(i32::try_from(plan.advance.len()).unwrap_or(i32::MAX))
    .bind(i32::try_from(plan.leave.len()).unwrap_or(i32::MAX))
    .bind(groups_created)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(groups_created)
}
