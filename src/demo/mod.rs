//! The demo municipalities: invented, deterministic from a seed, and loaded in bulk.
//!
//! - `fjordvik` (9901): three schools (1-7 with SFO, 8-10, 1-10 with SFO), about 1,500
//!   pupils, and the demo personas.
//! - `smaoy` (9902): one small school, so that tenant isolation shows.
//! - `storby` (9903, `--size large` only): an Oslo-size municipality of about 88,000
//!   pupils in 180 schools, for benchmarks.
//! - `storvik` (9904, `--size large --municipalities 2` only): a second one like it,
//!   from its own seed, so that a benchmark can drive two large municipalities at once.
//!
//! Every national id is synthetic (month + 80, as in Skatteetaten's test population)
//! or a DUF number, so it can never be a real person's.

mod builder;
mod copy;
mod history;
mod intake;
mod messages;
mod names;
mod personas;
mod register;
mod tables;
mod years;

use anyhow::Context;
use sqlx::PgPool;

use self::builder::{Builder, SchoolPlan, TenantPlan};
pub use self::history::history_end;
pub use self::messages::drill_token_sql;
pub use self::years::DemoYears;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoSize {
    Standard,
    Large,
    /// Large, with a second Oslo-size municipality (Storvik).
    TwoLarge,
}

#[derive(Debug, Default)]
pub struct DemoSummary {
    /// Names of the municipalities created now (empty when all existed).
    pub created: Vec<String>,
    pub pupils: u64,
    pub guardians: u64,
    pub staff: u64,
    pub schools: u64,
}

/// A person the demo sign-in page offers.
#[derive(Debug, Clone)]
pub struct DemoPersona {
    pub key: &'static str,
    pub tenant_slug: &'static str,
    /// "staff", "pupil" or "guardian".
    pub audience: &'static str,
    pub feide_id: Option<String>,
    pub national_id: Option<String>,
    pub display_name: String,
    /// Translation key of the one-line description (`demo.persona.<key>`).
    pub description_key: String,
}

pub fn personas() -> Vec<DemoPersona> {
    personas::SPECS
        .iter()
        .map(|s| {
            let (audience, national_id) = match s.part {
                personas::Part::Staff { .. } => ("staff", None),
                personas::Part::Pupil { .. } => ("pupil", None),
                personas::Part::Guardian => ("guardian", personas::fixed_national_id(s.born)),
            };
            DemoPersona {
                key: s.key,
                tenant_slug: s.tenant,
                audience,
                feide_id: s.feide_id.map(str::to_owned),
                national_id,
                display_name: format!("{} {}", s.given, s.family),
                description_key: format!("demo.persona.{}", s.key),
            }
        })
        .collect()
}

/// The demo persons as the local identity provider (dev/idp) knows them: Feide
/// accounts (user name = persona key) and ID-porten accounts (pid). The committed
/// `dev/idp/accounts.demo.json` is this, and a test keeps the two the same.
pub fn idp_accounts() -> serde_json::Value {
    let mut feide = Vec::new();
    let mut idporten = Vec::new();
    for p in personas() {
        match (&p.feide_id, &p.national_id) {
            (Some(eppn), _) => feide.push(serde_json::json!({
                "sub": format!("demo-{}", p.key.replace('_', "-")),
                "username": p.key,
                "name": p.display_name,
                "eppn": eppn,
            })),
            (None, Some(pid)) => idporten.push(serde_json::json!({ "pid": pid, "name": p.display_name })),
            (None, None) => {}
        }
    }
    serde_json::json!({ "feide": feide, "idporten": idporten })
}

/// The demo's calendar around `today` (`tavle demo --print-calendar`): the previous,
/// current and next school years with their terms, days off and school days, and the
/// days the date-dependent tests are run on (`scripts/test-dates`): the current year's
/// first and last school day, a weekday in each of its periods of days off, and a day
/// in the summer after it.
pub fn calendar_json(today: time::Date) -> serde_json::Value {
    use crate::domain::calendar::SchoolCalendar;
    let years = DemoYears::around(today);
    let year = |c: &SchoolCalendar| {
        serde_json::json!({
            "name": c.year.name(),
            "starts": c.year.starts().to_string(),
            "ends": c.year.ends().to_string(),
            "terms": c.terms.iter().map(|(a, b)| [a.to_string(), b.to_string()]).collect::<Vec<_>>(),
            "days_off": c.days_off.iter().map(|o| serde_json::json!({
                "kind": o.kind, "name": o.name, "first": o.first.to_string(), "last": o.last.to_string(),
            })).collect::<Vec<_>>(),
            "school_days": c.school_days().iter().map(ToString::to_string).collect::<Vec<_>>(),
        })
    };
    let c = &years.current;
    let mut test_days =
        vec![("first school day".to_owned(), c.first_day()), ("last school day".to_owned(), c.last_day())];
    for o in &c.days_off {
        // A weekday in the middle of the days off.
        let mut d: time::Date = o.first + (o.last - o.first) / 2;
        while d.weekday().number_from_monday() > 5 && d > o.first {
            d = d.previous_day().unwrap_or(d);
        }
        test_days.push((o.name.to_owned(), d));
    }
    // Three weeks into the summer, a Wednesday.
    let mut summer = c.last_day() + time::Duration::days(19);
    while summer.weekday() != time::Weekday::Wednesday {
        summer = summer.next_day().unwrap_or(summer);
    }
    test_days.push(("summer".to_owned(), summer));
    serde_json::json!({
        "today": today.to_string(),
        "previous": year(&years.previous),
        "current": year(c),
        "next": year(&years.next),
        "test_days": test_days.into_iter().map(|(what, d)| serde_json::json!({"what": what, "date": d.to_string()})).collect::<Vec<_>>(),
    })
}

/// The municipalities whose sign-in `tavle demo --dev-idp` points at dev/idp.
pub const SLUGS: [&str; 2] = ["fjordvik", "smaoy"];

fn fjordvik() -> TenantPlan {
    let school = |name: &str, first, last, sfo, per_grade, area| SchoolPlan {
        name: name.to_owned(),
        first,
        last,
        sfo,
        per_grade,
        area,
    };
    TenantPlan {
        slug: "fjordvik",
        name: "Fjordvik kommune",
        number: "9901",
        seed: 9901,
        realm: "fjordvik.kommune.no",
        unit_name: "Oppvekst og utdanning",
        postal: vec![("9910".to_owned(), "Fjordvik"), ("9912".to_owned(), "Fjordvik"), ("9915".to_owned(), "Nordlys")],
        guest_from: &["9902", "1806"],
        schools: vec![
            school(personas::SOLBAKKEN, 1, 7, true, 60, 0),
            school(personas::UNGDOMSSKOLE, 8, 10, false, 170, 0),
            school(personas::NORDLYS, 1, 10, true, 55, 1),
        ],
    }
}

fn smaoy() -> TenantPlan {
    TenantPlan {
        slug: "smaoy",
        name: "Småøy kommune",
        number: "9902",
        seed: 9902,
        realm: "smaoy.kommune.no",
        unit_name: "Oppvekst",
        postal: vec![("9920".to_owned(), "Småøy")],
        guest_from: &["9901"],
        schools: vec![SchoolPlan {
            name: personas::SMAOY_SCHOOL.to_owned(),
            first: 1,
            last: 10,
            sfo: true,
            per_grade: 8,
            area: 0,
        }],
    }
}

/// 50 areas of two or three primary schools (1-7, SFO) and one lower secondary school
/// (8-10), and 20 combined schools (1-10, SFO): 180 schools, about 88,000 pupils.
fn storby() -> TenantPlan {
    large_municipality("storby", "Storby kommune", "9903", "storby.kommune.no")
}

/// The second large municipality: Storby's plan (school names too) from its own seed.
fn storvik() -> TenantPlan {
    large_municipality("storvik", "Storvik kommune", "9904", "storvik.kommune.no")
}

fn large_municipality(slug: &'static str, name: &'static str, number: &'static str, realm: &'static str) -> TenantPlan {
    let mut places = names::PLACE_HEADS.iter().flat_map(|h| names::PLACE_TAILS.iter().map(move |t| format!("{h}{t}")));
    let mut next_place = move || places.next().unwrap_or_default();
    let mut schools = Vec::new();
    for area in 0..50 {
        let primaries = if area < 10 { 3 } else { 2 };
        for _ in 0..primaries {
            schools.push(SchoolPlan {
                name: format!("{} skole", next_place()),
                first: 1,
                last: 7,
                sfo: true,
                per_grade: 70,
                area,
            });
        }
        schools.push(SchoolPlan {
            name: format!("{} ungdomsskole", next_place()),
            first: 8,
            last: 10,
            sfo: false,
            per_grade: 70 * primaries,
            area,
        });
    }
    for area in 50..70 {
        schools.push(SchoolPlan {
            name: format!("{} oppvekstsenter", next_place()),
            first: 1,
            last: 10,
            sfo: true,
            per_grade: 55,
            area,
        });
    }
    TenantPlan {
        slug,
        name,
        number,
        seed: number.parse().unwrap_or_default(),
        realm,
        unit_name: "Utdanningsetaten",
        postal: (150..990).step_by(7).map(|code| (format!("{code:04}"), name.trim_end_matches(" kommune"))).collect(),
        guest_from: &["9901", "3201", "3301"],
        schools,
    }
}

/// Create each demo municipality of `size` that does not exist yet (by slug), each in
/// one transaction, bulk-loaded with COPY, around the school year of today (as the
/// process sees it: `db::today()`, so TAVLE_TODAY moves the demo). Runs as the database
/// owner (a superuser in the embedded cluster), which row-level security does not
/// apply to.
pub async fn ensure(owner: &PgPool, size: DemoSize, progress: &(dyn Fn(&str) + Sync)) -> anyhow::Result<DemoSummary> {
    let today = crate::db::today();
    let mut plans = vec![fjordvik(), smaoy()];
    if matches!(size, DemoSize::Large | DemoSize::TwoLarge) {
        plans.push(storby());
    }
    if size == DemoSize::TwoLarge {
        plans.push(storvik());
    }
    let mut summary = DemoSummary::default();
    for plan in &plans {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tenants WHERE slug = $1)")
            .bind(plan.slug)
            .fetch_one(owner)
            .await?;
        if exists {
            // Created before the flag existed (a demo kept in `./.tavle`): its people
            // have synthetic numbers, and so does the documented example import.
            sqlx::query("UPDATE tenants SET allows_synthetic_ids = true WHERE slug = $1 AND NOT allows_synthetic_ids")
                .bind(plan.slug)
                .execute(owner)
                .await?;
            let current: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM school_years y JOIN tenants t ON t.id = y.tenant_id \
                 WHERE t.slug = $1 AND y.starts <= $2 AND y.ends >= $2)",
            )
            .bind(plan.slug)
            .bind(today)
            .fetch_one(owner)
            .await?;
            if !current {
                progress(&format!(
                    "{}: built for another school year than today's ({today}); --reset builds it anew",
                    plan.name
                ));
            }
            continue;
        }
        let started = std::time::Instant::now();
        progress(&format!("{}: generating", plan.name));
        let built = Builder::new(plan, today).build(progress);
        let mut tx = owner.begin().await?;
        // A demo municipality: every national id in it is synthetic (see migration 000400).
        // The function seeds its code lists in this transaction (migration 20261220000100).
        sqlx::query("SELECT tavle_create_tenant($1, $2, $3, $4, true)")
            .bind(built.tenant_id)
            .bind(plan.number)
            .bind(plan.name)
            .bind(plan.slug)
            .execute(&mut *tx)
            .await?;
        for table in built.tables.in_load_order() {
            if table.rows() > 50_000 {
                progress(&format!("{}: loading {} rows into {}", plan.name, table.rows(), table.name()));
            }
            table.load(&mut tx).await.with_context(|| format!("loading demo {} into {}", plan.slug, table.name()))?;
        }
        tx.commit().await?;
        register::import(owner, plan.slug).await.with_context(|| format!("the demo register file of {}", plan.slug))?;
        intake::load(owner, plan.slug).await.with_context(|| format!("the demo intake of {}", plan.slug))?;
        messages::load(owner, plan.slug).await.with_context(|| format!("the demo messages of {}", plan.slug))?;
        progress(&format!(
            "{}: {} schools, {} pupils, {} guardians, {} staff ({:.1} s)",
            plan.name,
            built.counts.schools,
            built.counts.pupils,
            built.counts.guardians,
            built.counts.staff,
            started.elapsed().as_secs_f64()
        ));
        summary.created.push(plan.name.to_owned());
        summary.pupils += built.counts.pupils;
        summary.guardians += built.counts.guardians;
        summary.staff += built.counts.staff;
        summary.schools += built.counts.schools;
    }
    if !summary.created.is_empty() {
        sqlx::query("ANALYZE").execute(owner).await?;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_have_the_promised_shape() {
        let f = fjordvik();
        let pupils: usize =
            f.schools.iter().map(|s| s.per_grade * usize::try_from(s.last - s.first + 1).unwrap()).sum();
        assert!((1_400..=1_600).contains(&pupils), "{pupils}");
        assert_eq!(f.schools.iter().filter(|s| s.sfo).count(), 2);
        let large = storby();
        let second = storvik();
        assert_ne!((large.slug, large.number, large.seed), (second.slug, second.number, second.seed));
        assert_eq!(second.schools.len(), 180);
        assert_eq!(large.schools.len(), 180);
        let names: std::collections::HashSet<_> = large.schools.iter().map(|s| &s.name).collect();
        assert_eq!(names.len(), 180, "school names are unique");
        let pupils: usize =
            large.schools.iter().map(|s| s.per_grade * usize::try_from(s.last - s.first + 1).unwrap()).sum();
        assert!((85_000..=95_000).contains(&pupils), "{pupils}");
    }

    #[test]
    fn the_dev_idp_accounts_file_matches_the_personas() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dev/idp/accounts.demo.json");
        let committed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            committed,
            idp_accounts(),
            "regenerate it: cargo run -- demo --print-idp-accounts > dev/idp/accounts.demo.json"
        );
    }

    #[test]
    fn generation_is_deterministic() {
        let today = time::macros::date!(2026 - 12 - 06);
        let a = Builder::new(&smaoy(), today).build(&|_| {});
        let b = Builder::new(&smaoy(), today).build(&|_| {});
        assert_eq!(a.tenant_id, b.tenant_id);
        assert_eq!(a.tables.persons.bytes(), b.tables.persons.bytes());
        assert!(a.counts.pupils >= 70);
    }
}
