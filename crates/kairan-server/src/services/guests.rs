//! Guests (ゲスト, I6; seed 003 §6): what an approved guest application does, and what the
//! clock does to it.
//!
//! - **Admission** (in the approval's own transaction): an ID `guest-…` with the role `guest`,
//!   the guest's name, its affiliation marked in the title (ゲスト（…）) wherever the directory
//!   shows it, status `pending`, and a one-time invitation (seven days at most, never past the
//!   period) that the applicant passes on. The ID has no usable password until the guest sets
//!   one through the invitation.
//! - **The clock** (`run_once`, every 30 seconds on each node, and right after an approval):
//!   an approved application whose period has begun becomes active and its guest may sign in;
//!   an active one whose last day has passed (00:00 JST the next day) ends: the ID is `ended`,
//!   every session ends and live connections close at once, the guest leaves every talk (their
//!   messages stay, attributed), and the invitation is void. `guests.purge_after_days` later,
//!   the guest's name, affiliation and address are removed (shown as 削除済みのゲスト). Every
//!   step is a compare-and-set, so nodes running it together do each step once. The same pass
//!   starts and ends inter-body groups (`services::groups`), and works through everything due
//!   in batches, so ten thousand periods ending on one night all end in that pass.

use crate::error::AppError;
use crate::services::applications::system_step;
use crate::services::detail;
use crate::state::AppState;
use crate::token;
use kairan_domain::application::{ApplicationKind, ApplicationState, Transition};
use kairan_domain::audit::AuditAction;
use kairan_domain::fiscal::Date;
use kairan_domain::guest::GuestRequest;
use kairan_domain::{DomainError, Role};
use kairan_store::applications::{self as rows, Application};
use kairan_store::audit::{self, NewEntry};
use kairan_store::{chat, guests, sessions, users};
use std::time::Duration;

/// How long an invitation link can be used, at most.
const INVITATION_DAYS: i64 = 7;
const DAY_US: i64 = 86_400_000_000;

fn invitation_context(user_id: &str) -> String {
    format!("guest-invitation:{user_id}")
}

/// Admits the guest of an application being approved, inside the approval's transaction.
/// Returns the guest's user ID.
pub(crate) async fn admit(
    state: &AppState,
    tx: &mut kairan_store::WriteTx,
    app: &Application,
) -> Result<String, AppError> {
    let request: GuestRequest = serde_json::from_str(&app.fields)
        .map_err(|e| AppError::Internal(format!("stored guest fields: {e}")))?;
    let mut login_id = String::new();
    for _ in 0..5 {
        let candidate = format!("guest-{}", token::random_hex(4));
        if users::by_login(tx.conn(), &candidate).await?.is_none() {
            login_id = candidate;
            break;
        }
    }
    if login_id.is_empty() {
        return Err(AppError::Internal("no free guest ID".into()));
    }
    // The title carries the mark: wherever the directory and talks show a title, the guest is
    // seen as a guest of their body or company.
    let title: String = format!("ゲスト（{}）", request.guest_affiliation)
        .chars()
        .take(40)
        .collect();
    let user_id = users::insert(
        tx,
        &users::NewUser {
            org_id: &app.org_id,
            department_id: None,
            login_id: &login_id,
            display_name: &request.guest_name,
            kana: "",
            title: Some(&title),
            // Matches no password: the guest sets one through the invitation.
            password_hash: "!",
            must_change_password: false,
            created_by: Some(&app.applicant_id),
        },
    )
    .await?;
    users::set_status(tx, &user_id, "pending").await?;
    users::grant_role(tx, &user_id, Role::Guest.code(), Some(&app.applicant_id)).await?;
    let invitation = token::random_hex(32);
    let now = state.clock.now_us();
    let expires_at = (now + INVITATION_DAYS * DAY_US).min(request.end_date.end_of_day_utc_us());
    guests::insert(
        tx,
        &guests::NewGuest {
            user_id: &user_id,
            org_id: &app.org_id,
            application_id: &app.id,
            sponsor_id: &app.applicant_id,
            affiliation: &request.guest_affiliation,
            email: &request.guest_email,
            start_date: &app.start_date,
            end_date: &app.end_date,
            invitation_hash: &token::sha256_hex(&invitation),
            invitation_sealed: &state
                .key
                .seal(invitation.as_bytes(), &invitation_context(&user_id)),
            invitation_expires_at: expires_at,
        },
    )
    .await?;
    let mut e = NewEntry::new(AuditAction::GuestAdmitted);
    e.org_id = Some(app.org_id.clone());
    e.actor_id = Some(app.applicant_id.clone());
    e.target_id = Some(user_id.clone());
    detail(&mut e, "application", app.id.as_str());
    detail(&mut e, "start_date", app.start_date.as_str());
    detail(&mut e, "end_date", app.end_date.as_str());
    audit::append(tx, e).await?;
    Ok(user_id)
}

/// What the applicant sees of the guest of their approved application: the ID and, until it
/// is used or expires, the invitation link to pass on.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct GuestView {
    pub user_id: String,
    pub login_id: String,
    /// `pending` (the period has not begun), `active`, `ended`.
    pub status: String,
    /// `/invite/{token}` while the invitation is unused and unexpired (applicant only).
    pub invitation_path: Option<String>,
    pub invitation_expires_at: Option<i64>,
    pub accepted_at: Option<i64>,
}

pub(crate) async fn view_for(
    state: &AppState,
    application_id: &str,
    show_invitation: bool,
) -> Result<Option<GuestView>, AppError> {
    let mut conn = state.store.read().await?;
    let Some(g) = guests::by_application(&mut conn, application_id).await? else {
        return Ok(None);
    };
    let Some(user) = users::by_id(&mut conn, &g.user_id).await? else {
        return Ok(None);
    };
    let now = state.clock.now_us();
    let live = g.invitation_expires_at.is_some_and(|t| t > now);
    let invitation_path = match (&g.invitation_sealed, show_invitation && live) {
        (Some(sealed), true) => state
            .key
            .open(sealed, &invitation_context(&g.user_id))
            .and_then(|t| String::from_utf8(t).ok())
            .map(|t| format!("/invite/{t}")),
        _ => None,
    };
    Ok(Some(GuestView {
        user_id: g.user_id,
        login_id: user.login_id,
        status: user.status,
        invitation_expires_at: invitation_path.as_ref().and(g.invitation_expires_at),
        invitation_path,
        accepted_at: g.accepted_at,
    }))
}

/// What the invitation page shows before the guest sets a password.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct InvitationView {
    pub org_name: String,
    pub org_code: String,
    pub guest_name: String,
    pub affiliation: String,
    pub login_id: String,
    pub start_date: String,
    pub end_date: String,
}

fn invitation_gone() -> AppError {
    AppError::Conflict("invitation_invalid")
}

async fn open_invitation(
    state: &AppState,
    token: &str,
) -> Result<(guests::Guest, users::User), AppError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invitation_gone());
    }
    let mut conn = state.store.read().await?;
    let g = guests::by_invitation(&mut conn, &token::sha256_hex(token))
        .await?
        .ok_or_else(invitation_gone)?;
    if g.ended_at.is_some()
        || g.invitation_expires_at
            .is_none_or(|t| t <= state.clock.now_us())
    {
        return Err(invitation_gone());
    }
    let user = users::by_id(&mut conn, &g.user_id)
        .await?
        .ok_or_else(invitation_gone)?;
    Ok((g, user))
}

pub async fn invitation(state: &AppState, token: &str) -> Result<InvitationView, AppError> {
    let (g, user) = open_invitation(state, token).await?;
    let org = crate::services::admin::org_by_id(state, &g.org_id).await?;
    Ok(InvitationView {
        org_name: org.name,
        org_code: org.code,
        guest_name: user.display_name,
        affiliation: g.affiliation,
        login_id: user.login_id,
        start_date: g.start_date,
        end_date: g.end_date,
    })
}

/// The guest sets their password through the invitation, once. The body's password rules
/// apply as to staff; the second factor follows at the first sign-in by the body's policy.
pub async fn accept(
    state: &AppState,
    token: &str,
    password: &str,
    confirmation: &str,
    ip: Option<String>,
) -> Result<String, AppError> {
    let (g, user) = open_invitation(state, token).await?;
    let perr = |e: kairan_domain::password::PasswordError| AppError::from(DomainError::from(e));
    if password != confirmation {
        return Err(perr(
            kairan_domain::password::PasswordError::ConfirmationMismatch,
        ));
    }
    let policy = crate::services::identity::policy_for(state, &g.org_id).await?;
    let ctx = kairan_domain::password::PasswordContext {
        login_id: &user.login_id,
        display_name: &user.display_name,
        kana: &user.kana,
        privileged: false,
        has_second_factor: false,
    };
    policy.check(password, &ctx).map_err(perr)?;
    let hash = state.hasher.hash(password).await?;
    let mut tx = state.store.write().await?;
    if !guests::accept(&mut tx, &token::sha256_hex(token), kairan_store::now_us()).await? {
        return Err(invitation_gone());
    }
    users::set_password(&mut tx, &user.id, &hash, false).await?;
    let mut e = NewEntry::new(AuditAction::GuestInvitationAccepted);
    e.org_id = Some(g.org_id.clone());
    e.actor_id = Some(user.id.clone());
    e.target_id = Some(user.id.clone());
    e.ip = ip;
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(user.login_id)
}

/// Puts an approved guest application in effect and lets its guest sign in, in one
/// transaction. False when another node (or the next pass) did it first.
async fn activate(state: &AppState, app: &Application) -> Result<bool, AppError> {
    let mut tx = state.store.write().await?;
    if !system_step(&mut tx, app, Transition::Activate).await? {
        return Ok(false);
    }
    if let Some(g) = guests::by_application(tx.conn(), &app.id).await? {
        users::set_status(&mut tx, &g.user_id, "active").await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Puts an approved guest or group application in effect.
async fn start(state: &AppState, app: &Application) -> Result<bool, AppError> {
    if app.kind == ApplicationKind::InterOrgGroup.code() {
        crate::services::groups::activate(state, app).await
    } else {
        activate(state, app).await
    }
}

/// Starts one just-approved application at once when its period has already begun, rather
/// than waiting for the clock's next pass (which looks at every body's guests).
pub(crate) async fn start_if_due(state: &AppState, application_id: &str) -> Result<(), AppError> {
    let app = {
        let mut conn = state.store.read().await?;
        rows::by_id(&mut conn, application_id).await?
    };
    if let Some(app) = app
        && app.state == ApplicationState::Approved.code()
        && app.start_date <= state.clock.today().to_string()
    {
        start(state, &app).await?;
    }
    Ok(())
}

/// What one pass of the clock did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub started: usize,
    pub ended: usize,
    pub purged: usize,
    pub reminded: usize,
}

/// How many days before a guest's last day its applicant is reminded (seed 003 §6: the
/// applicant answers for the guest and may ask for an extension).
pub const REMIND_DAYS_BEFORE: u32 = 14;

/// Reminds applicants, once per period, that their guest's last day is near.
async fn remind_due(state: &AppState) -> Result<usize, AppError> {
    let today = state.clock.today();
    let Some(horizon) = today.add_days(i64::from(REMIND_DAYS_BEFORE)) else {
        return Ok(0);
    };
    let due = {
        let mut conn = state.store.read().await?;
        guests::to_remind(&mut conn, &today.to_string(), &horizon.to_string()).await?
    };
    let mut told = Vec::new();
    for g in due {
        let mut tx = state.store.write().await?;
        if !guests::reminded(&mut tx, &g.user_id, state.clock.now_us()).await? {
            continue;
        }
        let days_left = Date::parse_iso(&g.end_date)
            .map(|end| kairan_domain::fiscal::days_left(today, end))
            .unwrap_or_default();
        let details = serde_json::json!({ "end_date": g.end_date, "days_left": days_left });
        kairan_store::protection::notify(
            &mut tx,
            &g.org_id,
            std::slice::from_ref(&g.sponsor_id),
            "guest_ending",
            None,
            Some(&g.application_id),
            &details.to_string(),
        )
        .await?;
        tx.commit().await?;
        told.push(g.sponsor_id);
    }
    let n = told.len();
    crate::services::protection::publish_notifications(state, told);
    Ok(n)
}

/// How a guest whose personal data was removed is shown from then on.
pub const PURGED_NAME: &str = "削除済みのゲスト";

/// Removes the name, affiliation and address of guests whose period ended more than
/// `guests.purge_after_days` ago, from the guest, its ID and its application; the purpose and
/// the period stay, and so do its messages, attributed to the ID.
async fn purge_due(state: &AppState) -> Result<usize, AppError> {
    let days = i64::from(state.config.guests.purge_after_days);
    let before = state.clock.now_us() - days * DAY_US;
    let due = {
        let mut conn = state.store.read().await?;
        guests::to_purge(&mut conn, before).await?
    };
    let mut purged = 0;
    for g in due {
        let mut tx = state.store.write().await?;
        let fields = match rows::by_id(tx.conn(), &g.application_id).await? {
            Some(app) => {
                let mut v: serde_json::Value =
                    serde_json::from_str(&app.fields).unwrap_or_default();
                if let Some(m) = v.as_object_mut() {
                    for key in ["guest_name", "guest_affiliation", "guest_email"] {
                        m.insert(key.into(), serde_json::Value::String(String::new()));
                    }
                    m.insert("purged".into(), true.into());
                }
                v.to_string()
            }
            None => "{}".into(),
        };
        if !guests::purge(&mut tx, &g, PURGED_NAME, &fields, state.clock.now_us()).await? {
            continue;
        }
        let mut e = NewEntry::new(AuditAction::GuestPurged);
        e.org_id = Some(g.org_id.clone());
        e.target_id = Some(g.user_id.clone());
        detail(&mut e, "application", g.application_id.as_str());
        detail(&mut e, "after_days", days);
        audit::append(&mut tx, e).await?;
        tx.commit().await?;
        purged += 1;
    }
    Ok(purged)
}

/// Applications due for the clock, all of them, a batch at a time: `step` is given each
/// batch and says how many it moved. A batch where nothing moved (another node took them all)
/// ends the loop, so it cannot spin.
async fn for_each_due<F, Fut>(
    state: &AppState,
    which: guests::Due,
    mut step: F,
) -> Result<usize, AppError>
where
    F: FnMut(Vec<Application>) -> Fut,
    Fut: std::future::Future<Output = Result<usize, AppError>>,
{
    let today = state.clock.today().to_string();
    let mut done = 0;
    loop {
        let batch = {
            let mut conn = state.store.read().await?;
            guests::due(&mut conn, which, &today).await?
        };
        let full = batch.len() == guests::DUE_BATCH;
        let moved = step(batch).await?;
        done += moved;
        if !full || moved == 0 {
            return Ok(done);
        }
    }
}

/// Guests ended in one transaction. Ten thousand guests may end on the same night (31 March):
/// one transaction each would cost a disk flush each and keep the chat's writer waiting
/// behind them; a few at a time keeps each hold of the write lock to a few milliseconds.
const GUESTS_PER_TRANSACTION: usize = 16;

/// Starts the periods that have begun and ends those that are over, as of the clock's today:
/// guests and inter-body groups.
pub async fn run_once(state: &AppState) -> Result<Pass, AppError> {
    let started = for_each_due(state, guests::Due::Starting, |batch| async move {
        let mut n = 0;
        for app in batch {
            n += usize::from(start(state, &app).await?);
        }
        Ok(n)
    })
    .await?;
    let ended = for_each_due(state, guests::Due::Ending, |batch| async move {
        let (groups, guests): (Vec<Application>, Vec<Application>) = batch
            .into_iter()
            .partition(|a| a.kind == ApplicationKind::InterOrgGroup.code());
        let mut n = 0;
        for app in groups {
            n += usize::from(crate::services::groups::end(state, &app).await?);
        }
        for chunk in guests.chunks(GUESTS_PER_TRANSACTION) {
            n += end_guests(state, chunk).await?;
        }
        Ok(n)
    })
    .await?;
    let purged = purge_due(state).await?;
    let reminded = remind_due(state).await?;
    crate::services::groups::remove_due(state).await?;
    Ok(Pass {
        started,
        ended,
        purged,
        reminded,
    })
}

/// Ends guests whose last day has passed, in one transaction: each ID ends, its sessions and
/// live connections end at once, it leaves every talk. Returns how many it ended (one another
/// node ended first is skipped).
async fn end_guests(state: &AppState, apps: &[Application]) -> Result<usize, AppError> {
    let mut tx = state.store.write().await?;
    let mut ending = Vec::new();
    for app in apps {
        if !system_step(&mut tx, app, Transition::End).await? {
            continue;
        }
        let g = guests::by_application(tx.conn(), &app.id).await?;
        ending.push((app, g));
    }
    // Every talk the guests leave, locked at once in the order the message writer locks
    // talks (by ID), so the two never wait on each other crosswise (PostgreSQL).
    let mut talks_of_guest = Vec::with_capacity(ending.len());
    let mut all_talks: Vec<String> = Vec::new();
    for (_, g) in &ending {
        let talks = match g {
            Some(g) => chat::current_talk_ids(tx.conn(), &g.user_id).await?,
            None => Vec::new(),
        };
        all_talks.extend(talks.iter().cloned());
        talks_of_guest.push(talks);
    }
    all_talks.sort_unstable();
    all_talks.dedup();
    if !all_talks.is_empty() {
        let ids: Vec<&str> = all_talks.iter().map(String::as_str).collect();
        chat::talks_for_write(&mut tx, &ids).await?;
    }
    let mut ended_ids = Vec::new();
    let mut talks_left: Vec<(String, String)> = Vec::new();
    for ((app, g), talks) in ending.iter().zip(talks_of_guest) {
        let Some(g) = g else {
            continue;
        };
        users::set_status(&mut tx, &g.user_id, "ended").await?;
        guests::end(&mut tx, &g.user_id, state.clock.now_us()).await?;
        let sessions =
            sessions::end_all_for_user(&mut tx, &g.user_id, "guest_period_ended").await?;
        for talk in &talks {
            chat::remove_member(&mut tx, talk, &g.user_id).await?;
            talks_left.push((talk.clone(), g.user_id.clone()));
        }
        let mut e = NewEntry::new(AuditAction::GuestEnded);
        e.org_id = Some(app.org_id.clone());
        e.target_id = Some(g.user_id.clone());
        detail(&mut e, "application", app.id.as_str());
        detail(&mut e, "sessions_ended", sessions);
        detail(&mut e, "talks_left", talks.len());
        audit::append(&mut tx, e).await?;
        ended_ids.push(g.user_id.clone());
    }
    // Who to tell of each talk's change: its members now, and the guests who left it.
    let mut told: Vec<(String, Vec<String>)> = Vec::with_capacity(all_talks.len());
    for talk in &all_talks {
        let mut who: Vec<String> = chat::members(tx.conn(), talk)
            .await?
            .into_iter()
            .map(|(u, _)| u)
            .collect();
        who.extend(
            talks_left
                .iter()
                .filter(|(t, _)| t == talk)
                .map(|(_, u)| u.clone()),
        );
        told.push((talk.clone(), who));
    }
    tx.commit().await?;
    for user_id in &ended_ids {
        state
            .bus
            .publish(crate::realtime::Event::sessions_ended(user_id));
    }
    for (talk, recipients) in told {
        state
            .bus
            .publish(crate::realtime::Event::membership(&talk, recipients));
    }
    Ok(ending.len())
}

/// Runs the clock's passes every 30 seconds on this node, so a guest's period or a leaver's
/// ID ends within a minute of midnight in Japan.
pub fn start_runner(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tick.tick().await;
            if let Err(e) = run_once(&state).await {
                tracing::warn!(error = %e, "guest period pass failed");
            }
            if let Err(e) = crate::services::dormant::retire_leavers(&state).await {
                tracing::warn!(error = %e, "leavers pass failed");
            }
            if let Err(e) = crate::services::transfers::apply_due(&state).await {
                tracing::warn!(error = %e, "transfers pass failed");
            }
        }
    });
}

/// What a body lets its guests do with files (G10; seed 003 §6: a guest's rights are narrower
/// than staff's). Restricted by default: a guest neither sends nor fetches files until the
/// body's administrator opens it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum GuestFiles {
    /// No files at all (the default).
    None,
    /// Files others sent may be downloaded; a guest sends none.
    Download,
    /// Files may be sent and downloaded, within the device's own rules.
    UploadAndDownload,
}

impl GuestFiles {
    pub fn may_upload(self) -> bool {
        self == GuestFiles::UploadAndDownload
    }
    pub fn may_download(self) -> bool {
        self != GuestFiles::None
    }
}

/// The body's guest settings, as the API shows and takes them.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestSettings {
    pub files: GuestFiles,
}

fn guest_settings_in(settings: &str) -> GuestSettings {
    let files = serde_json::from_str::<serde_json::Value>(settings)
        .ok()
        .and_then(|v| serde_json::from_value(v["guests"]["files"].clone()).ok())
        .unwrap_or(GuestFiles::None);
    GuestSettings { files }
}

/// What the member may do with files if they are a guest; everything (the device's rules
/// still apply) for staff.
pub async fn file_rights(
    state: &AppState,
    actor: &kairan_domain::policy::Actor,
    org_id: &str,
) -> Result<GuestFiles, AppError> {
    let kairan_domain::policy::Actor::User(u) = actor else {
        return Ok(GuestFiles::UploadAndDownload);
    };
    if !kairan_domain::role::only_guest(&u.roles) {
        return Ok(GuestFiles::UploadAndDownload);
    }
    let mut conn = state.store.read().await?;
    let org = kairan_store::orgs::by_id(&mut conn, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(guest_settings_in(&org.settings).files)
}

/// The body's guest settings, for its administrators (`decide_application`: they admit the
/// guests).
pub async fn settings(
    state: &AppState,
    actor: &kairan_domain::policy::Actor,
    org_id: &str,
) -> Result<GuestSettings, AppError> {
    use kairan_domain::policy::{self, Action, Resource};
    let org = kairan_domain::OrgId(org_id.to_owned());
    policy::check(actor, Action::DecideApplication, &Resource::Org(&org))?;
    let mut conn = state.store.read().await?;
    let row = kairan_store::orgs::by_id(&mut conn, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(guest_settings_in(&row.settings))
}

/// Saves the body's guest settings, read and written under the write lock so another
/// setting saved at the same moment is not lost; audited.
pub async fn save_settings(
    state: &AppState,
    actor: &kairan_domain::policy::Actor,
    org_id: &str,
    new: GuestSettings,
) -> Result<GuestSettings, AppError> {
    use kairan_domain::policy::{self, Action, Resource};
    let org = kairan_domain::OrgId(org_id.to_owned());
    policy::check(actor, Action::DecideApplication, &Resource::Org(&org))?;
    let mut tx = state.store.write().await?;
    let row = kairan_store::orgs::by_id(tx.conn(), org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut all: serde_json::Value =
        serde_json::from_str(&row.settings).unwrap_or_else(|_| serde_json::json!({}));
    if !all.is_object() {
        all = serde_json::json!({});
    }
    all["guests"] = serde_json::json!({ "files": new.files });
    kairan_store::orgs::set_settings(&mut tx, org_id, &all.to_string()).await?;
    let mut e = crate::services::audit_entry(actor, AuditAction::OrgSettingsChanged);
    e.org_id = Some(org_id.to_owned());
    e.target_id = Some(org_id.to_owned());
    detail(
        &mut e,
        "guest_files",
        serde_json::to_value(new.files).unwrap_or_default(),
    );
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(new)
}
