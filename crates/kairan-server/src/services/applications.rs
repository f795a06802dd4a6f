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
//! Only applications for guests are accepted so far; inter-body groups, exceptions, external
//! services and SNS posts will add their kinds here.

use crate::error::AppError;
use crate::services::{audit_entry, detail};
use crate::state::AppState;
use kairan_domain::application::{self, ApplicationKind, ApplicationState, Party, Transition};
use kairan_domain::audit::AuditAction;
use kairan_domain::fiscal::{self, Date};
use kairan_domain::guest::{ExtensionRequest, GuestRequest};
use kairan_domain::policy::{self, Action, Actor, Resource};
use kairan_domain::{DomainError, OrgId, UserId};
use kairan_store::applications::{self as rows, Application, Change, NewApplication, NewEvent};
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
    approver: bool,
}

fn asker(actor: &Actor, app: &Application) -> Result<Asker, AppError> {
    let Actor::User(u) = actor else {
        // The console acts on applications through the clock job, not as a person.
        return Err(AppError::NotFound);
    };
    let org = OrgId(app.org_id.clone());
    let approver = policy::check(actor, Action::DecideApplication, &Resource::Org(&org)).is_ok();
    // Nobody else learns that the application exists.
    if !approver && u.user_id.0 != app.applicant_id {
        return Err(AppError::NotFound);
    }
    Ok(Asker {
        user: u.user_id.clone(),
        approver,
    })
}

fn parse_state(code: &str) -> Result<ApplicationState, AppError> {
    ApplicationState::parse(code)
        .ok_or_else(|| AppError::Internal(format!("unknown application state {code}")))
}

fn parse_kind(code: &str) -> Result<ApplicationKind, DomainError> {
    match ApplicationKind::parse(code) {
        Some(k @ (ApplicationKind::Guest | ApplicationKind::GuestExtension)) => Ok(k),
        _ => Err(DomainError::invalid(
            "kind",
            "申請の種類",
            "現在受け付けている申請は、ゲストの利用申請（guest）と、その期間の延長（guest_extension）です。",
            "the kinds accepted now are guest and guest_extension.",
        )),
    }
}

/// What a notification about an application names.
struct Subject<'a> {
    id: &'a str,
    org_id: &'a str,
    kind: &'a str,
    applicant_id: &'a str,
}

impl<'a> From<&'a Application> for Subject<'a> {
    fn from(a: &'a Application) -> Self {
        Subject {
            id: &a.id,
            org_id: &a.org_id,
            kind: &a.kind,
            applicant_id: &a.applicant_id,
        }
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
        ApplicationState::Submitted => (
            users::active_with_role(tx.conn(), app.org_id, kairan_domain::Role::Admin.code())
                .await?
                .into_iter()
                .filter(|u| u != app.applicant_id)
                .collect(),
            "application_waiting",
        ),
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

/// The application's fields checked for its kind, as stored: (JSON, start date, end date).
/// An extension names an approved or active guest application of the same applicant and
/// body, and moves its last day later within the same fiscal year.
async fn checked_fields(
    state: &AppState,
    kind: ApplicationKind,
    value: serde_json::Value,
    applicant: &UserId,
    org_id: &str,
) -> Result<(String, String, String), AppError> {
    match kind {
        ApplicationKind::GuestExtension => {
            let raw: ExtensionRequest = parse_fields(value)?;
            let target = extension_target(state, &raw.application_id, applicant, org_id).await?;
            let current = Date::parse_iso(&target.end_date)
                .ok_or_else(|| AppError::Internal("stored end date".into()))?;
            let r = raw.validated(current)?;
            Ok((to_json(&r)?, target.start_date, r.end_date.to_string()))
        }
        _ => {
            let r = parse_fields::<GuestRequest>(value)?.validated(state.clock.today())?;
            Ok((
                to_json(&r)?,
                r.start_date.to_string(),
                r.end_date.to_string(),
            ))
        }
    }
}

/// Whether a guest's period can still be moved: approved, or in effect.
fn extendable(a: &Application) -> bool {
    a.state == ApplicationState::Approved.code() || a.state == ApplicationState::Active.code()
}

/// A guest application an extension may name: the applicant's own, in their body, approved
/// or active. Anything else is "not found", so an extension reveals nothing of others'.
async fn extension_target(
    state: &AppState,
    id: &str,
    applicant: &UserId,
    org_id: &str,
) -> Result<Application, AppError> {
    let mut conn = state.store.read().await?;
    let app = rows::by_id(&mut conn, id).await?;
    match app {
        Some(a)
            if a.kind == ApplicationKind::Guest.code()
                && a.applicant_id == applicant.0
                && a.org_id == org_id =>
        {
            if extendable(&a) {
                Ok(a)
            } else {
                Err(AppError::Conflict("extension_target_closed"))
            }
        }
        _ => Err(DomainError::invalid(
            "application_id",
            "延長する申請",
            "延長できるのは、自分が申請して承認されたゲスト利用申請です。",
            "only your own approved guest application can be extended.",
        )
        .into()),
    }
}

/// Applies an approved extension to its guest application, in the approval's transaction:
/// the new last day on the application and the guest, with a step on the application.
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
    kairan_store::guests::extend(tx, &target.id, &end).await?;
    Ok(())
}

/// The fields of a request body for their kind: a missing or mistyped field is named like any
/// other refused field, not answered with a bare parse error.
fn parse_fields<T: serde::de::DeserializeOwned>(
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

fn steps_for(state: ApplicationState, asker: &Asker, applicant: &UserId) -> Vec<String> {
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

/// An application as the asker sees it; `events` (every step) and the guest only when one
/// application is read. `names` holds the display names of the applicant and of whoever took
/// a step, read in one go by the caller.
async fn view(
    state: &AppState,
    app: Application,
    asker: &Asker,
    events: Option<Vec<kairan_store::applications::Event>>,
    names: &std::collections::HashMap<String, String>,
) -> Result<ApplicationView, AppError> {
    let st = parse_state(&app.state)?;
    let kind = ApplicationKind::parse(&app.kind)
        .ok_or_else(|| AppError::Internal(format!("unknown application kind {}", app.kind)))?;
    let with_events = events.is_some();
    let applicant_name = names.get(&app.applicant_id).cloned().unwrap_or_default();
    let events: Vec<EventView> = events
        .unwrap_or_default()
        .into_iter()
        .map(|e| EventView {
            seq: e.seq,
            actor_name: e.actor_id.as_ref().and_then(|id| names.get(id).cloned()),
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
    Ok(ApplicationView {
        guest,
        can: steps_for(st, asker, &applicant),
        kind: app.kind,
        kind_label_ja: kind.label_ja().to_owned(),
        kind_label_en: kind.label_en().to_owned(),
        state: st.code().to_owned(),
        state_label_ja: st.label_ja().to_owned(),
        state_label_en: st.label_en().to_owned(),
        fields: serde_json::from_str(&app.fields).unwrap_or_default(),
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
    policy::check(actor, Action::ApplyGuest, &Resource::Org(&org))?;
    let Actor::User(me) = actor else {
        return Err(AppError::NotFound);
    };
    let kind = parse_kind(kind)?;
    let (fields, start, end) = checked_fields(state, kind, fields, &me.user_id, org_id).await?;
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
    audit::append(&mut tx, e).await?;
    let told = if submit {
        let subject = Subject {
            id: &id,
            org_id,
            kind: kind.code(),
            applicant_id: &me.user_id.0,
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
    let (app, asker) = load(state, actor, id).await?;
    let (events, names) = {
        let mut conn = state.store.read().await?;
        let events = rows::events(&mut conn, &app.id).await?;
        let mut ids: Vec<&str> = events
            .iter()
            .filter_map(|e| e.actor_id.as_deref())
            .collect();
        ids.push(&app.applicant_id);
        ids.sort_unstable();
        ids.dedup();
        let names = users::display_names(&mut conn, &ids).await?;
        (events, names)
    };
    view(state, app, &asker, Some(events), &names).await
}

/// An application and who is asking about it; "not found" for anyone but its applicant and
/// the body's approvers.
async fn load(state: &AppState, actor: &Actor, id: &str) -> Result<(Application, Asker), AppError> {
    let app = {
        let mut conn = state.store.read().await?;
        rows::by_id(&mut conn, id)
            .await?
            .ok_or(AppError::NotFound)?
    };
    let asker = asker(actor, &app)?;
    Ok((app, asker))
}

/// Which list: the caller's own applications, or the body's queue of submitted ones waiting
/// for an approver.
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
                rows::of_org_in_state(&mut conn, org_id, ApplicationState::Submitted.code()).await?
            }
            List::Mine => {
                if me.org_id != org {
                    return Err(kairan_domain::policy::Denied::OtherOrganization.into());
                }
                rows::of_applicant(&mut conn, &me.user_id.0).await?
            }
        }
    };
    let names = {
        let mut ids: Vec<&str> = found.iter().map(|a| a.applicant_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut conn = state.store.read().await?;
        users::display_names(&mut conn, &ids).await?
    };
    let mut out = Vec::with_capacity(found.len());
    for app in found {
        let asker = asker(actor, &app)?;
        out.push(view(state, app, &asker, None, &names).await?);
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
/// version check makes it one step from the state the person saw.
pub async fn step(
    state: &AppState,
    actor: &Actor,
    id: &str,
    step: Step,
) -> Result<ApplicationView, AppError> {
    let (app, asker) = load(state, actor, id).await?;
    let transition = parse_transition(&step)?;
    let from = parse_state(&app.state)?;
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
            let kind = parse_kind(&app.kind)?;
            Some(checked_fields(state, kind, fields, &applicant, &app.org_id).await?)
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
    let mut tx = state.store.write().await?;
    let moved = Moved {
        transition: transition.code(),
        to: to.code(),
        reason: reason.as_deref(),
        fields: edited
            .as_ref()
            .map(|(f, s, e)| (f.as_str(), s.as_str(), e.as_str())),
    };
    if !record_step(&mut tx, &app, Some(&asker.user), &moved, &[]).await? {
        return Err(AppError::Conflict("application_changed"));
    }
    if to == ApplicationState::Approved && app.kind == ApplicationKind::Guest.code() {
        crate::services::guests::admit(state, &mut tx, &app).await?;
    }
    if to == ApplicationState::Approved && app.kind == ApplicationKind::GuestExtension.code() {
        apply_extension(&mut tx, &asker.user, &app).await?;
    }
    let told = notify_next(
        &mut tx,
        &Subject::from(&app),
        to,
        transition.code(),
        &asker.user,
    )
    .await?;
    tx.commit().await?;
    crate::services::protection::publish_notifications(state, told);
    if to == ApplicationState::Approved && app.kind == ApplicationKind::Guest.code() {
        // A period that has already begun starts now rather than at the clock's next pass.
        crate::services::guests::start_if_due(state, id).await?;
    }
    get(state, actor, id).await
}
