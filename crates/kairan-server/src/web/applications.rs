//! The 申請 screens (issue 10): a section head's own applications and the guest application
//! form, an administrator's queue of applications waiting for a decision, and one
//! application with its history and only the steps the person may take (`can`).
//!
//! The services decide everything (who may apply, the fields, the period within the fiscal
//! year, the approval engine, the version check); these pages show the answers. A refused form
//! is shown again with what was typed and the reason beside the field it names (422); a step
//! on a state the person did not see shows the application as it is now, with the reason
//! (409). Every step form carries the version the page showed.

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
use kairan_domain::guest::GuestRequest;
use kairan_domain::policy::{self, Action, Resource};
use kairan_domain::{DomainError, Localized};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/applications", get(list_page).post(create))
        .route("/applications/new", get(new_page))
        .route("/applications/{id}", get(detail_page))
        .route("/applications/{id}/edit", get(edit_page).post(save_edit))
        .route("/applications/{id}/step", post(take_step))
}

/// The steps a page may name in `?done=`, each with its confirmation text.
const STEPS: [&str; 9] = [
    "draft",
    "submit",
    "edit",
    "resubmit",
    "withdraw",
    "approve",
    "reject",
    "request_changes",
    "save",
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

/// One line of a list: what, for whom, when, where it stands.
fn row(a: &ApplicationView, lang: Lang) -> Value {
    let guest_name = field(a, "guest_name");
    context! {
        id => a.id,
        kind => lang.pick(&a.kind_label_ja, &a.kind_label_en),
        guest_name,
        affiliation => field(a, "guest_affiliation"),
        label => if guest_name.is_empty() { lang.pick(&a.kind_label_ja, &a.kind_label_en).to_owned() } else { guest_name.clone() },
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
    let show_mine = can_apply || !mine.is_empty() || !can_decide;
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
            me => me_v, nav => "applications", view, rows, can_apply, can_decide, show_mine,
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
    let last = fiscal::fiscal_year_end(today);
    let last_label = match lang {
        Lang::Ja => last.label_ja(),
        Lang::En => last.label_en(),
    };
    let end_hint = text(lang, "app_end_hint").replace("{last}", &last_label);
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

/// What the detail page shows besides the application: a confirmation, or a refusal with
/// the reason typed so far.
#[derive(Default)]
struct Notice {
    done: Option<String>,
    error: Option<AppError>,
    reason: String,
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
    let status = notice.error.as_ref().map_or(StatusCode::OK, |e| e.status());
    let reason_invalid = notice.error.as_ref().and_then(error_field) == Some("reason");
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
                extension_of,
            },
            is_applicant, events, guest, last_reason,
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
            reason_invalid,
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

async fn refused(
    state: &AppState,
    ctx: &PageCtx,
    me: &Authenticated,
    id: &str,
    e: AppError,
    shown: i64,
    reason: String,
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
        reason,
        ..Notice::default()
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
        Err(e) => return refused(&state, &ctx, &me, &id, e, shown, String::new()).await,
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
        Err(e) => refused(&state, &ctx, &me, &id, e, a.version, String::new()).await,
    }
}

#[derive(Deserialize)]
struct StepForm {
    #[serde(default)]
    transition: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    reason: String,
}

async fn take_step(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
    Form(f): Form<StepForm>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let shown = version(&f.version);
    let needs_reason = matches!(f.transition.as_str(), "reject" | "request_changes");
    let step = Step {
        transition: f.transition.clone(),
        reason: needs_reason.then(|| f.reason.clone()),
        version: shown,
        fields: None,
        members: None,
    };
    match applications::step(&state, &me.actor(), &id, step).await {
        Ok(_) => {
            let done = STEPS
                .into_iter()
                .find(|s| *s == f.transition)
                .unwrap_or("save");
            Ok(Redirect::to(&format!("/applications/{id}?done={done}")).into_response())
        }
        Err(e) => {
            let reason = if needs_reason {
                f.reason
            } else {
                String::new()
            };
            refused(&state, &ctx, &me, &id, e, shown, reason).await
        }
    }
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
            ] {
                assert!(!text(lang, &format!("app_step_{s}")).is_empty(), "{s}");
            }
            for s in ["pending", "active", "ended"] {
                assert!(!text(lang, &format!("app_guest_{s}")).is_empty(), "{s}");
            }
        }
        assert_eq!(done_text(Some("<script>"), Lang::Ja), None);
    }
}
