//! Registered internet devices on screen (I5): one's own at サインイン中の端末 (name, "lost"),
//! the administrator's 管理 › 端末 (approve, refuse, lost, restore).

use super::{Done, PageCtx, PageError, page_me, render, when};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::services::{admin, devices};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/devices/{id}/lost", post(own_lost))
        .route("/devices/{id}/name", post(rename))
        .route("/admin/devices", get(admin_page))
        .route("/admin/devices/{id}/{decision}", post(admin_decide))
}

/// The rows of a device table.
pub fn rows(
    list: &[devices::DeviceView],
    names: &std::collections::HashMap<String, String>,
    lang: crate::i18n::Lang,
) -> Vec<Value> {
    list.iter()
        .map(|d| {
            context! {
                id => d.id, name => d.name, platform => d.platform, status => d.status,
                user => names.get(&d.user_id).cloned().unwrap_or_default(),
                first_seen => when(Some(d.first_seen_at), lang),
                last_seen => when(Some(d.last_seen_at), lang),
            }
        })
        .collect()
}

async fn own_lost(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    devices::report_lost(&state, &me.actor(), &id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    Ok(Redirect::to("/sessions?done=lost").into_response())
}

#[derive(Deserialize)]
struct NameForm {
    name: String,
}

async fn rename(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
    Form(f): Form<NameForm>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    devices::rename(&state, &me, &id, &f.name)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    Ok(Redirect::to("/sessions?done=renamed").into_response())
}

async fn admin_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let lang = ctx.lang;
    let list = devices::of_org(&state, &me.actor(), &me.user.org_id)
        .await
        .map_err(|e| PageError(e, lang))?;
    let names: std::collections::HashMap<String, String> =
        admin::directory_all(&state, &me.user.org_id)
            .await
            .map_err(|e| PageError(e, lang))?
            .into_iter()
            .collect();
    let me_v = page_me(&state, &ctx, &me).await?;
    render(
        &state,
        "devices.html",
        &ctx,
        context! {
            me => me_v,
            nav => "devices",
            rows => rows(&list, &names, lang),
            done => q.done,
        },
    )
}

async fn admin_decide(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path((id, decision)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let result = if decision == "lost" {
        devices::report_lost(&state, &me.actor(), &id)
            .await
            .map(|_| ())
    } else {
        devices::decide(&state, &me.actor(), &id, &decision).await
    };
    result.map_err(|e| PageError(e, ctx.lang))?;
    Ok(Redirect::to(&format!("/admin/devices?done={decision}")).into_response())
}
