//! The OpenID Connect client side: provider discovery and keys (cached), the client of a
//! tenant's provider, and verification of id tokens. Holds no request state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreClient, CoreGenderClaim, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken, IdTokenVerifier,
    IssuerUrl, Nonce, ProviderMetadataWithLogout, RedirectUrl,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::{Config, Secret};
use crate::error::{AppError, Result};

use super::providers::{Kind, Provider};

/// How long provider metadata and keys are reused before discovery runs again.
const METADATA_TTL: Duration = Duration::from_secs(900);

type Metadata = Arc<ProviderMetadataWithLogout>;

/// The HTTP client for providers (no redirects followed, short timeouts) and the
/// discovered metadata and keys per tenant and provider.
pub struct Oidc {
    pub(super) http: openidconnect::reqwest::Client,
    cache: Mutex<HashMap<(Uuid, Kind), (Instant, Metadata)>>,
}

impl Default for Oidc {
    fn default() -> Self {
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self { http, cache: Mutex::new(HashMap::new()) }
    }
}

impl Oidc {
    pub(super) async fn metadata(&self, p: &Provider, refresh: bool) -> Result<Metadata> {
        let key = (p.tenant_id, p.kind);
        if !refresh {
            if let Ok(cache) = self.cache.lock() {
                if let Some((at, m)) = cache.get(&key) {
                    if at.elapsed() < METADATA_TTL && m.issuer().as_str() == p.issuer {
                        return Ok(m.clone());
                    }
                }
            }
        }
        let issuer = IssuerUrl::new(p.issuer.clone()).map_err(|_| AppError::Unavailable("issuer"))?;
        let m = ProviderMetadataWithLogout::discover_async(issuer, &self.http).await.map_err(|e| {
            tracing::warn!(kind = p.kind.code(), error = %e, "identity provider discovery failed");
            AppError::Unavailable("discovery")
        })?;
        let m = Arc::new(m);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, (Instant::now(), m.clone()));
        }
        Ok(m)
    }

    /// The provider's end-session endpoint, from cached metadata.
    pub async fn end_session_endpoint(&self, p: &Provider) -> Option<String> {
        let m = self.metadata(p, false).await.ok()?;
        m.additional_metadata().end_session_endpoint.as_ref().map(|u| u.url().to_string())
    }
}

pub(super) type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// The OpenID Connect client of a tenant's provider, redirecting back to us.
pub(super) fn client(
    config: &Config,
    p: &Provider,
    meta: &ProviderMetadataWithLogout,
    secret: &Secret,
) -> Result<Client> {
    Ok(CoreClient::from_provider_metadata(
        meta.clone(),
        ClientId::new(p.client_id.clone()),
        Some(ClientSecret::new(secret.expose().to_owned())),
    )
    .set_redirect_uri(redirect_uri(config, p.kind)?))
}

pub(super) fn redirect_uri(config: &Config, kind: Kind) -> Result<RedirectUrl> {
    let url = config.public_url.join(&format!("auth/{}/callback", kind.code())).map_err(anyhow::Error::from)?;
    Ok(RedirectUrl::from_url(url))
}

pub(super) fn sha256(s: &str) -> Vec<u8> {
    Sha256::digest(s.as_bytes()).to_vec()
}

// ---- id token verification --------------------------------------------------------------

/// The claims Tavle reads beyond the standard ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TavleClaims {
    /// Feide's user id (eduPersonPrincipalName), e.g. `kari.nordmann@kommune.no`.
    #[serde(rename = "https://n.feide.no/claims/eduPersonPrincipalName", skip_serializing_if = "Option::is_none")]
    pub feide_id: Option<String>,
    /// ID-porten's national identity number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
}
impl AdditionalClaims for TavleClaims {}

type TavleIdToken = IdToken<TavleClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

/// What an id token must match.
pub struct Expectation<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub keys: &'a CoreJsonWebKeySet,
    pub nonce: &'a str,
    /// The clock to check expiry against (tests move it); `None` is now.
    pub now: Option<chrono::DateTime<chrono::Utc>>,
}

/// What a verified id token says.
#[derive(Debug, Clone)]
pub struct Verified {
    pub subject: String,
    pub acr: Option<String>,
    pub feide_id: Option<String>,
    pub pid: Option<String>,
}

/// Verify signature (RS256 with the provider's keys), issuer, audience, expiry and
/// nonce; the error is a short reason for the log.
pub fn verify_id_token(raw: &str, expect: &Expectation<'_>) -> std::result::Result<Verified, String> {
    let token: TavleIdToken = raw.parse().map_err(|e| format!("malformed id token: {e}"))?;
    let issuer = IssuerUrl::new(expect.issuer.to_owned()).map_err(|e| e.to_string())?;
    let mut verifier =
        IdTokenVerifier::new_public_client(ClientId::new(expect.client_id.to_owned()), issuer, expect.keys.clone())
            .set_allowed_algs(vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]);
    if let Some(now) = expect.now {
        verifier = verifier.set_time_fn(move || now);
    }
    let claims = token.claims(&verifier, &Nonce::new(expect.nonce.to_owned())).map_err(|e| e.to_string())?;
    Ok(Verified {
        subject: claims.subject().as_str().to_owned(),
        acr: claims.auth_context_ref().map(|a| a.as_str().to_owned()),
        feide_id: claims.additional_claims().feide_id.clone(),
        pid: claims.additional_claims().pid.clone(),
    })
}

/// Fetch an issuer's discovery document (and keys), for `tavle idp set`.
pub async fn check_discovery(issuer: &str) -> std::result::Result<(), String> {
    let issuer = IssuerUrl::new(issuer.to_owned()).map_err(|e| e.to_string())?;
    ProviderMetadataWithLogout::discover_async(issuer, &Oidc::default().http)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
