//! The municipalities' identity providers as configured (`tavle idp set`), and what the
//! sign-in page offers.

use openidconnect::IssuerUrl;
use sqlx::PgPool;
use uuid::Uuid;

use crate::config::Config;
use crate::db;
use crate::error::{AppError, Result};

/// The two kinds of identity provider a municipality uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Feide,
    IdPorten,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Feide, Kind::IdPorten];

    pub fn code(self) -> &'static str {
        match self {
            Kind::Feide => "feide",
            Kind::IdPorten => "idporten",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    pub(super) fn sign_in_key(self) -> &'static str {
        match self {
            Kind::Feide => "signin.with_feide",
            Kind::IdPorten => "signin.with_idporten",
        }
    }

    /// Scopes asked for when none are configured.
    pub fn default_scopes(self) -> &'static str {
        match self {
            Kind::Feide => "openid userid-feide profile",
            Kind::IdPorten => "openid profile",
        }
    }

    /// Feide: the multi-factor level staff must present. ID-porten: the levels a
    /// guardian must present (the legacy `Level3`/`Level4` are not among them).
    pub fn default_acr(self) -> Vec<String> {
        match self {
            Kind::Feide => vec!["urn:mace:feide.no:auth:level:fad08:3".to_owned()],
            Kind::IdPorten => vec!["idporten-loa-substantial".to_owned(), "idporten-loa-high".to_owned()],
        }
    }
}

/// A tenant's configured provider.
#[derive(Debug, Clone)]
pub struct Provider {
    pub tenant_id: Uuid,
    pub slug: String,
    pub kind: Kind,
    pub issuer: String,
    pub client_id: String,
    pub scopes: String,
    pub required_acr: Vec<String>,
}

/// The provider of `kind` for the tenant, if configured.
pub async fn provider(pool: &PgPool, tenant: Uuid, kind: Kind) -> Result<Option<Provider>> {
    let mut tx = db::begin(pool, tenant).await?;
    let row: Option<(String, String, String, String, Vec<String>)> = sqlx::query_as(
        "SELECT t.slug, p.issuer, p.client_id, p.scopes, p.required_acr \
         FROM identity_providers p JOIN tenants t ON t.id = p.tenant_id WHERE p.tenant_id = $1 AND p.kind = $2",
    )
    .bind(tenant)
    .bind(kind.code())
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.map(|(slug, issuer, client_id, scopes, required_acr)| Provider {
        tenant_id: tenant,
        slug,
        kind,
        issuer,
        client_id,
        scopes,
        required_acr,
    }))
}

/// Configure (insert or replace) a tenant's provider. Used by `tavle idp set` and tests.
pub async fn set_provider(
    pool: &PgPool,
    tenant: Uuid,
    kind: Kind,
    issuer: &str,
    client_id: &str,
    scopes: Option<&str>,
    required_acr: Option<Vec<String>>,
) -> Result<()> {
    IssuerUrl::new(issuer.to_owned()).map_err(|_| AppError::BadRequest)?;
    let mut tx = db::begin(pool, tenant).await?;
    sqlx::query(
        "INSERT INTO identity_providers (tenant_id, kind, issuer, client_id, scopes, required_acr, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, now()) \
         ON CONFLICT (tenant_id, kind) DO UPDATE SET issuer = EXCLUDED.issuer, client_id = EXCLUDED.client_id, \
             scopes = EXCLUDED.scopes, required_acr = EXCLUDED.required_acr, updated_at = EXCLUDED.updated_at",
    )
    .bind(tenant)
    .bind(kind.code())
    .bind(issuer)
    .bind(client_id)
    .bind(scopes.unwrap_or(kind.default_scopes()))
    .bind(required_acr.unwrap_or_else(|| kind.default_acr()))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One municipality's sign-in choices, for the sign-in page.
#[derive(Debug, Clone)]
pub struct SignInOption {
    pub slug: String,
    pub tenant_name: String,
    /// (kind code, translation key of the link text)
    pub kinds: Vec<(&'static str, &'static str)>,
}

pub async fn sign_in_options(pool: &PgPool) -> Result<Vec<SignInOption>> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT slug, tenant_name, kind FROM tavle_sign_in_options()").fetch_all(pool).await?;
    let mut out: Vec<SignInOption> = Vec::new();
    for (slug, tenant_name, kind) in rows {
        let Some(kind) = Kind::from_code(&kind) else { continue };
        match out.last_mut() {
            Some(last) if last.slug == slug => last.kinds.push((kind.code(), kind.sign_in_key())),
            _ => out.push(SignInOption { slug, tenant_name, kinds: vec![(kind.code(), kind.sign_in_key())] }),
        }
    }
    Ok(out)
}

/// Every configured provider whose client secret is missing from the environment
/// (named by variable), for the start-up check of `tavle serve`.
pub async fn missing_secrets(pool: &PgPool, config: &Config) -> Result<Vec<String>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT slug, kind FROM tavle_sign_in_options()").fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .filter(|(slug, kind)| config.oidc_secret(slug, kind).is_none())
        .map(|(slug, kind)| Config::oidc_secret_name(&slug, &kind))
        .collect())
}
