//! A body's sign-in screen and session settings (I4): the sign-in page's message, the idle
//! limit (applied at once to the sessions already open), the lockout of general staff, and
//! whether the home page shows the previous sign-in and sign-out.

use crate::error::AppError;
use crate::services::{audit_entry, detail};
use crate::state::AppState;
use kairan_domain::OrgId;
use kairan_domain::audit::AuditAction;
use kairan_domain::policy::{self, Action, Actor, Resource};
use kairan_domain::sign_in::{SignInSettings, check_lockout};
use kairan_store::{audit, sessions};

/// The settings in a body's settings document; defaults where it has none or they are broken.
pub fn settings_in(settings: &str) -> SignInSettings {
    serde_json::from_str::<serde_json::Value>(settings)
        .ok()
        .and_then(|v| v.get("sign_in").cloned())
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

pub async fn settings_for(state: &AppState, org_id: &str) -> Result<SignInSettings, AppError> {
    let org = crate::services::admin::org_by_id(state, org_id).await?;
    Ok(settings_in(&org.settings))
}

/// Everything an administrator sets on the page and through the API.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SignInView {
    pub message_ja: String,
    pub message_en: String,
    /// Minutes; none: the server's default (shown as `default_idle_minutes`).
    pub idle_minutes: Option<u32>,
    #[serde(default)]
    pub default_idle_minutes: u64,
    pub show_last_sign_in: bool,
    /// Wrong attempts that lock a general staff ID (privileged IDs: never more).
    pub lockout_threshold: u32,
    pub lockout_minutes: u32,
}

pub async fn view(state: &AppState, actor: &Actor, org_id: &str) -> Result<SignInView, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ConfigureSignIn, &Resource::Org(&org))?;
    let s = settings_for(state, org_id).await?;
    let p = crate::services::identity::policy_for(state, org_id).await?;
    Ok(SignInView {
        message_ja: s.message_ja,
        message_en: s.message_en,
        idle_minutes: s.idle_minutes,
        default_idle_minutes: state.config.session.idle_minutes,
        show_last_sign_in: s.show_last_sign_in,
        lockout_threshold: p.lockout_threshold,
        lockout_minutes: p.lockout_minutes,
    })
}

pub async fn save(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    input: SignInView,
) -> Result<SignInView, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ConfigureSignIn, &Resource::Org(&org))?;
    let settings = SignInSettings {
        message_ja: input.message_ja,
        message_en: input.message_en,
        idle_minutes: input.idle_minutes,
        show_last_sign_in: input.show_last_sign_in,
    }
    .validated()?;
    check_lockout(input.lockout_threshold, input.lockout_minutes)?;
    let current = crate::services::admin::org_by_id(state, org_id).await?;
    let base = crate::services::identity::policy_for(state, org_id).await?;
    let mut password = serde_json::from_str::<serde_json::Value>(&current.settings)
        .ok()
        .and_then(|v| v.get("password").cloned())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    password.insert("lockout_threshold".into(), input.lockout_threshold.into());
    password.insert("lockout_minutes".into(), input.lockout_minutes.into());
    // Privileged IDs stay at least as strict as general staff.
    let privileged = base
        .lockout_threshold_privileged
        .min(input.lockout_threshold);
    password.insert("lockout_threshold_privileged".into(), privileged.into());
    let mut tx = crate::services::write_settings(
        state,
        org_id,
        vec![
            (
                "sign_in".into(),
                serde_json::to_value(&settings).unwrap_or_default(),
            ),
            ("password".into(), serde_json::Value::Object(password)),
        ],
    )
    .await?;
    let touched =
        sessions::set_idle_for_org(&mut tx, org_id, settings.idle_minutes.map(i64::from)).await?;
    let mut e = audit_entry(actor, AuditAction::SignInSettingsChanged);
    e.org_id = Some(org_id.to_owned());
    e.target_id = Some(org_id.to_owned());
    detail(&mut e, "idle_minutes", settings.idle_minutes);
    detail(&mut e, "sessions_updated", touched);
    detail(&mut e, "show_last_sign_in", settings.show_last_sign_in);
    detail(&mut e, "lockout_threshold", input.lockout_threshold);
    detail(&mut e, "lockout_threshold_privileged", privileged);
    detail(&mut e, "lockout_minutes", input.lockout_minutes);
    // Free text stays out of the audit log: its hash shows that and when it changed.
    let digest = crate::token::sha256_hex;
    detail(&mut e, "message_ja_sha256", digest(&settings.message_ja));
    detail(&mut e, "message_en_sha256", digest(&settings.message_en));
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    view(state, actor, org_id).await
}

/// The message for a sign-in page: the named body's own, or the only body's when the server
/// has one; otherwise (or when the body set none) the server's warning. Also the code of the
/// body named in the request when it exists (so only a real body code goes back into links).
pub async fn page_message(
    state: &AppState,
    org_code: Option<&str>,
    lang: crate::i18n::Lang,
) -> Result<(String, Option<String>, Option<String>), AppError> {
    let orgs = crate::services::admin::list_orgs(state).await?;
    let org = match org_code {
        Some(code) => orgs.iter().find(|o| o.code == code),
        None if orgs.len() == 1 => orgs.first(),
        None => None,
    };
    let server = match lang {
        crate::i18n::Lang::Ja => state.config.login.banner_ja.clone(),
        crate::i18n::Lang::En => state.config.login.banner_en.clone(),
    };
    let Some(org) = org else {
        return Ok((server, None, None));
    };
    let s = settings_in(&org.settings);
    let own = match lang {
        crate::i18n::Lang::Ja => s.message_ja,
        crate::i18n::Lang::En if s.message_en.is_empty() => s.message_ja,
        crate::i18n::Lang::En => s.message_en,
    };
    let message = if own.is_empty() { server } else { own };
    let named = org_code.map(|_| org.code.clone());
    Ok((message, Some(org.name.clone()), named))
}
