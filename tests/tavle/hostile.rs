//! Hostile input on every route of the authorization matrix: every form field and
//! query parameter a route's handler reads, and every id in its path, sent with values
//! no honest form sends (NUL and other control characters, direction marks, 10,000
//! characters, invalid UTF-8 in the URL encoding, dates and numbers at and beyond
//! every limit). Whatever comes in: never a 5xx, and nothing stored.
//!
//! The routes, their concrete paths and their valid forms come from the matrix
//! (`authz::cases`), so a new route is covered here as soon as it is there; the
//! parameters its handler reads beyond the case's own form fields are listed in
//! [`parameters`], which must name every route (an empty list for none). Each route is
//! tried once, with the matrix's first case for it, by the first persona the case
//! allows (the anonymous visitor for the sign-in routes that refuse everyone here), one
//! fresh app per persona, two personas at a time.
//!
//! "Nothing stored": a request is first sent once as the matrix has it (valid), so
//! that what it legitimately stores is stored; then no hostile variant may change
//! anything more. A fingerprint of every table (row count and newest row version) is
//! compared after each field; the audit tables and the sessions are left out, since
//! every view is audited and every request touches its session.

use std::collections::{BTreeMap, HashSet};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use tokio::task::JoinSet;
use tower::ServiceExt;
use uuid::Uuid;

use crate::authz::{self, Case};
use crate::helpers::{spawn_app, spawn_app_with_env, Browser, TestApp};
use tavle::state::Mode;

/// The parameters each route's handler reads besides the case's own form fields,
/// from its `Query`/`Form` structs (`csrf` is the middleware's). `None` for a route
/// not listed, which fails the test: a new route must say what it reads.
fn parameters(method: &str, route: &str) -> Option<&'static [&'static str]> {
    // A register line of a pupil who is not in the group (the nil id).
    const STATUS: &str = "status-00000000-0000-0000-0000-000000000000";
    const MINUTES: &str = "minutes-00000000-0000-0000-0000-000000000000";
    // A grade of a pupil who is not in the group.
    const GRADE: &str = "g-00000000-0000-0000-0000-000000000000";
    const ORDER: &str = "order-00000000-0000-0000-0000-000000000000";
    const WARNING: &str = "w-00000000-0000-0000-0000-000000000000-order";
    Some(match (method, route) {
        (
            "GET",
            "/"
            | "/sign-in"
            | "/healthz"
            | "/readyz"
            | "/pupils"
            | "/pupils/{pupil_id}"
            | "/absence"
            | "/absence/children/{pupil_id}/overview"
            | "/absence/classes"
            | "/absence/classes/{group_id}"
            | "/absence/me"
            | "/absence/statistics"
            | "/absence/leave/{application_id}"
            | "/mail"
            | "/sfo"
            | "/schools/{school_id}/timetable"
            | "/schools/{school_id}/timetable/import"
            | "/assessment"
            | "/assessment/me"
            | "/assessment/children/{pupil_id}"
            | "/assessment/pupils/{pupil_id}/diploma"
            | "/assessment/schools/{school_id}/diplomas",
        )
        | (
            "POST",
            "/sign-out"
            // A JSON body, not a form: tests/tavle/sms.rs sends it wrong ways.
            | "/sms/reports/{tenant_id}"
            | "/sms/inbound/{tenant_id}"
            | "/emergency/{notice_id}/resend"
            | "/emergency/{notice_id}/households/{pupil_id}/reached"
            | "/e/{municipality}/{token}"
            | "/absence/children/{pupil_id}/reports/{report_id}/withdraw"
            | "/absence/children/{pupil_id}/leave/{application_id}/withdraw"
            | "/schools/{school_id}/mail/{message_id}/retry",
        ) => &[],
        ("GET", "/language") => &["lang", "next"],
        ("POST", "/pupils/{pupil_id}/national-id") => &["reason"],
        ("GET", "/pupils/{pupil_id}/contacts") => &["done"],
        ("POST", "/pupils/{pupil_id}/contacts" | "/pupils/{pupil_id}/contacts/{contact_id}") => {
            &["relation", "given_name", "family_name", "phone"]
        }
        ("POST", "/pupils/{pupil_id}/contacts/{contact_id}/remove") => &[],
        ("GET", "/pupils/{pupil_id}/restrictions") => &["done"],
        ("POST", "/pupils/{pupil_id}/restrictions") => &["guardian", "kind", "from"],
        ("POST", "/pupils/{pupil_id}/restrictions/{restriction_id}/end") => &[],
        ("GET", "/pupils/register-queue") => &["done"],
        ("GET", "/pupils/{pupil_id}/information-requests") => &["done"],
        ("POST", "/pupils/{pupil_id}/information-requests") => {
            &["requester", "received", "outcome", "item_assessment", "item_other"]
        }
        ("GET", "/pupils/{pupil_id}/guardians/{guardian_id}") => &["done"],
        ("POST", "/pupils/{pupil_id}/guardians/{guardian_id}") => &["phone", "email"],
        ("POST", "/pupils/{pupil_id}/guardians/{guardian_id}/lives-with") => &["lives_with"],
        ("GET", "/pupils/paper-letters") => &[],
        ("POST", "/pupils/register-queue/{item_id}") => &["outcome"],
        ("POST", "/sign-in/demo") => &["persona"],
        ("GET", "/auth/{kind}/start") => &["municipality"],
        ("GET", "/auth/{kind}/callback") => &["code", "state", "iss", "error"],
        ("GET" | "POST", "/schools/{school_id}/pupils") => &["q", "class", "grade", "page"],
        ("GET" | "POST", "/audit") => &["actor", "subject", "action", "from", "to", "before", "after"],
        ("GET", "/admin/role-mappings") => &["status", "kind", "code"],
        ("GET", "/admin/features") => &["done"],
        ("POST", "/admin/features") => &[],
        ("POST", "/admin/role-mappings") => &["kind", "code", "role"],
        ("POST", "/admin/role-mappings/remove") => &["kind", "code"],
        ("GET", "/absence/register") => &["date"],
        ("GET", "/assessment/groups/{group_id}") => &["period", "saved"],
        ("POST", "/assessment/groups/{group_id}") => &["period", "reason", GRADE],
        ("GET", "/assessment/schools/{school_id}/periods" | "/assessment/schools/{school_id}/exams") => &["done"],
        ("POST", "/assessment/schools/{school_id}/exams") => &["subject", "group"],
        ("GET", "/assessment/schools/{school_id}/remark-categories") => &["done"],
        ("POST", "/assessment/schools/{school_id}/remark-categories") => &["use"],
        ("POST", "/assessment/schools/{school_id}/remark-categories/add") => &["name_nb", "name_en", "aspect"],
        ("POST", "/assessment/schools/{school_id}/exams/registration") => &["pas_user", "email"],
        ("POST", "/assessment/schools/{school_id}/exams/withdraw") => &["subject", "pupil"],
        ("POST", "/assessment/schools/{school_id}/exams/written-form") => &["subject", "pupil", "written_form"],
        ("GET", "/assessment/statistics" | "/assessment/statistics.csv") => &["kind", "by"],
        ("GET", "/assessment/classes/{group_id}/conduct") => &["period", "saved"],
        ("POST", "/assessment/classes/{group_id}/conduct") => &["period", "reason", ORDER],
        ("GET", "/assessment/classes/{group_id}/warnings") => &["period", "sent"],
        ("POST", "/assessment/classes/{group_id}/warnings") => &["period", WARNING],
        ("GET", "/assessment/pupils/{pupil_id}" | "/assessment/pupils/{pupil_id}/remarks") => &["done"],
        ("POST", "/assessment/pupils/{pupil_id}/exemptions") => &["subject", "kind", "from", "to"],
        ("POST", "/assessment/pupils/{pupil_id}/remarks") => &["category", "day", "lesson", "note"],
        ("POST", "/assessment/pupils/{pupil_id}/remarks/{remark_id}/withdraw") => &[],
        ("POST", "/assessment/schools/{school_id}/periods") => {
            &["autumn-opens", "autumn-closes", "autumn-publish_on", "autumn-publish_time", "final-opens"]
        }
        ("GET", "/absence/groups/{group_id}/register") => &["date", "lesson", "saved"],
        ("POST", "/absence/groups/{group_id}/register") => &["date", "lesson", STATUS, MINUTES],
        ("GET", "/absence/classes/{group_id}/day") => &["date", "saved"],
        ("POST", "/absence/classes/{group_id}/day") => &["date", STATUS, MINUTES],
        ("GET", "/absence/children/{pupil_id}" | "/absence/children/{pupil_id}/leave") => &["done"],
        ("POST", "/absence/children/{pupil_id}") => {
            &["first_day", "last_day", "extent", "from_time", "to_time", "reason"]
        }
        ("POST", "/absence/children/{pupil_id}/leave") => &["first_day", "last_day", "reason"],
        ("GET", "/absence/leave" | "/schools/{school_id}/leave-settings" | "/schools/{school_id}/mail") => &["done"],
        ("POST", "/absence/leave/{application_id}") => &["decision", "rejection"],
        ("POST", "/schools/{school_id}/leave-settings") => &["max_days"],
        ("GET", "/schools/{school_id}/absence/settings") => &["saved"],
        ("POST", "/schools/{school_id}/absence/settings") => &["mode"],
        ("GET", "/schools/{school_id}/absence/statistics") => &["by"],
        ("GET", "/schools/{school_id}/absence/statistics.csv") => &["period"],
        ("GET", "/absence/pupils/{pupil_id}/review") => &["date", "done"],
        ("POST", "/absence/pupils/{pupil_id}/review") => &["date", "code", "deduct"],
        ("GET", "/sfo/groups/{group_id}/attendance") => &["date", "done"],
        ("GET", "/sfo/children/{pupil_id}/pickup") => &["done"],
        ("POST", "/sfo/children/{pupil_id}/pickup") => {
            &["contact", "home_alone", "alone_from", "alone_after", "transport"]
        }
        ("POST", "/sfo/groups/{group_id}/attendance/{pupil_id}") => &["date", "action", "arrived", "left", "collector"],
        ("GET", "/timetable" | "/pupils/{pupil_id}/timetable" | "/groups/{group_id}/timetable") => &["week"],
        ("GET", "/groups/{group_id}/lessons") => &["status", "lesson"],
        ("POST", "/groups/{group_id}/lessons") => {
            &["lesson", "weekday", "starts", "ends", "subject", "teacher", "room", "valid_from", "valid_to"]
        }
        ("POST", "/groups/{group_id}/lessons/remove") => &["lesson"],
        ("POST", "/schools/{school_id}/timetable/import") => &["csv", "dry_run"],
        (
            "GET",
            "/schools/{school_id}/groups" | "/schools/{school_id}/exports" | "/schools/{school_id}/letters.csv",
        ) => &[],
        ("GET", "/groups/{group_id}/members.csv") => &[],
        ("GET", "/exchanges" | "/exchanges/pifu.xml" | "/exchanges/oneroster.zip") => &[],
        ("POST", "/schools/{school_id}/groups") => &["kind", "name", "grade", "subject"],
        ("GET", "/groups/{group_id}" | "/pupils/{pupil_id}/move") => &["done"],
        (
            "POST",
            "/groups/{group_id}"
            | "/groups/{group_id}/members"
            | "/groups/{group_id}/members/remove"
            | "/groups/{group_id}/staff"
            | "/groups/{group_id}/staff/remove"
            | "/groups/{group_id}/close",
        ) => &["name", "pupil", "from", "on", "staff", "assignment"],
        ("POST", "/pupils/{pupil_id}/move") => &["kind", "date", "class", "school", "grade", "municipality"],
        ("POST", "/pupils/{pupil_id}/move/cancel") => &[],
        ("GET", "/schools/{school_id}/rollover") => &["done"],
        ("GET", "/schools/{school_id}/pupils/new") => &["planned"],
        ("POST", "/schools/{school_id}/pupils/new") => &[
            "national_id",
            "given_name",
            "family_name",
            "birth_date",
            "grade",
            "from",
            "class",
            "home_municipality",
            "mother_tongue",
        ],
        ("GET", "/pupils/{pupil_id}/details") => &["saved"],
        ("GET", "/pupils/{pupil_id}/guardian-links" | "/pupils/{pupil_id}/arrangements") => &["done"],
        ("POST", "/pupils/{pupil_id}/arrangements") => &["kind", "from", "to", "hours", "teacher", "day"],
        ("POST", "/pupils/{pupil_id}/arrangements/{arrangement_id}/end") => &[],
        ("POST", "/pupils/{pupil_id}/guardian-links") => {
            &["national_id", "given_name", "family_name", "reason", "lives_with"]
        }
        ("POST", "/pupils/{pupil_id}/guardian-links/{guardian_id}/end") => &[],
        ("POST", "/pupils/{pupil_id}/details") => &["given_name", "family_name", "birth_date", "mother_tongue"],
        ("POST", "/schools/{school_id}/rollover") => &["fingerprint", "confirm", "placements", "action"],
        ("GET", "/intake" | "/schools/{school_id}/intake") => &["done"],
        ("POST", "/intake") => &["child", "school", "reason", "action"],
        ("POST", "/schools/{school_id}/intake/decide") => &["child", "decision"],
        ("POST", "/schools/{school_id}/intake/place") => &["child"],
        ("POST", "/schools/{school_id}/intake/enrol") => &["confirm"],
        ("GET", "/messages" | "/pupils/{pupil_id}/messages/new") => &[],
        ("GET", "/messages/new") => &["pupil"],
        ("GET", "/messages/{thread_id}") => &["done"],
        ("POST", "/messages") => &["pupil", "to", "share", "topic", "body"],
        ("POST", "/pupils/{pupil_id}/messages") => &["guardian", "topic", "body"],
        ("POST", "/messages/{thread_id}/reply") => &["body"],
        ("POST", "/messages/{thread_id}/archive") => &["archive"],
        ("GET", "/groups/{group_id}/messages/new") => &[],
        ("POST", "/groups/{group_id}/messages") => &["topic", "body", "action", "fingerprint"],
        ("GET", "/messages/broadcasts/{broadcast_id}") => &["done"],
        ("GET", "/emergency/{notice_id}" | "/e/{municipality}/{token}") => &["done"],
        ("GET", "/emergency" | "/schools/{school_id}/emergency") | ("POST", "/schools/{school_id}/emergency") => &[],
        ("POST", "/messages/broadcasts/{broadcast_id}/withdraw") => &[],
        _ => return None,
    })
}

/// Fields that store free text: any printable text is a fair value there (a room may
/// be called `-1` or `9999-12-31`), so only what no field may hold is tried.
const FREE_TEXT: &[&str] =
    &["room", "note", "name", "name_nb", "name_en", "given_name", "family_name", "phone", "topic", "body"];

/// Fields for a letter's worth of text on several lines (a message): a line break and
/// 2,000 letters are fair values there.
const LONG_TEXT: &[&str] = &["body"];

/// A hostile value: what it is, how it goes on the wire (URL-encoded), and whether no
/// field at all may take it (`false`: only fields that are not free text).
struct Value {
    what: &'static str,
    encoded: String,
    never: bool,
}

fn hostile_values() -> Vec<Value> {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let never = |what, encoded: String| Value { what, encoded, never: true };
    let typed = |what, encoded: &str| Value { what, encoded: encoded.to_owned(), never: false };
    vec![
        never("a NUL byte", "a%00b".to_owned()),
        never("control characters", "%01%07%08%1B%7F".to_owned()),
        never("CR/LF", "%2Fx%0D%0ASet-Cookie%3A+x%3D1".to_owned()),
        never("direction marks", encode("\u{202e}lagom\u{2066}\u{200f}")),
        never("a zero-width space and a byte order mark", encode("\u{200b}1\u{feff}")),
        never("10,000 characters", "x".repeat(10_000)),
        never("10,000 digits", "9".repeat(10_000)),
        never("2,000 multibyte characters", encode(&"å".repeat(2_000))),
        never("invalid UTF-8", "%FF%FE%C3%28".to_owned()),
        never("a truncated UTF-8 sequence", "abc%E2%82".to_owned()),
        typed("broken percent escapes", "%ZZ%"),
        typed("the first day PostgreSQL knows", "-4713-01-01"),
        typed("year 0", "0000-01-01"),
        typed("the last day of year 9999", "9999-12-31"),
        typed("a six-digit year", "%2B275760-09-13"),
        typed("31 December 9999, Norwegian style", "31.12.9999"),
        typed("30 February", "2026-02-30"),
        typed("minus one", "-1"),
        typed("i64 minimum", "-9223372036854775808"),
        typed("beyond i64", "9223372036854775808"),
        typed("beyond f64", "1e309"),
        typed("NaN", "NaN"),
        typed("the nil uuid", "00000000-0000-0000-0000-000000000000"),
    ]
}

/// What replaces an id in a path.
const HOSTILE_IDS: &[(&str, &str)] = &[
    ("a NUL byte", "%00"),
    ("invalid UTF-8", "%FF%FE"),
    ("not an id", "-1"),
    ("an id with a NUL after it", "00000000-0000-0000-0000-000000000000%00"),
];

/// Which persona tries a case: the first who may use it, else the anonymous visitor
/// (for the sign-in routes that refuse everyone here, but read their parameters).
fn persona_for(case: &Case) -> &'static str {
    case.allowed.first().copied().unwrap_or("")
}

/// The matrix's first case of each route.
fn one_case_per_route(cases: Vec<Case>) -> Vec<Case> {
    let mut seen = HashSet::new();
    cases.into_iter().filter(|c| seen.insert((c.method, c.route))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_never_fails_a_request_and_stores_nothing() {
    let started = std::time::Instant::now();
    let personas: Vec<&'static str> = {
        let app = spawn_app().await;
        let cases = authz::cases(&authz::fixtures(&app).await);
        let unlisted: Vec<String> = cases
            .iter()
            .filter(|c| parameters(c.method, c.route).is_none())
            .map(|c| format!("{} {}", c.method, c.route))
            .collect();
        assert!(unlisted.is_empty(), "routes without their parameters in hostile::parameters: {unlisted:?}");
        let mut p: Vec<&'static str> = one_case_per_route(cases).iter().map(persona_for).collect();
        p.sort_unstable();
        p.dedup();
        p
    };
    let (mut failures, mut requests, mut routes) = (Vec::new(), 0, 0);
    let mut running = JoinSet::new();
    let mut waiting = personas.into_iter();
    for persona in waiting.by_ref().take(2) {
        running.spawn(try_as(persona));
    }
    while let Some(done) = running.join_next().await {
        let run = done.expect("a persona's run panicked");
        requests += run.requests;
        routes += run.routes;
        failures.extend(run.failures);
        if let Some(persona) = waiting.next() {
            running.spawn(try_as(persona));
        }
    }
    eprintln!("hostile input: {routes} routes, {requests} requests, {:.1} s", started.elapsed().as_secs_f64());
    assert!(routes > 50 && requests > 2000, "the test sent what it should ({routes} routes, {requests} requests)");
    failures.sort();
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

struct Run {
    routes: usize,
    requests: usize,
    failures: Vec<String>,
}

/// Every route `persona` tries, in a fresh app whose rate limits never stop it (a 429
/// would be a request not tried: it counts as a failure).
async fn try_as(persona: &'static str) -> Run {
    let unlimited = [("TAVLE_SIGN_IN_LIMIT", "100000"), ("TAVLE_FORM_POST_LIMIT", "100000000")];
    let app = spawn_app_with_env(Mode::Demo, &unlimited).await;
    let cases: Vec<Case> = one_case_per_route(authz::cases(&authz::fixtures(&app).await))
        .into_iter()
        .filter(|c| persona_for(c) == persona)
        .collect();
    let mut b = authz::browser_for(&app, persona).await;
    let fingerprint = Fingerprint::new(&app).await;
    let values = hostile_values();
    let who = if persona.is_empty() { "anonymous" } else { persona };
    let mut run = Run { routes: cases.len(), requests: 0, failures: Vec::new() };
    for case in &cases {
        let label = format!("{} {} ({}) as {who}", case.method, case.route, case.what);
        // What the valid request stores, it may store: a form's record, a thread's read
        // state (signing in and out are the persona's).
        if !case.route.starts_with("/sign-") {
            let (path, pairs) = split(case);
            send(&app, &mut b, persona, case.method, &path, &encoded(&pairs)).await;
        }
        let mut before = fingerprint.take(&app).await;
        let mut check = |after: BTreeMap<String, String>, what: String, run: &mut Run| {
            if after != before {
                let tables: Vec<&String> =
                    after.iter().filter(|(t, v)| before.get(*t) != Some(v)).map(|(t, _)| t).collect();
                run.failures.push(format!("{label}: {what}: stored something in {tables:?}"));
                before = after;
            }
        };
        for field in fields_of(case) {
            let free_text = FREE_TEXT.contains(&field.as_str());
            let mut accepted = Vec::new();
            let long_text = LONG_TEXT.contains(&field.as_str());
            let fair = |v: &Value| long_text && matches!(v.what, "CR/LF" | "2,000 multibyte characters");
            for value in values.iter().filter(|v| (v.never || !free_text) && !fair(v)) {
                let (path, pairs) = split(case);
                let others: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| *k != field).collect();
                let mut data = encoded(&others);
                if !data.is_empty() {
                    data.push('&');
                }
                data.push_str(&format!("{}={}", encode(&field), value.encoded));
                let status = send(&app, &mut b, persona, case.method, &path, &data).await;
                run.requests += 1;
                if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                    run.failures.push(format!("{label}: {field} = {}: {status}", value.what));
                }
                if !status.is_client_error() {
                    accepted.push(format!("{} ({})", value.what, status.as_u16()));
                }
            }
            let after = fingerprint.take(&app).await;
            check(after, format!("{field} (accepted: {accepted:?})"), &mut run);
        }
        for id in ids_in(&case.path) {
            for (what, value) in HOSTILE_IDS {
                let (path, pairs) = split(case);
                let data = encoded(&pairs);
                let status =
                    send(&app, &mut b, persona, case.method, &path.replace(&id.to_string(), value), &data).await;
                run.requests += 1;
                if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                    run.failures.push(format!("{label}: the id {id} as {what}: {status}"));
                }
            }
        }
        let after = fingerprint.take(&app).await;
        check(after, "an id in the path".to_owned(), &mut run);
    }
    run
}

/// The fields to try on a case: its query's or form's own, and its handler's.
fn fields_of(case: &Case) -> Vec<String> {
    let mut fields: Vec<String> = split(case).1.into_iter().map(|(k, _)| k).collect();
    for p in parameters(case.method, case.route).unwrap_or_default() {
        if !fields.iter().any(|f| f == p) {
            fields.push((*p).to_owned());
        }
    }
    fields
}

/// The case's path (without its query) and its data: the query's pairs for a GET, the
/// form's for a POST.
fn split(case: &Case) -> (String, Vec<(String, String)>) {
    let (path, query) = case.path.split_once('?').unwrap_or((&case.path, ""));
    if case.method == "GET" {
        (path.to_owned(), url::form_urlencoded::parse(query.as_bytes()).into_owned().collect())
    } else {
        (case.path.clone(), case.form.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
    }
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn encoded(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// Send `data` (URL-encoded) as the query of a GET or the body of a form post, with
/// the browser's cookies and CSRF token; the status. The page is not read (it is
/// the status that counts here, and parsing thousands of pages would take long). Should
/// the session end on the way (none of these requests should end it), sign in again.
async fn send(
    app: &TestApp,
    b: &mut Browser,
    persona: &'static str,
    method: &str,
    path: &str,
    data: &str,
) -> StatusCode {
    let req = if method == "GET" {
        let sep = if data.is_empty() { "" } else { "?" };
        Request::get(format!("{path}{sep}{data}")).header(header::COOKIE, b.cookie_header()).body(Body::empty())
    } else {
        Request::post(path)
            .header(header::COOKIE, b.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={}&{data}", b.csrf)))
    };
    let res = app.router.clone().oneshot(req.expect("request")).await.expect("infallible");
    let ended = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with("tavle-session=;") || c.starts_with("tavle-session=") && c.contains("Max-Age=0"));
    if ended && !persona.is_empty() {
        *b = authz::browser_for(app, persona).await;
    }
    res.status()
}

/// The ids in a path (and its query).
fn ids_in(path: &str) -> Vec<Uuid> {
    let mut out = Vec::new();
    for (i, _) in path.char_indices() {
        if let Some(id) = path.get(i..i + 36).and_then(|s| Uuid::parse_str(s).ok()) {
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

/// Row count and newest row version (`xmin` changes on every insert and update, even
/// one that writes the same values) of every table but the audit log's and the
/// sessions'.
struct Fingerprint {
    sql: String,
}

impl Fingerprint {
    async fn new(app: &TestApp) -> Self {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' \
             AND tablename NOT IN ('audit_events', 'audit_pending', 'audit_heads', 'sessions') ORDER BY 1",
        )
        .fetch_all(&app.owner)
        .await
        .unwrap();
        assert!(tables.len() > 20, "{tables:?}");
        let sql = tables
            .iter()
            .map(|t| format!("SELECT '{t}'::text, count(*) || '/' || coalesce(max(xmin::text::bigint), 0) FROM {t}"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        Self { sql }
    }

    async fn take(&self, app: &TestApp) -> BTreeMap<String, String> {
        sqlx::query_as::<_, (String, String)>(&self.sql).fetch_all(&app.owner).await.unwrap().into_iter().collect()
    }
}

/// The security review's own examples, each answered with a clear error where it
/// belongs: a NUL in the name search (refused as a whole, before any handler: no
/// field can hold it), and an audit date of 4714 BC (a field error, like any date
/// outside the years Tavle knows).
#[tokio::test]
async fn a_nul_in_the_name_search_and_an_audit_date_of_4714_bc_are_clear_errors() {
    let app = spawn_app().await;
    let mut clerk = app.sign_in_as("office_clerk").await;
    let solbakken: Uuid = sqlx::query_scalar("SELECT id FROM schools WHERE name = 'Solbakken skole'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let res = app.post_form(&mut clerk, &format!("/schools/{solbakken}/pupils"), &[("q", "Nord\0mann")]).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.html().count("h1"), 1, "an error page in the layout");
    let res = app.get(&mut clerk, &format!("/schools/{solbakken}/pupils?grade=%00")).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "in a query string too");

    let mut dpo = app.sign_in_as("dpo").await;
    for (field, value) in [("from", "-4713-01-01"), ("to", "9999-12-31"), ("from", "+275760-09-13")] {
        let res = app.post_form(&mut dpo, "/audit", &[(field, value)]).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{field} = {value}");
        assert_eq!(res.html().count(&format!("#{field}-err")), 1, "{field} = {value}: the message by the field");
    }
}
