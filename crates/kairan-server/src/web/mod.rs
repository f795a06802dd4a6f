//! Server-rendered pages (Japanese first, English by the language switch). Templates escape
//! every value; the only script is `/static/app.js`, loaded as a module, so the CSP needs no
//! `unsafe-inline`. Forms post back with the CSRF token in a hidden field and redirect after
//! success, so a reload never repeats an action.

mod account;
pub use account::{describe_agent, known_platform};
mod admin;
mod applications;
mod audit;
mod chat;
mod devices;
mod directory;
mod guests;
mod mfa;
mod protection;
mod review;

use crate::auth::{Authenticated, CSRF_COOKIE, cookie};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::state::AppState;
use axum::Router;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use kairan_domain::Localized;
use minijinja::{Environment, Value, context};

pub fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    for (name, src) in [
        ("base.html", include_str!("../../templates/base.html")),
        ("login.html", include_str!("../../templates/login.html")),
        ("invite.html", include_str!("../../templates/invite.html")),
        (
            "password.html",
            include_str!("../../templates/password.html"),
        ),
        ("home.html", include_str!("../../templates/home.html")),
        (
            "sessions.html",
            include_str!("../../templates/sessions.html"),
        ),
        ("users.html", include_str!("../../templates/users.html")),
        ("user.html", include_str!("../../templates/user.html")),
        (
            "user_new.html",
            include_str!("../../templates/user_new.html"),
        ),
        ("issued.html", include_str!("../../templates/issued.html")),
        (
            "departments.html",
            include_str!("../../templates/departments.html"),
        ),
        (
            "privileged.html",
            include_str!("../../templates/privileged.html"),
        ),
        ("audit.html", include_str!("../../templates/audit.html")),
        ("review.html", include_str!("../../templates/review.html")),
        (
            "protection.html",
            include_str!("../../templates/protection.html"),
        ),
        (
            "protection_settings.html",
            include_str!("../../templates/protection_settings.html"),
        ),
        ("error.html", include_str!("../../templates/error.html")),
        ("talks.html", include_str!("../../templates/talks.html")),
        ("devices.html", include_str!("../../templates/devices.html")),
        (
            "mfa_verify.html",
            include_str!("../../templates/mfa_verify.html"),
        ),
        (
            "mfa_setup.html",
            include_str!("../../templates/mfa_setup.html"),
        ),
        (
            "mfa_setup_body.html",
            include_str!("../../templates/mfa_setup_body.html"),
        ),
        (
            "mfa_codes.html",
            include_str!("../../templates/mfa_codes.html"),
        ),
        (
            "codes_panel.html",
            include_str!("../../templates/codes_panel.html"),
        ),
        (
            "passkey_register_form.html",
            include_str!("../../templates/passkey_register_form.html"),
        ),
        (
            "security.html",
            include_str!("../../templates/security.html"),
        ),
        (
            "sign_in_settings.html",
            include_str!("../../templates/sign_in_settings.html"),
        ),
        (
            "applications.html",
            include_str!("../../templates/applications.html"),
        ),
        (
            "application.html",
            include_str!("../../templates/application.html"),
        ),
        (
            "application_form.html",
            include_str!("../../templates/application_form.html"),
        ),
        (
            "application_kinds.html",
            include_str!("../../templates/application_kinds.html"),
        ),
        (
            "application_people.html",
            include_str!("../../templates/application_people.html"),
        ),
        (
            "application_group_form.html",
            include_str!("../../templates/application_group_form.html"),
        ),
        (
            "guest_list.html",
            include_str!("../../templates/guest_list.html"),
        ),
    ] {
        if let Err(e) = env.add_template(name, src) {
            tracing::error!(template = name, error = %e, "template does not parse");
        }
    }
    env
}

/// The language and CSRF token of the request: every page needs both.
pub struct PageCtx {
    pub lang: Lang,
    pub csrf: String,
}

impl<S: Send + Sync> FromRequestParts<S> for PageCtx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        Ok(page_ctx(&parts.headers))
    }
}

pub fn page_ctx(headers: &HeaderMap) -> PageCtx {
    PageCtx {
        lang: Lang::from_cookie(cookie(headers, "lang").as_deref()),
        csrf: cookie(headers, CSRF_COOKIE).unwrap_or_default(),
    }
}

/// What the layout shows about the signed-in user.
pub fn me_value(me: &Authenticated, org_name: &str, lang: Lang) -> Value {
    let labels: Vec<&str> = me
        .roles
        .iter()
        .map(|r| lang.pick(r.label_ja(), r.label_en()))
        .collect();
    // The menu shows what the policy allows on one's own body: the same decision the
    // services make, so a link never leads to a refusal and no allowed page is hidden.
    let actor = me.actor();
    let org = kairan_domain::OrgId(me.user.org_id.clone());
    let may = |action| {
        kairan_domain::policy::check(&actor, action, &kairan_domain::policy::Resource::Org(&org))
            .is_ok()
    };
    use kairan_domain::policy::Action as A;
    context! {
        id => me.user.id,
        name => me.user.display_name,
        org_id => me.user.org_id,
        org_name => org_name,
        roles => labels,
        is_admin => may(A::ViewUsers),
        can_audit => may(A::ReadAuditLog),
        can_list_privileged => may(A::ListPrivileged),
        can_view_dlp => may(A::ViewDlpEvents),
        can_configure_protection => may(A::ConfigureProtection),
        can_review => may(A::ReviewContent),
        can_configure_sign_in => may(A::ConfigureSignIn),
        can_manage_devices => may(A::ManageDevices),
        can_apply_guest => may(A::ApplyGuest),
        can_decide_applications => may(A::DecideApplication),
    }
}

/// An error's message in the page's language, for a form that shows it beside its fields.
pub fn message(e: &AppError, ctx: &PageCtx) -> String {
    match ctx.lang {
        Lang::Ja => e.message_ja(),
        Lang::En => e.message_en(),
    }
}

/// A whole number as typed in a form field, full-width digits from an IME included.
pub fn typed_number(text: &str) -> Option<u32> {
    text.trim()
        .chars()
        .map(kairan_domain::mfa::fold_width)
        .collect::<String>()
        .parse()
        .ok()
}

/// `?done=…` after a form redirected back: which confirmation the page shows.
#[derive(serde::Deserialize)]
pub struct Done {
    pub done: Option<String>,
}

/// What the layout shows about the signed-in user, with their body's name looked up.
pub async fn page_me(
    state: &AppState,
    ctx: &PageCtx,
    me: &Authenticated,
) -> Result<Value, PageError> {
    let org = crate::services::admin::org_by_id(state, &me.user.org_id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    Ok(me_value(me, &org.name, ctx.lang))
}

pub fn render(
    state: &AppState,
    name: &str,
    ctx: &PageCtx,
    extra: Value,
) -> Result<Html<String>, PageError> {
    let tmpl = state.templates.get_template(name).map_err(|e| {
        PageError(
            AppError::Internal(format!("template {name}: {e}")),
            ctx.lang,
        )
    })?;
    let lang = ctx.lang;
    let base = context! {
        lang => lang.code(),
        t => i18n::strings(lang),
        csrf => ctx.csrf,
    };
    let merged = context! { ..extra, ..base };
    tmpl.render(merged)
        .map(Html)
        .map_err(|e| PageError(AppError::Internal(format!("render {name}: {e}")), lang))
}

/// Formats a time for templates.
pub fn when(us: Option<i64>, lang: Lang) -> String {
    us.map(|u| i18n::format_time(u, lang)).unwrap_or_default()
}

/// An error on a page: sign-in problems redirect, everything else renders the error page with
/// the message in the page's language.
#[derive(Debug)]
pub struct PageError(pub AppError, pub Lang);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e, Lang::Ja)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let PageError(err, lang) = self;
        match err {
            AppError::Unauthenticated => return Redirect::to("/login").into_response(),
            AppError::PasswordChangeRequired => return Redirect::to("/password").into_response(),
            AppError::MfaRequired => return Redirect::to("/mfa").into_response(),
            AppError::MfaEnrolmentRequired => return Redirect::to("/mfa/setup").into_response(),
            _ => {}
        }
        err.log();
        let message = if lang == Lang::Ja {
            err.message_ja()
        } else {
            err.message_en()
        };
        let strings = i18n::strings(lang);
        let title = strings.get("error").copied().unwrap_or("Error");
        let back = strings.get("back_home").copied().unwrap_or("Home");
        // Rendered without the template engine so an engine failure still produces a page.
        let body = format!(
            "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head><body class=\"plain\"><main class=\"narrow\"><div class=\"card\"><h1>{}</h1><p class=\"alert alert-error\" data-code=\"{}\">{}</p><p><a href=\"/\">{}</a></p></div></main></body></html>",
            lang.code(),
            escape(title),
            escape(title),
            escape(err.code()),
            escape(&message),
            escape(back)
        );
        (err.status(), Html(body)).into_response()
    }
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            other => out.push(other),
        }
    }
    out
}

#[derive(serde::Deserialize)]
struct LangQuery {
    next: Option<String>,
}

/// The language switch: remembers the choice in a cookie and returns to the page.
async fn switch_lang(
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(q): Query<LangQuery>,
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Response {
    let lang = if code == "en" { "en" } else { "ja" };
    // Only local paths, so the switch cannot be used as an open redirect.
    let next = q
        .next
        .filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/".into());
    let mut c = format!("lang={lang}; Path=/; Max-Age=31536000; SameSite=Lax");
    if state.secure_cookies {
        c.push_str("; Secure");
    }
    ([(header::SET_COOKIE, c)], Redirect::to(&next)).into_response()
}

async fn static_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

async fn static_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
        .into_response()
}

async fn static_chat_js() -> Response {
    script(include_str!("../../static/chat.js"))
}

async fn static_passkey_js() -> Response {
    script(include_str!("../../static/passkey.js"))
}

async fn static_login_js() -> Response {
    script(include_str!("../../static/login.js"))
}

async fn static_applications_js() -> Response {
    script(include_str!("../../static/applications.js"))
}

fn script(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn not_found(ctx: PageCtx) -> Response {
    PageError(AppError::NotFound, ctx.lang).into_response()
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/app.css", get(static_css))
        .route("/static/app.js", get(static_js))
        .route("/static/chat.js", get(static_chat_js))
        .route("/static/passkey.js", get(static_passkey_js))
        .route("/static/login.js", get(static_login_js))
        .route("/static/applications.js", get(static_applications_js))
        .route("/lang/{code}", get(switch_lang))
        .merge(account::routes())
        .merge(admin::routes())
        .merge(audit::routes())
        .merge(review::routes())
        .merge(chat::routes())
        .merge(protection::routes())
        .merge(mfa::routes())
        .merge(devices::routes())
        .merge(directory::routes())
        .merge(guests::routes())
        .merge(applications::routes())
}

pub fn fallback() -> axum::routing::MethodRouter<AppState> {
    axum::routing::any(not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every template that a template extends or includes is registered: a missing one only
    /// shows when the page renders, as a server error.
    #[test]
    fn every_extended_or_included_template_is_registered() {
        let env = templates();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(env.get_template(&name).is_ok(), "{name} is not registered");
            let src = std::fs::read_to_string(&path).unwrap();
            for tag in ["{% include \"", "{% extends \""] {
                for part in src.split(tag).skip(1) {
                    let target = part.split('"').next().unwrap();
                    assert!(
                        env.get_template(target).is_ok(),
                        "{name} uses {target}, not registered"
                    );
                }
            }
            files += 1;
        }
        assert!(files > 20);
    }
}
