//! Crash safety (run by benches/crash-safety.sh, not a test: it takes about half a
//! minute and kills a database): 32 teachers save registers against a running
//! `tavle serve` while its PostgreSQL is killed with SIGKILL and started again.
//!
//! Promises checked (the exit status is non-zero when one is broken):
//! - every save answered with 303 is in the database, exactly as sent;
//! - while the database was down Tavle answered 503 (never 500, never no answer);
//! - Tavle served a save again within 5 s of the database being back, without a restart;
//! - the audit chain of every municipality verifies.
//!
//! `cargo run --example crash_safety -- TAVLE_BINARY DATA_DIR`; CLIENTS (32), BEFORE
//! (seconds of saving before the kill, 6), DOWN (seconds the database stays down, 5)
//! and AFTER (seconds of saving after the restart, 8) from the environment.
//! `DURABILITY=ephemeral` runs the database as the tests do (fsync and synchronous
//! commit off): then saves answered 303 are lost in the crash, and this check says so.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use openidconnect::reqwest;
use time::Date;
use uuid::Uuid;

use tavle::auth::session::{self, Method, NewSession};
use tavle::config::Config;
use tavle::db::{self, embedded};
use tavle::policy::Audience;

/// A register a teacher can save: a lesson of theirs on a day it was held.
struct Register {
    group: Uuid,
    lesson: Uuid,
    date: Date,
    pupils: Vec<Uuid>,
}

struct Teacher {
    cookie: String,
    csrf: String,
    registers: Vec<Register>,
}

/// One save: what was sent and what came back (`None`: no answer at all).
struct Save {
    lesson: Uuid,
    date: Date,
    lines: Vec<(Uuid, &'static str, Option<i16>)>,
    status: Option<u16>,
    sent: Instant,
    answered: Instant,
}

/// Kills the child (Tavle) on every way out.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn env_secs(name: &str, default: u64) -> Duration {
    Duration::from_secs(std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, tavle_bin, data_dir] = args.as_slice() else {
        bail!("usage: crash_safety TAVLE_BINARY DATA_DIR");
    };
    let clients: usize = std::env::var("CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(32);
    let (before, down, after) = (env_secs("BEFORE", 6), env_secs("DOWN", 5), env_secs("AFTER", 8));
    let durability = match std::env::var("DURABILITY").as_deref() {
        Ok("ephemeral") => embedded::Durability::Ephemeral,
        _ => embedded::Durability::Durable,
    };
    let data_dir = PathBuf::from(data_dir);
    if data_dir.exists() {
        std::fs::remove_dir_all(&data_dir).with_context(|| format!("cannot clear {}", data_dir.display()))?;
    }

    println!("== the database ({durability:?}; `tavle demo` runs it durable) and the demo municipalities");
    let mut pg = Some(embedded::EmbeddedPostgres::start(&data_dir, durability).await?);
    let owner_url = pg_url(&data_dir, embedded::SUPERUSER, "tavle");
    {
        let pg = pg.as_ref().ok_or_else(|| anyhow!("no database"))?;
        let superuser = db::connect(&pg.url(embedded::SUPERUSER, "postgres"), 2).await?;
        db::ensure_database(&superuser, "tavle").await?;
        db::ensure_app_login(&superuser).await?;
        superuser.close().await;
    }
    let owner = db::connect(&owner_url, 4).await?;
    db::migrate(&owner).await?;
    tavle::demo::ensure(&owner, tavle::demo::DemoSize::Standard, &|_| {}).await?;

    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    println!("== tavle serve on {base}");
    let log = std::fs::File::create(data_dir.join("tavle.log"))?;
    let tavle = Command::new(tavle_bin)
        .arg("serve")
        .env("DATABASE_URL", pg_url(&data_dir, embedded::APP_USER, "tavle"))
        .env("TAVLE_MIGRATION_DATABASE_URL", &owner_url)
        .env("TAVLE_LISTEN", format!("127.0.0.1:{port}"))
        .env("TAVLE_FORM_POST_LIMIT", "100000000")
        .env("TAVLE_DB_ACQUIRE_TIMEOUT_SECONDS", "2")
        .env("TAVLE_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("cannot start tavle serve")?;
    let mut tavle = ChildGuard(tavle);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()?;
    wait_ready(&http, &base).await?;

    let teachers = teachers(&owner, clients).await?;
    let registers: usize = teachers.iter().map(|t| t.registers.len()).sum();
    println!("== {} teachers saving registers ({registers} lesson days to save, each once)", teachers.len());
    owner.close().await;

    let saves: Arc<Mutex<Vec<Save>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (n, teacher) in teachers.into_iter().enumerate() {
        let (http, base, saves, stop) = (http.clone(), base.clone(), Arc::clone(&saves), Arc::clone(&stop));
        tasks.push(tokio::spawn(async move { save_registers(n, teacher, &http, &base, &saves, &stop).await }));
    }

    tokio::time::sleep(before).await;
    let pid = pg.as_ref().and_then(embedded::EmbeddedPostgres::pid).ok_or_else(|| anyhow!("no postgres pid"))?;
    // The postmaster and every backend at once (its own process group), as a power cut.
    let killed = Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).status()?;
    let down_at = Instant::now();
    if !killed.success() {
        bail!("kill -KILL -{pid} failed");
    }
    drop(pg.take()); // reaps the killed postmaster
    println!("== PostgreSQL killed (SIGKILL) at {:.1} s; down for {} s", secs(down_at - started), down.as_secs());
    tokio::time::sleep(down).await;
    pg = Some(embedded::EmbeddedPostgres::start(&data_dir, durability).await?);
    let up_at = Instant::now();
    println!("== PostgreSQL accepts connections again at {:.1} s (crash recovery included)", secs(up_at - started));
    tokio::time::sleep(after).await;
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await?;
    }
    let tavle_alive = tavle.0.try_wait()?.is_none();

    let owner = db::connect(&owner_url, 2).await?;
    let saves = std::mem::take(&mut *saves.lock().map_err(|_| anyhow!("poisoned"))?);
    let report = check(&owner, &saves, down_at, up_at).await?;
    let mut chains = Vec::new();
    let mut chains_ok = true;
    for slug in tavle::demo::SLUGS {
        let tenant: Uuid =
            sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1").bind(slug).fetch_one(&owner).await?;
        let verdict = tavle::audit::verify::verify(&owner, tenant).await?;
        chains_ok &= matches!(verdict, tavle::audit::verify::Verdict::Ok { .. });
        chains.push(format!("{slug}: {verdict}"));
    }
    owner.close().await;
    drop(tavle);
    drop(pg);

    println!();
    println!("saves sent                          {}", saves.len());
    println!("answered 303 (saved)                {}", report.saved);
    println!("  of which found in the database    {}", report.found);
    println!("answers while the database was down {} (503: {})", report.while_down, report.down_503);
    println!("seconds to recover                  {}", report.recovered.map_or("never".into(), |s| format!("{s:.2}")));
    println!("all answers                         {}", fmt_counts(&report.counts));
    println!("audit chain                         {}", chains.join("; "));
    println!(
        "tavle serve                         {}",
        if tavle_alive { "ran throughout, never restarted" } else { "EXITED" }
    );

    let mut broken = Vec::new();
    if report.found != report.saved {
        broken.push(format!("{} saves answered 303 are not in the database as sent", report.saved - report.found));
    }
    if report.down_503 == 0 {
        broken.push("no 503 while the database was down".to_owned());
    }
    if report.down_503 != report.while_down {
        broken.push(format!(
            "{} answers other than 503 while the database was down",
            report.while_down - report.down_503
        ));
    }
    if report.recovered.is_none_or(|s| s > 5.0) {
        broken.push("no save served within 5 s of the database being back".to_owned());
    }
    let faults: usize =
        report.counts.iter().filter(|(k, _)| !matches!(k.as_str(), "303" | "503" | "422")).map(|(_, n)| n).sum();
    if faults > 0 {
        broken.push(format!("{faults} answers that are neither 303, 422 nor 503"));
    }
    if !chains_ok {
        broken.push("an audit chain does not verify".to_owned());
    }
    if !tavle_alive {
        broken.push("tavle serve exited".to_owned());
    }
    if report.saved == 0 {
        broken.push("nothing was saved at all".to_owned());
    }
    if broken.is_empty() {
        println!("\nOK: every promise kept");
        Ok(())
    } else {
        for b in &broken {
            eprintln!("BROKEN: {b}");
        }
        Err(anyhow!(
            "{} promise(s) broken (see {} for Tavle's log)",
            broken.len(),
            data_dir.join("tavle.log").display()
        ))
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn pg_url(dir: &Path, user: &str, database: &str) -> String {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    format!("postgres://{user}@localhost/{database}?host={}", dir.display())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn wait_ready(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..300 {
        if let Ok(res) = http.get(format!("{base}/readyz")).send().await {
            if res.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("tavle serve did not become ready within 30 s")
}

/// Teachers of Fjordvik with the most lesson days held in the last 100 days, signed
/// in; their registers are cleared first, so that what the database holds afterwards
/// comes from this run only.
async fn teachers(owner: &sqlx::PgPool, count: usize) -> anyhow::Result<Vec<Teacher>> {
    let tenant: Uuid = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'fjordvik'").fetch_one(owner).await?;
    let rows: Vec<(Uuid, Uuid, Uuid, Date, Vec<Uuid>)> = sqlx::query_as(
        "WITH held AS ( \
           SELECT l.teacher_id, l.group_id, l.id AS lesson, d::date AS date FROM lessons l \
           JOIN groups g ON g.tenant_id = l.tenant_id AND g.id = l.group_id \
           JOIN school_years y ON y.tenant_id = g.tenant_id AND y.id = g.school_year_id \
           CROSS JOIN generate_series(y.starts, LEAST(tavle_today(), y.ends), interval '1 day') d \
           WHERE l.tenant_id = $1 AND l.teacher_id IS NOT NULL AND extract(isodow FROM d) = l.weekday \
             AND EXISTS (SELECT 1 FROM terms t WHERE t.tenant_id = g.tenant_id \
                 AND t.school_year_id = g.school_year_id AND d BETWEEN t.starts AND t.ends) \
             AND d >= l.valid_from AND (l.valid_to IS NULL OR l.valid_to > d) AND d BETWEEN y.starts AND y.ends \
             AND NOT EXISTS (SELECT 1 FROM calendar_breaks b WHERE b.tenant_id = g.tenant_id \
                 AND b.school_year_id = g.school_year_id AND (b.school_id IS NULL OR b.school_id = g.school_id) \
                 AND d BETWEEN b.first_day AND b.last_day)) \
         SELECT h.teacher_id, h.group_id, h.lesson, h.date, array_agg(m.pupil_id ORDER BY m.pupil_id) \
         FROM held h JOIN group_memberships m ON m.tenant_id = $1 AND m.group_id = h.group_id \
           AND m.from_date <= h.date AND (m.to_date IS NULL OR m.to_date > h.date) \
         GROUP BY 1, 2, 3, 4 ORDER BY 1, 4 DESC, 3",
    )
    .bind(tenant)
    .fetch_all(owner)
    .await?;
    let mut by_teacher: BTreeMap<Uuid, Vec<Register>> = BTreeMap::new();
    for (teacher, group, lesson, date, pupils) in rows {
        by_teacher.entry(teacher).or_default().push(Register { group, lesson, date, pupils });
    }
    let mut ranked: Vec<(Uuid, Vec<Register>)> = by_teacher.into_iter().collect();
    ranked.sort_by_key(|(id, r)| (std::cmp::Reverse(r.len()), *id));
    let config = Config::from_map(&HashMap::new())?;
    let mut out = Vec::new();
    for (teacher, registers) in ranked {
        if out.len() == count {
            break;
        }
        let created = session::create(
            owner,
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
            Err(tavle::error::AppError::NotFound) => continue, // no current access
            Err(e) => bail!("signing in a teacher: {e}"),
        };
        let csrf: String = sqlx::query_scalar(
            "SELECT csrf_token FROM sessions WHERE tenant_id = $1 AND person_id = $2 ORDER BY created_at DESC LIMIT 1",
        )
        .bind(tenant)
        .bind(teacher)
        .fetch_one(owner)
        .await?;
        let lessons: Vec<Uuid> = registers.iter().map(|r| r.lesson).collect();
        sqlx::query("DELETE FROM absence_registrations WHERE tenant_id = $1 AND lesson_id = ANY($2)")
            .bind(tenant)
            .bind(&lessons)
            .execute(owner)
            .await?;
        out.push(Teacher { cookie, csrf, registers });
    }
    if out.len() < count {
        bail!("only {} teachers with registers to save", out.len());
    }
    Ok(out)
}

/// One teacher: each of their lesson days once, one after the other, until told to stop.
async fn save_registers(
    n: usize,
    teacher: Teacher,
    http: &reqwest::Client,
    base: &str,
    saves: &Mutex<Vec<Save>>,
    stop: &AtomicBool,
) {
    for (seq, register) in (1_u32..).zip(teacher.registers) {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        // A pattern no other save has: the first pupil is late by a number of minutes
        // from the teacher and the save's number, the others vary.
        let lines: Vec<(Uuid, &'static str, Option<i16>)> = register
            .pupils
            .iter()
            .enumerate()
            .map(|(i, p)| match (i, (i as u32 + seq + n as u32) % 5) {
                (0, _) => (*p, "late", Some(i16::try_from((n as u32 * 7 + seq) % 240 + 1).unwrap_or(1))),
                (_, 0) => (*p, "absent", None),
                (_, 1) => (*p, "late", Some(i16::try_from(seq % 30 + 1).unwrap_or(1))),
                _ => (*p, "present", None),
            })
            .collect();
        let mut form: Vec<(String, String)> = vec![
            ("csrf".into(), teacher.csrf.clone()),
            ("date".into(), iso(register.date)),
            ("lesson".into(), register.lesson.to_string()),
        ];
        for (pupil, status, minutes) in &lines {
            form.push((format!("status-{pupil}"), (*status).to_owned()));
            if let Some(m) = minutes {
                form.push((format!("minutes-{pupil}"), m.to_string()));
            }
        }
        let sent = Instant::now();
        let res = http
            .post(format!("{base}/absence/groups/{}/register", register.group))
            .header("cookie", format!("tavle-session={}", teacher.cookie))
            .form(&form)
            .send()
            .await;
        let status = res.ok().map(|r| r.status().as_u16());
        let save = Save { lesson: register.lesson, date: register.date, lines, status, sent, answered: Instant::now() };
        if let Ok(mut saves) = saves.lock() {
            saves.push(save);
        }
    }
}

fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

struct Report {
    saved: usize,
    found: usize,
    while_down: usize,
    down_503: usize,
    recovered: Option<f64>,
    counts: BTreeMap<String, usize>,
}

async fn check(owner: &sqlx::PgPool, saves: &[Save], down_at: Instant, up_at: Instant) -> anyhow::Result<Report> {
    let mut report =
        Report { saved: 0, found: 0, while_down: 0, down_503: 0, recovered: None, counts: BTreeMap::new() };
    for s in saves {
        let key = s.status.map_or("no answer".to_owned(), |c| c.to_string());
        *report.counts.entry(key).or_default() += 1;
        // Sent once the database was gone and answered before it was back.
        if s.sent >= down_at && s.answered <= up_at {
            report.while_down += 1;
            if s.status == Some(503) {
                report.down_503 += 1;
            }
        }
        if s.status == Some(303) && s.answered > up_at {
            let after = secs(s.answered - up_at);
            report.recovered = Some(report.recovered.map_or(after, |r: f64| r.min(after)));
        }
        if s.status != Some(303) {
            continue;
        }
        report.saved += 1;
        let rows: Vec<(Uuid, String, Option<i16>)> = sqlx::query_as(
            "SELECT pupil_id, status, minutes_late FROM absence_registrations WHERE lesson_id = $1 AND date = $2",
        )
        .bind(s.lesson)
        .bind(s.date)
        .fetch_all(owner)
        .await?;
        let stored: HashMap<Uuid, (String, Option<i16>)> = rows.into_iter().map(|(p, st, m)| (p, (st, m))).collect();
        let as_sent = stored.len() == s.lines.len()
            && s.lines.iter().all(|(p, st, m)| stored.get(p).is_some_and(|(x, y)| x == st && y == m));
        if as_sent {
            report.found += 1;
        }
    }
    Ok(report)
}

fn fmt_counts(counts: &BTreeMap<String, usize>) -> String {
    counts.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")
}
