//! The 申請 screens (issue 10): a section head's own applications and the guest application
//! form, an administrator's queue of applications waiting for a decision, and one
//! application with its history and only the steps the person may take (`can`).
//!
//! The services decide everything (who may apply, the fields, the period within the fiscal
//! year, the approval engine, the version check); these pages show the answers. A refused form
//! is shown again with what was typed and the reason beside the field it names (422); a step
//! on a state the person did not see shows the application as it is now, with the reason
//! (409). Every step form carries the version the page showed.
//!
//! Inter-body groups (団体間グループ) have their own form (`/applications/new/group`): the
//! applicant's own staff to choose from and the other bodies on the server, each with whom
//! the applicant asks for in words. On a group's page each participating body's administrator
//! approves for their own body and picks which of their own staff join. The applicant of an
//! approved guest or group asks for a later last day from its page, and administrators list
//! their body's guests with the days left (`/applications/guests`).

use super::{PageCtx, PageError, message, page_me, render, when};
use crate::auth::{Authenticated, CurrentUser};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::services::applications::{self, ApplicationView, List, Step};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kairan_domain::application::ApplicationError;
use kairan_domain::fiscal::{self, Date};
use kairan_domain::group::{BodyRequest, GroupRequest};
use kairan_domain::guest::GuestRequest;
use kairan_domain::policy::{self, Action, Resource};
use kairan_domain::{DomainError, Localized};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/applications", get(list_page).post(create))
        .route("/applications/new", get(new_page))
        .route(
            "/applications/new/group",
            get(new_group_page).post(create_group),
        )
        .route("/applications/guests", get(guests_page))
        .route("/applications/{id}", get(detail_page))
        .route("/applications/{id}/edit", get(edit_page).post(save_edit))
        .route("/applications/{id}/step", post(take_step))
        .route("/applications/{id}/extend", post(extend))
}

/// The steps a page may name in `?done=`, each with its confirmation text.
const STEPS: [&str; 10] = [
    "draft",
    "submit",
    "edit",
    "resubmit",
    "withdraw",
    "approve",
    "reject",
    "request_changes",
    "save",
    "approve_body",
];

fn text(lang: Lang, key: &str) -> &'static str {
    i18n::strings(lang).get(key).copied().unwrap_or_default()
}

fn may(me: &Authenticated, action: Action) -> bool {
    let org = kairan_domain::OrgId(me.user.org_id.clone());
    policy::check(&me.actor(), action, &Resource::Org(&org)).is_ok()
}

fn date_label(iso: &str, lang: Lang) -> String {
    match (Date::parse_iso(iso), lang) {
        (Some(d), Lang::Ja) => d.label_ja(),
        (Some(d), Lang::En) => d.label_en(),
        (None, _) => iso.to_owned(),
    }
}

fn period(start: &str, end: &str, lang: Lang) -> String {
    let sep = lang.pick("～", " – ");
    format!("{}{sep}{}", date_label(start, lang), date_label(end, lang))
}

fn fiscal_year(a: &ApplicationView, lang: Lang) -> String {
    match (Date::parse_iso(&a.start_date), lang) {
        (Some(d), Lang::En) => fiscal::fiscal_year_label_en(fiscal::fiscal_year(d)),
        _ => a.fiscal_year.clone(),
    }
}

/// The badge's tone for a state: waiting ones warm, granted ones green, refused red.
fn badge(state: &str) -> &'static str {
    match state {
        "submitted" | "changes_requested" => "warn",
        "approved" | "active" => "ok",
        "rejected" => "stop",
        _ => "",
    }
}

/// 「あと12日」, 「本日まで」, 「期間終了」; nothing for an application that is over.
fn days_text(a: &ApplicationView, lang: Lang) -> String {
    if matches!(a.state.as_str(), "rejected" | "withdrawn" | "ended") {
        return String::new();
    }
    match a.days_left {
        n if n > 0 => text(lang, "app_days_left_n").replace("{n}", &n.to_string()),
        0 => text(lang, "app_days_today").to_owned(),
        _ => text(lang, "app_days_over").to_owned(),
    }
}

fn field(a: &ApplicationView, name: &str) -> String {
    match &a.fields[name] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn title(a: &ApplicationView, lang: Lang) -> String {
    match lang {
        Lang::Ja => format!("{}の申請", a.kind_label_ja),
        Lang::En => format!("{} application", a.kind_label_en),
    }
}

/// The bodies of a group as one line, the applicant's first (「東山町 → 西山市、南山町」), so a
/// queue in another body shows where the application comes from.
fn other_bodies_line(a: &ApplicationView) -> String {
    let own = a
        .bodies
        .iter()
        .find(|b| b.org_id == a.org_id)
        .map(|b| b.org_name.as_str())
        .unwrap_or_default();
    let others = a
        .bodies
        .iter()
        .filter(|b| b.org_id != a.org_id)
        .map(|b| b.org_name.as_str())
        .collect::<Vec<_>>()
        .join("、");
    format!("{own} → {others}")
}

/// One line of a list: what, for whom, when, where it stands.
fn row(a: &ApplicationView, lang: Lang) -> Value {
    let guest_name = field(a, "guest_name");
    let talk_name = field(a, "talk_name");
    let kind_label = lang.pick(&a.kind_label_ja, &a.kind_label_en).to_owned();
    let label = [&guest_name, &talk_name]
        .into_iter()
        .find(|s| !s.is_empty())
        .cloned()
        .unwrap_or(kind_label);
    let affiliation = if a.kind == "inter_org_group" {
        other_bodies_line(a)
    } else {
        field(a, "guest_affiliation")
    };
    context! {
        id => a.id,
        kind => lang.pick(&a.kind_label_ja, &a.kind_label_en),
        guest_name,
        affiliation,
        label,
        period => period(&a.start_date, &a.end_date, lang),
        fiscal_year => fiscal_year(a, lang),
        state => a.state,
        state_label => lang.pick(&a.state_label_ja, &a.state_label_en),
        badge => badge(&a.state),
        days => days_text(a, lang),
        applicant => a.applicant_name,
        created => when(Some(a.created_at), lang),
        updated => when(Some(a.updated_at), lang),
    }
}

fn done_text(done: Option<&str>, lang: Lang) -> Option<String> {
    let d = done.filter(|d| STEPS.contains(d))?;
    Some(text(lang, &format!("app_done_{d}")).to_owned())
}

#[derive(Deserialize)]
struct ListQuery {
    view: Option<String>,
    done: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, PageError> {
    let lang = ctx.lang;
    let me = me.map_err(|e| PageError(e, lang))?;
    let actor = me.actor();
    let can_apply = may(&me, Action::ApplyGuest);
    let can_apply_group = may(&me, Action::ApplyGroup);
    let can_decide = may(&me, Action::DecideApplication);
    let mine = applications::list(&state, &actor, &me.user.org_id, List::Mine)
        .await
        .map_err(|e| PageError(e, lang))?;
    let queue = if can_decide {
        applications::list(&state, &actor, &me.user.org_id, List::Queue)
            .await
            .map_err(|e| PageError(e, lang))?
    } else {
        Vec::new()
    };
    // An administrator who does not apply starts on the queue; everyone else on their own.
    let show_mine = can_apply || can_apply_group || !mine.is_empty() || !can_decide;
    let view = match q.view.as_deref() {
        Some("queue") if can_decide => "queue",
        _ if !show_mine => "queue",
        _ => "mine",
    };
    let rows: Vec<Value> = if view == "queue" { &queue } else { &mine }
        .iter()
        .map(|a| row(a, lang))
        .collect();
    let me_v = page_me(&state, &ctx, &me).await?;
    render(
        &state,
        "applications.html",
        &ctx,
        context! {
            me => me_v, nav => "applications", view, rows, can_apply, can_apply_group, can_decide, show_mine,
            mine_count => mine.len(), queue_count => queue.len(),
            done => done_text(q.done.as_deref(), lang),
        },
    )
}

/// The guest application form as typed: text as it came, dates as `YYYY-MM-DD` from the date
/// inputs, the confirmation as a ticked box, the button pressed and the version shown.
#[derive(Deserialize, Serialize, Default, Clone)]
struct GuestForm {
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    need: String,
    #[serde(default)]
    guest_name: String,
    #[serde(default)]
    guest_affiliation: String,
    #[serde(default)]
    guest_email: String,
    #[serde(default)]
    start_date: String,
    #[serde(default)]
    end_date: String,
    #[serde(default)]
    environment_confirmed: Option<String>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    version: String,
}

impl GuestForm {
    fn from_view(a: &ApplicationView) -> GuestForm {
        GuestForm {
            purpose: field(a, "purpose"),
            need: field(a, "need"),
            guest_name: field(a, "guest_name"),
            guest_affiliation: field(a, "guest_affiliation"),
            guest_email: field(a, "guest_email"),
            start_date: a.start_date.clone(),
            end_date: a.end_date.clone(),
            environment_confirmed: (a.fields["environment_confirmed"] == true)
                .then(|| "1".to_owned()),
            action: String::new(),
            version: a.version.to_string(),
        }
    }

    /// The fields for the service. A date left empty or malformed is named like any other
    /// field, after the fields above it on the form, so the first problem on the page is the
    /// one reported.
    fn fields(&self, today: Date) -> Result<serde_json::Value, AppError> {
        let start = Date::parse_input("start_date", "開始日", &self.start_date);
        let end = Date::parse_input("end_date", "終了日", &self.end_date);
        let (start, end) = match (start, end) {
            (Ok(s), Ok(e)) => (s, e),
            (s, e) => {
                GuestRequest {
                    purpose: self.purpose.clone(),
                    need: self.need.clone(),
                    guest_name: self.guest_name.clone(),
                    guest_affiliation: self.guest_affiliation.clone(),
                    guest_email: self.guest_email.clone(),
                    start_date: today,
                    end_date: today,
                    environment_confirmed: true,
                }
                .validated(today)?;
                (s?, e?)
            }
        };
        Ok(serde_json::json!({
            "purpose": self.purpose,
            "need": self.need,
            "guest_name": self.guest_name,
            "guest_affiliation": self.guest_affiliation,
            "guest_email": self.guest_email,
            "start_date": start.to_string(),
            "end_date": end.to_string(),
            "environment_confirmed": self.environment_confirmed.is_some(),
        }))
    }
}

/// The field a refusal names, to mark it on the form (`aria-invalid`).
fn error_field(e: &AppError) -> Option<&'static str> {
    match e {
        AppError::Invalid(d) | AppError::Application(ApplicationError::Invalid(d)) => match d {
            DomainError::InvalidField { field, .. } => Some(field),
            DomainError::PeriodCrossesFiscalYear { .. } => Some("end_date"),
            DomainError::Password(_) => None,
        },
        _ => None,
    }
}

fn is_form_error(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Invalid(_) | AppError::Application(ApplicationError::Invalid(_))
    )
}

/// What the form page shows: the values, the application being corrected (none for a new
/// one), and the refusal with the field it names.
struct FormPage<'a> {
    form: &'a GuestForm,
    editing: Option<&'a ApplicationView>,
    error: Option<&'a AppError>,
}

async fn form_view(
    state: &AppState,
    ctx: &PageCtx,
    me: &Authenticated,
    page: FormPage<'_>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let today = state.clock.today();
    let end_hint = end_hint(state, lang);
    let (action, heading, next_step) = match page.editing {
        Some(a) => {
            let next = if a.can.iter().any(|c| c == "submit") {
                Some("submit")
            } else if a.can.iter().any(|c| c == "resubmit") {
                Some("resubmit")
            } else {
                None
            };
            (
                format!("/applications/{}/edit", a.id),
                text(lang, "app_edit_title"),
                next,
            )
        }
        None => (
            "/applications".to_owned(),
            text(lang, "app_new_title"),
            None,
        ),
    };
    let status = match page.error {
        Some(e) => e.status(),
        None => StatusCode::OK,
    };
    let me_v = page_me(state, ctx, me).await?;
    let html = render(
        state,
        "application_form.html",
        ctx,
        context! {
            me => me_v, nav => "applications", heading, action,
            form => Value::from_serialize(page.form),
            editing => page.editing.map(|a| context! { id => a.id, version => page.form.version.clone() }),
            next_step,
            today => today.to_string(),
            end_hint,
            error => page.error.map(|e| message(e, ctx)),
            error_field => page.error.and_then(error_field),
            kind => "guest",
            show_kinds => page.editing.is_none() && may(me, Action::ApplyGroup),
        },
    )?;
    Ok((status, html).into_response())
}

async fn new_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    // Someone who may apply for groups only starts on the group form.
    if !may(&me, Action::ApplyGuest) && may(&me, Action::ApplyGroup) {
        return Ok(Redirect::to("/applications/new/group").into_response());
    }
    let org = kairan_domain::OrgId(me.user.org_id.clone());
    policy::check(&me.actor(), Action::ApplyGuest, &Resource::Org(&org))
        .map_err(|e| PageError(e.into(), ctx.lang))?;
    let form = GuestForm::default();
    form_view(
        &state,
        &ctx,
        &me,
        FormPage {
            form: &form,
            editing: None,
            error: None,
        },
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Form(f): Form<GuestForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let me = me.map_err(|e| PageError(e, lang))?;
    let org = kairan_domain::OrgId(me.user.org_id.clone());
    policy::check(&me.actor(), Action::ApplyGuest, &Resource::Org(&org))
        .map_err(|e| PageError(e.into(), lang))?;
    let submit = f.action != "draft";
    let created = match f.fields(state.clock.today()) {
        Ok(fields) => {
            applications::create(
                &state,
                &me.actor(),
                &me.user.org_id,
                "guest",
                fields,
                submit,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(a) => {
            let done = if submit { "submit" } else { "draft" };
            Ok(Redirect::to(&format!("/applications/{}?done={done}", a.id)).into_response())
        }
        Err(e) if is_form_error(&e) => {
            form_view(
                &state,
                &ctx,
                &me,
                FormPage {
                    form: &f,
                    editing: None,
                    error: Some(&e),
                },
            )
            .await
        }
        Err(e) => Err(PageError(e, lang)),
    }
}

/// Someone to choose on a form: a colleague of one's own body, with title and section.
#[derive(Serialize)]
struct Person {
    id: String,
    name: String,
    /// 「防災課 主査」: what tells two people of the same name apart.
    sub: String,
    checked: bool,
}

/// Active staff of the asker's own body, never guests (the same people the service accepts
/// as members of a group), in the directory's order; `leave_out` (the applicant, who is in
/// the group anyway) is not offered.
async fn own_staff(
    state: &AppState,
    me: &Authenticated,
    leave_out: &str,
    chosen: &[String],
) -> Result<Vec<Person>, AppError> {
    let actor = me.actor();
    let org = &me.user.org_id;
    let list = crate::services::admin::directory(state, &actor, org).await?;
    let sections: std::collections::HashMap<String, String> =
        crate::services::admin::departments(state, &actor, org)
            .await?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect();
    let guests: std::collections::HashSet<String> = {
        let mut conn = state.store.read().await?;
        kairan_store::users::roles_in_org(&mut conn, org)
            .await?
            .into_iter()
            .filter(|(_, role)| role == kairan_domain::Role::Guest.code())
            .map(|(id, _)| id)
            .collect()
    };
    Ok(list
        .into_iter()
        .filter(|u| u.id != leave_out && !guests.contains(&u.id))
        .map(|u| {
            let section = u.department_id.as_ref().and_then(|d| sections.get(d));
            let sub = [section.map(String::as_str), u.title.as_deref()]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            Person {
                checked: chosen.contains(&u.id),
                id: u.id,
                name: u.display_name,
                sub,
            }
        })
        .collect())
}

/// The other bodies on this server (never one's own), by code, with their names in the
/// page's language.
async fn other_bodies(
    state: &AppState,
    me: &Authenticated,
    lang: Lang,
) -> Result<Vec<(String, String)>, AppError> {
    Ok(crate::services::admin::list_orgs(state)
        .await?
        .into_iter()
        .filter(|o| o.id != me.user.org_id)
        .map(|o| {
            let name = if o.name_en.is_empty() {
                o.name
            } else {
                lang.pick(&o.name, &o.name_en).to_owned()
            };
            (o.id, name)
        })
        .collect())
}

/// The group application form as typed: the ticked colleagues (`own_members`, repeated), the
/// ticked bodies (`body`, repeated) and per body what was typed in `requested.{org}`, kept
/// for unticked bodies too so nothing typed is lost when the form comes back.
#[derive(Serialize, Default, Clone, Debug)]
struct GroupForm {
    purpose: String,
    need: String,
    talk_name: String,
    own_members: Vec<String>,
    bodies: Vec<String>,
    requested: std::collections::BTreeMap<String, String>,
    start_date: String,
    end_date: String,
}

impl GroupForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> GroupForm {
        let mut f = GroupForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "purpose" => f.purpose = v,
                "need" => f.need = v,
                "talk_name" => f.talk_name = v,
                "start_date" => f.start_date = v,
                "end_date" => f.end_date = v,
                "own_members" => f.own_members.push(v),
                "body" => f.bodies.push(v),
                _ => {
                    if let Some(org) = k.strip_prefix("requested.") {
                        f.requested.insert(org.to_owned(), v);
                    }
                }
            }
        }
        f
    }

    fn request(&self, start: Date, end: Date) -> GroupRequest {
        GroupRequest {
            purpose: self.purpose.clone(),
            need: self.need.clone(),
            talk_name: self.talk_name.clone(),
            own_members: self.own_members.clone(),
            bodies: self
                .bodies
                .iter()
                .map(|org| BodyRequest {
                    org_id: org.clone(),
                    requested: self.requested.get(org).cloned().unwrap_or_default(),
                })
                .collect(),
            start_date: start,
            end_date: end,
        }
    }

    /// The fields for the service; as on the guest form, a date left empty or malformed is
    /// named after the fields above it.
    fn fields(&self, today: Date, own_org: &str) -> Result<serde_json::Value, AppError> {
        let start = Date::parse_input("start_date", "開始日", &self.start_date);
        let end = Date::parse_input("end_date", "終了日", &self.end_date);
        let (start, end) = match (start, end) {
            (Ok(s), Ok(e)) => (s, e),
            (s, e) => {
                self.request(today, today).validated(today, own_org)?;
                (s?, e?)
            }
        };
        serde_json::to_value(self.request(start, end))
            .map_err(|e| AppError::Internal(e.to_string()))
    }
}

/// The hint under the end date: the last day a period starting this fiscal year may have.
fn end_hint(state: &AppState, lang: Lang) -> String {
    let last = fiscal::fiscal_year_end(state.clock.today());
    let last_label = match lang {
        Lang::Ja => last.label_ja(),
        Lang::En => last.label_en(),
    };
    text(lang, "app_end_hint").replace("{last}", &last_label)
}

async fn group_form_view(
    state: &AppState,
    ctx: &PageCtx,
    me: &Authenticated,
    form: &GroupForm,
    error: Option<&AppError>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let page_err = |e| PageError(e, lang);
    let staff = own_staff(state, me, &me.user.id, &form.own_members)
        .await
        .map_err(page_err)?;
    let bodies: Vec<Value> = other_bodies(state, me, lang)
        .await
        .map_err(page_err)?
        .into_iter()
        .map(|(id, name)| {
            context! {
                checked => form.bodies.contains(&id),
                requested => form.requested.get(&id).cloned().unwrap_or_default(),
                id, name,
            }
        })
        .collect();
    let status = error.map_or(StatusCode::OK, |e| e.status());
    let me_v = page_me(state, ctx, me).await?;
    let html = render(
        state,
        "application_group_form.html",
        ctx,
        context! {
            me => me_v, nav => "applications",
            heading => text(lang, "app_group_title"),
            form => Value::from_serialize(form),
            staff, bodies,
            today => state.clock.today().to_string(),
            end_hint => end_hint(state, lang),
            error => error.map(|e| message(e, ctx)),
            error_field => error.and_then(error_field),
            kind => "inter_org_group",
            show_kinds => may(me, Action::ApplyGuest),
        },
    )?;
    Ok((status, html).into_response())
}

async fn new_group_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let org = kairan_domain::OrgId(me.user.org_id.clone());
    policy::check(&me.actor(), Action::ApplyGroup, &Resource::Org(&org))
        .map_err(|e| PageError(e.into(), ctx.lang))?;
    group_form_view(&state, &ctx, &me, &GroupForm::default(), None).await
}

async fn create_group(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let me = me.map_err(|e| PageError(e, lang))?;
    let org = kairan_domain::OrgId(me.user.org_id.clone());
    policy::check(&me.actor(), Action::ApplyGroup, &Resource::Org(&org))
        .map_err(|e| PageError(e.into(), lang))?;
    let f = GroupForm::from_pairs(pairs);
    let created = match f.fields(state.clock.today(), &me.user.org_id) {
        Ok(fields) => {
            applications::create(
                &state,
                &me.actor(),
                &me.user.org_id,
                "inter_org_group",
                fields,
                true,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(a) => Ok(Redirect::to(&format!("/applications/{}?done=submit", a.id)).into_response()),
        Err(e) if is_form_error(&e) => group_form_view(&state, &ctx, &me, &f, Some(&e)).await,
        Err(e) => Err(PageError(e, lang)),
    }
}

/// What the detail page shows besides the application: a confirmation, or a refusal with
/// what was typed or chosen so far.
#[derive(Default)]
struct Notice {
    done: Option<String>,
    error: Option<AppError>,
    reason: String,
    /// The colleagues ticked on a group's approval form that was refused.
    members: Option<Vec<String>>,
    /// The extension form as typed, with its refusal.
    extension: Option<ExtensionNotice>,
}

#[derive(Default)]
struct ExtensionNotice {
    end_date: String,
    reason: String,
    error: Option<AppError>,
}

/// The kind of application that extends `kind`, for the kinds whose period can be extended.
fn extension_kind(kind: &str) -> Option<(&'static str, Action)> {
    match kind {
        "guest" => Some(("guest_extension", Action::ApplyGuest)),
        "inter_org_group" => Some(("group_extension", Action::ApplyGroup)),
        _ => None,
    }
}

/// Whether the person may ask for a later last day from this page: the applicant of an
/// approved or active guest or group who may still apply for its kind.
fn may_extend(a: &ApplicationView, me: &Authenticated) -> bool {
    a.applicant_id == me.user.id
        && matches!(a.state.as_str(), "approved" | "active")
        && extension_kind(&a.kind).is_some_and(|(_, action)| may(me, action))
}

/// The extension form: the limits of the new last day (after the current one, by the end of
/// the fiscal year the period lies in), the values typed and the refusal.
fn extension_form(a: &ApplicationView, notice: Option<&ExtensionNotice>, ctx: &PageCtx) -> Value {
    let lang = ctx.lang;
    let end = Date::parse_iso(&a.end_date);
    let last = Date::parse_iso(&a.start_date).map(fiscal::fiscal_year_end);
    let label = |d: Date| match lang {
        Lang::Ja => d.label_ja(),
        Lang::En => d.label_en(),
    };
    let hint = text(lang, "app_extend_hint")
        .replace("{end}", &end.map(label).unwrap_or_default())
        .replace("{last}", &last.map(label).unwrap_or_default());
    let lead = if a.kind == "inter_org_group" {
        text(lang, "app_extend_lead_group")
    } else {
        text(lang, "app_extend_lead_guest")
    };
    let error = notice.and_then(|n| n.error.as_ref());
    let min = end.and_then(|d| d.add_days(1));
    context! {
        // Nothing is left to extend into once the period ends on 31 March.
        possible => matches!((min, last), (Some(m), Some(l)) if m <= l),
        min => min.map(|d| d.to_string()),
        max => last.map(|d| d.to_string()),
        hint, lead,
        end_date => notice.map(|n| n.end_date.clone()).unwrap_or_default(),
        reason => notice.map(|n| n.reason.clone()).unwrap_or_default(),
        error => error.map(|e| message(e, ctx)),
        error_field => error.and_then(error_field),
    }
}

/// The participating bodies of a group or its extension, the applicant's first: whom each
/// was asked for, whether and by whom it approved, and whom it put in.
fn bodies_table(a: &ApplicationView, me: &Authenticated, lang: Lang) -> Vec<Value> {
    a.bodies
        .iter()
        .map(|b| {
            let approved = b.approved_by_name.as_ref().map(|who| {
                text(lang, "app_body_approved_by")
                    .replace("{who}", who)
                    .replace("{at}", &when(b.approved_at, lang))
            });
            context! {
                org_name => b.org_name,
                applicant_body => b.org_id == a.org_id,
                mine => b.org_id == me.user.org_id,
                requested => b.requested,
                approved => b.approved,
                approved_text => approved,
                members => b.members.iter().map(|m| m.display_name.clone()).collect::<Vec<_>>(),
            }
        })
        .collect()
}

/// Who of the applicant's body the applicant named (`own_members`), by name for colleagues of
/// that body and as a number for everyone else, who does not see that body's directory.
fn own_requested(a: &ApplicationView, staff: &[Person], same_body: bool, lang: Lang) -> String {
    let ids: Vec<String> = a.fields["own_members"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return String::new();
    }
    if same_body {
        let names: Vec<&str> = ids
            .iter()
            .filter_map(|id| staff.iter().find(|p| &p.id == id))
            .map(|p| p.name.as_str())
            .collect();
        if names.len() == ids.len() {
            return names.join(lang.pick("、", ", "));
        }
    }
    text(lang, "app_people_n").replace("{n}", &ids.len().to_string())
}

async fn detail_view(
    state: &AppState,
    ctx: &PageCtx,
    me: &Authenticated,
    id: &str,
    notice: Notice,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let a = applications::get(state, &me.actor(), id)
        .await
        .map_err(|e| PageError(e, lang))?;
    let is_applicant = a.applicant_id == me.user.id;
    let system = text(lang, "app_by_system");
    let events: Vec<Value> = a
        .events
        .iter()
        .map(|e| {
            let label = text(lang, &format!("app_step_{}", e.transition));
            context! {
                when => when(Some(e.at), lang),
                who => e.actor_name.clone().unwrap_or_else(|| system.to_owned()),
                step => if label.is_empty() { e.transition.as_str() } else { label },
                to_state => e.to_state,
                reason => e.reason,
            }
        })
        .collect();
    let guest = a.guest.as_ref().map(|g| {
        let status_label = text(lang, &format!("app_guest_{}", g.status));
        context! {
            login_id => g.login_id,
            status => g.status,
            status_label => if status_label.is_empty() { g.status.as_str() } else { status_label },
            invitation_path => g.invitation_path,
            expires => when(g.invitation_expires_at, lang),
            accepted => g.accepted_at.map(|t| when(Some(t), lang)),
        }
    });
    let extension_of = field(&a, "application_id");
    // Why it came back or was refused, at the top where the applicant looks first.
    let last_reason = if matches!(a.state.as_str(), "changes_requested" | "rejected") {
        a.events.iter().rev().find_map(|e| e.reason.clone())
    } else {
        None
    };
    let can = |step: &str| a.can.iter().any(|c| c == step);
    let is_group = a.kind == "inter_org_group";
    // A group's approval names who of the approver's own staff join: the ones ticked on a
    // refused form, else (for the applicant's body) the colleagues the applicant named.
    let approve_group = is_group && can("approve");
    let same_body = me.user.org_id == a.org_id;
    let staff = if approve_group || (is_group && same_body) {
        let named: Vec<String> = a.fields["own_members"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let chosen = match &notice.members {
            Some(m) => m.clone(),
            None if same_body => named,
            None => Vec::new(),
        };
        let staff = own_staff(state, me, &a.applicant_id, &chosen).await;
        match staff {
            Ok(list) => list,
            Err(e) if approve_group => return Err(PageError(e, lang)),
            // Only for naming the applicant's colleagues: a number will do.
            Err(_) => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let own_requested = own_requested(&a, &staff, same_body, lang);
    // The talk is opened by its members: the applicant and whom each body put in.
    let talk_id = a.talk_id.as_ref().filter(|_| {
        is_applicant
            || a.bodies
                .iter()
                .any(|b| b.members.iter().any(|m| m.user_id == me.user.id))
    });
    let extension = may_extend(&a, me).then(|| extension_form(&a, notice.extension.as_ref(), ctx));
    let extension_error = notice.extension.as_ref().and_then(|n| n.error.as_ref());
    let status = notice
        .error
        .as_ref()
        .or(extension_error)
        .map_or(StatusCode::OK, |e| e.status());
    let invalid = notice.error.as_ref().and_then(error_field);
    let me_v = page_me(state, ctx, me).await?;
    let html = render(
        state,
        "application.html",
        ctx,
        context! {
            me => me_v, nav => "applications",
            heading => title(&a, lang),
            a => context! {
                id => a.id, kind => a.kind, version => a.version,
                state => a.state,
                state_label => lang.pick(&a.state_label_ja, &a.state_label_en),
                badge => badge(&a.state),
                applicant => a.applicant_name,
                period => period(&a.start_date, &a.end_date, lang),
                start => date_label(&a.start_date, lang),
                end => date_label(&a.end_date, lang),
                fiscal_year => fiscal_year(&a, lang),
                days => days_text(&a, lang),
                created => when(Some(a.created_at), lang),
                purpose => field(&a, "purpose"),
                need => field(&a, "need"),
                guest_name => field(&a, "guest_name"),
                guest_affiliation => field(&a, "guest_affiliation"),
                guest_email => field(&a, "guest_email"),
                environment_confirmed => a.fields["environment_confirmed"] == true,
                reason => field(&a, "reason"),
                talk_name => field(&a, "talk_name"),
                extension_of,
                talk_id,
            },
            is_applicant, events, guest, last_reason,
            bodies => bodies_table(&a, me, lang),
            own_requested, same_body,
            staff => approve_group.then_some(staff),
            members_invalid => invalid == Some("members"),
            extension,
            can_approve => can("approve"),
            can_decide => can("reject") || can("request_changes"),
            can_return => can("request_changes"),
            can_reject => can("reject"),
            can_submit => can("submit"),
            can_resubmit => can("resubmit"),
            can_withdraw => can("withdraw"),
            can_edit => can("edit"),
            done => notice.done,
            error => notice.error.as_ref().map(|e| message(e, ctx)),
            error_code => notice.error.as_ref().map(|e| e.code()),
            reason => notice.reason,
            reason_invalid => invalid == Some("reason"),
        },
    )?;
    Ok((status, html).into_response())
}

async fn detail_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
    Query(q): Query<super::Done>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let notice = Notice {
        done: done_text(q.done.as_deref(), ctx.lang),
        ..Notice::default()
    };
    detail_view(&state, &ctx, &me, &id, notice).await
}

async fn edit_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let a = applications::get(&state, &me.actor(), &id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    if !a.can.iter().any(|c| c == "edit") || a.kind != "guest" {
        return Ok(Redirect::to(&format!("/applications/{id}")).into_response());
    }
    let form = GuestForm::from_view(&a);
    form_view(
        &state,
        &ctx,
        &me,
        FormPage {
            form: &form,
            editing: Some(&a),
            error: None,
        },
    )
    .await
}

fn version(raw: &str) -> i64 {
    // A version that is not a number matches no application: the step is refused as made on
    // a state the person did not see.
    raw.trim().parse().unwrap_or(-1)
}

/// A refused step, as the person should read it: when the application moved on since the
/// page was shown, that is the reason, whatever step the engine refused from the new state.
fn explain(e: AppError, shown: i64, current: i64) -> AppError {
    match e {
        AppError::Application(ref inner)
            if shown != current && !matches!(inner, ApplicationError::Invalid(_)) =>
        {
            AppError::Conflict("application_changed")
        }
        other => other,
    }
}

/// Whether a refused step is shown on the application's page (with the state as it is now)
/// rather than as an error page.
fn shown_on_page(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Invalid(_) | AppError::Application(_) | AppError::Conflict(_)
    )
}

/// A refused step shown on the application's page, with what the form carried (`kept`: the
/// reason typed, the colleagues ticked) so nothing has to be typed again.
async fn refused(
    state: &AppState,
    ctx: &PageCtx,
    me: &Authenticated,
    id: &str,
    e: AppError,
    shown: i64,
    kept: Notice,
) -> Result<Response, PageError> {
    if !shown_on_page(&e) {
        return Err(PageError(e, ctx.lang));
    }
    let current = applications::get(state, &me.actor(), id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?
        .version;
    let notice = Notice {
        error: Some(explain(e, shown, current)),
        ..kept
    };
    detail_view(state, ctx, me, id, notice).await
}

async fn save_edit(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
    Form(f): Form<GuestForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let me = me.map_err(|e| PageError(e, lang))?;
    let actor = me.actor();
    let shown = version(&f.version);
    let edited = match f.fields(state.clock.today()) {
        Ok(fields) => {
            applications::step(
                &state,
                &actor,
                &id,
                Step {
                    transition: "edit".into(),
                    reason: None,
                    version: shown,
                    fields: Some(fields),
                    members: None,
                },
            )
            .await
        }
        Err(e) => Err(e),
    };
    let a = match edited {
        Ok(a) => a,
        Err(e) if is_form_error(&e) => {
            let current = applications::get(&state, &actor, &id)
                .await
                .map_err(|e| PageError(e, lang))?;
            return form_view(
                &state,
                &ctx,
                &me,
                FormPage {
                    form: &f,
                    editing: Some(&current),
                    error: Some(&e),
                },
            )
            .await;
        }
        Err(e) => return refused(&state, &ctx, &me, &id, e, shown, Notice::default()).await,
    };
    // 「保存して提出する」: the next step from the version the edit produced.
    let next = ["submit", "resubmit"]
        .into_iter()
        .find(|s| f.action == "save_submit" && a.can.iter().any(|c| c == s));
    let Some(next) = next else {
        return Ok(Redirect::to(&format!("/applications/{id}?done=edit")).into_response());
    };
    let step = Step {
        transition: next.into(),
        reason: None,
        version: a.version,
        fields: None,
        members: None,
    };
    match applications::step(&state, &actor, &id, step).await {
        Ok(_) => Ok(Redirect::to(&format!("/applications/{id}?done={next}")).into_response()),
        Err(e) => refused(&state, &ctx, &me, &id, e, a.version, Notice::default()).await,
    }
}

/// A step's form: the step, the version shown, the reason of a return or rejection, and for
/// a group's approval the colleagues ticked (`members`, repeated).
#[derive(Default)]
struct StepForm {
    transition: String,
    version: String,
    reason: String,
    members: Vec<String>,
}

impl StepForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> StepForm {
        let mut f = StepForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "transition" => f.transition = v,
                "version" => f.version = v,
                "reason" => f.reason = v,
                "members" => f.members.push(v),
                _ => {}
            }
        }
        f
    }
}

async fn take_step(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let f = StepForm::from_pairs(pairs);
    let shown = version(&f.version);
    let needs_reason = matches!(f.transition.as_str(), "reject" | "request_changes");
    let approving = f.transition == "approve";
    let step = Step {
        transition: f.transition.clone(),
        reason: needs_reason.then(|| f.reason.clone()),
        version: shown,
        fields: None,
        // A group's approval names the approver's own staff who join; other kinds need none
        // and the service ignores them.
        members: approving.then(|| f.members.clone()),
    };
    match applications::step(&state, &me.actor(), &id, step).await {
        Ok(a) => {
            // One body's approval of a group leaves it waiting for the others.
            let done = if approving && a.state == "submitted" {
                "approve_body"
            } else {
                STEPS
                    .into_iter()
                    .find(|s| *s == f.transition)
                    .unwrap_or("save")
            };
            Ok(Redirect::to(&format!("/applications/{id}?done={done}")).into_response())
        }
        Err(e) => {
            let kept = Notice {
                reason: if needs_reason {
                    f.reason
                } else {
                    String::new()
                },
                members: approving.then_some(f.members),
                ..Notice::default()
            };
            refused(&state, &ctx, &me, &id, e, shown, kept).await
        }
    }
}

#[derive(Deserialize)]
struct ExtendForm {
    #[serde(default)]
    end_date: String,
    #[serde(default)]
    reason: String,
}

/// 「期間の延長を申請」 on an approved or active guest or group: a new application of the
/// extension's kind, submitted at once; its page next. A refusal shows the application again
/// with the form as typed and the reason beside the field it names.
async fn extend(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
    Form(f): Form<ExtendForm>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let me = me.map_err(|e| PageError(e, lang))?;
    let target = applications::get(&state, &me.actor(), &id)
        .await
        .map_err(|e| PageError(e, lang))?;
    let Some((kind, _)) = extension_kind(&target.kind) else {
        return Ok(Redirect::to(&format!("/applications/{id}")).into_response());
    };
    let created = match Date::parse_input("end_date", "延長後の終了日", &f.end_date) {
        Ok(end) => {
            let fields = serde_json::json!({
                "application_id": id,
                "end_date": end.to_string(),
                "reason": f.reason,
            });
            applications::create(&state, &me.actor(), &me.user.org_id, kind, fields, true).await
        }
        Err(e) => Err(e.into()),
    };
    match created {
        Ok(a) => Ok(Redirect::to(&format!("/applications/{}?done=submit", a.id)).into_response()),
        Err(e) if is_form_error(&e) || matches!(e, AppError::Conflict(_)) => {
            // Beside the form when the page shows it; at the top otherwise.
            let notice = if may_extend(&target, &me) {
                Notice {
                    extension: Some(ExtensionNotice {
                        end_date: f.end_date,
                        reason: f.reason,
                        error: Some(e),
                    }),
                    ..Notice::default()
                }
            } else {
                Notice {
                    error: Some(e),
                    ..Notice::default()
                }
            };
            detail_view(&state, &ctx, &me, &id, notice).await
        }
        Err(e) => Err(PageError(e, lang)),
    }
}

/// Where a guest stands today: not started, in its period, over (or suspended by an
/// administrator), and the days left in words.
fn guest_standing(
    g: &kairan_store::guests::GuestRow,
    today: Date,
    lang: Lang,
) -> (&'static str, String) {
    let end = Date::parse_iso(&g.end_date);
    let start = Date::parse_iso(&g.start_date);
    let over = g.ended_at.is_some()
        || g.status == "ended"
        || end.is_some_and(|e| fiscal::days_left(today, e) < 0);
    let status = if over {
        "ended"
    } else if g.status == "suspended" {
        "suspended"
    } else if start.is_some_and(|s| today < s) {
        "pending"
    } else {
        "active"
    };
    let days = match end.map(|e| fiscal::days_left(today, e)) {
        _ if over => text(lang, "guest_days_over").to_owned(),
        Some(0) => text(lang, "guest_days_today").to_owned(),
        Some(n) => text(lang, "app_days_left_n").replace("{n}", &n.to_string()),
        None => String::new(),
    };
    (status, days)
}

/// ゲストの一覧: every guest of the administrator's body, those still to come or in their
/// period first (the soonest to end at the top), then the ended ones (the latest first).
async fn guests_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
) -> Result<Response, PageError> {
    let lang = ctx.lang;
    let me = me.map_err(|e| PageError(e, lang))?;
    let org = kairan_domain::OrgId(me.user.org_id.clone());
    policy::check(&me.actor(), Action::DecideApplication, &Resource::Org(&org))
        .map_err(|e| PageError(e.into(), lang))?;
    let list = async {
        let mut conn = state.store.read().await?;
        Ok::<_, AppError>(kairan_store::guests::of_org(&mut conn, &me.user.org_id).await?)
    }
    .await
    .map_err(|e| PageError(e, lang))?;
    let today = state.clock.today();
    let mut current = Vec::new();
    let mut ended = Vec::new();
    for g in &list {
        let (status, days) = guest_standing(g, today, lang);
        let row = context! {
            name => g.display_name,
            login_id => g.login_id,
            affiliation => g.affiliation,
            status,
            status_label => text(lang, &format!("guest_status_{status}")),
            badge => match status { "active" => "ok", "pending" => "warn", "suspended" => "stop", _ => "" },
            period => period(&g.start_date, &g.end_date, lang),
            days,
            sponsor => g.sponsor_name,
            application_id => g.application_id,
        };
        if status == "ended" {
            ended.push(row);
        } else {
            current.push(row);
        }
    }
    ended.reverse();
    let me_v = page_me(&state, &ctx, &me).await?;
    let html = render(
        &state,
        "guest_list.html",
        &ctx,
        context! { me => me_v, nav => "applications", current, ended },
    )?;
    Ok(html.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(start: &str, end: &str) -> GuestForm {
        GuestForm {
            purpose: "防災訓練の合同準備".into(),
            need: "資料の確認を毎日やり取りするため".into(),
            guest_name: "山田 花子".into(),
            guest_affiliation: "株式会社東山防災".into(),
            guest_email: "hanako@example.co.jp".into(),
            start_date: start.into(),
            end_date: end.into(),
            environment_confirmed: Some("1".into()),
            ..GuestForm::default()
        }
    }

    fn today() -> Date {
        Date::parse_iso("2026-12-04").unwrap()
    }

    #[test]
    fn a_missing_date_is_named_after_the_fields_above_it() {
        let err = form("", "2027-03-31").fields(today()).unwrap_err();
        assert_eq!(error_field(&err), Some("start_date"));
        let err = form("2026-12-10", "2027/03/31")
            .fields(today())
            .unwrap_err();
        assert_eq!(error_field(&err), Some("end_date"));
        let mut f = form("", "");
        f.purpose = " ".into();
        let err = f.fields(today()).unwrap_err();
        assert_eq!(error_field(&err), Some("purpose"));
        let ok = form("2026-12-10", "2027-03-31").fields(today()).unwrap();
        assert_eq!(ok["end_date"], "2027-03-31");
        assert_eq!(ok["environment_confirmed"], true);
    }

    #[test]
    fn a_period_past_the_fiscal_year_points_at_the_end_date() {
        let e: AppError = DomainError::PeriodCrossesFiscalYear {
            last_day_ja: "令和9年3月31日".into(),
            last_day_en: "31 March 2027".into(),
        }
        .into();
        assert_eq!(error_field(&e), Some("end_date"));
    }

    #[test]
    fn every_confirmation_and_history_step_has_text_in_both_languages() {
        for lang in [Lang::Ja, Lang::En] {
            for s in STEPS {
                assert!(
                    done_text(Some(s), lang).is_some_and(|t| !t.is_empty()),
                    "{s}"
                );
            }
            for s in [
                "create",
                "submit",
                "edit",
                "resubmit",
                "withdraw",
                "approve",
                "reject",
                "request_changes",
                "activate",
                "end",
                "extend",
                "approve_body",
            ] {
                assert!(!text(lang, &format!("app_step_{s}")).is_empty(), "{s}");
            }
            for s in ["pending", "active", "ended"] {
                assert!(!text(lang, &format!("app_guest_{s}")).is_empty(), "{s}");
            }
            for s in ["pending", "active", "ended", "suspended"] {
                assert!(!text(lang, &format!("guest_status_{s}")).is_empty(), "{s}");
            }
        }
        assert_eq!(done_text(Some("<script>"), Lang::Ja), None);
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_group_form_keeps_every_ticked_body_with_what_was_asked_of_it() {
        let f = GroupForm::from_pairs(pairs(&[
            ("purpose", "広域避難訓練の調整"),
            ("need", "三市の担当者で日々の調整をするため"),
            ("talk_name", "広域避難訓練 調整"),
            ("own_members", "u-2"),
            ("own_members", "u-3"),
            ("body", "org-west"),
            ("requested.org-west", "防災課の担当者2名"),
            ("requested.org-south", "typed, but not ticked"),
            ("start_date", "2026-12-10"),
            ("end_date", "2027-03-31"),
            ("csrf", "x"),
        ]));
        assert_eq!(f.own_members, ["u-2", "u-3"]);
        assert_eq!(f.requested["org-south"], "typed, but not ticked");
        let v = f.fields(today(), "org-east").unwrap();
        assert_eq!(
            v["bodies"],
            serde_json::json!([{ "org_id": "org-west", "requested": "防災課の担当者2名" }])
        );
        assert_eq!(v["end_date"], "2027-03-31");
        assert_eq!(v["own_members"], serde_json::json!(["u-2", "u-3"]));

        // A malformed date is named.
        let mut late = f.clone();
        late.end_date = "2027/04/01".into();
        let err = late.fields(today(), "org-east").unwrap_err();
        assert_eq!(error_field(&err), Some("end_date"));
        // No body ticked: named before a missing date below it.
        let mut none = f.clone();
        none.bodies.clear();
        none.start_date.clear();
        let err = none.fields(today(), "org-east").unwrap_err();
        assert_eq!(error_field(&err), Some("bodies"));
        // A ticked body with nothing asked of it, named before a missing date.
        let mut empty = f;
        empty.requested.insert("org-west".into(), " ".into());
        empty.end_date.clear();
        let err = empty.fields(today(), "org-east").unwrap_err();
        assert_eq!(error_field(&err), Some("bodies"));
    }

    #[test]
    fn the_step_form_reads_every_ticked_member() {
        let f = StepForm::from_pairs(pairs(&[
            ("transition", "approve"),
            ("version", "3"),
            ("members", "u-1"),
            ("members", "u-2"),
        ]));
        assert_eq!(f.transition, "approve");
        assert_eq!(f.members, ["u-1", "u-2"]);
    }

    fn guest(start: &str, end: &str, status: &str) -> kairan_store::guests::GuestRow {
        kairan_store::guests::GuestRow {
            user_id: "g".into(),
            login_id: "guest-1".into(),
            display_name: "山田 花子".into(),
            status: status.into(),
            application_id: "a".into(),
            sponsor_id: "s".into(),
            sponsor_name: None,
            affiliation: "株式会社東山防災".into(),
            start_date: start.into(),
            end_date: end.into(),
            accepted_at: None,
            ended_at: None,
        }
    }

    #[test]
    fn a_guest_shows_where_it_stands_and_the_days_left() {
        let t = today(); // 2026-12-04
        let s = |g| guest_standing(&g, t, Lang::Ja);
        assert_eq!(
            s(guest("2026-12-10", "2026-12-16", "pending")),
            ("pending", "あと12日".into())
        );
        assert_eq!(
            s(guest("2026-12-01", "2026-12-04", "active")),
            ("active", "本日まで".into())
        );
        assert_eq!(
            s(guest("2026-12-01", "2026-12-03", "active")),
            ("ended", "終了".into())
        );
        assert_eq!(
            s(guest("2026-12-01", "2027-01-03", "ended")),
            ("ended", "終了".into())
        );
        assert_eq!(
            s(guest("2026-12-01", "2026-12-05", "suspended")).0,
            "suspended"
        );
    }
}
