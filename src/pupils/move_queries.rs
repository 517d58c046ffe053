//! Queries for moving a pupil (`moves`): where the pupil is now, what is planned, and
//! the writes of a move. Enrolments and stays in groups are never rewritten once they
//! have begun: a move ends them on a day and adds what follows; only what has not
//! begun yet (a planned move) is withdrawn when it is cancelled.

use time::Date;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::Result;

/// The pupil's enrolment at the school that runs today (locked for the move).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EnrolmentNow {
    pub school_name: String,
    pub grade_level: i16,
    pub from_date: Date,
}

pub async fn enrolment_now(mut conn: Conn<'_>, pupil: Uuid, school: Uuid) -> Result<Option<EnrolmentNow>> {
    Ok(sqlx::query_as(
        "SELECT s.name AS school_name, e.grade_level, e.from_date \
         FROM enrolments e JOIN schools s ON s.tenant_id = $1 AND s.id = e.school_id \
         WHERE e.tenant_id = $1 AND e.pupil_id = $2 AND e.school_id = $3 \
           AND e.from_date <= tavle_today() AND (e.to_date IS NULL OR e.to_date > tavle_today()) \
         ORDER BY e.from_date DESC LIMIT 1 FOR UPDATE OF e",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(school)
    .fetch_optional(&mut *conn)
    .await?)
}

/// An enrolment that begins after today at another school: where a planned move goes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlannedEnrolment {
    pub school_id: Uuid,
    pub school_name: String,
    pub grade_level: i16,
}

/// The enrolment a planned move to another school begins on `on`.
pub async fn planned_enrolment(mut conn: Conn<'_>, pupil: Uuid, on: Date) -> Result<Option<PlannedEnrolment>> {
    Ok(sqlx::query_as(
        "SELECT e.school_id, s.name AS school_name, e.grade_level \
         FROM enrolments e JOIN schools s ON s.tenant_id = $1 AND s.id = e.school_id \
         WHERE e.tenant_id = $1 AND e.pupil_id = $2 AND e.from_date = $3 AND e.from_date > tavle_today() \
         ORDER BY s.name LIMIT 1",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(on)
    .fetch_optional(&mut *conn)
    .await?)
}

/// A class (base group) of the school in the year, and the pupil's stay in it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClassStay {
    pub group_id: Uuid,
    pub name: String,
    pub from_date: Date,
}

/// The pupil's class at the school today, and a class they join later (a planned change).
pub async fn class_stays(mut conn: Conn<'_>, pupil: Uuid, school: Uuid, year: Uuid) -> Result<Vec<ClassStay>> {
    Ok(sqlx::query_as(
        "SELECT m.group_id, g.name, m.from_date \
         FROM group_memberships m JOIN groups g ON g.tenant_id = $1 AND g.id = m.group_id \
         WHERE m.tenant_id = $1 AND m.pupil_id = $2 AND g.school_id = $3 AND g.school_year_id = $4 \
           AND g.kind = 'base' AND (m.to_date IS NULL OR m.to_date > tavle_today()) \
         ORDER BY m.from_date",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(school)
    .bind(year)
    .fetch_all(&mut *conn)
    .await?)
}

/// A class a pupil may move to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClassChoice {
    pub id: Uuid,
    pub name: String,
    pub grade_level: Option<i16>,
}

impl ClassChoice {
    /// `5B (grade 5)` in the page's language: how a form lists the class.
    pub fn label(&self, ui: &crate::web::layout::Ui) -> String {
        match self.grade_level {
            Some(g) => format!("{} ({})", self.name, ui.tf("groups.grade_n", "grade", &g.to_string())),
            None => self.name.clone(),
        }
    }
}

/// The school's open classes in the year.
pub async fn classes(mut conn: Conn<'_>, school: Uuid, year: Uuid) -> Result<Vec<ClassChoice>> {
    Ok(sqlx::query_as(
        "SELECT g.id, g.name, g.grade_level FROM groups g \
         WHERE g.tenant_id = $1 AND g.school_id = $2 AND g.school_year_id = $3 AND g.kind = 'base' \
           AND g.closed_on IS NULL \
         ORDER BY g.grade_level NULLS LAST, g.name COLLATE \"nb-NO-x-icu\"",
    )
    .bind(conn.tenant)
    .bind(school)
    .bind(year)
    .fetch_all(&mut *conn)
    .await?)
}

/// A school a pupil may move to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SchoolChoice {
    pub id: Uuid,
    pub name: String,
    pub first_grade: i16,
    pub last_grade: i16,
}

/// The municipality's other schools.
pub async fn other_schools(mut conn: Conn<'_>, school: Uuid) -> Result<Vec<SchoolChoice>> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.name, s.first_grade, s.last_grade FROM schools s WHERE s.tenant_id = $1 AND s.id <> $2 \
         ORDER BY s.name COLLATE \"nb-NO-x-icu\"",
    )
    .bind(conn.tenant)
    .bind(school)
    .fetch_all(&mut *conn)
    .await?)
}

/// The municipality's own number (a move out goes elsewhere).
pub async fn own_municipality(mut conn: Conn<'_>) -> Result<String> {
    Ok(sqlx::query_scalar("SELECT t.municipality_number::text FROM tenants t WHERE t.id = $1")
        .bind(conn.tenant)
        .fetch_one(&mut *conn)
        .await?)
}

/// End every stay of the pupil in the school's groups (of `kind` in `year`, or all) on
/// `on`: one begun before ends that day, one that would begin on it or later is withdrawn.
async fn end_stays(mut conn: Conn<'_>, pupil: Uuid, school: Uuid, kind: Option<(&str, Uuid)>, on: Date) -> Result<()> {
    let (kind, year) = kind.unzip();
    sqlx::query(
        "DELETE FROM group_memberships m USING groups g \
         WHERE m.tenant_id = $1 AND g.tenant_id = $1 AND g.id = m.group_id AND m.pupil_id = $2 \
           AND g.school_id = $3 AND ($4::text IS NULL OR (g.kind = $4 AND g.school_year_id = $6)) \
           AND m.from_date >= $5",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(school)
    .bind(kind)
    .bind(on)
    .bind(year)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE group_memberships m SET to_date = $5 FROM groups g \
         WHERE m.tenant_id = $1 AND g.tenant_id = $1 AND g.id = m.group_id AND m.pupil_id = $2 \
           AND g.school_id = $3 AND ($4::text IS NULL OR (g.kind = $4 AND g.school_year_id = $6)) \
           AND m.from_date < $5 AND (m.to_date IS NULL OR m.to_date > $5)",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(school)
    .bind(kind)
    .bind(on)
    .bind(year)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Move the pupil to `class` of the school (in `year`) from `on`: the class of the year
/// they are in ends that day.
pub async fn change_class(
    mut conn: Conn<'_>,
    pupil: Uuid,
    school: Uuid,
    year: Uuid,
    class: Uuid,
    on: Date,
) -> Result<()> {
    end_stays(conn.re(), pupil, school, Some(("base", year)), on).await?;
    crate::groups::queries::add_stays(conn, class, &[pupil], on).await?;
    Ok(())
}

/// End the pupil's enrolment at the school on `on` (the first day they are no longer a
/// pupil there), with why, and their stays in the school's groups. The enrolment that
/// runs on that day ends then; one that begins later (the next school year's, after the
/// rollover) never begins.
pub async fn leave_school(
    mut conn: Conn<'_>,
    pupil: Uuid,
    school: Uuid,
    on: Date,
    ended_by: &str,
    municipality: Option<&str>,
) -> Result<()> {
    end_stays(conn.re(), pupil, school, None, on).await?;
    sqlx::query(
        "DELETE FROM enrolments e WHERE e.tenant_id = $1 AND e.pupil_id = $2 AND e.school_id = $3 \
           AND e.from_date >= $4 AND e.from_date > tavle_today()",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(school)
    .bind(on)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE enrolments e SET to_date = $4, ended_by = $5, moved_to_municipality = $6 \
         WHERE e.tenant_id = $1 AND e.pupil_id = $2 AND e.school_id = $3 AND e.from_date < $4 \
           AND (e.to_date IS NULL OR e.to_date > $4)",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(school)
    .bind(on)
    .bind(ended_by)
    .bind(municipality)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The day a planned move away from the school takes effect (an enrolment there that
/// ends later than today because of a move), and where to.
pub async fn planned_leaving(
    mut conn: Conn<'_>,
    pupil: Uuid,
    school: Uuid,
) -> Result<Option<(Date, String, Option<String>)>> {
    Ok(sqlx::query_as(
        "SELECT e.to_date, e.ended_by, e.moved_to_municipality::text FROM enrolments e \
         WHERE e.tenant_id = $1 AND e.pupil_id = $2 AND e.school_id = $3 AND e.to_date > tavle_today() \
           AND e.ended_by IN ('moved_school', 'moved_out') \
         ORDER BY e.to_date LIMIT 1",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(school)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Withdraw a planned move away from the school: the enrolment runs on, the stays that
/// were to end with it too, and the enrolment that was to follow is withdrawn.
pub async fn cancel_leaving(mut conn: Conn<'_>, pupil: Uuid, school: Uuid, on: Date) -> Result<()> {
    sqlx::query(
        "UPDATE group_memberships m SET to_date = NULL FROM groups g \
         WHERE m.tenant_id = $1 AND g.tenant_id = $1 AND g.id = m.group_id AND m.pupil_id = $2 \
           AND g.school_id = $3 AND m.to_date = $4",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(school)
    .bind(on)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "DELETE FROM enrolments e WHERE e.tenant_id = $1 AND e.pupil_id = $2 AND e.school_id <> $3 \
           AND e.from_date = $4 AND e.from_date > tavle_today()",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(school)
    .bind(on)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE enrolments e SET to_date = NULL, ended_by = NULL, moved_to_municipality = NULL \
         WHERE e.tenant_id = $1 AND e.pupil_id = $2 AND e.school_id = $3 AND e.to_date = $4 \
           AND e.ended_by IN ('moved_school', 'moved_out')",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(school)
    .bind(on)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Withdraw a planned change of class: the new class's stay is withdrawn and the class
/// the pupil is in runs on.
pub async fn cancel_class_change(mut conn: Conn<'_>, pupil: Uuid, school: Uuid, planned: &ClassStay) -> Result<()> {
    sqlx::query(
        "DELETE FROM group_memberships m WHERE m.tenant_id = $1 AND m.group_id = $2 AND m.pupil_id = $3 \
           AND m.from_date = $4 AND m.from_date > tavle_today()",
    )
    .bind(conn.tenant)
    .bind(planned.group_id)
    .bind(pupil)
    .bind(planned.from_date)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE group_memberships m SET to_date = NULL FROM groups g \
         WHERE m.tenant_id = $1 AND g.tenant_id = $1 AND g.id = m.group_id AND m.pupil_id = $2 \
           AND g.school_id = $3 AND g.kind = 'base' AND m.to_date = $4",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .bind(school)
    .bind(planned.from_date)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
