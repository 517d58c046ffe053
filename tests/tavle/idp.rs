//! The local OpenID Connect provider (dev/idp: Feide and ID-porten stand-ins), one per
//! test run, and a small HTTP client that plays the user at its login form.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use openidconnect::reqwest;
use serde_json::json;

use tavle::domain::national_id::NationalId;

pub const CLIENT_SECRET: &str = "dev-secret-not-for-production";

pub struct Idp {
    pub feide: String,
    pub idporten: String,
    _child: Mutex<Child>,
    // Held open: the provider exits when the test process (and so this pipe) goes.
    _stdin: Mutex<ChildStdin>,
}

/// Accounts: demo personas as the providers know them, plus people Tavle does not.
pub fn unknown_pid() -> String {
    let date = time::Date::from_calendar_date(1990, time::Month::January, 7).unwrap();
    (0..500).find_map(|i| NationalId::synthetic(date, i)).unwrap().as_str().to_owned()
}

pub fn persona_pid(key: &str) -> String {
    tavle::demo::personas().into_iter().find(|p| p.key == key).and_then(|p| p.national_id).expect("guardian persona")
}

fn persona_eppn(key: &str) -> String {
    tavle::demo::personas().into_iter().find(|p| p.key == key).and_then(|p| p.feide_id).expect("feide persona")
}

pub fn idp() -> &'static Idp {
    static IDP: OnceLock<Idp> = OnceLock::new();
    IDP.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dev/idp");
        assert!(
            root.join("node_modules").is_dir(),
            "dev/idp/node_modules is missing: run `npm ci` in dev/idp (scripts/test does it for you)"
        );
        let accounts = json!({
            "feide": [
                {"sub": "feide-sub-siri", "username": "siri", "name": "Siri Haugen", "eppn": persona_eppn("office_clerk")},
                {"sub": "feide-sub-impostor", "username": "impostor", "name": "Siri Haugen", "eppn": persona_eppn("office_clerk")},
                {"sub": "feide-sub-emma", "username": "emma", "name": "Emma Nordmann", "eppn": persona_eppn("pupil")},
                {"sub": "feide-sub-arne", "username": "arne", "name": "Arne Moen", "eppn": persona_eppn("former_teacher")},
                {"sub": "feide-sub-stranger", "username": "stranger", "name": "Ukjent Person", "eppn": "ukjent.person@fjordvik.kommune.no"},
            ],
            "idporten": [
                {"pid": persona_pid("guardian"), "name": "Kari Nordmann"},
                {"pid": persona_pid("guardian_no_responsibility"), "name": "Geir Nilsen"},
                {"pid": unknown_pid(), "name": "Ukjent Forelder"},
            ],
        });
        let file = std::env::temp_dir().join(format!("tavle-idp-accounts-{}.json", std::process::id()));
        std::fs::write(&file, accounts.to_string()).unwrap();
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(&root)
            .env("IDP_PORT", "0")
            .env("IDP_ACCOUNTS", &file)
            .env("IDP_EXIT_ON_STDIN_CLOSE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node dev/idp/server.mjs (is Node.js installed?)");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let ready: serde_json::Value = serde_json::from_str(&line).expect("the IdP's ready line");
        Idp {
            feide: ready["feide"].as_str().unwrap().to_owned(),
            idporten: ready["idporten"].as_str().unwrap().to_owned(),
            _child: Mutex::new(child),
            _stdin: Mutex::new(stdin),
        }
    })
}

/// A person at the provider's pages: a cookie jar, no automatic redirects.
pub struct IdpUser {
    http: reqwest::Client,
    cookies: Vec<(String, String)>,
}

pub struct IdpResponse {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Default for IdpUser {
    fn default() -> Self {
        Self {
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            cookies: Vec::new(),
        }
    }
}

impl IdpUser {
    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> IdpResponse {
        let res = req.header("cookie", self.cookie_header()).send().await.expect("IdP reachable");
        for set in res.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies.retain(|(name, _)| name != k);
                self.cookies.push((k.to_owned(), v.to_owned()));
            }
        }
        let status = res.status().as_u16();
        let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        let location = location.map(|l| absolute(res.url(), &l));
        IdpResponse { status, location, body: res.text().await.unwrap() }
    }

    pub async fn get(&mut self, url: &str) -> IdpResponse {
        let req = self.http.get(url);
        self.send(req).await
    }

    pub async fn post(&mut self, url: &str, fields: &[(&str, &str)]) -> IdpResponse {
        let req = self.http.post(url).form(fields);
        self.send(req).await
    }

    /// From the authorization URL to the redirect back to Tavle: fill in the login
    /// form with `username` and `acr` and follow the provider's redirects. Returns the
    /// URL the provider sends the browser to (Tavle's callback).
    pub async fn log_in(&mut self, authorize_url: &str, username: &str, acr: &str) -> String {
        let mut res = self.get(authorize_url).await;
        let mut posted = false;
        for _ in 0..10 {
            if let Some(next) = res.location.clone() {
                if next.contains("/auth/") && next.contains("/callback") {
                    return next;
                }
                res = self.get(&next).await;
                continue;
            }
            assert_eq!(res.status, 200, "IdP page: {}", res.body);
            assert!(!posted, "the login form came back: {}", res.body);
            let action = form_action(&res.body).expect("a login form");
            let base = url::Url::parse(authorize_url).unwrap();
            let action = base.join(&action).unwrap().to_string();
            res = self.post(&action, &[("username", username), ("acr", acr)]).await;
            posted = true;
        }
        panic!("no redirect back to Tavle");
    }
}

fn absolute(base: &reqwest::Url, location: &str) -> String {
    base.join(location).map(|u| u.to_string()).unwrap_or_else(|_| location.to_owned())
}

/// The `action` of the first form on a page.
pub fn form_action(html: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("form").unwrap();
    doc.select(&sel).next().and_then(|f| f.value().attr("action")).map(str::to_owned)
}

/// The value of a named input of the first form on a page.
pub fn form_field(html: &str, name: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(&format!("input[name={name}]")).unwrap();
    doc.select(&sel).next().and_then(|f| f.value().attr("value")).map(str::to_owned)
}
