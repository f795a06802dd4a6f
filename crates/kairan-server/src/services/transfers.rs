//! Personnel transfers (人事異動, I1): the yearly changes of department, title and role for
//! many staff, prepared ahead as a staff CSV, reviewed, and applied on their effective day
//! (typically 1 April) by the clock, or at once by an ordinary import.
//!
//! A batch is the same file an import takes, checked the same way when it is prepared (every
//! row, by line and column) and again on the day, because the body may have changed in
//! between: a file that no longer fits is not applied in part, it fails whole and its problems
//! are kept for the administrator. A batch only changes existing staff: new people get their
//! IDs (and the temporary passwords someone must hand over) from an ordinary import, so nothing
//! secret is produced at midnight for nobody to see. Each applied batch is one `staff.imported`
//! record (what changed) and one `staff.transfer_applied` (which batch); each change is in the
//! import's summary by login ID and column.

use crate::error::AppError;
use crate::services::staff_import::{self, ImportReport};
use crate::services::{audit_entry, detail};
use crate::state::AppState;
use kairan_domain::audit::AuditAction;
use kairan_domain::fiscal::Date;
use kairan_domain::policy::{self, Action, Actor, Resource};
use kairan_domain::{DomainError, OrgId};
use kairan_store::audit::{self, NewEntry};
use kairan_store::staff_transfers::{self as rows, NewTransfer, Transfer};
use serde::Serialize;
use sha2::Digest;
use utoipa::ToSchema;

/// A batch as its body's administrators see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferView {
    pub id: String,
    /// The day it takes effect (00:00 JST), `YYYY-MM-DD`.
    pub effective_date: String,
    /// `scheduled`, `applied`, `failed` or `cancelled`.
    pub state: String,
    pub state_label_ja: String,
    pub state_label_en: String,
    pub rows: i64,
    /// How many staff it changes (as checked when prepared).
    pub changes: i64,
    pub file_sha256: String,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    /// What happened on the day: the import's summary, or the problems that stopped it.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// For a batch just prepared: what it will change, by login ID and column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<ImportReport>,
}

fn labels(state: &str) -> (&'static str, &'static str) {
    match state {
        "scheduled" => ("予約済み", "Scheduled"),
        "applied" => ("反映済み", "Applied"),
        "failed" => ("反映できませんでした", "Failed"),
        _ => ("取消し", "Cancelled"),
    }
}

fn view(t: Transfer, preview: Option<ImportReport>) -> TransferView {
    let (ja, en) = labels(&t.state);
    TransferView {
        state_label_ja: ja.into(),
        state_label_en: en.into(),
        result: t
            .result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok()),
        id: t.id,
        effective_date: t.effective_date,
        state: t.state,
        rows: t.rows_count,
        changes: t.changes,
        file_sha256: t.file_sha256,
        created_at: t.created_at,
        decided_at: t.decided_at,
        preview,
    }
}

/// Prepares a batch for `effective_date` (a later day than today in Japan). The file is
/// checked now as a preview; a file with problems, or one that would create staff, is
/// refused with its report (the inner `Err`), problems by line and column.
pub async fn schedule(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    bytes: &[u8],
    effective_date: &str,
) -> Result<Result<TransferView, ImportReport>, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::CreateUser, &Resource::Org(&org))?;
    let day = Date::parse_iso(effective_date).ok_or_else(|| {
        DomainError::invalid(
            "effective_date",
            "異動日",
            "日付を YYYY-MM-DD の形で指定してください（例: 2027-04-01）。",
            "give the date as YYYY-MM-DD (e.g. 2027-04-01).",
        )
    })?;
    if day <= state.clock.today() {
        return Err(DomainError::invalid(
            "effective_date",
            "異動日",
            "明日以降の日付を指定してください。今日から反映する場合は、通常の取込みを使ってください。",
            "must be a later day than today; to apply today, import the file directly.",
        )
        .into());
    }
    let mut preview = staff_import::import(state, actor, org_id, bytes, true).await?;
    if preview.errors.is_empty() && !preview.created.is_empty() {
        // New people need their IDs and passwords handed over by someone: an ordinary import.
        preview.errors = preview
            .created
            .iter()
            .map(|login| kairan_domain::staff_csv::RowError {
                line: 0,
                column: "login_id".into(),
                message_ja: format!(
                    "{login} は登録されていない職員です。異動の予約で変えられるのは登録済みの職員だけです。新しい職員は、先に通常の取込みで登録してください。"
                ),
                message_en: format!(
                    "{login} is not on the staff list. A transfer changes existing staff only; register new staff with an ordinary import first."
                ),
            })
            .collect();
    }
    if !preview.errors.is_empty() {
        return Ok(Err(preview));
    }
    let sha = hex::encode(sha2::Sha256::digest(bytes));
    let changes = i64::try_from(preview.updated.len()).unwrap_or(i64::MAX);
    let by = match actor {
        Actor::User(u) => Some(u.user_id.0.clone()),
        Actor::Operator => None,
    };
    let mut tx = state.store.write().await?;
    let id = rows::insert(
        &mut tx,
        &NewTransfer {
            org_id,
            effective_date: &day.to_string(),
            file_hex: &hex::encode(bytes),
            file_sha256: &sha,
            rows_count: i64::try_from(preview.rows).unwrap_or(i64::MAX),
            changes,
            created_by: by.as_deref(),
        },
    )
    .await?;
    let mut e = audit_entry(actor, AuditAction::StaffTransferScheduled);
    e.org_id = Some(org_id.to_owned());
    e.target_id = Some(id.clone());
    detail(&mut e, "effective_date", day.to_string());
    detail(&mut e, "rows", preview.rows);
    detail(&mut e, "changes", changes);
    detail(&mut e, "file_sha256", sha);
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    let t = {
        let mut conn = state.store.read().await?;
        rows::by_id(&mut conn, &id)
            .await?
            .ok_or(AppError::NotFound)?
    };
    Ok(Ok(view(t, Some(preview))))
}

/// The body's batches, newest first.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
) -> Result<Vec<TransferView>, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ViewUsers, &Resource::Org(&org))?;
    let mut conn = state.store.read().await?;
    Ok(rows::of_org(&mut conn, org_id)
        .await?
        .into_iter()
        .map(|t| view(t, None))
        .collect())
}

/// Withdraws a batch before its day. A batch of another body is "not found".
pub async fn cancel(state: &AppState, actor: &Actor, id: &str) -> Result<TransferView, AppError> {
    let t = {
        let mut conn = state.store.read().await?;
        rows::by_id(&mut conn, id)
            .await?
            .ok_or(AppError::NotFound)?
    };
    let org = OrgId(t.org_id.clone());
    policy::check(actor, Action::CreateUser, &Resource::Org(&org))
        .map_err(|_| AppError::NotFound)?;
    let mut tx = state.store.write().await?;
    if !rows::decide(&mut tx, id, "cancelled", "{}", state.clock.now_us()).await? {
        return Err(AppError::Conflict("transfer_not_scheduled"));
    }
    let mut e = audit_entry(actor, AuditAction::StaffTransferCancelled);
    e.org_id = Some(t.org_id.clone());
    e.target_id = Some(id.to_owned());
    detail(&mut e, "effective_date", t.effective_date.as_str());
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    let mut conn = state.store.read().await?;
    Ok(view(
        rows::by_id(&mut conn, id)
            .await?
            .ok_or(AppError::NotFound)?,
        None,
    ))
}

/// Applies the batches whose day has come (the clock's pass). Each is checked again and
/// written whole, as the server (`operator`), or fails whole with its problems kept. Returns
/// how many were applied.
pub async fn apply_due(state: &AppState) -> Result<usize, AppError> {
    let today = state.clock.today().to_string();
    let due = {
        let mut conn = state.store.read().await?;
        rows::due(&mut conn, &today).await?
    };
    let mut applied = 0;
    for t in due {
        let bytes = hex::decode(&t.file_hex)
            .map_err(|e| AppError::Internal(format!("stored transfer file: {e}")))?;
        // Checked again first: the body may have changed since the batch was prepared.
        let check = staff_import::import(state, &Actor::Operator, &t.org_id, &bytes, true).await?;
        let problem = !check.errors.is_empty() || !check.created.is_empty();
        if problem {
            let result = serde_json::json!({
                "errors": check.errors.len(),
                "new_staff": check.created,
                "problems": check.errors.iter().take(50).map(|e| serde_json::json!({
                    "line": e.line, "column": e.column, "message_ja": e.message_ja, "message_en": e.message_en,
                })).collect::<Vec<_>>(),
            });
            let mut tx = state.store.write().await?;
            if rows::decide(
                &mut tx,
                &t.id,
                "failed",
                &result.to_string(),
                state.clock.now_us(),
            )
            .await?
            {
                let mut e = NewEntry::new(AuditAction::StaffTransferFailed);
                e.org_id = Some(t.org_id.clone());
                e.target_id = Some(t.id.clone());
                detail(&mut e, "errors", check.errors.len());
                detail(&mut e, "new_staff", check.created.len());
                audit::append(&mut tx, e).await?;
                tx.commit().await?;
                if let Some(by) = &t.created_by {
                    notify(state, &t, by, "transfer_failed").await?;
                }
            }
            continue;
        }
        // Written first, then marked: applying a file twice changes nothing the second time,
        // so a crash in between (or a second node) only repeats a no-op, and the mark is a
        // compare-and-set that one of them wins.
        let r = staff_import::import(state, &Actor::Operator, &t.org_id, &bytes, false).await?;
        let (final_state, result, action) = if r.applied {
            (
                "applied",
                serde_json::json!({ "rows": r.rows, "updated": r.updated.len(), "unchanged": r.unchanged }),
                AuditAction::StaffTransferApplied,
            )
        } else {
            (
                "failed",
                serde_json::json!({ "errors": r.errors.len() }),
                AuditAction::StaffTransferFailed,
            )
        };
        let mut tx = state.store.write().await?;
        if !rows::decide(
            &mut tx,
            &t.id,
            final_state,
            &result.to_string(),
            state.clock.now_us(),
        )
        .await?
        {
            continue;
        }
        let mut e = NewEntry::new(action);
        e.org_id = Some(t.org_id.clone());
        e.target_id = Some(t.id.clone());
        detail(&mut e, "effective_date", t.effective_date.as_str());
        detail(&mut e, "updated", r.updated.len());
        audit::append(&mut tx, e).await?;
        tx.commit().await?;
        if final_state == "applied" {
            applied += 1;
        }
        if let Some(by) = &t.created_by {
            let kind = if final_state == "applied" {
                "transfer_applied"
            } else {
                "transfer_failed"
            };
            notify(state, &t, by, kind).await?;
        }
    }
    Ok(applied)
}

/// Tells whoever prepared the batch what happened on its day.
async fn notify(state: &AppState, t: &Transfer, to: &str, kind: &str) -> Result<(), AppError> {
    let mut tx = state.store.write().await?;
    let details = serde_json::json!({ "effective_date": t.effective_date });
    kairan_store::protection::notify(
        &mut tx,
        &t.org_id,
        &[to.to_owned()],
        kind,
        None,
        Some(&t.id),
        &details.to_string(),
    )
    .await?;
    tx.commit().await?;
    crate::services::protection::publish_notifications(state, vec![to.to_owned()]);
    Ok(())
}
