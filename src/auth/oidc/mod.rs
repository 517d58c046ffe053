//! Sign-in with OpenID Connect: Feide (staff and pupils) and ID-porten (guardians).
//!
//! Authorization code flow with PKCE (S256), `state` and `nonce`. The pending request
//! lives server-side (`oidc_requests`, hashes only) and is bound to the browser by a
//! short-lived cookie, so a callback carried to another browser (login CSRF) or
//! replayed finds nothing. The id token is verified in full (signature, issuer,
//! audience, expiry, nonce) and its `acr` checked against the tenant's policy. Every
//! refusal answers with the same calm "no access" page; the reason goes to the log
//! only, without personal data.
//!
//! Starting a sign-in is a plain link (`GET /auth/{kind}/start?municipality=…`): it
//! changes nothing but an expiring, browser-bound pending request, and a link (unlike
//! a form post) may redirect to the provider under our `form-action` CSP.
//!
//! - `providers`: the configured providers (`tavle idp`) and the sign-in page's options;
//! - `client`: discovery, the OIDC client and id token verification;
//! - `flow`: the routes, start and callback.

pub mod client;
mod flow;
mod providers;

pub use client::{check_discovery, verify_id_token, Expectation, Oidc, TavleClaims, Verified};
pub use flow::router;
pub use providers::{missing_secrets, provider, set_provider, sign_in_options, Kind, Provider, SignInOption};
