//! The audit log page for auditors and the security officer (G5, G7).

use super::{PageCtx, PageError, me_value, render, when};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::services::{admin, audit as audit_service};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use kairan_domain::audit::AuditAction;
use minijinja::{Value, context};
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(audit_page))
}

#[derive(Deserialize)]
struct Filter {
    before: Option<i64>,
    action: Option<String>,
}

const PAGE: i64 = 50;

async fn audit_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Query(f): Query<Filter>,
) -> Result<Html<String>, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let lang = ctx.lang;
    let org_id = me.user.org_id.clone();
    let q = kairan_store::audit::Query {
        org_id: org_id.clone(),
        before_seq: f.before,
        action: f.action.clone().filter(|a| AuditAction::parse(a).is_some()),
        actor_id: None,
        limit: PAGE,
    };
    let rows = audit_service::list(&state, &me.actor(), &q)
        .await
        .map_err(|e| PageError(e, lang))?;
    let org = admin::org_by_id(&state, &org_id)
        .await
        .map_err(|e| PageError(e, lang))?;
    // Names for the IDs in view; the log itself stores only IDs.
    let mut names: BTreeMap<String, String> = admin::directory_all(&state, &org_id)
        .await
        .map_err(|e| PageError(e, lang))?
        .into_iter()
        .collect();
    for d in admin::departments(&state, &me.actor(), &org_id)
        .await
        .map_err(|e| PageError(e, lang))?
    {
        names.insert(d.id, d.name);
    }
    names.insert(org.id.clone(), org.name.clone());
    let label = |code: &str| {
        AuditAction::parse(code)
            .map(|a| lang.pick(a.label_ja(), a.label_en()).to_owned())
            .unwrap_or_else(|| code.to_owned())
    };
    let operator = crate::i18n::strings(lang)
        .get("operator")
        .copied()
        .unwrap_or("operator");
    // Unknown IDs (sessions, other records) show their first block; the full ID is in the title.
    let name_of = |id: &Option<String>| {
        id.as_ref().map(|i| {
            names
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("{}…", i.split('-').next().unwrap_or(i)))
        })
    };
    let view: Vec<Value> = rows
        .iter()
        .map(|r| {
            context! {
                seq => r.seq, when => when(Some(r.at_us), lang), action => label(&r.action), code => r.action,
                actor => name_of(&r.actor_id).or_else(|| r.details.contains("\"via\":\"cli\"").then(|| operator.to_owned())),
                target => name_of(&r.target_id), target_id => r.target_id, ip => r.ip, details => r.details,
            }
        })
        .collect();
    let older = if rows.len() as i64 == PAGE {
        rows.last().map(|r| r.seq)
    } else {
        None
    };
    let actions: Vec<Value> = AuditAction::ALL
        .iter()
        .map(|a| context! { code => a.code(), label => label(a.code()), selected => f.action.as_deref() == Some(a.code()) })
        .collect();
    render(
        &state,
        "audit.html",
        &ctx,
        context! { me => me_value(&me, &org.name, lang), nav => "audit", rows => view, older, actions, action => f.action },
    )
}
