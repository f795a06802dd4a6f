//! Inter-body groups (団体間グループ, I7, seed 003 §7): a talk shared by staff of several
//! bodies on one server, for a period inside one fiscal year.
//!
//! A section head applies (`apply_group`), naming the other bodies and, in words, whom they
//! hope to work with there: no other body's directory is shown to them. Each participating
//! body's administrator then approves for their own body and picks which of their own staff
//! join, so each body alone decides who of its staff is exposed; `kairan_domain::application::
//! Approvals` counts the approvals (never the applicant's, never one person for two bodies).
//! When every body has approved and the first day has come, the clock (or the last approval)
//! makes the talk; at the end the talk turns read-only, and `groups.remove_after_days` later
//! it leaves its members' lists. Its messages stay for the auditors throughout.
//!
//! Inside the talk membership is not managed (no invitations or renaming: `check_talk` refuses
//! `Manage` in a shared talk), and nothing else of another body crosses: members see each
//! other's name and body, not the directory.

use crate::error::AppError;
use crate::services::applications::{Moved, record_step, system_step};
use crate::services::{detail, protection};
use crate::state::AppState;
use kairan_domain::application::{ApplicationError, ApplicationKind, Approvals, Transition};
use kairan_domain::audit::AuditAction;
use kairan_domain::group::{BodyApproval, GroupRequest};
use kairan_domain::{DomainError, OrgId, Role, UserId};
use kairan_store::applications::{self as rows, Application, Body};
use kairan_store::audit::{self, NewEntry};
use kairan_store::{chat, orgs, users};

const DAY_US: i64 = 86_400_000_000;

/// Whether `id` is an active member of staff of `org_id` (not a guest): who may be put into a
/// group.
async fn is_staff(
    conn: &mut kairan_store::AnyConnection,
    org_id: &str,
    id: &str,
) -> Result<bool, AppError> {
    let Some(u) = users::by_id(conn, id).await? else {
        return Ok(false);
    };
    if u.org_id != org_id || !u.is_active() {
        return Ok(false);
    }
    let roles = users::roles(conn, id).await?;
    Ok(!roles.iter().any(|r| r == Role::Guest.code()))
}

fn not_staff(field: &'static str) -> AppError {
    DomainError::invalid(
        field,
        "参加する職員",
        "自団体の利用中の職員（ゲストを除く）を選んでください。",
        "choose active staff of your own body (not guests).",
    )
    .into()
}

/// A group application's fields checked: the request, then that every named body exists and
/// every own member is active staff of the applicant's body. Returns the fields as stored,
/// the period, and every participating body (the applicant's first).
pub(crate) async fn checked_fields(
    state: &AppState,
    value: serde_json::Value,
    applicant: &UserId,
    org_id: &str,
) -> Result<(String, String, String, Vec<String>), AppError> {
    let mut r: GroupRequest = crate::services::applications::parse_fields(value)?;
    r = r.validated(state.clock.today(), org_id)?;
    r.own_members.retain(|id| id != &applicant.0);
    let mut conn = state.store.read().await?;
    for b in &r.bodies {
        if orgs::by_id(&mut conn, &b.org_id).await?.is_none() {
            return Err(DomainError::invalid(
                "bodies",
                "参加する団体",
                "この環境に登録されている団体から選んでください。",
                "choose bodies registered on this server.",
            )
            .into());
        }
    }
    for id in &r.own_members {
        if !is_staff(&mut conn, org_id, id).await? {
            return Err(not_staff("own_members"));
        }
    }
    let bodies = r.all_bodies(org_id);
    let fields = serde_json::to_string(&r).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((
        fields,
        r.start_date.to_string(),
        r.end_date.to_string(),
        bodies,
    ))
}

/// The approvals as the engine counts them, from the rows.
fn approvals(bodies: &[Body]) -> Approvals {
    let mut a = Approvals::new(bodies.iter().map(|b| OrgId(b.org_id.clone())).collect());
    a.given = bodies
        .iter()
        .filter_map(|b| {
            b.approved_by
                .as_ref()
                .map(|u| (OrgId(b.org_id.clone()), UserId(u.clone())))
        })
        .collect();
    a
}

/// Whether `org` still has to approve.
pub(crate) fn pending_for(bodies: &[Body], org: &str) -> bool {
    bodies
        .iter()
        .any(|b| b.org_id == org && b.approved_by.is_none())
}

/// The staff a body's administrator puts into a group with their approval, checked before the
/// write lock is taken: one to 100, each an active member of staff of `org` (not a guest).
/// The applicant is in the group anyway and is left out. An extension names none.
pub(crate) async fn chosen_members(
    state: &AppState,
    app: &Application,
    org: &str,
    members: Option<Vec<String>>,
) -> Result<Vec<String>, AppError> {
    if app.kind != ApplicationKind::InterOrgGroup.code() {
        return Ok(Vec::new());
    }
    let mut chosen = BodyApproval {
        members: members.unwrap_or_default(),
    }
    .validated()?
    .members;
    chosen.retain(|id| id != &app.applicant_id);
    let mut conn = state.store.read().await?;
    for id in &chosen {
        if !is_staff(&mut conn, org, id).await? {
            return Err(not_staff("members"));
        }
    }
    Ok(chosen)
}

/// One body's approval of an application several bodies decide on, in `tx`: recorded with the
/// staff it puts in ([`chosen_members`]), as a step of the application.
/// Returns true when it was the last approval needed: the caller then moves the application
/// to approved.
pub(crate) async fn approve_for_body(
    tx: &mut kairan_store::WriteTx,
    app: &Application,
    approver: &UserId,
    org: &str,
    members: &[String],
) -> Result<bool, AppError> {
    let bodies = rows::bodies(tx.conn(), &app.id).await?;
    let mut counted = approvals(&bodies);
    let complete = counted.record(
        &OrgId(org.to_owned()),
        approver,
        &UserId(app.applicant_id.clone()),
    )?;
    let list = serde_json::to_string(members).map_err(|e| AppError::Internal(e.to_string()))?;
    if !rows::approve_body(tx, &app.id, org, &approver.0, &list).await? {
        return Err(ApplicationError::AlreadyApproved(OrgId(org.to_owned())).into());
    }
    if !complete {
        // The application waits for the other bodies: a step that keeps its state, so the
        // history shows who approved for which body and the version moves.
        let moved = Moved {
            transition: "approve_body",
            to: &app.state,
            reason: None,
            fields: None,
        };
        let details = [
            ("body", serde_json::Value::from(org)),
            ("members", members.len().into()),
        ];
        if !record_step(tx, app, Some(approver), &moved, &details).await? {
            return Err(AppError::Conflict("application_changed"));
        }
    }
    Ok(complete)
}

/// Makes the talk of an approved group whose first day has come, with the applicant and every
/// body's approved staff, and puts the application in effect, in one transaction. False when
/// another node (or the next pass) did it first.
pub(crate) async fn activate(state: &AppState, app: &Application) -> Result<bool, AppError> {
    let r: GroupRequest = serde_json::from_str(&app.fields)
        .map_err(|e| AppError::Internal(format!("stored group: {e}")))?;
    let mut tx = state.store.write().await?;
    if !system_step(&mut tx, app, Transition::Activate).await? {
        return Ok(false);
    }
    let bodies = rows::bodies(tx.conn(), &app.id).await?;
    let mut members = vec![app.applicant_id.clone()];
    for b in &bodies {
        let ids: Vec<String> = serde_json::from_str(&b.members).unwrap_or_default();
        for id in ids {
            if !members.contains(&id) {
                members.push(id);
            }
        }
    }
    let scheme = protection::scheme_with(tx.conn(), &app.org_id).await?;
    let class = crate::services::chat::new_talk_class(&scheme);
    let talk = chat::insert_talk(
        &mut tx,
        &app.org_id,
        "group",
        &r.talk_name,
        None,
        &app.applicant_id,
        class,
    )
    .await?;
    chat::set_application(&mut tx, &talk, &app.id).await?;
    for id in &members {
        chat::add_member(&mut tx, &talk, id).await?;
    }
    let mut e = NewEntry::new(AuditAction::GroupStarted);
    e.org_id = Some(app.org_id.clone());
    e.target_id = Some(talk.clone());
    detail(&mut e, "application", app.id.as_str());
    detail(&mut e, "bodies", bodies.len());
    detail(&mut e, "members", members.len());
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    state
        .bus
        .publish(crate::realtime::Event::membership(&talk, members));
    Ok(true)
}

/// Ends a group whose last day has passed: the application ends and its talk turns
/// read-only, in one transaction; every member's screen is told at once.
pub(crate) async fn end(state: &AppState, app: &Application) -> Result<bool, AppError> {
    let mut tx = state.store.write().await?;
    if !system_step(&mut tx, app, Transition::End).await? {
        return Ok(false);
    }
    let talk = chat::talk_of_application(tx.conn(), &app.id).await?;
    let mut told = Vec::new();
    if let Some(t) = &talk {
        // The talk row first, as every membership change does, so no message batch still
        // holding the talk posts after the end.
        chat::talks_for_write(&mut tx, &[t.id.as_str()]).await?;
        chat::close(&mut tx, &t.id, state.clock.now_us()).await?;
        told = chat::members(tx.conn(), &t.id)
            .await?
            .into_iter()
            .map(|(u, _)| u)
            .collect();
        let mut e = NewEntry::new(AuditAction::GroupEnded);
        e.org_id = Some(app.org_id.clone());
        e.target_id = Some(t.id.clone());
        detail(&mut e, "application", app.id.as_str());
        detail(&mut e, "members", told.len());
        audit::append(&mut tx, e).await?;
    }
    tx.commit().await?;
    if let Some(t) = talk {
        state
            .bus
            .publish(crate::realtime::Event::membership(&t.id, told));
    }
    Ok(true)
}

/// Takes ended groups out of their members' lists `groups.remove_after_days` after the end.
pub(crate) async fn remove_due(state: &AppState) -> Result<usize, AppError> {
    let days = i64::from(state.config.groups.remove_after_days);
    let before = state.clock.now_us() - days * DAY_US;
    let mut removed = 0;
    loop {
        let due = {
            let mut conn = state.store.read().await?;
            chat::closed_groups_to_remove(&mut conn, before).await?
        };
        if due.is_empty() {
            return Ok(removed);
        }
        let mut progressed = false;
        for t in due {
            let mut tx = state.store.write().await?;
            chat::talks_for_write(&mut tx, &[t.id.as_str()]).await?;
            let members: Vec<String> = chat::members(tx.conn(), &t.id)
                .await?
                .into_iter()
                .map(|(u, _)| u)
                .collect();
            if !chat::remove(&mut tx, &t.id, state.clock.now_us()).await? {
                continue;
            }
            let mut e = NewEntry::new(AuditAction::GroupRemoved);
            e.org_id = Some(t.org_id.clone());
            e.target_id = Some(t.id.clone());
            if let Some(a) = &t.application_id {
                detail(&mut e, "application", a.as_str());
            }
            detail(&mut e, "after_days", days);
            detail(&mut e, "members", members.len());
            audit::append(&mut tx, e).await?;
            tx.commit().await?;
            state
                .bus
                .publish(crate::realtime::Event::membership(&t.id, members));
            removed += 1;
            progressed = true;
        }
        if !progressed {
            return Ok(removed);
        }
    }
}
