//! トークの閲覧（監査）: the page where an auditor, the security officer or CSIRT reads a talk
//! of their body for an audit or an incident (G7). The reason is asked first and recorded with
//! the reading; the page then shows every message with its earlier versions, and (for those who
//! read the audit log) every reading so far.

use super::{PageCtx, PageError, me_value, render, when};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::services::{admin, review};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Form, State};
use axum::response::Html;
use axum::routing::get;
use minijinja::{Value, context};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit/talks", get(page).post(read))
}

#[derive(Deserialize)]
struct ReadForm {
    talk: String,
    reason: String,
}

async fn page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
) -> Result<Html<String>, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    view(&state, &ctx, &me, None, None, None).await
}

async fn read(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Form(f): Form<ReadForm>,
) -> Result<Html<String>, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    match review::review(&state, &me.actor(), &f.talk, &f.reason, None, 200).await {
        Ok(r) => view(&state, &ctx, &me, Some(r), None, Some(&f)).await,
        // A missing or too short reason is answered on the same page, with what was typed.
        Err(e @ AppError::Invalid(_)) => {
            let msg = super::message(&e, &ctx);
            view(&state, &ctx, &me, None, Some(msg), Some(&f)).await
        }
        Err(e) => Err(PageError(e, ctx.lang)),
    }
}

async fn view(
    state: &AppState,
    ctx: &PageCtx,
    me: &CurrentUser,
    reviewed: Option<review::Reviewed>,
    error: Option<String>,
    form: Option<&ReadForm>,
) -> Result<Html<String>, PageError> {
    let lang = ctx.lang;
    let actor = me.actor();
    let org_id = &me.user.org_id;
    let talks = review::talks(state, &actor, org_id)
        .await
        .map_err(|e| PageError(e, lang))?;
    let org = admin::org_by_id(state, org_id)
        .await
        .map_err(|e| PageError(e, lang))?;
    let label = |kind: &str, name: &str, members: &[String]| {
        if kind == "group" && !name.is_empty() {
            name.to_owned()
        } else {
            members.join("・")
        }
    };
    let chosen = form.map(|f| f.talk.as_str());
    let talk_list: Vec<Value> = talks
        .iter()
        .map(|e| {
            context! {
                id => e.talk.id, label => label(&e.talk.kind, &e.talk.name, &e.members),
                messages => e.talk.last_seq, selected => chosen == Some(e.talk.id.as_str()),
            }
        })
        .collect();
    let result = reviewed.map(|r| {
        let title = talks
            .iter()
            .find(|e| e.talk.id == r.talk.id)
            .map(|e| label(&e.talk.kind, &e.talk.name, &e.members))
            .unwrap_or_default();
        let messages: Vec<Value> = r
            .messages
            .iter()
            .map(|m| {
                let versions: Vec<Value> = m
                    .versions
                    .iter()
                    .map(|(v, by)| {
                        context! {
                            n => v.version, body => v.body, by => by,
                            when => when(Some(v.replaced_at), lang), deleted => v.reason == "deleted",
                        }
                    })
                    .collect();
                context! {
                    seq => m.message.seq, sender => m.sender_name,
                    when => when(Some(m.message.created_at), lang),
                    body => m.message.body, deleted => m.message.deleted_at.is_some(),
                    edited => m.message.edited_at.is_some(), versions,
                }
            })
            .collect();
        context! { id => r.review_id, title, messages }
    });
    // The list of readings is part of the audit log: shown to those who may read it.
    let history: Option<Vec<Value>> = match review::reviews(state, &actor, org_id).await {
        Ok(list) => Some(
            list.iter()
                .map(|r| {
                    context! {
                        id => r.id, when => when(Some(r.created_at), lang), reader => r.actor_name,
                        talk => if r.talk_name.is_empty() { lang.pick("1対1のトーク", "1:1 talk").to_owned() } else { r.talk_name.clone() }, reason => r.reason,
                    }
                })
                .collect(),
        ),
        Err(AppError::Denied(_)) => None,
        Err(e) => return Err(PageError(e, lang)),
    };
    render(
        state,
        "review.html",
        ctx,
        context! {
            me => me_value(me, &org.name, lang), nav => "review", talks => talk_list,
            result, history, error, reason => form.map(|f| f.reason.clone()),
        },
    )
}
