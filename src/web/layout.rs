//! What every page's layout needs ([`Ui`]): language, the signed-in person, the
//! navigation they may use, the CSRF token for forms, and the demo banner.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::{AppError, ErrorPage};
use crate::state::{AppState, Mode};
use crate::web::i18n::{self, Lang};
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
            // Everyone signed in has a week: their own, their children's, or their teaching.
            nav.push(NavLink {
                href: "/timetable",
                label_key: "nav.timetable",
                current: ctx.path.starts_with("/timetable") || ctx.path.contains("/timetable"),
            });
            if actor.may_list_pupils() {
                nav.push(NavLink {
                    href: "/pupils",
                    label_key: "nav.pupils",
                    current: (ctx.path.starts_with("/pupils") || ctx.path.starts_with("/schools"))
                        && !ctx.path.contains("/timetable")
                        && !ctx.path.ends_with("/mail"),
                });
            }
            if actor.may_register_absence()
                || actor.may_report_absence()
                || actor.may_see_own_absence()
                || actor.may_open_leave_queue()
            {
                nav.push(NavLink {
                    href: "/absence",
                    label_key: "nav.absence",
                    current: ctx.path.starts_with("/absence")
                        && !ctx.path.starts_with("/absence/classes")
                        && !ctx.path.starts_with("/absence/statistics"),
                });
            }
            if actor.may_read_absence_statistics() {
                nav.push(NavLink {
                    href: "/absence/statistics",
                    label_key: "nav.absence_statistics",
                    current: ctx.path.starts_with("/absence/statistics") || ctx.path.contains("/absence/statistics"),
                });
            }
            if actor.may_register_absence() {
                // Review and totals: the contact teacher's classes, the office's school.
                nav.push(NavLink {
                    href: "/absence/classes",
                    label_key: "nav.absence_classes",
                    current: ctx.path.starts_with("/absence/classes"),
                });
            }
            if actor.may_open_sfo() {
                nav.push(NavLink { href: "/sfo", label_key: "nav.sfo", current: ctx.path.starts_with("/sfo") });
            }
            if actor.may_view_mail_outbox() {
                nav.push(NavLink {
                    href: "/mail",
                    label_key: "nav.mail",
                    current: ctx.path == "/mail" || (ctx.path.starts_with("/schools/") && ctx.path.contains("/mail")),
                });
            }
            if actor.may_view_audit() {
                nav.push(NavLink { href: "/audit", label_key: "nav.audit", current: ctx.path.starts_with("/audit") });
            }
            if actor.may_manage_role_mappings() {
                nav.push(NavLink {
                    href: "/admin/role-mappings",
                    label_key: "nav.role_mappings",
                    current: ctx.path.starts_with("/admin/role-mappings"),
                });
            }
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
