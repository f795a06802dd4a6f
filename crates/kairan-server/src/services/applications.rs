//! Applications and approvals (申請と承認, issue 10): a section head applies for a guest, an
//! administrator of the same body approves, rejects or returns it, and every step is kept with
//! who took it and why, in the same transaction as its audit record.
//!
//! The rules are not here: `kairan_domain::application::next` decides which step is allowed
//! from which state and refuses an applicant deciding on their own application (whatever roles
//! they hold), `kairan_domain::guest` checks the fields and the period (never past 31 March),
//! and the policy says who is an approver. This module only joins them to the rows. A step is a
//! compare-and-set on the application's version, so two approvers acting at once cannot both
//! win and nobody acts on a state they did not see.
//!
//! Kinds: guests and their extensions (decided by the applicant's body), inter-body groups
//! and their extensions (decided by every participating body, see `services::groups`).
//! Exceptions, external services and SNS posts will add their kinds here.

use crate::error::AppError;
use crate::services::{audit_entry, detail};
use crate::state::AppState;
use kairan_domain::application::{self, ApplicationKind, ApplicationState, Party, Transition};
use kairan_domain::audit::AuditAction;
use kairan_domain::fiscal::{self, Date};
use kairan_domain::guest::{ExtensionRequest, GuestRequest};
use kairan_domain::policy::{self, Action, Actor, Resource};
use kairan_domain::{DomainError, OrgId, UserId};
use kairan_store::applications::{
    self as rows, Application, Body, Change, NewApplication, NewEvent,
};
use kairan_store::{audit, users};
use serde::Serialize;
use utoipa::ToSchema;

/// An application as its applicant and its approvers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: String,
    pub org_id: String,
    /// `guest` (more kinds later).
    pub kind: String,
    pub kind_label_ja: String,
    pub kind_label_en: String,
    pub applicant_id: String,
    pub applicant_name: String,
    /// `draft`, `submitted`, `changes_requested`, `approved`, `rejected`, `active`, `ended`,
    /// `withdrawn`.
    pub state: String,
    pub state_label_ja: String,
    pub state_label_en: String,
    /// The kind's fields (for a guest: purpose, need, guest_name, guest_affiliation,
    /// guest_email, start_date, end_date, environment_confirmed).
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
    pub start_date: String,
    pub end_date: String,
    /// 令和8年度 / FY2026: the fiscal year the period lies in.
    pub fiscal_year: String,
    /// Days from today to the last day (0 on the last day, negative once past).
    pub days_left: i64,
    /// Send it back with a step so a stale screen cannot act on a state it did not show.
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// What the person asking may do next: `edit`, `submit`, `resubmit`, `withdraw`,
    /// `approve`, `reject`, `request_changes`.
    pub can: Vec<String>,
    /// The guest an approved guest application admitted: the ID and, for the applicant only,
    /// the invitation link to pass on until it is used (only when one application is read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guest: Option<crate::services::guests::GuestView>,
    /// Every step so far, oldest first (only when one application is read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventView>,
    /// For an inter-body group or its extension: every participating body (the applicant's
    /// first) and whether it approved.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bodies: Vec<BodyView>,
    /// For an inter-body group in effect or ended: its talk, for the members to open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub talk_id: Option<String>,
}

/// One body's part in an application several bodies decide on.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BodyView {
    pub org_id: String,
    pub org_name: String,
    /// Whom the applicant asked this body for, in words (none for the applicant's own body).
    pub requested: Option<String>,
    pub approved: bool,
    pub approved_by_name: Option<String>,
    pub approved_at: Option<i64>,
    /// Who this body put in, once it approved.
    pub members: Vec<PersonView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonView {
    pub user_id: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub seq: i64,
    /// None: the server's clock job.
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub transition: String,
    pub from_state: String,
    pub to_state: String,
    /// Why it was returned or rejected.
    pub reason: Option<String>,
    pub at: i64,
}

/// Who is asking about an application, as the approval engine needs it.
struct Asker {
    user: UserId,
    /// The asker's body.
    org: String,
    approver: bool,
    /// The body the asker approves for, when several bodies decide and theirs has not yet.
    pending_body: bool,
}

/// Who asks. An approver is an administrator of the application's body or, where several
/// bodies decide (`bodies` not empty), of any participating body.
fn asker(actor: &Actor, app: &Application, bodies: &[Body]) -> Result<Asker, AppError> {
    let Actor::User(u) = actor else {
        // The console acts on applications through the clock job, not as a person.
        return Err(AppError::NotFound);
    };
    let org = if bodies.is_empty() {
        OrgId(app.org_id.clone())
    } else if bodies.iter().any(|b| b.org_id == u.org_id.0) {
        u.org_id.clone()
    } else {
        OrgId(app.org_id.clone())
    };
    let approver = policy::check(actor, Action::DecideApplication, &Resource::Org(&org)).is_ok();
    let pending_body = approver && crate::services::groups::pending_for(bodies, &u.org_id.0);
    // Nobody else learns that the application exists.
    if !approver && u.user_id.0 != app.applicant_id {
        return Err(AppError::NotFound);
    }
    Ok(Asker {
        user: u.user_id.clone(),
        org: u.org_id.0.clone(),
        approver,
        pending_body,
    })
}

fn parse_state(code: &str) -> Result<ApplicationState, AppError> {
    ApplicationState::parse(code)
        .ok_or_else(|| AppError::Internal(format!("unknown application state {code}")))
}

fn parse_kind(code: &str) -> Result<ApplicationKind, DomainError> {
    ApplicationKind::parse(code).ok_or_else(|| {
        DomainError::invalid(
            "kind",
            "申請の種類",
            "申請の種類は guest、guest_extension、inter_org_group、group_extension のいずれかです。",
            "the kinds are guest, guest_extension, inter_org_group and group_extension.",
        )
    })
}

/// Who may apply for a kind: a guest and its extension, or a group and its extension.
fn apply_action(kind: ApplicationKind) -> Action {
    if kind.several_bodies() {
        Action::ApplyGroup
    } else {
        Action::ApplyGuest
    }
}

/// What a notification about an application names.
struct Subject<'a> {
    id: &'a str,
    org_id: &'a str,
    kind: &'a str,
    applicant_id: &'a str,
    /// The bodies whose administrators decide: the application's own, or each participating
    /// body.
    deciders: Vec<String>,
}

impl<'a> Subject<'a> {
    fn of(a: &'a Application, bodies: &[Body]) -> Self {
        Subject {
            id: &a.id,
            org_id: &a.org_id,
            kind: &a.kind,
            applicant_id: &a.applicant_id,
            deciders: deciders(&a.org_id, bodies.iter().map(|b| b.org_id.clone()).collect()),
        }
    }
}

fn deciders(org_id: &str, bodies: Vec<String>) -> Vec<String> {
    if bodies.is_empty() {
        vec![org_id.to_owned()]
    } else {
        bodies
    }
}

/// Tells who must act next, in the product (a notification, and a live event after the
/// commit): the body's administrators when an application waits for a decision (never the
/// applicant, who cannot decide on it), the applicant when it was decided or returned.
/// Returns who was told.
async fn notify_next(
    tx: &mut kairan_store::WriteTx,
    app: &Subject<'_>,
    to: ApplicationState,
    transition: &str,
    actor: &UserId,
) -> Result<Vec<String>, AppError> {
    let (who, kind): (Vec<String>, &str) = match to {
        ApplicationState::Submitted => {
            let mut who = Vec::new();
            for org in &app.deciders {
                who.extend(
                    users::active_with_role(tx.conn(), org, kairan_domain::Role::Admin.code())
                        .await?
                        .into_iter()
                        .filter(|u| u != app.applicant_id),
                );
            }
            (who, "application_waiting")
        }
        ApplicationState::Approved
        | ApplicationState::Rejected
        | ApplicationState::ChangesRequested
            if actor.0 != app.applicant_id =>
        {
            (vec![app.applicant_id.to_owned()], "application_decided")
        }
        _ => return Ok(Vec::new()),
    };
    let details =
        serde_json::json!({ "kind": app.kind, "transition": transition, "state": to.code() });
    kairan_store::protection::notify(
        tx,
        app.org_id,
        &who,
        kind,
        Some(&actor.0),
        Some(app.id),
        &details.to_string(),
    )
    .await?;
    Ok(who)
}

/// One step of an application recorded in `tx`: the row moved by compare-and-set from the
/// version that was read (with new fields for an edit), the step kept with who took it
/// (`by` none: the clock) and why, and its audit record with `details` added. False, and
/// nothing written, when the application moved in between.
pub(crate) async fn record_step(
    tx: &mut kairan_store::WriteTx,
    app: &Application,
    by: Option<&UserId>,
    moved: &Moved<'_>,
    details: &[(&str, serde_json::Value)],
) -> Result<bool, AppError> {
    let change = Change {
        to_state: moved.to,
        fields: moved.fields,
    };
    if !rows::advance(tx, &app.id, app.version, &change).await? {
        return Ok(false);
    }
    rows::append_event(
        tx,
        &NewEvent {
            application_id: &app.id,
            actor_id: by.map(|u| u.0.as_str()),
            transition: moved.transition,
            from_state: &app.state,
            to_state: moved.to,
            reason: moved.reason,
        },
    )
    .await?;
    let mut e = kairan_store::audit::NewEntry::new(AuditAction::ApplicationTransition);
    e.actor_id = by.map(|u| u.0.clone());
    e.org_id = Some(app.org_id.clone());
    e.target_id = Some(app.id.clone());
    detail(&mut e, "kind", app.kind.as_str());
    detail(&mut e, "transition", moved.transition);
    detail(&mut e, "from", app.state.as_str());
    detail(&mut e, "to", moved.to);
    if by.is_none() {
        detail(&mut e, "by", "clock");
    }
    if let Some(r) = moved.reason {
        // The reason is free text: kept with the application, its hash here.
        detail(&mut e, "reason_sha256", crate::token::sha256_hex(r));
    }
    for (k, v) in details {
        detail(&mut e, k, v.clone());
    }
    audit::append(tx, e).await?;
    Ok(true)
}

/// One step of an application taken by the clock, with its record.
pub(crate) async fn system_step(
    tx: &mut kairan_store::WriteTx,
    app: &Application,
    transition: Transition,
) -> Result<bool, AppError> {
    let from = ApplicationState::parse(&app.state)
        .ok_or_else(|| AppError::Internal(format!("state {}", app.state)))?;
    let to = application::next(from, &transition, Party::System)?;
    let moved = Moved {
        transition: transition.code(),
        to: to.code(),
        reason: None,
        fields: None,
    };
    record_step(tx, app, None, &moved, &[]).await
}

/// What a step changes: its code, the state it leads to, the reason given, and for an edit
/// the new (fields, start date, end date).
pub(crate) struct Moved<'a> {
    pub transition: &'a str,
    pub to: &'a str,
    pub reason: Option<&'a str>,
    pub fields: Option<(&'a str, &'a str, &'a str)>,
}

fn to_json<T: Serialize>(v: &T) -> Result<String, AppError> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(e.to_string()))
}

/// An application's fields checked for its kind, as stored.
pub(crate) struct Checked {
    fields: String,
    start: String,
    end: String,
    /// Every body that decides, when several do (empty: the applicant's body alone).
    bodies: Vec<String>,
}

/// The application's fields checked for its kind. An extension names an approved or active
/// application of the kind it extends, of the same applicant and body, and moves its last
/// day later within the same fiscal year; a group's extension is decided by the group's
/// bodies again.
async fn checked_fields(
    state: &AppState,
    kind: ApplicationKind,
    value: serde_json::Value,
    applicant: &UserId,
    org_id: &str,
) -> Result<Checked, AppError> {
    match kind {
        ApplicationKind::GuestExtension | ApplicationKind::GroupExtension => {
            let raw: ExtensionRequest = parse_fields(value)?;
            let (target, bodies) =
                extension_target(state, kind, &raw.application_id, applicant, org_id).await?;
            let current = Date::parse_iso(&target.end_date)
                .ok_or_else(|| AppError::Internal("stored end date".into()))?;
            let r = raw.validated(current)?;
            Ok(Checked {
                fields: to_json(&r)?,
                start: target.start_date,
                end: r.end_date.to_string(),
                bodies,
            })
        }
        ApplicationKind::InterOrgGroup => {
            let (fields, start, end, bodies) =
                crate::services::groups::checked_fields(state, value, applicant, org_id).await?;
            Ok(Checked {
                fields,
                start,
                end,
                bodies,
            })
        }
        ApplicationKind::Guest => {
            let r = parse_fields::<GuestRequest>(value)?.validated(state.clock.today())?;
            Ok(Checked {
                fields: to_json(&r)?,
                start: r.start_date.to_string(),
                end: r.end_date.to_string(),
                bodies: Vec::new(),
            })
        }
    }
}

/// Whether a period can still be moved: approved, or in effect.
fn extendable(a: &Application) -> bool {
    a.state == ApplicationState::Approved.code() || a.state == ApplicationState::Active.code()
}

/// The application an extension may name: the applicant's own, in their body, of the kind
/// the extension extends, approved or active; with the bodies that decided it. Anything else
/// is "not found", so an extension reveals nothing of others'.
async fn extension_target(
    state: &AppState,
    kind: ApplicationKind,
    id: &str,
    applicant: &UserId,
    org_id: &str,
) -> Result<(Application, Vec<String>), AppError> {
    let mut conn = state.store.read().await?;
    let app = rows::by_id(&mut conn, id).await?;
    let extends = kind.extends().map(ApplicationKind::code);
    match app {
        Some(a)
            if Some(a.kind.as_str()) == extends
                && a.applicant_id == applicant.0
                && a.org_id == org_id =>
        {
            if !extendable(&a) {
                return Err(AppError::Conflict("extension_target_closed"));
            }
            let bodies = rows::bodies(&mut conn, &a.id)
                .await?
                .into_iter()
                .map(|b| b.org_id)
                .collect();
            Ok((a, bodies))
        }
        _ => Err(DomainError::invalid(
            "application_id",
            "延長する申請",
            "延長できるのは、自分が申請して承認された申請（ゲスト利用・団体間グループ）です。",
            "only your own approved guest or group application can be extended.",
        )
        .into()),
    }
}

/// Applies an approved extension to the application it extends, in the approval's
/// transaction: the new last day on the application (and on the guest), with a step on it.
async fn apply_extension(
    tx: &mut kairan_store::WriteTx,
    actor: &UserId,
    extension: &Application,
) -> Result<(), AppError> {
    let r: ExtensionRequest = serde_json::from_str(&extension.fields)
        .map_err(|e| AppError::Internal(format!("stored extension: {e}")))?;
    let Some(target) = rows::by_id(tx.conn(), &r.application_id).await? else {
        return Err(AppError::Conflict("extension_target_closed"));
    };
    if !extendable(&target) {
        return Err(AppError::Conflict("extension_target_closed"));
    }
    let mut fields: serde_json::Value = serde_json::from_str(&target.fields).unwrap_or_default();
    fields["end_date"] = serde_json::Value::String(r.end_date.to_string());
    let end = r.end_date.to_string();
    let fields = fields.to_string();
    let moved = Moved {
        transition: "extend",
        to: &target.state,
        reason: None,
        fields: Some((&fields, &target.start_date, &end)),
    };
    let details = [
        ("from_end_date", target.end_date.clone().into()),
        ("to_end_date", end.clone().into()),
        ("extension", extension.id.clone().into()),
    ];
    if !record_step(tx, &target, Some(actor), &moved, &details).await? {
        return Err(AppError::Conflict("application_changed"));
    }
    if target.kind == ApplicationKind::Guest.code() {
        kairan_store::guests::extend(tx, &target.id, &end).await?;
    }
    Ok(())
}

/// The fields of a request body for their kind: a missing or mistyped field is named like any
/// other refused field, not answered with a bare parse error.
pub(crate) fn parse_fields<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, DomainError> {
    serde_json::from_value(value).map_err(|e| {
        DomainError::invalid(
            "fields",
            "申請の内容",
            format!("入力されていない項目か、形式が正しくない項目があります（{e}）。"),
            format!("a field is missing or malformed ({e})."),
        )
    })
}

fn steps_for(
    state: ApplicationState,
    asker: &Asker,
    applicant: &UserId,
    several: bool,
) -> Vec<String> {
    let candidates = [
        Transition::Edit,
        Transition::Submit,
        Transition::Resubmit,
        Transition::Withdraw,
        Transition::Approve,
        Transition::Reject { reason: "-".into() },
        Transition::RequestChanges { reason: "-".into() },
    ];
    candidates
        .iter()
        // Where several bodies decide, each approves once, for its own body.
        .filter(|t| !(several && matches!(t, Transition::Approve) && !asker.pending_body))
        .filter(|t| {
            application::next(
                state,
                t,
                Party::User {
                    id: &asker.user,
                    applicant,
                    approver: asker.approver,
                },
            )
            .is_ok()
        })
        .map(|t| t.code().to_owned())
        .collect()
}

/// An application as the asker sees it; `events` (every step), the guest and the group's
/// talk only when one application is read. `names` holds the display names of the applicant,
/// of whoever took a step and of the bodies' approvers and members, read in one go by the
/// caller.
async fn view(
    state: &AppState,
    app: Application,
    asker: &Asker,
    events: Option<Vec<kairan_store::applications::Event>>,
    bodies: Vec<Body>,
    names: &std::collections::HashMap<String, String>,
) -> Result<ApplicationView, AppError> {
    let st = parse_state(&app.state)?;
    let kind = ApplicationKind::parse(&app.kind)
        .ok_or_else(|| AppError::Internal(format!("unknown application kind {}", app.kind)))?;
    let with_events = events.is_some();
    let name = |id: &str| names.get(id).cloned();
    let applicant_name = name(&app.applicant_id).unwrap_or_default();
    let events: Vec<EventView> = events
        .unwrap_or_default()
        .into_iter()
        .map(|e| EventView {
            seq: e.seq,
            actor_name: e.actor_id.as_deref().and_then(name),
            actor_id: e.actor_id,
            transition: e.transition,
            from_state: e.from_state,
            to_state: e.to_state,
            reason: e.reason,
            at: e.at,
        })
        .collect();
    let start = Date::parse_iso(&app.start_date);
    let end = Date::parse_iso(&app.end_date);
    let fiscal_year = start
        .map(|d| fiscal::fiscal_year_label_ja(fiscal::fiscal_year(d)))
        .unwrap_or_default();
    let days_left = end
        .map(|e| fiscal::days_left(state.clock.today(), e))
        .unwrap_or(0);
    let applicant = UserId(app.applicant_id.clone());
    let guest = if kind == ApplicationKind::Guest && with_events {
        crate::services::guests::view_for(state, &app.id, asker.user == applicant).await?
    } else {
        None
    };
    let talk_id = if kind == ApplicationKind::InterOrgGroup && with_events {
        let mut conn = state.store.read().await?;
        kairan_store::chat::talk_of_application(&mut conn, &app.id)
            .await?
            .map(|t| t.id)
    } else {
        None
    };
    let fields: serde_json::Value = serde_json::from_str(&app.fields).unwrap_or_default();
    let requested = |org: &str| {
        fields["bodies"].as_array().and_then(|list| {
            list.iter()
                .find(|b| b["org_id"] == org)
                .and_then(|b| b["requested"].as_str().map(str::to_owned))
        })
    };
    // Who a body put in is that body's to know until every body has agreed; from then on it
    // is the group's membership, shown to all of it (the applicant is in it too).
    let agreed = matches!(
        st,
        ApplicationState::Approved | ApplicationState::Active | ApplicationState::Ended
    );
    let bodies = bodies
        .into_iter()
        .map(|b| {
            let mut ids: Vec<String> = if agreed || b.org_id == asker.org {
                serde_json::from_str(&b.members).unwrap_or_default()
            } else {
                Vec::new()
            };
            if agreed && b.org_id == app.org_id && kind == ApplicationKind::InterOrgGroup {
                ids.insert(0, app.applicant_id.clone());
            }
            BodyView {
                requested: requested(&b.org_id),
                approved: b.approved_by.is_some(),
                approved_by_name: b.approved_by.as_deref().and_then(name),
                approved_at: b.approved_at,
                members: ids
                    .into_iter()
                    .map(|id| PersonView {
                        display_name: name(&id).unwrap_or_default(),
                        user_id: id,
                    })
                    .collect(),
                org_id: b.org_id,
                org_name: b.org_name,
            }
        })
        .collect();
    Ok(ApplicationView {
        guest,
        can: steps_for(st, asker, &applicant, kind.several_bodies()),
        kind: app.kind,
        kind_label_ja: kind.label_ja().to_owned(),
        kind_label_en: kind.label_en().to_owned(),
        state: st.code().to_owned(),
        state_label_ja: st.label_ja().to_owned(),
        state_label_en: st.label_en().to_owned(),
        fields,
        id: app.id,
        org_id: app.org_id,
        applicant_id: app.applicant_id,
        applicant_name,
        start_date: app.start_date,
        end_date: app.end_date,
        fiscal_year,
        days_left,
        version: app.version,
        created_at: app.created_at,
        updated_at: app.updated_at,
        events,
        bodies,
        talk_id,
    })
}

/// A new application, kept as a draft or submitted at once.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    kind: &str,
    fields: serde_json::Value,
    submit: bool,
) -> Result<ApplicationView, AppError> {
    let org = OrgId(org_id.to_owned());
    let kind = parse_kind(kind)?;
    policy::check(actor, apply_action(kind), &Resource::Org(&org))?;
    let Actor::User(me) = actor else {
        return Err(AppError::NotFound);
    };
    let Checked {
        fields,
        start,
        end,
        bodies,
    } = checked_fields(state, kind, fields, &me.user_id, org_id).await?;
    let draft = ApplicationState::Draft;
    let to = if submit {
        application::next(
            draft,
            &Transition::Submit,
            Party::User {
                id: &me.user_id,
                applicant: &me.user_id,
                approver: false,
            },
        )?
    } else {
        draft
    };
    let mut tx = state.store.write().await?;
    let id = rows::insert(
        &mut tx,
        &NewApplication {
            org_id,
            kind: kind.code(),
            applicant_id: &me.user_id.0,
            state: to.code(),
            fields: &fields,
            start_date: &start,
            end_date: &end,
        },
    )
    .await?;
    rows::insert_bodies(&mut tx, &id, &bodies).await?;
    rows::append_event(
        &mut tx,
        &NewEvent {
            application_id: &id,
            actor_id: Some(&me.user_id.0),
            transition: if submit { "submit" } else { "create" },
            from_state: draft.code(),
            to_state: to.code(),
            reason: None,
        },
    )
    .await?;
    // The guest's name and address are personal data: the audit record names the
    // application, its kind and period, not the person.
    let mut e = audit_entry(actor, AuditAction::ApplicationCreated);
    e.org_id = Some(org_id.to_owned());
    e.target_id = Some(id.clone());
    detail(&mut e, "kind", kind.code());
    detail(&mut e, "state", to.code());
    detail(&mut e, "start_date", start.as_str());
    detail(&mut e, "end_date", end.as_str());
    if !bodies.is_empty() {
        detail(&mut e, "bodies", bodies.len());
    }
    audit::append(&mut tx, e).await?;
    let told = if submit {
        let subject = Subject {
            id: &id,
            org_id,
            kind: kind.code(),
            applicant_id: &me.user_id.0,
            deciders: deciders(org_id, bodies),
        };
        notify_next(&mut tx, &subject, to, "submit", &me.user_id).await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    crate::services::protection::publish_notifications(state, told);
    get(state, actor, &id).await
}

/// One application with its steps, for its applicant and the body's approvers only.
pub async fn get(state: &AppState, actor: &Actor, id: &str) -> Result<ApplicationView, AppError> {
    let (app, bodies, asker) = load(state, actor, id).await?;
    let (events, names) = {
        let mut conn = state.store.read().await?;
        let events = rows::events(&mut conn, &app.id).await?;
        let member_ids: Vec<String> = bodies
            .iter()
            .flat_map(|b| serde_json::from_str::<Vec<String>>(&b.members).unwrap_or_default())
            .collect();
        let mut ids: Vec<&str> = events
            .iter()
            .filter_map(|e| e.actor_id.as_deref())
            .chain(bodies.iter().filter_map(|b| b.approved_by.as_deref()))
            .chain(member_ids.iter().map(String::as_str))
            .collect();
        ids.push(&app.applicant_id);
        ids.sort_unstable();
        ids.dedup();
        let names = users::display_names(&mut conn, &ids).await?;
        (events, names)
    };
    view(state, app, &asker, Some(events), bodies, &names).await
}

/// An application, its bodies where several decide, and who is asking about it; "not found"
/// for anyone but its applicant and its approvers.
async fn load(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<(Application, Vec<Body>, Asker), AppError> {
    let (app, bodies) = {
        let mut conn = state.store.read().await?;
        let app = rows::by_id(&mut conn, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let bodies = rows::bodies(&mut conn, &app.id).await?;
        (app, bodies)
    };
    let asker = asker(actor, &app, &bodies)?;
    Ok((app, bodies, asker))
}

/// Which list: the caller's own applications, or the body's queue of submitted ones waiting
/// for its approval (its own, and other bodies' groups it takes part in).
#[derive(Debug, Clone, Copy)]
pub enum List {
    Mine,
    Queue,
}

pub async fn list(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    which: List,
) -> Result<Vec<ApplicationView>, AppError> {
    let org = OrgId(org_id.to_owned());
    let Actor::User(me) = actor else {
        return Err(AppError::NotFound);
    };
    let found = {
        let mut conn = state.store.read().await?;
        match which {
            List::Queue => {
                policy::check(actor, Action::DecideApplication, &Resource::Org(&org))?;
                rows::queue(&mut conn, org_id).await?
            }
            List::Mine => {
                if me.org_id != org {
                    return Err(kairan_domain::policy::Denied::OtherOrganization.into());
                }
                rows::of_applicant(&mut conn, &me.user_id.0).await?
            }
        }
    };
    // Names and bodies for the whole list in one read each, not one per application.
    let (names, mut bodies) = {
        let mut ids: Vec<&str> = found.iter().map(|a| a.applicant_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let several: Vec<&str> = found
            .iter()
            .filter(|a| ApplicationKind::parse(&a.kind).is_some_and(|k| k.several_bodies()))
            .map(|a| a.id.as_str())
            .collect();
        let mut conn = state.store.read().await?;
        (
            users::display_names(&mut conn, &ids).await?,
            rows::bodies_of(&mut conn, &several).await?,
        )
    };
    let mut out = Vec::with_capacity(found.len());
    for app in found {
        let bodies = bodies.remove(&app.id).unwrap_or_default();
        let asker = asker(actor, &app, &bodies)?;
        out.push(view(state, app, &asker, None, bodies, &names).await?);
    }
    Ok(out)
}

/// A step asked for by a person: its code, the reason (returning and rejecting need one),
/// the version the person saw, and for an edit the new fields.
pub struct Step {
    pub transition: String,
    pub reason: Option<String>,
    pub version: i64,
    pub fields: Option<serde_json::Value>,
    /// With `approve` on an inter-body group: which of the approver's own staff join.
    pub members: Option<Vec<String>>,
}

fn parse_transition(step: &Step) -> Result<Transition, DomainError> {
    let reason = || step.reason.clone().unwrap_or_default();
    Ok(match step.transition.as_str() {
        "submit" => Transition::Submit,
        "resubmit" => Transition::Resubmit,
        "approve" => Transition::Approve,
        "withdraw" => Transition::Withdraw,
        "edit" => Transition::Edit,
        "reject" => Transition::Reject { reason: reason() },
        "request_changes" => Transition::RequestChanges { reason: reason() },
        _ => {
            return Err(DomainError::invalid(
                "transition",
                "操作",
                "submit、resubmit、edit、withdraw、approve、reject、request_changes のいずれかを指定してください。",
                "use submit, resubmit, edit, withdraw, approve, reject or request_changes.",
            ));
        }
    })
}

/// Takes a step on an application. The approval engine decides whether it is allowed; the
/// version check makes it one step from the state the person saw. Where several bodies
/// decide, an approval counts for the approver's body and the application is approved with
/// the last one; returning it clears every approval, so all decide again.
pub async fn step(
    state: &AppState,
    actor: &Actor,
    id: &str,
    step: Step,
) -> Result<ApplicationView, AppError> {
    let (app, bodies, asker) = load(state, actor, id).await?;
    let transition = parse_transition(&step)?;
    let from = parse_state(&app.state)?;
    let kind = parse_kind(&app.kind)?;
    let applicant = UserId(app.applicant_id.clone());
    // A step on a state the person did not see is refused as such, before anything else.
    if step.version != app.version {
        return Err(AppError::Conflict("application_changed"));
    }
    let to = application::next(
        from,
        &transition,
        Party::User {
            id: &asker.user,
            applicant: &applicant,
            approver: asker.approver,
        },
    )?;
    // An edit brings new fields, checked as at creation (the period again within the year).
    let edited = match (&transition, step.fields) {
        (Transition::Edit, Some(fields)) => {
            let c = checked_fields(state, kind, fields, &applicant, &app.org_id).await?;
            if kind.several_bodies()
                && c.bodies != bodies.iter().map(|b| b.org_id.clone()).collect::<Vec<_>>()
            {
                return Err(DomainError::invalid(
                    "bodies",
                    "参加する団体",
                    "参加する団体は変更できません。団体を変えるときは、新しく申請してください。",
                    "the participating bodies cannot be changed; apply anew instead.",
                )
                .into());
            }
            Some((c.fields, c.start, c.end))
        }
        (Transition::Edit, None) => {
            return Err(DomainError::invalid(
                "fields",
                "申請の内容",
                "変更後の内容を入力してください。",
                "send the changed fields.",
            )
            .into());
        }
        _ => None,
    };
    let reason = match &transition {
        Transition::Reject { reason } | Transition::RequestChanges { reason } => {
            Some(reason.trim().to_owned())
        }
        _ => None,
    };
    let several = kind.several_bodies();
    // Whom a body puts in is checked before the write lock: reads only.
    let chosen = if several && to == ApplicationState::Approved {
        crate::services::groups::chosen_members(state, &app, &asker.org, step.members).await?
    } else {
        Vec::new()
    };
    let mut tx = state.store.write().await?;
    let mut last_body = None;
    let approved = if several && to == ApplicationState::Approved {
        let complete = crate::services::groups::approve_for_body(
            &mut tx,
            &app,
            &asker.user,
            &asker.org,
            &chosen,
        )
        .await?;
        if !complete {
            tx.commit().await?;
            return get(state, actor, id).await;
        }
        // The body's approval recorded a step unless it was the last; this one moves it.
        last_body = Some(asker.org.clone());
        true
    } else {
        to == ApplicationState::Approved
    };
    let moved = Moved {
        transition: transition.code(),
        to: to.code(),
        reason: reason.as_deref(),
        fields: edited
            .as_ref()
            .map(|(f, s, e)| (f.as_str(), s.as_str(), e.as_str())),
    };
    let details: Vec<(&str, serde_json::Value)> = last_body
        .map(|b| vec![("body", serde_json::Value::from(b))])
        .unwrap_or_default();
    if !record_step(&mut tx, &app, Some(&asker.user), &moved, &details).await? {
        return Err(AppError::Conflict("application_changed"));
    }
    if several && to == ApplicationState::ChangesRequested {
        rows::clear_body_approvals(&mut tx, &app.id).await?;
    }
    if approved && kind == ApplicationKind::Guest {
        crate::services::guests::admit(state, &mut tx, &app).await?;
    }
    if approved && kind.extends().is_some() {
        apply_extension(&mut tx, &asker.user, &app).await?;
    }
    let told = notify_next(
        &mut tx,
        &Subject::of(&app, &bodies),
        to,
        transition.code(),
        &asker.user,
    )
    .await?;
    tx.commit().await?;
    crate::services::protection::publish_notifications(state, told);
    if approved
        && matches!(
            kind,
            ApplicationKind::Guest | ApplicationKind::InterOrgGroup
        )
    {
        // A period that has already begun starts now rather than at the clock's next pass.
        crate::services::guests::start_if_due(state, id).await?;
    }
    get(state, actor, id).await
}
