//! Test helpers that read like the users: `spawn_app()`, `app.sign_in_as("office_clerk")`,
//! `app.get_page(...)`, `assert_redirects_to(...)`.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use scraper::{Html, Selector};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

use tavle::app::build_router;
use tavle::config::Config;
use tavle::db::{self, embedded};
use tavle::state::{AppState, Mode};

const TEMPLATE: &str = "tavle_template";

struct Cluster {
    pg: embedded::EmbeddedPostgres,
}

/// The date this test run runs as: TAVLE_TODAY when set (`scripts/test-dates` runs the
/// date-dependent tests on the school year's first and last day, in every holiday and in
/// the summer), else today in Oslo. Every connection of the run then says so to the
/// database (`tavle_today()`), and the demo is built around its school year.
pub fn today() -> time::Date {
    static TODAY: OnceLock<time::Date> = OnceLock::new();
    *TODAY.get_or_init(|| {
        let today = match std::env::var("TAVLE_TODAY") {
            Ok(v) if !v.trim().is_empty() => {
                let config =
                    Config::from_map(&[("TAVLE_TODAY".to_owned(), v)].into_iter().collect()).expect("TAVLE_TODAY");
                config.today.expect("TAVLE_TODAY")
            }
            _ => tavle::domain::calendar::oslo_today(),
        };
        db::fix_today(today).expect("fix today");
        today
    })
}

/// The one server of this test run, started on first use from the local binaries,
/// with a migrated template database holding the demo municipalities.
fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    today();
    CLUSTER.get_or_init(|| {
        // A runtime of its own on a thread of its own: the tests' runtimes come and go.
        std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                let dir = std::env::temp_dir().join(format!("tavle-test-{}", std::process::id()));
                let record = statements::out_path();
                let settings = if record.is_some() { statements::SETTINGS } else { &[] };
                let mut pg = embedded::EmbeddedPostgres::start_with(&dir, embedded::Durability::Ephemeral, settings)
                    .await
                    .expect("start embedded PostgreSQL");
                pg.stop_when_process_exits(true).expect("watchdog");
                let admin = db::connect(&pg.url(embedded::SUPERUSER, "postgres"), 2).await.expect("connect");
                db::ensure_app_login(&admin).await.expect("app login");
                if let Some(out) = record {
                    sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                        .execute(&admin)
                        .await
                        .expect("pg_stat_statements");
                    statements::dump_at_exit(out, &pg, TEMPLATE);
                }
                sqlx::query(&format!("CREATE DATABASE {TEMPLATE}")).execute(&admin).await.expect("create template");
                admin.close().await;
                let owner = db::connect(&pg.url(embedded::SUPERUSER, TEMPLATE), 2).await.expect("connect template");
                db::migrate(&owner).await.expect("migrate");
                tavle::demo::ensure(&owner, tavle::demo::DemoSize::Standard, &|_| {}).await.expect("demo data");
                owner.close().await;
                Cluster { pg }
            })
        })
        .join()
        .expect("cluster start-up panicked")
    })
}

/// Every statement the application's role (tavle_app and its logins) runs in this test run, kept when
/// TAVLE_STATEMENTS_OUT names a file (scripts/test sets it): the server counts them in
/// `pg_stat_statements`, and when the test process exits they are written to that
/// file with the catalogue facts the check needs (scripts/check-statements.py: every
/// statement names its municipality, so Citus routes it to one shard; issue 16).
mod statements {
    use std::path::PathBuf;
    use std::process::Command;
    use std::sync::OnceLock;

    use tavle::db::embedded::{self, EmbeddedPostgres};

    /// Room for every distinct statement of every test database (the check refuses a
    /// run in which any was evicted).
    pub const SETTINGS: &[(&str, &str)] = &[
        ("shared_preload_libraries", "pg_stat_statements"),
        ("pg_stat_statements.max", "200000"),
        ("pg_stat_statements.track", "top"),
        ("pg_stat_statements.track_utility", "off"),
    ];

    struct Dump {
        out: PathBuf,
        server: String,
        template: String,
    }

    static DUMP: OnceLock<Dump> = OnceLock::new();

    pub fn out_path() -> Option<PathBuf> {
        std::env::var_os("TAVLE_STATEMENTS_OUT").filter(|v| !v.is_empty()).map(PathBuf::from)
    }

    /// Write the statements when the process exits (the test harness runs no
    /// destructors; `atexit` handlers still run, while the cluster is up).
    pub fn dump_at_exit(out: PathBuf, pg: &EmbeddedPostgres, template: &str) {
        let dump = Dump {
            out,
            server: pg.url(embedded::SUPERUSER, "postgres"),
            template: pg.url(embedded::SUPERUSER, template),
        };
        if DUMP.set(dump).is_ok() {
            // SAFETY: registers a plain `extern "C"` function without arguments.
            #[expect(unsafe_code, reason = "atexit(3) has no safe wrapper in std")]
            unsafe {
                libc::atexit(write_dump);
            }
        }
    }

    /// One JSON value from psql, or nothing (and a word on stderr): the check then
    /// finds no file and fails.
    fn psql(url: &str, sql: &str) -> Option<String> {
        match Command::new("psql").args(["-X", "-A", "-t", "-q", "-d", url, "-c", sql]).output() {
            Ok(out) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).trim().to_owned()),
            Ok(out) => {
                eprintln!("statements not written: psql: {}", String::from_utf8_lossy(&out.stderr));
                None
            }
            Err(e) => {
                eprintln!("statements not written: psql: {e}");
                None
            }
        }
    }

    extern "C" fn write_dump() {
        let Some(dump) = DUMP.get() else {
            return;
        };
        let Some(server) = psql(
            &dump.server,
            "SELECT json_build_object('evicted', (SELECT dealloc FROM pg_stat_statements_info),                     'statements', (SELECT coalesce(json_agg(DISTINCT query), '[]') FROM pg_stat_statements                                    WHERE userid IN (SELECT oid FROM pg_roles WHERE NOT rolsuper \
                                                    AND pg_has_role(oid, 'tavle_app', 'MEMBER'))))",
        ) else {
            return;
        };
        let Some(catalog) = psql(
            &dump.template,
            "SELECT json_build_object(               'tenant_tables', (SELECT json_agg(DISTINCT c.table_name) FROM information_schema.columns c                                  WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id'),                'not_immutable', (SELECT json_agg(DISTINCT p.proname) FROM pg_proc p WHERE p.provolatile <> 'i'))",
        ) else {
            return;
        };
        if let Some(dir) = dump.out.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let tmp = dump.out.with_extension("tmp");
        let written = std::fs::write(&tmp, format!("{{\"server\": {server}, \"catalog\": {catalog}}}\n"))
            .and_then(|()| std::fs::rename(&tmp, &dump.out));
        if let Err(e) = written {
            eprintln!("statements not written to {}: {e}", dump.out.display());
        }
    }
}

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    /// The application's pool (role tavle_app, row-level security applies).
    pub db: PgPool,
    /// A superuser pool on the same database, for assertions behind the app's back.
    pub owner: PgPool,
    pub db_name: String,
    /// The date the run runs as (see [`today`]).
    pub today: time::Date,
}

/// A fresh database cloned from the template, and the app on it (demo mode).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Mode::Demo).await
}

pub async fn spawn_app_with(mode: Mode) -> TestApp {
    spawn_app_with_env(mode, &[]).await
}

/// A fresh app that runs as on the school day the demo is told around
/// (`DemoYears::school_today`: today when it is a school day, else the latest one
/// before it), for tests whose story needs one (a register, a report of a lesson's day).
pub async fn spawn_app_at_school() -> TestApp {
    let day = tavle::demo::DemoYears::around(today()).school_today();
    spawn_app_as_of(Mode::Demo, &[], day).await
}

/// As [`spawn_app_with`], with settings as if from the environment.
pub async fn spawn_app_with_env(mode: Mode, env: &[(&str, &str)]) -> TestApp {
    spawn_app_as_of(mode, env, today()).await
}

/// A fresh app that runs as on `day` (a day of the run's school year that a test's
/// story needs, picked from the calendar).
pub async fn spawn_app_on(day: time::Date) -> TestApp {
    spawn_app_as_of(Mode::Demo, &[], day).await
}

async fn spawn_app_as_of(mode: Mode, env: &[(&str, &str)], day: time::Date) -> TestApp {
    let db_name = unique_name("t");
    let admin = db::connect(&cluster_url(embedded::SUPERUSER, "postgres"), 1).await.expect("connect");
    sqlx::query(&format!("CREATE DATABASE {db_name} TEMPLATE {TEMPLATE}"))
        .execute(&admin)
        .await
        .expect("clone template");
    admin.close().await;
    app_on_as_of(&db_name, mode, env, day).await
}

/// The app on an existing database of the test cluster (e.g. one restored from a backup).
pub async fn app_on(db_name: &str, mode: Mode, env: &[(&str, &str)]) -> TestApp {
    app_on_as_of(db_name, mode, env, today()).await
}

async fn app_on_as_of(db_name: &str, mode: Mode, env: &[(&str, &str)], day: time::Date) -> TestApp {
    let env: std::collections::HashMap<String, String> =
        env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let config = Config::from_map(&env).expect("config");
    // A small pool unless the test sets its size or patience (as `tavle serve` reads them).
    let size = if env.contains_key("TAVLE_DB_MAX_CONNECTIONS") { config.db_max_connections } else { 5 };
    let patience = if env.contains_key("TAVLE_DB_ACQUIRE_TIMEOUT_SECONDS") {
        config.db_acquire_timeout
    } else {
        std::time::Duration::from_secs(10)
    };
    let db =
        db::connect_with(&cluster_url(embedded::APP_USER, db_name), size, patience, Some(day)).await.expect("app pool");
    let owner = db::connect_as_of(&cluster_url(embedded::SUPERUSER, db_name), 2, Some(day)).await.expect("owner pool");
    let state = AppState::new(db.clone(), config, mode);
    TestApp { router: build_router(state.clone()), state, db, owner, db_name: db_name.to_owned(), today: day }
}

/// A name no other database or role of this test run has (roles belong to the whole
/// cluster, which every test shares): `<prefix>_<pid>_<n>`.
pub fn unique_name(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// A URL of `database` on the test cluster as `user`, over its socket (trusted: no
/// password).
pub fn cluster_url(user: &str, database: &str) -> String {
    cluster().pg.url(user, database)
}

/// Run SQL as the test cluster's superuser on `database`, one statement at a time
/// (`CREATE DATABASE` cannot run in a transaction).
pub async fn as_superuser(database: &str, statements: &[&str]) {
    let admin = db::connect(&cluster_url(embedded::SUPERUSER, database), 1).await.expect("connect");
    for sql in statements {
        sqlx::query(sql).execute(&admin).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    admin.close().await;
}

/// A free TCP port on the loopback interface (for a `tavle` process to listen on).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

/// A child process that is stopped when the test ends, however it ends: asked with
/// SIGTERM first (so that `tavle demo` stops its PostgreSQL), killed if it has not
/// exited within 30 seconds.
pub struct Running(pub std::process::Child);

impl Running {
    /// Ask it to stop (SIGTERM) and wait until it has.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        if let Ok(Some(status)) = self.0.try_wait() {
            return status;
        }
        let _ = std::process::Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.0.try_wait() {
                return status;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.0.kill();
        self.0.wait().expect("wait")
    }

    /// Wait until `http://127.0.0.1:{port}/readyz` answers 200; panics if the process
    /// exits first or a minute passes.
    pub async fn wait_until_ready(&mut self, port: u16) {
        let url = format!("http://127.0.0.1:{port}/readyz");
        for _ in 0..600 {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                panic!("tavle exited before it was ready: {status}");
            }
            if let Ok(res) = openidconnect::reqwest::get(&url).await {
                if res.status().as_u16() == 200 {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("tavle was not ready within a minute");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A browser's cookies and the CSRF token its forms carry.
#[derive(Debug, Clone, Default)]
pub struct Browser {
    pub cookies: Vec<(String, String)>,
    pub csrf: String,
}

impl Browser {
    pub fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn absorb(&mut self, res: &TestResponse) {
        for set in &res.set_cookies {
            let pair = set.split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies.retain(|(name, _)| name != k);
                if !v.is_empty() && !set.contains("Max-Age=0") {
                    self.cookies.push((k.to_owned(), v.to_owned()));
                }
            }
        }
        if let Some(token) = res.html().select_first_attr("input[name=csrf]", "value") {
            self.csrf = token;
        }
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    /// The body as sent (a zip, say), where `body` is its text.
    pub bytes: Vec<u8>,
}

impl TestResponse {
    pub fn html(&self) -> Page {
        Page(Html::parse_document(&self.body))
    }
}

pub struct Page(pub Html);

impl Page {
    pub fn select_texts(&self, css: &str) -> Vec<String> {
        let sel = Selector::parse(css).expect("selector");
        self.0
            .select(&sel)
            .map(|e| e.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    }

    pub fn select_first_attr(&self, css: &str, attr: &str) -> Option<String> {
        let sel = Selector::parse(css).expect("selector");
        self.0.select(&sel).next().and_then(|e| e.value().attr(attr)).map(str::to_owned)
    }

    pub fn select_attrs(&self, css: &str, attr: &str) -> Vec<String> {
        let sel = Selector::parse(css).expect("selector");
        self.0.select(&sel).filter_map(|e| e.value().attr(attr)).map(str::to_owned).collect()
    }

    pub fn count(&self, css: &str) -> usize {
        let sel = Selector::parse(css).expect("selector");
        self.0.select(&sel).count()
    }
}

impl TestApp {
    pub async fn request(&self, browser: &mut Browser, req: Request<Body>) -> TestResponse {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let location = headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let set_cookies =
            headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        let r = TestResponse { status, location, set_cookies, headers, body, bytes: bytes.to_vec() };
        browser.absorb(&r);
        r
    }

    pub async fn get(&self, browser: &mut Browser, path: &str) -> TestResponse {
        let req =
            Request::get(path).header(header::COOKIE, browser.cookie_header()).body(Body::empty()).expect("request");
        self.request(browser, req).await
    }

    /// A form post as a browser sends it, with the browser's CSRF token added.
    pub async fn post_form(&self, browser: &mut Browser, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let mut all: Vec<(&str, &str)> = vec![("csrf", browser.csrf.as_str())];
        all.extend_from_slice(fields);
        let body = serde_urlencoded(&all);
        let req = Request::post(path)
            .header(header::COOKIE, browser.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        self.request(browser, req).await
    }

    /// A form post as [`post_form`](Self::post_form), arriving over a connection from
    /// `peer` with an `X-Forwarded-For` header if given (as a proxy would add it).
    pub async fn post_form_from(
        &self,
        browser: &mut Browser,
        path: &str,
        fields: &[(&str, &str)],
        peer: std::net::SocketAddr,
        forwarded_for: Option<&str>,
    ) -> TestResponse {
        let mut all: Vec<(&str, &str)> = vec![("csrf", browser.csrf.as_str())];
        all.extend_from_slice(fields);
        let mut req = Request::post(path)
            .header(header::COOKIE, browser.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(xff) = forwarded_for {
            req = req.header("x-forwarded-for", xff);
        }
        let mut req = req.body(Body::from(serde_urlencoded(&all))).expect("request");
        req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        self.request(browser, req).await
    }

    /// Serve this app on a real TCP socket (127.0.0.1, a free port) as `tavle serve`
    /// does, until the returned server is dropped.
    pub async fn serve(&self) -> RunningServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let timeouts = tavle::server::Timeouts::from_config(&self.state.config);
        let task = tokio::spawn(tavle::server::serve(listener, self.router.clone(), timeouts, async {
            let _ = stopped.await;
        }));
        RunningServer { addr, _stop: stop, _task: task }
    }

    /// Sign in through the demo persona picker, as a person would.
    pub async fn sign_in_as(&self, persona: &str) -> Browser {
        self.sign_in_from(persona, Browser::default()).await
    }

    /// As [`sign_in_as`](Self::sign_in_as), from a browser that has chosen `lang`
    /// (`nb`, `en`) before signing in.
    pub async fn sign_in_in(&self, persona: &str, lang: &str) -> Browser {
        self.sign_in_from(persona, Browser { cookies: vec![("tavle-lang".into(), lang.into())], ..Browser::default() })
            .await
    }

    async fn sign_in_from(&self, persona: &str, mut b: Browser) -> Browser {
        let page = self.get(&mut b, "/sign-in").await;
        assert_eq!(page.status, StatusCode::OK);
        let res = self.post_form(&mut b, "/sign-in/demo", &[("persona", persona)]).await;
        assert_redirects_to(&res, "/");
        assert!(b.cookies.iter().any(|(k, _)| k == "tavle-session"), "no session cookie for {persona}");
        let home = self.get(&mut b, "/").await;
        assert_eq!(home.status, StatusCode::OK);
        b
    }

    /// The URL of this test's database for the application's login (for running the
    /// `tavle` binary against it).
    pub fn app_database_url(&self) -> String {
        cluster().pg.url(embedded::APP_USER, &self.db_name)
    }

    /// A superuser URL of this test's database (for running the `tavle` binary).
    pub fn owner_url(&self) -> String {
        cluster().pg.url(embedded::SUPERUSER, &self.db_name)
    }

    /// A demo persona's person id and display name.
    pub async fn persona(&self, key: &str) -> (Uuid, String) {
        let p = tavle::demo::personas().into_iter().find(|p| p.key == key).expect("persona");
        let id = sqlx::query_scalar(
            "SELECT p.id FROM persons p JOIN tenants t ON t.id = p.tenant_id \
             WHERE t.slug = $1 AND (p.feide_id = $2 OR p.national_id = $3)",
        )
        .bind(p.tenant_slug)
        .bind(&p.feide_id)
        .bind(&p.national_id)
        .fetch_one(&self.owner)
        .await
        .expect("persona's person");
        (id, p.display_name)
    }

    pub async fn tenant_id(&self, slug: &str) -> Uuid {
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_one(&self.owner)
            .await
            .expect("tenant")
    }

    /// A pupil of `school_name` (owner's view, for choosing test subjects).
    pub async fn pupil_at(&self, school_name: &str) -> Uuid {
        sqlx::query_scalar(
            "SELECT e.pupil_id FROM enrolments e JOIN schools s ON s.tenant_id = e.tenant_id AND s.id = e.school_id \
             WHERE s.name = $1 AND e.to_date IS NULL ORDER BY e.pupil_id LIMIT 1",
        )
        .bind(school_name)
        .fetch_one(&self.owner)
        .await
        .expect("pupil")
    }

    pub async fn audit_count(&self, action: &str, subject: Uuid) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = $1 AND $2 = ANY(subject_ids)")
            .bind(action)
            .bind(subject)
            .fetch_one(&self.owner)
            .await
            .expect("audit count")
    }
}

/// A server started by [`TestApp::serve`]; it shuts down when this is dropped.
pub struct RunningServer {
    pub addr: std::net::SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
    _task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Browser {
    /// The `Cookie` header this browser sends.
    pub fn cookie_header_value(&self) -> String {
        self.cookie_header()
    }
}

fn serde_urlencoded(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish()
}

#[track_caller]
pub fn assert_redirects_to(res: &TestResponse, path: &str) {
    assert!(
        res.status.is_redirection(),
        "expected a redirect to {path}, got {} : {}",
        res.status,
        &res.body[..res.body.len().min(500)]
    );
    assert_eq!(res.location.as_deref(), Some(path));
}
