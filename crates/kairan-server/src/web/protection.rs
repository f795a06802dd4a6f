//! 情報保護: the detections page (security officer, CSIRT, auditor) and the settings page
//! where the security officer sets the body's classification scheme and personal-data rules.

use super::{PageCtx, PageError, me_value, render, when};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::services::admin;
use crate::services::dlp::{Action, Rule};
use crate::services::protection::{self, Change};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use kairan_dlp::Kind;
use kairan_domain::Localized;
use minijinja::{Value, context};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

pub fn routes() -> Router<AppState> {
    Router::new().route("/protection", get(events_page)).route(
        "/protection/settings",
        get(settings_page).post(save_settings),
    )
}

#[derive(Deserialize)]
struct Page {
    before: Option<i64>,
    done: Option<String>,
}

async fn events_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Query(q): Query<Page>,
) -> Result<Html<String>, PageError> {
    let lang = ctx.lang;
    let me = me.map_err(|e| PageError(e, lang))?;
    let org_id = me.user.org_id.clone();
    let rows = protection::dlp_events(&state, &me.actor(), &org_id, q.before, 50)
        .await
        .map_err(|e| PageError(e, lang))?;
    // Opening the page is reading the alerts.
    protection::mark_notifications_read(&state, &me.user.id)
        .await
        .map_err(|e| PageError(e, lang))?;
    let org = admin::org_by_id(&state, &org_id)
        .await
        .map_err(|e| PageError(e, lang))?;
    let names: HashMap<String, String> = admin::directory_all(&state, &org_id)
        .await
        .map_err(|e| PageError(e, lang))?
        .into_iter()
        .collect();
    let view: Vec<Value> = rows
        .iter()
        .map(|r| {
            let kinds: Vec<String> = protection::findings_of(&r.details)
                .iter()
                .map(|f| {
                    let code = f["kind"].as_str().unwrap_or("");
                    let label = Kind::parse(code)
                        .map(|k| lang.pick(k.label_ja(), k.label_en()).to_owned())
                        .unwrap_or_else(|| code.to_owned());
                    format!("{label} ({}–{})", f["start"], f["end"])
                })
                .collect();
            let outcome = match r.action.as_str() {
                "dlp.blocked" => lang.pick("送信を止めました", "Stopped"),
                "dlp.confirm_requested" => lang.pick("確認を求めました", "Asked to confirm"),
                _ => lang.pick("確認のうえ送信", "Sent after confirming"),
            };
            context! {
                seq => r.seq, when => when(Some(r.at_us), lang), code => r.action, outcome,
                stopped => r.action == "dlp.blocked",
                actor => r.actor_id.as_ref().and_then(|a| names.get(a).cloned()), kinds,
            }
        })
        .collect();
    let older = (rows.len() == 50)
        .then(|| rows.last().map(|r| r.seq))
        .flatten();
    render(
        &state,
        "protection.html",
        &ctx,
        context! { me => me_value(&me, &org.name, lang), nav => "protection", rows => view, older },
    )
}

async fn settings_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Query(q): Query<Page>,
) -> Result<Html<String>, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    settings_view(&state, &ctx, &me, None, q.done.is_some()).await
}

async fn settings_view(
    state: &AppState,
    ctx: &PageCtx,
    me: &CurrentUser,
    error: Option<String>,
    done: bool,
) -> Result<Html<String>, PageError> {
    let lang = ctx.lang;
    let p = protection::view(state, &me.actor(), &me.user.org_id)
        .await
        .map_err(|e| PageError(e, lang))?;
    let org = admin::org_by_id(state, &me.user.org_id)
        .await
        .map_err(|e| PageError(e, lang))?;
    let levels: Vec<Value> = p
        .scheme
        .confidentiality
        .iter()
        .enumerate()
        .map(|(i, l)| context! { rank => i, label => lang.pick(&l.label_ja, &l.label_en).to_owned() })
        .collect();
    let rules: Vec<Value> = p
        .rules
        .iter()
        .map(|(k, r)| {
            context! {
                kind => k.code(), label => lang.pick(k.label_ja(), k.label_en()).to_owned(),
                action => r.action.code(), notify => r.notify, implies => r.implies.map(i64::from).unwrap_or(-1),
            }
        })
        .collect();
    let actions: Vec<Value> = Action::ALL
        .iter()
        .map(|a| context! { code => a.code(), label => lang.pick(a.label_ja(), a.label_en()).to_owned() })
        .collect();
    let custom_levels = p
        .scheme
        .confidentiality
        .iter()
        .map(|l| format!("{}:{}", l.label_ja, l.label_en))
        .collect::<Vec<_>>()
        .join(", ");
    render(
        state,
        "protection_settings.html",
        ctx,
        context! {
            me => me_value(me, &org.name, lang), nav => "protection_settings",
            preset => p.scheme.preset, levels, custom_levels, rules, actions,
            keywords => p.keywords.join("\n"), error, done,
        },
    )
}

/// The form posts `preset`, `levels`, `keywords`, and per kind `action.<kind>`,
/// `implies.<kind>` and (when ticked) `notify.<kind>`.
async fn save_settings(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
    };
    let preset = get("preset").unwrap_or_default();
    let mut rules = BTreeMap::new();
    for kind in Kind::ALL {
        let code = kind.code();
        let Some(action) = get(&format!("action.{code}")).and_then(|a| Action::parse(&a)) else {
            continue;
        };
        // "-1" (none) does not parse as a rank.
        let implies = get(&format!("implies.{code}")).and_then(|v| v.parse::<u8>().ok());
        rules.insert(
            code.to_owned(),
            Rule {
                action,
                notify: get(&format!("notify.{code}")).is_some(),
                implies,
            },
        );
    }
    let change = Change {
        levels: (preset == "custom").then(|| get("levels").unwrap_or_default()),
        preset: Some(preset).filter(|p| p != "custom"),
        rules: Some(rules),
        keywords: get("keywords").map(|k| k.lines().map(str::to_owned).collect()),
    };
    match protection::update(&state, &me.actor(), &me.user.org_id, &change).await {
        Ok(_) => Ok(Redirect::to("/protection/settings?done=1").into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let msg = if ctx.lang == Lang::Ja {
                e.message_ja()
            } else {
                e.message_en()
            };
            Ok((
                e.status(),
                settings_view(&state, &ctx, &me, Some(msg), false).await?,
            )
                .into_response())
        }
        Err(e) => Err(PageError(e, ctx.lang)),
    }
}
