//! The weekly absence summary to guardians: counts and a link, nothing else.
//!
//! For an ISO week, every guardian with parental responsibility for a child under 18,
//! who has an e-mail address, gets one message per school where such a child was
//! enrolled that week and had something registered: lessons absent, lessons late,
//! and absence reports from guardians. A week with nothing to tell sends nothing.
//!
//! What the message does NOT carry, on purpose: the child's name, the school's name,
//! national ids, addresses and absence reasons. A guardian with parental
//! responsibility may be the very person a child's protected address (adressebeskyttelse)
//! hides the child from, and e-mail is read on shared devices and forwarded; counts
//! and a link to sign in reveal no more than the guardian's right to sign in already
//! does. Details are behind the link, behind ID-porten.
//!
//! Language: the one the guardian last signed in with (`person_languages`, kept at
//! every sign-in), bokmål for a guardian who never signed in. It is stored with the
//! message.
//!
//! Idempotent: the outbox holds at most one summary per (guardian, school, week), so
//! running the job twice, or on two servers, enqueues nothing new. Composing a
//! summary reads the children's absence, so each enqueued message is audited with the
//! children as subjects.

use anyhow::{anyhow, Context};
use askama::Template;
use sqlx::PgPool;
use time::{Date, PrimitiveDateTime, Time, Weekday};
use url::Url;
use uuid::Uuid;

use super::outbox::{self, Kind, NewMessage};
use crate::audit::{self, Action, Resource};
use crate::db::{self, Conn};
use crate::policy::Purpose;
use crate::web::i18n::{self, Lang};

/// The summary of a week is made on its Friday at this hour, Norwegian time.
const DUE_WEEKDAY: Weekday = Weekday::Friday;
const DUE_TIME: Time = time::macros::time!(15:00);
/// A summary not enqueued within this long after it was due (the server was down) is
/// not sent at all: by Monday afternoon last week's numbers are old news.
pub const CATCH_UP: time::Duration = time::Duration::days(3);

/// An ISO 8601 week, e.g. `2026-W47`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoWeek {
    pub year: i32,
    pub week: u8,
}

impl IsoWeek {
    /// Parse `2026-W47` (also `2026-w47`).
    pub fn parse(s: &str) -> Option<Self> {
        let (year, week) = s.trim().split_once(['W', 'w'])?;
        let year: i32 = year.strip_suffix('-')?.parse().ok()?;
        let week: u8 = week.parse().ok()?;
        Date::from_iso_week_date(year, week, Weekday::Monday).ok()?;
        Some(Self { year, week })
    }

    pub fn of(date: Date) -> Self {
        let (year, week, _) = date.to_iso_week_date();
        Self { year, week }
    }

    pub fn day(self, weekday: Weekday) -> Date {
        // Valid by construction (parse and `of` check it).
        Date::from_iso_week_date(self.year, self.week, weekday).unwrap_or(Date::MIN)
    }

    pub fn monday(self) -> Date {
        self.day(Weekday::Monday)
    }

    pub fn sunday(self) -> Date {
        self.day(Weekday::Sunday)
    }

    /// The outbox's idempotency key.
    pub fn key(self) -> String {
        format!("{}-W{:02}", self.year, self.week)
    }

    /// The week whose summary was last due at Norwegian local time `local`: this
    /// week's from Friday 15:00, else last week's.
    pub fn last_due(local: PrimitiveDateTime) -> Self {
        let this = Self::of(local.date());
        if local >= this.due_at() {
            this
        } else {
            Self::of(this.monday() - time::Duration::days(1))
        }
    }

    /// When the week's summary is due (Norwegian time).
    pub fn due_at(self) -> PrimitiveDateTime {
        PrimitiveDateTime::new(self.day(DUE_WEEKDAY), DUE_TIME)
    }

    /// The week whose summary should be enqueued now, if it is still within
    /// [`CATCH_UP`] of being due.
    pub fn to_catch_up(local: PrimitiveDateTime) -> Option<Self> {
        let week = Self::last_due(local);
        (local - week.due_at() <= CATCH_UP).then_some(week)
    }
}

impl std::fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key())
    }
}

/// What one guardian is told about one school's week.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Candidate {
    pub guardian_id: Uuid,
    pub school_id: Uuid,
    pub address: String,
    /// The language the guardian last signed in with (bokmål if never).
    pub lang: String,
    pub children: Vec<Uuid>,
    pub absent: i64,
    pub late: i64,
    pub reports: i64,
}

/// Guardians to tell about `week`, with the counts, in the transaction's tenant.
/// Parental responsibility, the child's age and the guardian's address are taken as
/// on the week's Friday (the day the summary is due); enrolment anywhere in the week.
/// The guardians Tavle may write to about their children's week, with the counts.
static CANDIDATES_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "WITH kids AS ( \
           SELECT DISTINCT g.guardian_id, g.pupil_id, e.school_id \
           FROM guardianships g \
           JOIN persons c ON c.tenant_id = g.tenant_id AND c.id = g.pupil_id \
           JOIN enrolments e ON e.tenant_id = g.tenant_id AND e.pupil_id = g.pupil_id \
                AND e.from_date <= $3 AND (e.to_date IS NULL OR e.to_date > $2) \
           WHERE g.tenant_id = $1 AND {reaches} \
         ), regs AS ( \
           SELECT r.pupil_id, gr.school_id, \
                  count(*) FILTER (WHERE r.status = 'absent') AS absent, \
                  count(*) FILTER (WHERE r.status = 'late') AS late \
           FROM absence_registrations r \
           JOIN lessons l ON l.tenant_id = r.tenant_id AND l.id = r.lesson_id \
           JOIN groups gr ON gr.tenant_id = l.tenant_id AND gr.id = l.group_id \
           WHERE r.tenant_id = $1 AND r.date BETWEEN $2 AND $3 AND r.status <> 'present' \
           GROUP BY r.pupil_id, gr.school_id \
         ), reps AS ( \
           SELECT pupil_id, count(*) AS reports FROM absence_reports \
           WHERE tenant_id = $1 AND first_day <= $3 AND last_day >= $2 GROUP BY pupil_id \
         ) \
         SELECT k.guardian_id, k.school_id, gp.email AS address, coalesce(pl.lang, 'nb') AS lang, \
                array_agg(k.pupil_id ORDER BY k.pupil_id) AS children, \
                coalesce(sum(r.absent), 0)::bigint AS absent, \
                coalesce(sum(r.late), 0)::bigint AS late, \
                coalesce(sum(p.reports), 0)::bigint AS reports \
         FROM kids k \
         JOIN persons gp ON gp.tenant_id = $1 AND gp.id = k.guardian_id AND gp.email IS NOT NULL \
         LEFT JOIN person_languages pl ON pl.tenant_id = $1 AND pl.person_id = k.guardian_id \
         LEFT JOIN regs r ON r.pupil_id = k.pupil_id AND r.school_id = k.school_id \
         LEFT JOIN reps p ON p.pupil_id = k.pupil_id \
         GROUP BY k.guardian_id, k.school_id, gp.email, pl.lang \
         HAVING coalesce(sum(r.absent), 0) + coalesce(sum(r.late), 0) + coalesce(sum(p.reports), 0) > 0 \
         ORDER BY k.guardian_id, k.school_id",
        reaches = crate::policy::guardianship::reaches("g", "c", "$4")
    )
});

pub async fn candidates(mut conn: Conn<'_>, week: IsoWeek) -> crate::error::Result<Vec<Candidate>> {
    Ok(sqlx::query_as(&CANDIDATES_SQL)
        .bind(conn.tenant)
        .bind(week.monday())
        .bind(week.sunday())
        .bind(week.day(DUE_WEEKDAY))
        .fetch_all(&mut *conn)
        .await?)
}

/// The e-mail, as plain text (`.txt`: not HTML-escaped) and as HTML.
#[derive(Template)]
#[template(path = "mail/weekly_summary.txt")]
pub struct WeeklySummaryText<'a> {
    pub m: &'a WeeklySummary,
}

#[derive(Template)]
#[template(path = "mail/weekly_summary.html")]
pub struct WeeklySummaryHtml<'a> {
    pub m: &'a WeeklySummary,
}

/// Everything a summary says: a week, three numbers and a link.
#[derive(Debug, Clone)]
pub struct WeeklySummary {
    pub lang: Lang,
    pub week: IsoWeek,
    pub absent: i64,
    pub late: i64,
    pub reports: i64,
    pub link: String,
}

impl WeeklySummary {
    pub fn t(&self, key: &str) -> &'static str {
        i18n::t(self.lang, key)
    }

    /// `key` with `{count}` filled in.
    pub fn count(&self, key: &str, n: &i64) -> String {
        i18n::tf(self.lang, key, &[("count", &n.to_string())])
    }

    pub fn subject(&self) -> String {
        i18n::tf(self.lang, "mail.weekly.subject", &[("week", &self.week.week.to_string())])
    }

    pub fn intro(&self) -> String {
        let d = |d: Date| format!("{}.{}.", d.day(), u8::from(d.month()));
        i18n::tf(
            self.lang,
            "mail.weekly.intro",
            &[
                ("week", &self.week.week.to_string()),
                ("from", &d(self.week.monday())),
                ("to", &format!("{}{}", d(self.week.sunday()), self.week.sunday().year())),
            ],
        )
    }

    /// (subject, plain text, HTML).
    pub fn render(&self) -> anyhow::Result<(String, String, String)> {
        let text = WeeklySummaryText { m: self }.render().context("rendering the summary's text")?;
        let html = WeeklySummaryHtml { m: self }.render().context("rendering the summary's HTML")?;
        Ok((self.subject(), text, html))
    }
}

/// The link in every summary: the absence page, behind sign-in. No id in it.
pub fn absence_link(public_url: &Url) -> String {
    public_url.join("/absence").map(|u| u.to_string()).unwrap_or_else(|_| public_url.to_string())
}

/// What enqueueing a week did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnqueueReport {
    /// Guardian × school pairs with something to tell.
    pub candidates: u32,
    /// Of them, new in the outbox (the others were already there).
    pub enqueued: u32,
}

impl std::fmt::Display for EnqueueReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} summaries to send, {} new in the outbox", self.candidates, self.enqueued)
    }
}

/// Enqueue `week`'s summaries in every municipality, one transaction per municipality
/// (messages and their audit rows commit together).
pub async fn enqueue_week(pool: &PgPool, public_url: &Url, week: IsoWeek) -> anyhow::Result<EnqueueReport> {
    let tenants: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM tenants ORDER BY id").fetch_all(pool).await?;
    let link = absence_link(public_url);
    let key = week.key();
    let mut report = EnqueueReport::default();
    for tenant in tenants {
        let mut tx = db::begin(pool, tenant).await?;
        for c in candidates(Conn::new(&mut tx, tenant), week).await? {
            report.candidates += 1;
            let summary = WeeklySummary {
                lang: Lang::from_code(&c.lang).unwrap_or_default(),
                week,
                absent: c.absent,
                late: c.late,
                reports: c.reports,
                link: link.clone(),
            };
            let (subject, text, html) = summary.render()?;
            let message = NewMessage {
                kind: Kind::WeeklyAbsenceSummary,
                dedupe_key: &key,
                school_id: c.school_id,
                recipient_id: c.guardian_id,
                recipient_address: &c.address,
                lang: summary.lang,
                subject: &subject,
                body_text: &text,
                body_html: Some(&html),
            };
            let Some(id) = outbox::enqueue(Conn::new(&mut tx, tenant), &message).await? else { continue };
            report.enqueued += 1;
            let (action, resource) = (Action::Create, Resource::MailWeeklySummary);
            audit::record_by_system(&mut tx, tenant, action, resource, Some(id), &c.children, Purpose::GuardianAccess)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(report)
}

/// Enqueue the last due week's summaries unless `done` is that week already (the
/// worker remembers what it did; the outbox's unique key makes a repeat harmless) or
/// it is too late to catch up. Returns the week enqueued.
pub async fn enqueue_if_due(pool: &PgPool, public_url: &Url, done: Option<IsoWeek>) -> anyhow::Result<Option<IsoWeek>> {
    let Some(week) = IsoWeek::to_catch_up(oslo_now(pool).await?) else { return Ok(None) };
    if done == Some(week) {
        return Ok(None);
    }
    let report = enqueue_week(pool, public_url, week).await?;
    tracing::info!(week = %week, %report, "weekly absence summaries");
    Ok(Some(week))
}

/// The time in Norway now (the database knows the zone rules).
pub async fn oslo_now(pool: &PgPool) -> anyhow::Result<PrimitiveDateTime> {
    sqlx::query_scalar("SELECT tavle_local_now()")
        .fetch_one(pool)
        .await
        .map_err(|e| anyhow!("cannot read the time: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn weeks_parse_and_print() {
        let w = IsoWeek::parse("2026-W47").unwrap();
        assert_eq!((w.year, w.week), (2026, 47));
        assert_eq!(w.monday(), time::macros::date!(2026 - 11 - 16));
        assert_eq!(w.sunday(), time::macros::date!(2026 - 11 - 22));
        assert_eq!(w.key(), "2026-W47");
        assert_eq!(IsoWeek::parse("2026-W05").unwrap().key(), "2026-W05");
        for bad in ["2026-47", "2026-W54", "2026-W0", "W47", "2026-Wx", "", "2025-W53"] {
            assert!(IsoWeek::parse(bad).is_none(), "{bad}");
        }
        assert!(IsoWeek::parse("2026-W53").is_some(), "2026 has 53 weeks");
    }

    #[test]
    fn the_summary_is_due_on_friday_at_three() {
        let week = |dt| IsoWeek::last_due(dt).key();
        assert_eq!(week(datetime!(2026-11-20 14:59)), "2026-W46", "Friday before three: last week's");
        assert_eq!(week(datetime!(2026-11-20 15:00)), "2026-W47");
        assert_eq!(week(datetime!(2026-11-22 23:00)), "2026-W47", "the weekend catches up");
        assert_eq!(week(datetime!(2026-11-25 09:00)), "2026-W47", "down until Wednesday: still last week's");
        assert_eq!(week(datetime!(2027-01-01 16:00)), "2026-W53");
        // Caught up after downtime, but not days later.
        let catch_up = |dt| IsoWeek::to_catch_up(dt).map(IsoWeek::key);
        assert_eq!(catch_up(datetime!(2026-11-20 15:00)).as_deref(), Some("2026-W47"));
        assert_eq!(catch_up(datetime!(2026-11-23 15:00)).as_deref(), Some("2026-W47"), "Monday at three");
        assert_eq!(catch_up(datetime!(2026-11-23 15:01)), None);
        assert_eq!(catch_up(datetime!(2026-11-26 09:00)), None);
    }

    #[test]
    fn the_summary_says_counts_and_a_link_in_both_languages() {
        for lang in Lang::ALL {
            let s = WeeklySummary {
                lang,
                week: IsoWeek::parse("2026-W47").unwrap(),
                absent: 3,
                late: 1,
                reports: 2,
                link: "https://tavle.fjordvik.kommune.no/absence".to_owned(),
            };
            let (subject, text, html) = s.render().unwrap();
            assert!(subject.contains("47"), "{subject}");
            for body in [&text, &html] {
                assert!(body.contains("https://tavle.fjordvik.kommune.no/absence"), "{body}");
                assert!(body.contains(": 3") && body.contains(": 1") && body.contains(": 2"), "{body}");
                assert!(body.contains("16.11.") && body.contains("22.11.2026"), "{body}");
            }
            assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
            assert!(!text.contains('<'), "{text}");
        }
    }
}
