//! The SMS gateway: a trait, so that the worker does not care whose gateway it is, and
//! one HTTP adapter for a gateway with the common shape (the local `dev/sms` gateway
//! has it): `POST {url}/messages` with a bearer token and a JSON body, answered with
//! the gateway's id for the message.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

use crate::config::Secret;

/// One SMS as handed to the gateway.
#[derive(Debug, Clone, Serialize)]
pub struct Outgoing {
    /// E.164 (`+4791234567`).
    pub to: String,
    /// Alphanumeric, at most 11 characters.
    pub from: String,
    pub text: String,
    /// Tavle's id of the message; delivery reports name it.
    pub reference: Uuid,
    /// Where the gateway posts delivery reports (none: no reports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback: Option<String>,
}

/// Why a message did not go: a category (`http_503`, `timeout`) stored and logged,
/// never the gateway's text, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub category: String,
    pub transient: bool,
}

/// An SMS gateway.
pub trait Gateway: Send + Sync + 'static {
    /// Hand `m` to the gateway; its id for the message when accepted.
    fn send(&self, m: &Outgoing) -> impl Future<Output = Result<String, Failure>> + Send;
}

/// A gateway answering longer than this has failed (transiently).
const TIMEOUT: Duration = Duration::from_secs(15);

/// The HTTP adapter.
#[derive(Clone)]
pub struct HttpGateway {
    client: reqwest::Client,
    messages: Url,
    token: Secret,
}

impl std::fmt::Debug for HttpGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpGateway").field("messages", &self.messages.as_str()).finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Accepted {
    id: String,
}

impl HttpGateway {
    pub fn new(url: &Url, token: Secret) -> anyhow::Result<Self> {
        let mut messages = url.clone();
        messages
            .path_segments_mut()
            .map_err(|()| anyhow::anyhow!("TAVLE_SMS_URL cannot have a path"))?
            .pop_if_empty()
            .push("messages");
        let client = reqwest::Client::builder().timeout(TIMEOUT).redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(Self { client, messages, token })
    }

    /// The gateway configured by `TAVLE_SMS_URL` and `TAVLE_SMS_TOKEN`, if any.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Option<Self>> {
        match (&config.sms_url, &config.sms_token) {
            (Some(url), Some(token)) => Ok(Some(Self::new(url, token.clone())?)),
            _ => Ok(None),
        }
    }
}

impl Gateway for HttpGateway {
    async fn send(&self, m: &Outgoing) -> Result<String, Failure> {
        let body = serde_json::to_vec(m).map_err(|_| failure("invalid_message", false))?;
        let response = self
            .client
            .post(self.messages.clone())
            .bearer_auth(self.token.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| failure(if e.is_timeout() { "timeout" } else { "connect_failed" }, true))?;
        let status = response.status();
        if !status.is_success() {
            // Asked too often, timed out at the gateway, or its own trouble: try again.
            let transient = status.is_server_error() || matches!(status.as_u16(), 408 | 429);
            return Err(failure(&format!("http_{}", status.as_u16()), transient));
        }
        let bytes = response.bytes().await.map_err(|_| failure("connect_failed", true))?;
        match serde_json::from_slice::<Accepted>(&bytes) {
            Ok(a) if !a.id.is_empty() && a.id.len() <= 100 => Ok(a.id),
            // Accepted, but its answer is not understood: sending again could send twice.
            _ => Err(failure("bad_answer", false)),
        }
    }
}

fn failure(category: &str, transient: bool) -> Failure {
    Failure { category: category.to_owned(), transient }
}
