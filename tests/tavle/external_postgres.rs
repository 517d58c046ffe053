//! The README's recipe for an external PostgreSQL, as written there: a schema owner
//! that is not a superuser, the group role `tavle_app`, and a login in it. Row-level
//! security is forced, so it binds that owner too, and with it every function that
//! runs as the owner (issue 14, item 4). The `tavle` binary migrates, configures a
//! provider, serves, is signed in to through the local identity provider, verifies its
//! audit chain and is backed up and restored, all as those roles.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tavle::db::{self, embedded};

use crate::backup::row_counts;
use crate::helpers::{as_superuser, cluster_url, free_port, unique_name, Running};
use crate::idp::{idp, IdpUser, CLIENT_SECRET};

const MFA: &str = "urn:mace:feide.no:auth:level:fad08:3";

/// The README's roles and database. Roles belong to the whole cluster, which every
/// test shares, so their names get a suffix; `tavle_app` is the cluster's own (the
/// embedded cluster gives it LOGIN for its own use; the README's is NOLOGIN).
struct Recipe {
    owner: String,
    login: String,
    database: String,
}

impl Recipe {
    async fn create() -> Recipe {
        let (owner, login, database) = (unique_name("tavle_owner"), unique_name("tavle_web"), unique_name("ext"));
        // No passwords: the test cluster trusts its own socket.
        as_superuser(
            "postgres",
            &[
                &format!("CREATE ROLE {owner} LOGIN"),
                &format!("CREATE DATABASE {database} OWNER {owner}"),
                &format!("CREATE ROLE {login} LOGIN IN ROLE tavle_app"),
            ],
        )
        .await;
        Recipe { owner, login, database }
    }

    fn owner_url(&self) -> String {
        cluster_url(&self.owner, &self.database)
    }

    fn app_url(&self) -> String {
        cluster_url(&self.login, &self.database)
    }

    /// `tavle` with the README's two URLs and nothing else from this environment
    /// that Tavle reads.
    fn tavle(&self, args: &[&str]) -> Command {
        self.tavle_as(&self.owner_url(), args)
    }

    /// As [`tavle`](Self::tavle), with another TAVLE_MIGRATION_DATABASE_URL.
    fn tavle_as(&self, migration_url: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tavle"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TAVLE_MIGRATION_DATABASE_URL", migration_url)
            .env("DATABASE_URL", self.app_url())
            .env("TAVLE_STATIC_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
            .env("TAVLE_LOG", "warn");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = self.tavle(args).output().expect("run tavle");
        assert!(out.status.success(), "tavle {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// `tavle serve` on `port`, with `env` added.
    fn serve(&self, port: u16, env: &[(&str, &str)]) -> Command {
        let mut cmd = self.tavle(&["serve"]);
        cmd.env("TAVLE_LISTEN", format!("127.0.0.1:{port}"))
            .env("TAVLE_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    }

    async fn superuser(&self) -> PgPool {
        db::connect(&cluster_url(embedded::SUPERUSER, &self.database), 2).await.unwrap()
    }
}

/// Run `cmd` and wait up to `limit` for it to exit; `None` (after killing it) if it
/// is still running then.
fn exits_within(mut cmd: Command, limit: Duration) -> Option<Output> {
    let mut child = cmd.spawn().expect("spawn tavle");
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if child.try_wait().expect("try_wait").is_some() {
            return Some(child.wait_with_output().expect("output"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// `tavle serve` does not start when no municipality has an identity provider (nobody
/// could sign in), nor when a configured provider has no client secret; and under an
/// ordinary owner it sees the providers to check at all.
#[tokio::test]
async fn serve_refuses_to_start_without_a_provider_or_its_secret() {
    let recipe = Recipe::create().await;
    recipe.run(&["migrate"]);
    let refusal = |env: &[(&str, &str)]| {
        let out = exits_within(recipe.serve(free_port(), env), Duration::from_secs(60))
            .expect("tavle serve started although it should have refused");
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };

    let err = refusal(&[]);
    assert!(err.contains("no municipality has an identity provider") && err.contains("tavle idp set"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    as_superuser(&recipe.database, &["SELECT tavle_create_tenant(NULL, '9901', 'Fjordvik kommune', 'fjordvik')"]).await;
    recipe.run(&[
        "idp",
        "set",
        "--tenant",
        "fjordvik",
        "--kind",
        "feide",
        "--issuer",
        "https://auth.example.no/feide",
        "--client-id",
        "tavle",
        "--no-check",
    ]);
    // The owner's own listing sees the provider it has just configured.
    let list = String::from_utf8_lossy(&recipe.run(&["idp", "list"]).stdout).into_owned();
    assert!(list.contains("fjordvik\tfeide\thttps://auth.example.no/feide"), "{list}");
    assert!(list.contains("secret MISSING"), "{list}");
    // The missing secret is named (before, the check saw no provider and passed).
    let err = refusal(&[]);
    assert!(err.contains("TAVLE_OIDC_SECRET_FJORDVIK_FEIDE is not set"), "{err}");
}

/// A browser against the real server: a cookie jar and no automatic redirects.
struct Web {
    http: openidconnect::reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

struct WebResponse {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Web {
    fn new(port: u16) -> Self {
        let http = openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { http, base: format!("http://127.0.0.1:{port}"), cookies: Vec::new() }
    }

    async fn get(&mut self, path_or_url: &str) -> WebResponse {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.base)
        };
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let res = self.http.get(&url).header("cookie", cookie).send().await.expect("tavle reachable");
        for set in res.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            if let Some((k, v)) = set.split(';').next().unwrap_or_default().split_once('=') {
                self.cookies.retain(|(name, _)| name != k);
                if !v.is_empty() && !set.contains("Max-Age=0") {
                    self.cookies.push((k.to_owned(), v.to_owned()));
                }
            }
        }
        let status = res.status().as_u16();
        let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        WebResponse { status, location, body: res.text().await.unwrap() }
    }
}

/// The recipe end to end: migrate as the owner; the demo municipalities loaded (as the
/// cluster's superuser: they stand in for the municipality's own data); `tavle idp
/// set` as the owner against the local identity provider; `tavle serve` as the login;
/// the sign-in page offers the provider, the office clerk signs in through it with
/// multi-factor and opens a pupil card (both audited through the chaining functions
/// that run as the owner); `tavle audit verify` finds the chain whole; and the serving
/// process holds connections as the application's login only.
#[tokio::test]
async fn the_readme_recipe_migrates_serves_and_signs_in_through_the_identity_provider() {
    let recipe = Recipe::create().await;
    recipe.run(&["migrate"]);
    let superuser = recipe.superuser().await;
    tavle::demo::ensure(&superuser, tavle::demo::DemoSize::Standard, &|_| {}).await.unwrap();
    let feide = idp().feide.clone();
    recipe.run(&[
        "idp",
        "set",
        "--tenant",
        "fjordvik",
        "--kind",
        "feide",
        "--issuer",
        &feide,
        "--client-id",
        "tavle-feide",
    ]);

    let port = free_port();
    let mut server =
        Running(recipe.serve(port, &[("TAVLE_OIDC_SECRET_FJORDVIK_FEIDE", CLIENT_SECRET)]).spawn().unwrap());
    server.wait_until_ready(port).await;
    let mut web = Web::new(port);

    let page = web.get("/sign-in").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("href=\"/auth/feide/start?municipality=fjordvik\""), "no Feide link:\n{}", page.body);
    let start = web.get("/auth/feide/start?municipality=fjordvik").await;
    assert_eq!(start.status, 303, "{}", start.body);
    let callback = IdpUser::default().log_in(&start.location.unwrap(), "siri", MFA).await;
    assert!(callback.starts_with(&web.base), "{callback}");
    let signed_in = web.get(&callback).await;
    assert_eq!((signed_in.status, signed_in.location.as_deref()), (303, Some("/")), "{}", signed_in.body);
    assert!(web.cookies.iter().any(|(k, _)| k.ends_with("tavle-session")), "no session cookie");
    let home = web.get("/").await;
    assert_eq!(home.status, 200);
    let pupil: uuid::Uuid = sqlx::query_scalar(
        "SELECT e.pupil_id FROM enrolments e JOIN schools s ON s.tenant_id = e.tenant_id AND s.id = e.school_id \
         WHERE s.name = 'Solbakken skole' AND e.to_date IS NULL ORDER BY e.pupil_id LIMIT 1",
    )
    .fetch_one(&superuser)
    .await
    .unwrap();
    let card = web.get(&format!("/pupils/{pupil}")).await;
    assert_eq!(card.status, 200, "{}", card.body);

    // The sign-in and the card are in the chain (chained at commit, or by the sweep
    // within a second), and the owner's `verify` finds it whole.
    let mut chained = 0i64;
    for _ in 0..50 {
        chained = sqlx::query_scalar(
            "SELECT count(*) FROM audit_events WHERE (action, resource) IN (('sign_in', 'session'), ('read', 'pupil_card'))",
        )
        .fetch_one(&superuser)
        .await
        .unwrap();
        if chained == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(chained, 2);
    let verified = recipe.run(&["audit", "verify", "--tenant", "fjordvik"]);
    let verified = String::from_utf8_lossy(&verified.stdout);
    // The two, and the demo's own register imports (done by Tavle itself, audited).
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = 'fjordvik'",
    )
    .fetch_one(&superuser)
    .await
    .unwrap();
    assert_eq!(events, 5, "the sign-in, the card, the demo's KRR answer, school districts and starters");
    assert!(verified.starts_with(&format!("fjordvik: OK: {events} events")), "{verified}");

    // The providers are readable through the function only: the login that sets the
    // function's setting itself still sees no municipality's providers.
    let login = db::connect(&recipe.app_url(), 1).await.unwrap();
    let mut tx = login.begin().await.unwrap();
    sqlx::query("SET LOCAL tavle.sign_in_options = 'on'").execute(&mut *tx).await.unwrap();
    let seen: i64 = sqlx::query_scalar("/* all tenants: RLS test */ SELECT count(*) FROM identity_providers")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    let offered: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tavle_sign_in_options()").fetch_one(&mut *tx).await.unwrap();
    tx.rollback().await.unwrap();
    db::close(login).await;
    assert_eq!((seen, offered), (0, 1));

    // After start-up the server holds connections as the application's login only
    // (issue 14, item 11): every client of this database but the server is closed
    // by now, so every one left is the server's.
    db::close(superuser).await;
    // (A backend of a client that has just closed, such as `audit verify` above, leaves
    // the list a moment later on a busy machine: look again for a while.)
    let admin = db::connect(&cluster_url(embedded::SUPERUSER, "postgres"), 1).await.unwrap();
    let mut users: Vec<String> = Vec::new();
    for _ in 0..50 {
        users = sqlx::query_scalar(
            "SELECT usename::text FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'",
        )
        .bind(&recipe.database)
        .fetch_all(&admin)
        .await
        .unwrap();
        if !users.is_empty() && users.iter().all(|u| *u == recipe.login) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    db::close(admin).await;
    assert!(!users.is_empty() && users.iter().all(|u| *u == recipe.login), "{users:?}");
    assert!(server.stop().success());
}

/// Backup and restore under the recipe's roles (issue 14, item 15): the owner, whom
/// row-level security binds, cannot read every municipality and is told so before
/// anything is written; a role with BYPASSRLS that may only read (the README's
/// `tavle_backup`) writes the backup; the owner restores it into a new database of
/// its own, whole, and the application's login works in it.
#[tokio::test]
async fn the_readme_roles_back_up_and_restore() {
    let recipe = Recipe::create().await;
    recipe.run(&["migrate"]);
    let superuser = recipe.superuser().await;
    tavle::demo::ensure(&superuser, tavle::demo::DemoSize::Standard, &|_| {}).await.unwrap();
    let file = std::env::temp_dir().join(format!("{}.tavle-backup", recipe.database));
    let file_arg = file.to_str().unwrap();

    let refused = recipe.tavle(&["backup", file_arg]).output().unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains(&recipe.owner) && err.contains("BYPASSRLS"), "{err}");
    assert!(!file.exists());

    let backup = unique_name("tavle_backup");
    let copy = unique_name("ext_restored");
    as_superuser(
        "postgres",
        &[
            &format!("CREATE ROLE {backup} LOGIN BYPASSRLS IN ROLE pg_read_all_data"),
            &format!("CREATE DATABASE {copy} OWNER {}", recipe.owner),
        ],
    )
    .await;
    let out = recipe.tavle_as(&cluster_url(&backup, &recipe.database), &["backup", file_arg]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let copy_owner_url = cluster_url(&recipe.owner, &copy);
    let out = recipe.tavle_as(&copy_owner_url, &["restore", file_arg]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_file(&file).unwrap();

    let copy_superuser = db::connect(&cluster_url(embedded::SUPERUSER, &copy), 1).await.unwrap();
    let original = row_counts(&superuser).await;
    assert!(original["persons"] > 1000, "{original:?}");
    assert_eq!(row_counts(&copy_superuser).await, original);
    let owners: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT relowner::regrole::text FROM pg_class \
         WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'",
    )
    .fetch_all(&copy_superuser)
    .await
    .unwrap();
    assert_eq!(owners, vec![recipe.owner.clone()], "everything restored belongs to the owner who restored it");
    db::close(copy_superuser).await;
    db::close(superuser).await;

    let login = db::connect(&cluster_url(&recipe.login, &copy), 1).await.unwrap();
    let fjordvik: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'fjordvik'").fetch_one(&login).await.unwrap();
    let mut tx = db::begin(&login, fjordvik).await.unwrap();
    let persons: i64 = sqlx::query_scalar("/* all tenants: RLS test */ SELECT count(*) FROM persons")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    let elsewhere: i64 =
        sqlx::query_scalar("/* all tenants: RLS test */ SELECT count(*) FROM persons WHERE tenant_id <> $1")
            .bind(fjordvik)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    tx.rollback().await.unwrap();
    db::close(login).await;
    assert!(persons > 1000 && elsewhere == 0, "{persons} {elsewhere}");
}
