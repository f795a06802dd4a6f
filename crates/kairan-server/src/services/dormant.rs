//! IDs nobody should still be holding open (I10; seed 004 5.3(1)③, seed 003 §10): staff IDs
//! unused for N days, guests whose period is over but whose ID is still usable, and IDs issued
//! for development or testing. The administrator reviews the list and disables what should go,
//! one by one or all at once; each disabling is the ordinary suspension (sessions end at once,
//! audited, reversible).

use crate::error::AppError;
use crate::state::AppState;
use kairan_domain::fiscal::Date;
use kairan_domain::policy::{self, Action, Actor, Resource};
use kairan_domain::{DomainError, OrgId, Role};
use kairan_store::{guests, users};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

pub const DEFAULT_DAYS: u32 = 90;
const DAY_US: i64 = 86_400_000_000;

/// One ID on the report, with why it is there.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DormantEntry {
    pub user_id: String,
    pub login_id: String,
    pub display_name: String,
    /// `unused` (no sign-in for the given days, or never since issued that long ago),
    /// `guest_past_period`, or `test_id`.
    pub reason: String,
    pub last_sign_in_at: Option<i64>,
    pub created_at: i64,
    /// Whole days since the last sign-in (or since issue, when never used).
    pub days_unused: i64,
}

pub fn check_days(days: u32) -> Result<u32, DomainError> {
    if (1..=3650).contains(&days) {
        Ok(days)
    } else {
        Err(DomainError::invalid(
            "days",
            "未使用の日数",
            "1〜3650日の範囲で指定してください。",
            "use 1–3650 days.",
        ))
    }
}

/// The body's dormant IDs: unused for `days`, guests past their period, test IDs. Only IDs that
/// can still sign in are listed.
pub async fn report(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    days: u32,
) -> Result<Vec<DormantEntry>, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ViewUsers, &Resource::Org(&org))?;
    let days = check_days(days)?;
    let now = state.clock.now_us();
    let today = Date::from_utc_us(now).to_string();
    let mut conn = state.store.read().await?;
    let mut roles: HashMap<String, Vec<Role>> = HashMap::new();
    for (user, role) in users::roles_in_org(&mut conn, org_id).await? {
        if let Some(r) = Role::parse(&role) {
            roles.entry(user).or_default().push(r);
        }
    }
    let mut out = Vec::new();
    for u in users::list_by_org(&mut conn, org_id).await? {
        if !u.is_active() {
            continue;
        }
        let since = u.last_sign_in_at.unwrap_or(u.created_at);
        let days_unused = (now - since).max(0) / DAY_US;
        let guest =
            kairan_domain::role::only_guest(roles.get(&u.id).map(Vec::as_slice).unwrap_or(&[]));
        let reason = if guest {
            match guests::by_user(&mut conn, &u.id).await? {
                Some(g) if g.end_date < today => Some("guest_past_period"),
                _ => None,
            }
        } else if u.is_test != 0 {
            Some("test_id")
        } else if days_unused >= i64::from(days) {
            Some("unused")
        } else {
            None
        };
        if let Some(reason) = reason {
            out.push(DormantEntry {
                user_id: u.id,
                login_id: u.login_id,
                display_name: u.display_name,
                reason: reason.to_owned(),
                last_sign_in_at: u.last_sign_in_at,
                created_at: u.created_at,
                days_unused,
            });
        }
    }
    out.sort_by(|a, b| {
        b.days_unused
            .cmp(&a.days_unused)
            .then(a.login_id.cmp(&b.login_id))
    });
    Ok(out)
}

/// Disables the listed IDs of the body (each an ordinary, audited suspension); IDs already
/// disabled are skipped. Returns how many were disabled. The actor's own ID is refused, as a
/// suspension of oneself always is.
pub async fn disable(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    user_ids: &[String],
) -> Result<usize, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::SuspendUser, &Resource::Org(&org))?;
    if user_ids.len() > 10_000 {
        return Err(AppError::BadRequest("at most 10,000 IDs at once".into()));
    }
    let mut done = 0;
    for id in user_ids {
        let belongs = {
            let mut conn = state.store.read().await?;
            users::by_id(&mut conn, id)
                .await?
                .is_some_and(|u| u.org_id == org_id)
        };
        if !belongs {
            return Err(AppError::NotFound);
        }
        match crate::services::admin::set_active(state, actor, id, false).await {
            Ok(()) => done += 1,
            Err(AppError::Conflict("already_suspended")) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// The report as CSV (UTF-8 with a BOM, for Excel), formula cells neutralised.
pub fn to_csv(entries: &[DormantEntry]) -> String {
    let when = |us: Option<i64>| {
        us.map(|t| Date::from_utc_us(t).to_string())
            .unwrap_or_default()
    };
    let cell = kairan_domain::staff_csv::cell;
    let mut s = String::from("\u{feff}ログインID,氏名,理由,最終サインイン,発行日,未使用日数\r\n");
    for e in entries {
        let reason = match e.reason.as_str() {
            "unused" => "長期間未使用",
            "guest_past_period" => "利用期間を過ぎたゲスト",
            _ => "開発・試験用ID",
        };
        s.push_str(&format!(
            "{},{},{},{},{},{}\r\n",
            cell(&e.login_id),
            cell(&e.display_name),
            reason,
            when(e.last_sign_in_at),
            when(Some(e.created_at)),
            e.days_unused
        ));
    }
    s
}

/// Disables the IDs of staff whose last day has passed (00:00 JST the next day), as the
/// clock's pass runs: never deleted, so what they wrote stays attributed; their sessions end
/// and live connections close at once; `user.left` is audited. Returns how many.
pub async fn retire_leavers(state: &AppState) -> Result<usize, AppError> {
    let today = state.clock.today().to_string();
    let due = {
        let mut conn = state.store.read().await?;
        users::leavers_due(&mut conn, &today).await?
    };
    let mut n = 0;
    for u in due {
        let mut tx = state.store.write().await?;
        // Another node may have done it: only an active ID is retired.
        let Some(current) = users::by_id(tx.conn(), &u.id).await? else {
            continue;
        };
        if !current.is_active() {
            continue;
        }
        users::set_status(&mut tx, &u.id, "left").await?;
        let ended = kairan_store::sessions::end_all_for_user(&mut tx, &u.id, "left").await?;
        let mut e = kairan_store::audit::NewEntry::new(kairan_domain::audit::AuditAction::UserLeft);
        e.org_id = Some(u.org_id.clone());
        e.target_id = Some(u.id.clone());
        crate::services::detail(&mut e, "last_day", u.last_day.clone().unwrap_or_default());
        crate::services::detail(&mut e, "sessions_ended", ended);
        kairan_store::audit::append(&mut tx, e).await?;
        tx.commit().await?;
        state
            .bus
            .publish(crate::realtime::Event::sessions_ended(&u.id));
        n += 1;
    }
    Ok(n)
}
