//! The second-factor screens (I3): the code step of a sign-in, setting up an authenticator
//! app (QR code, the key as text, the first code), the recovery codes shown once, the
//! user's own 2要素認証 page, and the administrator's sign-in settings.

use super::{Done, PageCtx, PageError, message, page_me, render, when};
use crate::auth::{AnySession, Authenticated, CurrentUser};
use crate::error::AppError;
use crate::services::mfa;
use crate::services::sign_in::SignInView;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kairan_domain::mfa::MfaPolicy;
use kairan_domain::{DeviceClass, Role};
use minijinja::{Value, context};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/mfa", get(verify_page).post(verify))
        .route("/mfa/setup", get(setup_page).post(confirm))
        .route("/mfa/setup/replace", post(replace))
        .route("/account/security", get(security_page))
        .route("/account/security/recovery-codes", post(new_codes))
        .route("/account/security/remove", post(remove))
        .route(
            "/account/security/passkeys/{id}/remove",
            post(remove_passkey),
        )
        .route("/admin/sign-in", get(policy_page).post(save_policy))
        .route("/admin/sign-in/screen", post(save_screen))
}

/// Where a session goes once its second-factor step is done.
fn after_sign_in(me: &Authenticated) -> &'static str {
    if me.user.must_change_password != 0 {
        "/password"
    } else {
        "/"
    }
}

async fn verify_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<AnySession, AppError>,
) -> Result<Response, PageError> {
    let AnySession(me) = me.map_err(|e| PageError(e, ctx.lang))?;
    match me.session.mfa_state.as_str() {
        "verify" => Ok(verify_form(&state, &ctx, &me, None).await?.into_response()),
        "enrol" => Ok(Redirect::to("/mfa/setup").into_response()),
        _ => Ok(Redirect::to(after_sign_in(&me)).into_response()),
    }
}

async fn verify_form(
    state: &AppState,
    ctx: &PageCtx,
    me: &Authenticated,
    error: Option<String>,
) -> Result<Html<String>, PageError> {
    let has_passkeys = mfa::has_passkeys(state, &me.user.id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let next = after_sign_in(me);
    render(
        state,
        "mfa_verify.html",
        ctx,
        context! { error, has_passkeys, next },
    )
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
}

async fn verify(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<AnySession, AppError>,
    Form(f): Form<CodeForm>,
) -> Result<Response, PageError> {
    let AnySession(me) = me.map_err(|e| PageError(e, ctx.lang))?;
    match mfa::verify(&state, &me, &f.code).await {
        Ok(_) => Ok(Redirect::to(after_sign_in(&me)).into_response()),
        Err(e @ AppError::MfaFailed) => {
            let page = verify_form(&state, &ctx, &me, Some(message(&e, &ctx))).await?;
            Ok((e.status(), page).into_response())
        }
        Err(AppError::Conflict("mfa_not_pending")) => {
            Ok(Redirect::to(after_sign_in(&me)).into_response())
        }
        Err(e) => Err(PageError(e, ctx.lang)),
    }
}

/// The set-up page: a new secret, or the one started a moment ago when the page is shown
/// again. A user who already has an app replaces it from their 2要素認証 page, with their
/// password.
async fn setup_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<AnySession, AppError>,
) -> Result<Response, PageError> {
    let AnySession(me) = me.map_err(|e| PageError(e, ctx.lang))?;
    if me.session.mfa_state == "verify" {
        return Ok(Redirect::to("/mfa").into_response());
    }
    let lang = ctx.lang;
    let setup = match mfa::setup_in_progress(&state, &me)
        .await
        .map_err(|e| PageError(e, lang))?
    {
        Some(s) => s,
        None => {
            if mfa::has_factor(&state, &me.user.id)
                .await
                .map_err(|e| PageError(e, lang))?
            {
                return Ok(Redirect::to("/account/security").into_response());
            }
            mfa::start_totp(&state, &me, None)
                .await
                .map_err(|e| PageError(e, lang))?
        }
    };
    Ok(setup_form(&state, &ctx, &me, &setup, None)
        .await?
        .into_response())
}

async fn setup_form(
    state: &AppState,
    ctx: &PageCtx,
    me: &Authenticated,
    setup: &mfa::TotpSetup,
    error: Option<String>,
) -> Result<Html<String>, PageError> {
    // During a sign-in's enrolment step the page stands alone, without the menu that leads
    // nowhere yet.
    let enrolling = me.session.mfa_state == "enrol";
    let me_v = if enrolling {
        Value::from(())
    } else {
        page_me(state, ctx, me).await?
    };
    // A first second factor may be a passkey instead; a replacement of the app stays an app.
    let offer_passkey = enrolling
        || !mfa::has_factor(state, &me.user.id)
            .await
            .map_err(|e| PageError(e, ctx.lang))?;
    let next = if enrolling {
        after_sign_in(me)
    } else {
        "/account/security?done=passkey"
    };
    let secret_groups: Vec<String> = setup
        .secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    render(
        state,
        "mfa_setup.html",
        ctx,
        context! {
            me => me_v,
            nav => "security",
            enrolling,
            qr => Value::from_safe_string(setup.qr_svg.clone()),
            secret => secret_groups.join(" "),
            error,
            offer_passkey,
            next,
            need_password => false,
        },
    )
}

async fn confirm(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<AnySession, AppError>,
    Form(f): Form<CodeForm>,
) -> Result<Response, PageError> {
    let AnySession(me) = me.map_err(|e| PageError(e, ctx.lang))?;
    match mfa::confirm_totp(&state, &me, &f.code).await {
        Ok(done) if done.recovery_codes.is_empty() => {
            Ok(Redirect::to("/account/security?done=totp").into_response())
        }
        Ok(done) => Ok(codes_page(&state, &ctx, &me, &done.recovery_codes, true)
            .await?
            .into_response()),
        Err(e @ AppError::MfaFailed) => {
            let Some(setup) = mfa::setup_in_progress(&state, &me)
                .await
                .map_err(|e| PageError(e, ctx.lang))?
            else {
                return Ok(Redirect::to("/mfa/setup").into_response());
            };
            let page = setup_form(&state, &ctx, &me, &setup, Some(message(&e, &ctx))).await?;
            Ok((e.status(), page).into_response())
        }
        Err(AppError::Conflict("totp_not_started")) => {
            Ok(Redirect::to("/mfa/setup").into_response())
        }
        Err(e) => Err(PageError(e, ctx.lang)),
    }
}

/// The recovery codes, shown this once, rendered straight from the POST so they are never
/// in a URL or a cache.
async fn codes_page(
    state: &AppState,
    ctx: &PageCtx,
    me: &Authenticated,
    codes: &[String],
    first: bool,
) -> Result<Html<String>, PageError> {
    // The enrolment step has just been completed, so the menu may show now.
    let me_v = page_me(state, ctx, me).await?;
    let next = if first {
        after_sign_in(me)
    } else {
        "/account/security"
    };
    render(
        state,
        "mfa_codes.html",
        ctx,
        context! { me => me_v, nav => "security", codes, first, next },
    )
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
}

async fn replace(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    match mfa::start_totp(&state, &me, Some(&f.password)).await {
        Ok(setup) => Ok(setup_form(&state, &ctx, &me, &setup, None)
            .await?
            .into_response()),
        Err(e @ AppError::Invalid(_)) => security_with_error(&state, &ctx, &me, e).await,
        Err(e) => Err(PageError(e, ctx.lang)),
    }
}

async fn security_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    security_view(&state, &ctx, &me, q.done.as_deref(), None).await
}

async fn security_view(
    state: &AppState,
    ctx: &PageCtx,
    me: &Authenticated,
    done: Option<&str>,
    error: Option<String>,
) -> Result<Html<String>, PageError> {
    let status = mfa::status(state, me)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let me_v = page_me(state, ctx, me).await?;
    let need_password = status.totp || !status.passkeys.is_empty();
    let passkeys: Vec<Value> = status
        .passkeys
        .iter()
        .map(|k| {
            context! {
                id => k.id, name => k.name,
                created => when(Some(k.created_at), ctx.lang),
                last_used => when(k.last_used_at, ctx.lang),
            }
        })
        .collect();
    render(
        state,
        "security.html",
        ctx,
        context! {
            me => me_v,
            nav => "security",
            totp => status.totp,
            since => when(status.totp_since, ctx.lang),
            codes_left => status.recovery_codes_left,
            required_here => status.required_here,
            required_everywhere => status.required_everywhere,
            passkeys, need_password,
            next => "/account/security?done=passkey",
            done, error,
        },
    )
}

async fn security_with_error(
    state: &AppState,
    ctx: &PageCtx,
    me: &Authenticated,
    e: AppError,
) -> Result<Response, PageError> {
    let status = e.status();
    let page = security_view(state, ctx, me, None, Some(message(&e, ctx))).await?;
    Ok((status, page).into_response())
}

async fn new_codes(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let codes = mfa::regenerate_recovery_codes(&state, &me, &f.password).await;
    match codes {
        Ok(codes) => Ok(codes_page(&state, &ctx, &me, &codes, false)
            .await?
            .into_response()),
        Err(e) => security_answer(&state, &ctx, &me, Err(e)).await,
    }
}

async fn remove(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let done = mfa::remove(&state, &me, &f.password).await;
    security_answer(&state, &ctx, &me, done.map(|()| "removed")).await
}

async fn remove_passkey(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let done = crate::services::passkeys::remove(&state, &me, &id, &f.password).await;
    security_answer(&state, &ctx, &me, done.map(|()| "passkey_removed")).await
}

/// The answer to a form on 2要素認証: back to the page with `done` on success, or the page
/// with the reason on a refusal the person can mend (a wrong password, the policy).
async fn security_answer(
    state: &AppState,
    ctx: &PageCtx,
    me: &Authenticated,
    outcome: Result<&str, AppError>,
) -> Result<Response, PageError> {
    match outcome {
        Ok(done) => Ok(Redirect::to(&format!("/account/security?done={done}")).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            security_with_error(state, ctx, me, e).await
        }
        Err(e) => Err(PageError(e, ctx.lang)),
    }
}

pub(super) async fn policy_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let policy = mfa::policy_for_admin(&state, &me.actor(), &me.user.org_id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let screen = crate::services::sign_in::view(&state, &me.actor(), &me.user.org_id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let page = PolicyPage {
        policy: &policy,
        default_idle_minutes: screen.default_idle_minutes,
        screen: ScreenForm::from(screen),
        done: q.done.is_some(),
        error: None,
    };
    policy_view(&state, &ctx, &me, page).await
}

/// What the sign-in settings page shows besides the user: the second-factor policy, the
/// screen and session settings (as saved, or as just typed when they were refused).
struct PolicyPage<'a> {
    policy: &'a MfaPolicy,
    screen: ScreenForm,
    default_idle_minutes: u64,
    done: bool,
    error: Option<String>,
}

async fn policy_view(
    state: &AppState,
    ctx: &PageCtx,
    me: &Authenticated,
    page: PolicyPage<'_>,
) -> Result<Html<String>, PageError> {
    let lang = ctx.lang;
    let PolicyPage {
        policy,
        screen,
        default_idle_minutes,
        done,
        error,
    } = page;
    let roles: Vec<Value> = Role::ALL
        .iter()
        .map(|r| {
            context! {
                code => r.code(),
                label => lang.pick(r.label_ja(), r.label_en()),
                always => r.is_privileged(),
                checked => r.is_privileged() || policy.roles.contains(r),
            }
        })
        .collect();
    let devices: Vec<Value> = DeviceClass::ALL
        .iter()
        .map(|d| {
            context! {
                code => d.code(),
                label => lang.pick(d.label_ja(), d.label_en()),
                checked => policy.devices.contains(d),
            }
        })
        .collect();
    let me_v = page_me(state, ctx, me).await?;
    let device_approval = crate::services::devices::approval_required(state, &me.user.org_id)
        .await
        .map_err(|e| PageError(e, lang))?;
    let org = crate::services::admin::org_by_id(state, &me.user.org_id)
        .await
        .map_err(|e| PageError(e, lang))?;
    let idle_help = lang.pick(
        "5〜480分。空欄の場合はサーバーの既定値（{}分）です。変更は、サインイン中の職員にもすぐに適用されます。",
        "5–480 minutes. Left empty, the server's default ({} minutes). A change applies at once to everyone signed in.",
    ).replace("{}", &default_idle_minutes.to_string());
    let directory = super::directory::settings_value(state, ctx, me).await?;
    render(
        state,
        "sign_in_settings.html",
        ctx,
        context! {
            me => me_v, nav => "sign_in_settings", roles, devices, device_approval, done,
            screen, default_idle_minutes, error, idle_help, org_code => org.code, directory,
        },
    )
}

/// The sign-in screen form: text fields as typed, numbers parsed here so that a word where a
/// number belongs is refused with the field's own message rather than a bare 422.
#[derive(Deserialize, serde::Serialize)]
struct ScreenForm {
    #[serde(default)]
    message_ja: String,
    #[serde(default)]
    message_en: String,
    #[serde(default)]
    idle_minutes: String,
    #[serde(default)]
    lockout_threshold: String,
    #[serde(default)]
    lockout_minutes: String,
    #[serde(default)]
    show_last_sign_in: Option<String>,
}

impl From<SignInView> for ScreenForm {
    fn from(v: SignInView) -> Self {
        ScreenForm {
            message_ja: v.message_ja,
            message_en: v.message_en,
            idle_minutes: v.idle_minutes.map(|m| m.to_string()).unwrap_or_default(),
            lockout_threshold: v.lockout_threshold.to_string(),
            lockout_minutes: v.lockout_minutes.to_string(),
            show_last_sign_in: v.show_last_sign_in.then(|| "1".to_owned()),
        }
    }
}

fn number(field: &'static str, label: &'static str, text: &str) -> Result<u32, AppError> {
    super::typed_number(text).ok_or_else(|| {
        kairan_domain::DomainError::invalid(
            field,
            label,
            "半角の数字で入力してください。",
            "enter a whole number.",
        )
        .into()
    })
}

async fn save_screen(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Form(f): Form<ScreenForm>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let actor = me.actor();
    let current = crate::services::sign_in::view(&state, &actor, &me.user.org_id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let typed = (|| -> Result<SignInView, AppError> {
        let idle = f.idle_minutes.trim();
        Ok(SignInView {
            message_ja: f.message_ja.clone(),
            message_en: f.message_en.clone(),
            idle_minutes: if idle.is_empty() {
                None
            } else {
                Some(number("idle_minutes", "自動サインアウトまでの時間", idle)?)
            },
            default_idle_minutes: current.default_idle_minutes,
            show_last_sign_in: f.show_last_sign_in.is_some(),
            lockout_threshold: number(
                "lockout_threshold",
                "ロックまでの失敗回数",
                &f.lockout_threshold,
            )?,
            lockout_minutes: number("lockout_minutes", "ロックの時間", &f.lockout_minutes)?,
        })
    })();
    let saved = match typed {
        Ok(v) => crate::services::sign_in::save(&state, &actor, &me.user.org_id, v).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Ok(Redirect::to("/admin/sign-in?done=1").into_response()),
        Err(e @ AppError::Invalid(_)) => {
            // Show the form again with what was typed, so nothing has to be entered twice.
            let policy = mfa::policy_for_admin(&state, &actor, &me.user.org_id)
                .await
                .map_err(|e| PageError(e, ctx.lang))?;
            let page = PolicyPage {
                policy: &policy,
                default_idle_minutes: current.default_idle_minutes,
                screen: f,
                done: false,
                error: Some(message(&e, &ctx)),
            };
            let html = policy_view(&state, &ctx, &me, page).await?;
            Ok((e.status(), html).into_response())
        }
        Err(e) => Err(PageError(e, ctx.lang)),
    }
}

async fn save_policy(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    // Checkboxes post one pair per ticked box; privileged roles are always on and not sent.
    let policy = MfaPolicy {
        roles: pairs
            .iter()
            .filter(|(k, _)| k == "role")
            .filter_map(|(_, v)| Role::parse(v))
            .filter(|r| !r.is_privileged())
            .collect(),
        devices: pairs
            .iter()
            .filter(|(k, _)| k == "device")
            .filter_map(|(_, v)| DeviceClass::parse(v))
            .collect(),
    };
    mfa::set_policy(&state, &me.actor(), &me.user.org_id, policy)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let approval = pairs.iter().any(|(k, _)| k == "device_approval");
    if approval
        != crate::services::devices::approval_required(&state, &me.user.org_id)
            .await
            .map_err(|e| PageError(e, ctx.lang))?
    {
        crate::services::devices::set_approval(&state, &me.actor(), &me.user.org_id, approval)
            .await
            .map_err(|e| PageError(e, ctx.lang))?;
    }
    Ok(Redirect::to("/admin/sign-in?done=1").into_response())
}
