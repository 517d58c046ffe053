//! Morning-peak benchmark helper (see benches/morning-peak.sh): signs in teachers of the
//! large demo municipality and prints, one line per teacher, what a load tool needs to
//! play them: session cookie, CSRF token, group, lesson, date and the group's pupils.
//!
//! `cargo run --release --example bench_sessions -- DATA_DIR COUNT DATE [SLUG]`
//! (DATA_DIR: a running `tavle demo --size large --data-dir DATA_DIR`; DATE: a school
//! day, YYYY-MM-DD, or `auto` for the latest school day up to today; SLUG: the
//! municipality, `storby` unless told).

use anyhow::{anyhow, Context};
use uuid::Uuid;

use tavle::auth::session::{self, Method, NewSession};
use tavle::config::Config;
use tavle::policy::Audience;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (data_dir, count, date, slug) = match args.as_slice() {
        [_, data_dir, count, date] => (data_dir, count, date, "storby"),
        [_, data_dir, count, date, slug] => (data_dir, count, date, slug.as_str()),
        _ => return Err(anyhow!("usage: bench_sessions DATA_DIR COUNT DATE [SLUG]")),
    };
    let count: i64 = count.parse().context("COUNT")?;
    let url = format!("postgres://{}@localhost/tavle?host={data_dir}", tavle::db::embedded::SUPERUSER);
    let owner = tavle::db::connect(&url, 2).await?;
    let tenant: Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1")
        .bind(slug)
        .fetch_optional(&owner)
        .await?
        .ok_or_else(|| anyhow!("no municipality {slug}: build it with `tavle demo --size large`"))?;
    // `auto`: the latest school day up to today (a register cannot be taken ahead).
    let date: time::Date = if date == "auto" {
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
        time::Date::parse(date, time::macros::format_description!("[year]-[month]-[day]")).context("DATE")?
    };
    // One lesson a teacher gives that day, in a group of 25 or more, per teacher.
    let picks: Vec<(Uuid, Uuid, Uuid)> = sqlx::query_as(
        "SELECT DISTINCT ON (l.teacher_id) l.teacher_id, l.group_id, l.id FROM lessons l \
         WHERE l.tenant_id = $1 AND l.teacher_id IS NOT NULL AND l.weekday = extract(isodow FROM $2::date) \
           AND l.valid_from <= $2 AND (l.valid_to IS NULL OR l.valid_to > $2) \
           AND (SELECT count(*) FROM group_memberships m WHERE m.tenant_id = l.tenant_id AND m.group_id = l.group_id) >= 25 \
         ORDER BY l.teacher_id, l.starts LIMIT $3 * 2",
    )
    .bind(tenant)
    .bind(date)
    .bind(count)
    .fetch_all(&owner)
    .await?;
    let config = Config::from_map(&Default::default())?;
    let mut signed_in = 0;
    for (teacher, group, lesson) in picks {
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
        println!("{cookie}\t{csrf}\t{group}\t{lesson}\t{date}\t{}", pupils.join(","));
    }
    owner.close().await;
    Ok(())
}
