//! What every page's layout needs ([`Ui`]): language, the signed-in person, the
//! navigation they may use (made from `places`), the CSRF token for forms, and the demo banner.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::{AppError, ErrorPage};
use crate::state::{AppState, Mode};
use crate::web::i18n::{self, Lang};
use crate::web::places;
use crate::web::request::RequestContext;

#[derive(Debug, Clone)]
pub struct NavLink {
    pub href: &'static str,
    pub label_key: &'static str,
    pub current: bool,
}

#[derive(Debug, Clone)]
pub struct Ui {
    pub lang: Lang,
    pub csrf: String,
    pub user_name: Option<String>,
    pub role_keys: Vec<&'static str>,
    pub demo: bool,
    pub path: String,
    pub nav: Vec<NavLink>,
}

impl Ui {
    pub fn new(state: &AppState, ctx: &RequestContext) -> Self {
        let mut nav = vec![NavLink { href: "/", label_key: "nav.home", current: ctx.path == "/" }];
        if let Some(actor) = &ctx.actor {
            nav.extend(places::places_for(actor).map(|p| NavLink {
                href: p.href,
                label_key: p.label_key,
                current: (p.current)(&ctx.path),
            }));
        }
        let mut role_keys: Vec<&'static str> =
            ctx.actor.as_ref().map(|a| a.roles().into_iter().map(|r| r.label_key()).collect()).unwrap_or_default();
        if let Some(a) = &ctx.actor {
            match a.audience {
                crate::policy::Audience::Guardian => role_keys.push("role.guardian"),
                crate::policy::Audience::Pupil => role_keys.push("role.pupil"),
                crate::policy::Audience::Staff => {}
            }
        }
        Self {
            lang: ctx.lang,
            csrf: ctx.csrf.clone(),
            user_name: ctx.actor.as_ref().map(|a| a.display_name.clone()),
            role_keys,
            demo: state.mode == Mode::Demo,
            path: ctx.path.clone(),
            nav,
        }
    }

    pub fn t(&self, key: &str) -> &'static str {
        i18n::t(self.lang, key)
    }

    pub fn tf(&self, key: &str, name: &str, value: &str) -> String {
        i18n::tf(self.lang, key, &[(name, value)])
    }

    /// The languages to switch to, as (code, own name).
    pub fn other_langs(&self) -> Vec<(&'static str, &'static str)> {
        Lang::ALL.into_iter().filter(|l| *l != self.lang).map(|l| (l.code(), i18n::t(l, "lang.name"))).collect()
    }

    pub fn signed_in(&self) -> bool {
        self.user_name.is_some()
    }
}

impl FromRequestParts<AppState> for Ui {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ctx = parts
            .extensions
            .get::<RequestContext>()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("request context missing")))?;
        Ok(Ui::new(state, ctx))
    }
}

#[derive(askama::Template)]
#[template(path = "layout/error.html")]
pub struct ErrorPageView {
    pub ui: Ui,
    pub title_key: &'static str,
    pub message_key: &'static str,
    pub request_id: String,
    pub show_request_id: bool,
}

impl ErrorPageView {
    pub fn new(ui: Ui, page: ErrorPage, request_id: &str) -> Self {
        let (title_key, message_key) = match page {
            ErrorPage::NotFound => ("error.not_found.title", "error.not_found.body"),
            ErrorPage::Forbidden => ("error.forbidden.title", "error.forbidden.body"),
            ErrorPage::BadRequest => ("error.bad_request.title", "error.bad_request.body"),
            ErrorPage::Conflict => ("error.conflict.title", "error.conflict.body"),
            ErrorPage::Internal => ("error.internal.title", "error.internal.body"),
            ErrorPage::TooManyRequests => ("error.too_many.title", "error.too_many.body"),
            ErrorPage::PayloadTooLarge => ("error.too_large.title", "error.too_large.body"),
            ErrorPage::Unavailable => ("error.unavailable.title", "error.unavailable.body"),
            ErrorPage::Busy => ("error.busy.title", "error.busy.body"),
            ErrorPage::TimedOut => ("error.timed_out.title", "error.timed_out.body"),
            ErrorPage::TooManyAtOnce => ("error.too_many_at_once.title", "error.too_many_at_once.body"),
        };
        Self {
            ui,
            title_key,
            message_key,
            request_id: request_id.to_owned(),
            show_request_id: matches!(page, ErrorPage::Internal | ErrorPage::Busy),
        }
    }
}
