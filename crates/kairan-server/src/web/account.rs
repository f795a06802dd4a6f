//! Sign-in, sign-out, the forced password change, the home page and the user's own sessions.

use super::{Done, PageCtx, PageError, me_value, message, render, when};
use crate::api::session::{clear_session_cookie, session_cookies};
use crate::auth::{AnySession, Authenticated, Client, CurrentUser};
use crate::error::AppError;
use crate::services::{admin, identity};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/password", get(password_page).post(change_password))
        .route("/sessions", get(sessions_page))
        .route("/sessions/{id}/end", post(end_session))
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    /// A body's code: its own sign-in message (bookmark `/login?org=CODE`).
    org: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Option<AnySession>,
    Query(q): Query<LoginQuery>,
) -> Result<Response, PageError> {
    if let Some(AnySession(me)) = me {
        let next = match me.session.mfa_state.as_str() {
            "verify" => "/mfa",
            "enrol" => "/mfa/setup",
            _ => "/",
        };
        return Ok(Redirect::to(next).into_response());
    }
    let (banner, body, org) =
        crate::services::sign_in::page_message(&state, q.org.as_deref(), ctx.lang)
            .await
            .map_err(|e| PageError(e, ctx.lang))?;
    Ok(render(
        &state,
        "login.html",
        &ctx,
        context! {
            banner, body, org, login_id => "",
            device_challenge => crate::services::devices::mint_challenge(&state),
        },
    )?
    .into_response())
}

#[derive(Deserialize)]
struct LoginForm {
    login_id: String,
    password: String,
    #[serde(default)]
    org: Option<String>,
    /// Filled in by /static/login.js with the device key's answer (empty without script).
    #[serde(default)]
    device_public_key: String,
    #[serde(default)]
    device_challenge: String,
    #[serde(default)]
    device_signature: String,
}

impl LoginForm {
    fn device_proof(&self) -> Option<kairan_domain::device_key::DeviceProof> {
        (!self.device_signature.is_empty()).then(|| kairan_domain::device_key::DeviceProof {
            public_key: self.device_public_key.clone(),
            challenge: self.device_challenge.clone(),
            signature: self.device_signature.clone(),
        })
    }
}

async fn login(
    State(state): State<AppState>,
    ctx: PageCtx,
    mut client: Client,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    client.device_proof = f.device_proof();
    match identity::sign_in(&state, &f.login_id, &f.password, &client).await {
        Ok(s) => {
            let next = match (s.mfa, s.must_change_password) {
                ("verify", _) => "/mfa",
                ("enrol", _) => "/mfa/setup",
                (_, true) => "/password",
                _ => "/",
            };
            Ok((
                AppendHeaders(session_cookies(&state, &s.token, &s.csrf_token)),
                Redirect::to(next),
            )
                .into_response())
        }
        Err(
            e @ (AppError::SignInFailed
            | AppError::DeviceRefused(_)
            | AppError::DirectoryUnavailable
            | AppError::Maintenance(_)),
        ) => {
            let message = message(&e, &ctx);
            let asked = f.org.filter(|o| !o.is_empty());
            let (banner, body, org) =
                crate::services::sign_in::page_message(&state, asked.as_deref(), ctx.lang)
                    .await
                    .map_err(|e| PageError(e, ctx.lang))?;
            let page = render(
                &state,
                "login.html",
                &ctx,
                context! {
                    banner, body, org, error => message, login_id => f.login_id,
                    device_challenge => crate::services::devices::mint_challenge(&state),
                },
            )?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(PageError(e, ctx.lang)),
    }
}

async fn logout(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Option<AnySession>,
) -> Result<Response, PageError> {
    if let Some(AnySession(me)) = me {
        identity::sign_out(&state, &me)
            .await
            .map_err(|e| PageError(e, ctx.lang))?;
    }
    Ok((
        AppendHeaders([clear_session_cookie(&state)]),
        Redirect::to("/login"),
    )
        .into_response())
}

async fn home(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
) -> Result<Html<String>, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let org = admin::org_by_id(&state, &me.user.org_id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    // Notices about one's own account (a second factor reset, with its reason; a sign-in from
    // a new device) are shown here once, then marked read. A new device's notice is not shown
    // on that same device, which knows.
    let (list, _) = crate::services::protection::notifications(&state, &me.user.id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let own_device = me.session.device_id.clone();
    let mut shown = Vec::new();
    let mut notice = |kind: &str, field: &str| -> Vec<minijinja::Value> {
        list.iter()
            .filter(|n| n.kind == kind && n.read_at.is_none())
            .filter(|n| own_device.is_none() || n.target_id != own_device)
            .map(|n| {
                shown.push(n.id.clone());
                let value = serde_json::from_str::<serde_json::Value>(&n.details)
                    .ok()
                    .and_then(|d| d[field].as_str().map(str::to_owned))
                    .unwrap_or_default();
                context! { at => when(Some(n.created_at), ctx.lang), value }
            })
            .collect()
    };
    let last_out = identity::last_sign_out(&state, &me)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let mfa_resets = notice("mfa_reset", "reason");
    let new_devices = notice("new_device", "platform");
    // Applications that need the person: waiting for their decision, decided, or a guest
    // whose period ends soon. Each links to the application.
    let application_notices: Vec<minijinja::Value> = list
        .iter()
        .filter(|n| n.read_at.is_none())
        .filter_map(|n| {
            let d: serde_json::Value = serde_json::from_str(&n.details).unwrap_or_default();
            let target = n.target_id.clone()?;
            let key = match (n.kind.as_str(), d["transition"].as_str()) {
                ("application_waiting", _) => "notice_app_waiting",
                ("application_decided", Some("approve")) => "notice_app_approved",
                ("application_decided", Some("reject")) => "notice_app_rejected",
                ("application_decided", _) => "notice_app_returned",
                ("guest_ending", _) => "notice_guest_ending",
                _ => return None,
            };
            shown.push(n.id.clone());
            let days = d["days_left"].as_i64().unwrap_or_default().to_string();
            let text = crate::i18n::strings(ctx.lang)
                .get(key)
                .copied()
                .unwrap_or_default()
                .replace("{days}", &days);
            Some(context! {
                text, href => format!("/applications/{target}"),
                at => when(Some(n.created_at), ctx.lang),
            })
        })
        .collect();
    crate::services::protection::mark_shown(&state, &me.user.id, &shown)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    render(
        &state,
        "home.html",
        &ctx,
        context! {
            me => me_value(&me, &org.name, ctx.lang),
            nav => "home",
            mfa_resets,
            new_devices,
            application_notices,
            previous_sign_in => when(me.session.prev_sign_in_at, ctx.lang),
            previous_sign_out => when(last_out, ctx.lang),
            failed_since => me.session.failed_before,
            show_last => crate::services::sign_in::settings_in(&org.settings).show_last_sign_in,
        },
    )
}

async fn password_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<Authenticated, AppError>,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    password_form(&state, &ctx, &me, None, q.done.is_some()).await
}

async fn password_form(
    state: &AppState,
    ctx: &PageCtx,
    me: &Authenticated,
    error: Option<String>,
    done: bool,
) -> Result<Html<String>, PageError> {
    let org = admin::org_by_id(state, &me.user.org_id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    render(
        state,
        "password.html",
        ctx,
        context! {
            me => me_value(me, &org.name, ctx.lang),
            nav => "password",
            forced => me.user.must_change_password != 0,
            error,
            done,
        },
    )
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<Authenticated, AppError>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    match identity::change_password(
        &state,
        &me,
        &f.current_password,
        &f.new_password,
        &f.confirm_password,
    )
    .await
    {
        Ok(()) => Ok(Redirect::to("/password?done=1").into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let status = e.status();
            let page = password_form(&state, &ctx, &me, Some(message(&e, &ctx)), false).await?;
            Ok((status, page).into_response())
        }
        Err(e) => Err(PageError(e, ctx.lang)),
    }
}

async fn sessions_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let org = admin::org_by_id(&state, &me.user.org_id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let list = identity::own_sessions(&state, &me)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let rows: Vec<_> = list
        .iter()
        .map(|s| {
            context! {
                id => s.id,
                current => s.id == me.session.id,
                device => describe_agent(s.user_agent.as_deref().unwrap_or("")),
                ip => s.ip,
                started => when(Some(s.created_at), ctx.lang),
                last_seen => when(Some(s.last_seen_at), ctx.lang),
            }
        })
        .collect();
    let own = crate::services::devices::own(&state, &me)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let devices = super::devices::rows(&own, &Default::default(), ctx.lang);
    render(
        &state,
        "sessions.html",
        &ctx,
        context! {
            me => me_value(&me, &org.name, ctx.lang), nav => "sessions", rows, devices,
            done => q.done,
        },
    )
}

/// The platform of a User-Agent when it is a known one ("Safari / iPhone"), else a fixed
/// label: what a device record and its audit entry keep, never the client's own text.
pub fn known_platform(ua: &str) -> String {
    let described = describe_agent(ua);
    if described == "—" || ua.starts_with(&described) {
        "その他の端末".into()
    } else {
        described
    }
}

/// A short, human description of a User-Agent ("Chrome / Windows").
pub fn describe_agent(ua: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("Chrome/", "Chrome"),
        ("Firefox/", "Firefox"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
        ("reqwest", "API client"),
    ]
    .iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, v)| *v);
    let os = [
        ("Windows", "Windows"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, v)| *v);
    match (browser, os) {
        (Some(b), Some(o)) => format!("{b} / {o}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(o)) => o.to_owned(),
        (None, None) if ua.is_empty() => "—".into(),
        (None, None) => ua.chars().take(40).collect(),
    }
}

async fn end_session(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    identity::end_own_session(&state, &me, &id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    if id == me.session.id {
        return Ok((
            AppendHeaders([clear_session_cookie(&state)]),
            Redirect::to("/login"),
        )
            .into_response());
    }
    Ok(Redirect::to("/sessions").into_response())
}
