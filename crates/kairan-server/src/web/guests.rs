//! The guest's invitation page (I6): opened from the link the applicant passed on, it shows
//! who is invited, by which body, as which ID and for which period, and lets the guest set a
//! password once. No session is needed; the link is the proof, and it works once.

use super::{PageCtx, PageError, message, render};
use crate::auth::Client;
use crate::error::AppError;
use crate::services::guests;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kairan_domain::fiscal::Date;
use minijinja::context;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/invite/{token}", get(page).post(accept))
}

fn period(ctx: &PageCtx, start: &str, end: &str) -> String {
    let label = |d: &str| match (Date::parse_iso(d), ctx.lang) {
        (Some(d), crate::i18n::Lang::Ja) => d.label_ja(),
        (Some(d), crate::i18n::Lang::En) => d.label_en(),
        (None, _) => d.to_owned(),
    };
    format!("{} – {}", label(start), label(end))
}

async fn show(
    state: &AppState,
    ctx: &PageCtx,
    token: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    match guests::invitation(state, token).await {
        Ok(inv) => {
            let lead = crate::i18n::strings(ctx.lang)
                .get("invite_lead")
                .copied()
                .unwrap_or_default()
                .replace("{org}", &inv.org_name);
            let status = if error.is_some() {
                axum::http::StatusCode::UNPROCESSABLE_ENTITY
            } else {
                axum::http::StatusCode::OK
            };
            let page = render(
                state,
                "invite.html",
                ctx,
                context! {
                    period => period(ctx, &inv.start_date, &inv.end_date),
                    invitation => inv, invite_lead => lead, token, error,
                },
            )?;
            Ok((status, page).into_response())
        }
        Err(e @ AppError::Conflict(_)) => {
            let page = render(
                state,
                "invite.html",
                ctx,
                context! { gone => message(&e, ctx) },
            )?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(PageError(e, ctx.lang)),
    }
}

async fn page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    show(&state, &ctx, &token, None).await
}

#[derive(Deserialize)]
struct AcceptForm {
    new_password: String,
    confirm_password: String,
}

async fn accept(
    State(state): State<AppState>,
    ctx: PageCtx,
    client: Client,
    Path(token): Path<String>,
    Form(f): Form<AcceptForm>,
) -> Result<Response, PageError> {
    let org_code = guests::invitation(&state, &token)
        .await
        .map(|inv| inv.org_code)
        .unwrap_or_default();
    match guests::accept(
        &state,
        &token,
        &f.new_password,
        &f.confirm_password,
        client.ip,
    )
    .await
    {
        Ok(login_id) => Ok(render(
            &state,
            "invite.html",
            &ctx,
            context! { done => true, login_id, org_code },
        )?
        .into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            show(&state, &ctx, &token, Some(message(&e, &ctx))).await
        }
        Err(e) => Err(PageError(e, ctx.lang)),
    }
}
