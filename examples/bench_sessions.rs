//! Morning-peak benchmark helper (see benches/morning-peak.sh): signs in teachers of the
//! large demo municipality and prints, one line per teacher, what a load tool needs to
//! play them: session cookie, CSRF token, group, lesson (or assessment period), date
//! and the group's pupils.
//!
//! `cargo run --release --example bench_sessions -- DATA_DIR COUNT DATE [SLUG [PAGE]]`
//! (DATA_DIR: a running `tavle demo --size large --data-dir DATA_DIR`; DATE: a school
//! day, YYYY-MM-DD, or `auto` for the latest school day up to today; SLUG: the
//! municipality, `storby` unless told; PAGE: `register` unless told).
//!
//! PAGE `register`: a lesson the teacher gives on DATE in a group of 25 or more.
//! PAGE `office`: the office clerk or principal of the school with the most pupils
//! (the third and fourth columns are the school; for benches/rollover.sh).
//! PAGE `grid`: the grade grid of a grade 8-10 teaching group of 25 to 30 pupils that
//! the teacher teaches, in a subject graded 1-6, with a half-year period open for entry
//! today (the fourth column is the period); DATE must be `auto` (today, as the server
//! sees it: it decides whether the window is open).

use anyhow::{anyhow, Context};
use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

use tavle::auth::session::{self, Method, NewSession};
use tavle::config::Config;
use tavle::policy::Audience;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (data_dir, count, date, slug, page) = match args.as_slice() {
        [_, data_dir, count, date] => (data_dir, count, date, "storby", "register"),
        [_, data_dir, count, date, slug] => (data_dir, count, date, slug.as_str(), "register"),
        [_, data_dir, count, date, slug, page] => (data_dir, count, date, slug.as_str(), page.as_str()),
        _ => return Err(anyhow!("usage: bench_sessions DATA_DIR COUNT DATE [SLUG [register|grid]]")),
    };
    let (grid, office) = match page {
        "register" => (false, false),
        "office" => (false, true),
        "grid" if date == "auto" => (true, false),
        "grid" => return Err(anyhow!("the grid is saved today: DATE must be `auto`")),
        _ => return Err(anyhow!("PAGE: `register`, `grid` or `office`")),
    };
    let count: i64 = count.parse().context("COUNT")?;
    let url = format!("postgres://{}@localhost/tavle?host={data_dir}", tavle::db::embedded::SUPERUSER);
    let owner = tavle::db::connect(&url, 2).await?;
    let tenant: Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1")
        .bind(slug)
        .fetch_optional(&owner)
        .await?
        .ok_or_else(|| anyhow!("no municipality {slug}: build it with `tavle demo --size large`"))?;
    // `auto`: the latest school day up to today (a register cannot be taken ahead); for
    // the grid, today.
    let date: Date = if grid || office {
        sqlx::query_scalar("SELECT tavle_today()").fetch_one(&owner).await?
    } else if date == "auto" {
        sqlx::query_scalar(
            "SELECT d::date FROM generate_series(tavle_today() - 60, tavle_today(), interval '1 day') d \
             WHERE extract(isodow FROM d) < 6 AND NOT EXISTS (SELECT 1 FROM calendar_breaks b \
                   WHERE b.tenant_id = $1 AND d::date BETWEEN b.first_day AND b.last_day) \
               AND EXISTS (SELECT 1 FROM terms t WHERE t.tenant_id = $1 AND d::date BETWEEN t.starts AND t.ends) \
             ORDER BY d DESC LIMIT 1",
        )
        .bind(tenant)
        .fetch_optional(&owner)
        .await?
        .ok_or_else(|| anyhow!("no school day in the last two months (the summer?)"))?
    } else {
        Date::parse(date, time::macros::format_description!("[year]-[month]-[day]")).context("DATE")?
    };
    let picks = if office {
        office_picks(&owner, tenant, date).await?
    } else if grid {
        grid_picks(&owner, tenant, date, count).await?
    } else {
        lessons(&owner, tenant, date, count).await?
    };
    let config = Config::from_map(&Default::default())?;
    let mut signed_in = 0;
    for (teacher, group, lesson_or_period) in picks {
        if signed_in == count {
            break;
        }
        let created = session::create(
            &owner,
            &config,
            NewSession {
                tenant_id: tenant,
                person_id: teacher,
                method: Method::Demo,
                audience: Audience::Staff,
                acr: None,
                id_token_hint: None,
                lang: tavle::web::i18n::Lang::Nb,
            },
            Some("127.0.0.1"),
        )
        .await;
        let cookie = match created {
            Ok(c) => c,
            // On leave, or an employment that grants no role: not at work this morning.
            Err(tavle::error::AppError::NotFound) => continue,
            Err(e) => return Err(anyhow!("signing in a teacher: {e}")),
        };
        signed_in += 1;
        let csrf: String = sqlx::query_scalar(
            "SELECT csrf_token FROM sessions WHERE tenant_id = $1 AND person_id = $2 ORDER BY created_at DESC LIMIT 1",
        )
        .bind(tenant)
        .bind(teacher)
        .fetch_one(&owner)
        .await?;
        let pupils: Vec<Uuid> = sqlx::query_scalar(
            "SELECT pupil_id FROM group_memberships WHERE tenant_id = $1 AND group_id = $2 \
             AND from_date <= $3 AND (to_date IS NULL OR to_date > $3) ORDER BY pupil_id",
        )
        .bind(tenant)
        .bind(group)
        .bind(date)
        .fetch_all(&owner)
        .await?;
        let pupils: Vec<String> = pupils.iter().map(Uuid::to_string).collect();
        println!("{cookie}\t{csrf}\t{group}\t{lesson_or_period}\t{date}\t{}", pupils.join(","));
    }
    owner.close().await;
    Ok(())
}

/// The office of the school with the most pupils today: (person, school, school).
async fn office_picks(owner: &PgPool, tenant: Uuid, today: Date) -> anyhow::Result<Vec<(Uuid, Uuid, Uuid)>> {
    Ok(sqlx::query_as(
        "WITH biggest AS (SELECT e.school_id FROM enrolments e WHERE e.tenant_id = $1 AND e.from_date <= $2 \
           AND (e.to_date IS NULL OR e.to_date > $2) GROUP BY e.school_id ORDER BY count(*) DESC LIMIT 1) \
         SELECT e.staff_id, e.school_id, e.school_id FROM employments e \
         JOIN role_mappings rm ON rm.tenant_id = e.tenant_id AND rm.position_code = e.position_code \
           AND rm.workplace_kind = 'school' \
         WHERE e.tenant_id = $1 AND e.school_id = (SELECT school_id FROM biggest) \
           AND rm.role IN ('office_clerk', 'principal') AND NOT e.on_leave AND e.from_date <= $2 \
           AND (e.to_date IS NULL OR e.to_date > $2) ORDER BY rm.role, e.staff_id LIMIT 2",
    )
    .bind(tenant)
    .bind(today)
    .fetch_all(owner)
    .await?)
}

/// One lesson a teacher gives that day, in a group of 25 or more, per teacher:
/// (teacher, group, lesson).
async fn lessons(owner: &PgPool, tenant: Uuid, date: Date, count: i64) -> anyhow::Result<Vec<(Uuid, Uuid, Uuid)>> {
    Ok(sqlx::query_as(
        "SELECT DISTINCT ON (l.teacher_id) l.teacher_id, l.group_id, l.id FROM lessons l \
         WHERE l.tenant_id = $1 AND l.teacher_id IS NOT NULL AND l.weekday = extract(isodow FROM $2::date) \
           AND l.valid_from <= $2 AND (l.valid_to IS NULL OR l.valid_to > $2) \
           AND (SELECT count(*) FROM group_memberships m WHERE m.tenant_id = l.tenant_id AND m.group_id = l.group_id) >= 25 \
         ORDER BY l.teacher_id, l.starts LIMIT $3 * 2",
    )
    .bind(tenant)
    .bind(date)
    .bind(count)
    .fetch_all(owner)
    .await?)
}

/// One grade grid per teacher that they may save today: (teacher, group, period). The
/// conditions are the grid's own (src/assessment/grid.rs and `grade_group_access`): a
/// teaching group with a subject, the teacher assigned to it and a teacher at its
/// school (a current employment, not on leave, that maps to the role), a half-year
/// period of the group's school and year whose window holds today and that the grade
/// level gets (spring is not for grade 10), and a subject graded 1-6 in half-years, so
/// that any of 1-6 is a valid value for every pupil. 25 to 30 pupils on the grid today.
async fn grid_picks(owner: &PgPool, tenant: Uuid, today: Date, count: i64) -> anyhow::Result<Vec<(Uuid, Uuid, Uuid)>> {
    Ok(sqlx::query_as(
        "SELECT DISTINCT ON (s.staff_id) s.staff_id, g.id, p.id FROM group_staff s \
         JOIN groups g ON g.tenant_id = s.tenant_id AND g.id = s.group_id \
         JOIN subjects su ON su.tenant_id = g.tenant_id AND su.id = g.subject_id \
         JOIN assessment_periods p ON p.tenant_id = g.tenant_id AND p.school_id = g.school_id \
              AND p.school_year_id = g.school_year_id \
         WHERE s.tenant_id = $1 AND s.assignment = 'teacher' AND g.kind = 'teaching' \
           AND g.grade_level BETWEEN 8 AND 10 AND su.half_year_scale = 'grade' \
           AND (p.kind = 'autumn' OR (p.kind = 'spring' AND g.grade_level < 10)) \
           AND $2 BETWEEN p.opens_on AND p.closes_on \
           AND (SELECT count(*) FROM group_memberships m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id \
                AND m.from_date <= $2 AND (m.to_date IS NULL OR m.to_date > $2)) BETWEEN 25 AND 30 \
           AND EXISTS (SELECT 1 FROM employments e JOIN role_mappings rm ON rm.tenant_id = e.tenant_id \
                AND rm.position_code = e.position_code AND rm.workplace_kind = 'school' \
                WHERE e.tenant_id = $1 AND e.staff_id = s.staff_id AND e.school_id = g.school_id \
                  AND rm.role = 'teacher' AND NOT e.on_leave AND e.from_date <= $2 \
                  AND (e.to_date IS NULL OR e.to_date > $2)) \
         ORDER BY s.staff_id, g.id LIMIT $3 * 2",
    )
    .bind(tenant)
    .bind(today)
    .bind(count)
    .fetch_all(owner)
    .await?)
}
