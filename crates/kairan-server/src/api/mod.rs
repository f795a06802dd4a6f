//! The JSON API under `/api/v1`, described by an OpenAPI document generated from these
//! handlers (`/api/openapi.json`). Handlers parse input, call a service and shape the answer;
//! they make no access decision of their own.

mod admin;
mod applications;
pub(crate) mod chat;
mod devices;
mod files;
mod me;
mod mfa;
mod protection;
pub(crate) mod review;
pub(crate) mod session;
mod sign_in;
mod staff;
mod transfers;

use crate::error::{AppError, ErrorBody};
use crate::state::AppState;
use axum::extract::{FromRequest, Request};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use utoipa::OpenApi;

/// `Json` whose rejections are our error format.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    Err(AppError::PayloadTooLarge)
                } else {
                    Err(AppError::BadRequest(rejection.body_text()))
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kairan API",
        description = "Secure staff chat and information governance for Japanese local governments. Every error answers `{\"error\":{\"code\",\"message_ja\",\"message_en\"}}`. Unsafe methods need the `X-CSRF-Token` header (see `GET /api/v1/csrf`)."
    ),
    paths(
        session::csrf,
        session::sign_in,
        session::sign_out,
        me::me,
        me::change_password,
        me::sessions,
        me::end_session,
        mfa::verify,
        mfa::status,
        mfa::start_totp,
        mfa::confirm_totp,
        mfa::recovery_codes,
        mfa::remove,
        mfa::reset,
        mfa::get_policy,
        mfa::put_policy,
        mfa::passkey_options,
        devices::own,
        devices::rename,
        devices::lost,
        devices::of_org,
        devices::decide,
        devices::put_policy,
        applications::create,
        staff::import,
        transfers::schedule,
        transfers::list,
        transfers::cancel,
        staff::export,
        staff::dormant,
        staff::disable_dormant,
        applications::list,
        applications::get,
        applications::step,
        applications::invitation,
        applications::accept_invitation,
        applications::guest_settings,
        applications::save_guest_settings,
        sign_in::get,
        sign_in::put,
        sign_in::delete,
        sign_in::set_method,
        sign_in::get_settings,
        sign_in::put_settings,
        sign_in::get_maintenance,
        sign_in::put_maintenance,
        mfa::passkey_register,
        mfa::passkey_rename,
        mfa::passkey_remove,
        mfa::passkey_sign_in_options,
        mfa::passkey_sign_in,
        admin::directory,
        admin::departments,
        admin::create_department,
        admin::users,
        admin::create_user,
        admin::suspend,
        admin::reactivate,
        admin::reset_password,
        admin::grant_role,
        admin::revoke_role,
        admin::audit_log,
        admin::privileged,
        chat::list,
        chat::create,
        chat::get,
        chat::messages,
        chat::post,
        chat::read,
        chat::invite,
        chat::leave,
        chat::rename,
        chat::edit,
        chat::delete,
        chat::react,
        chat::unreact,
        chat::pin,
        chat::unpin,
        chat::set_class,
        chat::forward,
        protection::get,
        protection::put,
        protection::dlp_events,
        protection::notifications,
        protection::notifications_read,
        review::talks,
        review::review,
        review::reviews,
        files::upload,
        files::list,
        files::download,
        files::view,
    ),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/openapi.json",
            get(|| async { ([("content-type", "application/json")], openapi_json()) }),
        )
        .route("/api/v1/csrf", get(session::csrf))
        .route(
            "/api/v1/session",
            post(session::sign_in).delete(session::sign_out),
        )
        .route("/api/v1/session/mfa", post(mfa::verify))
        .route("/api/v1/me/mfa", get(mfa::status))
        .route("/api/v1/me/devices", get(devices::own))
        .route(
            "/api/v1/me/devices/{device}",
            axum::routing::patch(devices::rename),
        )
        .route("/api/v1/devices/{device}/lost", post(devices::lost))
        .route("/api/v1/devices/{device}/{decision}", post(devices::decide))
        .route("/api/v1/orgs/{org}/devices", get(devices::of_org))
        .route(
            "/api/v1/orgs/{org}/device-policy",
            axum::routing::put(devices::put_policy),
        )
        .route("/api/v1/session/passkey", post(mfa::passkey_sign_in))
        .route(
            "/api/v1/session/passkey/options",
            post(mfa::passkey_sign_in_options),
        )
        .route("/api/v1/me/passkeys", post(mfa::passkey_register))
        .route("/api/v1/me/passkeys/options", post(mfa::passkey_options))
        .route(
            "/api/v1/me/passkeys/{id}",
            axum::routing::patch(mfa::passkey_rename),
        )
        .route("/api/v1/me/passkeys/{id}/remove", post(mfa::passkey_remove))
        .route("/api/v1/me/mfa/totp", post(mfa::start_totp))
        .route("/api/v1/me/mfa/totp/confirm", post(mfa::confirm_totp))
        .route("/api/v1/me/mfa/recovery-codes", post(mfa::recovery_codes))
        .route("/api/v1/me/mfa/remove", post(mfa::remove))
        .route("/api/v1/users/{user}/reset-mfa", post(mfa::reset))
        .route(
            "/api/v1/orgs/{org}/directory-sign-in",
            get(sign_in::get).put(sign_in::put).delete(sign_in::delete),
        )
        .route(
            "/api/v1/orgs/{org}/applications",
            get(applications::list).post(applications::create),
        )
        .route(
            "/api/v1/orgs/{org}/staff-import",
            post(staff::import).layer(axum::extract::DefaultBodyLimit::max(
                kairan_domain::staff_csv::MAX_BYTES,
            )),
        )
        .route(
            "/api/v1/orgs/{org}/staff-transfers",
            get(transfers::list).post(transfers::schedule).layer(
                axum::extract::DefaultBodyLimit::max(kairan_domain::staff_csv::MAX_BYTES),
            ),
        )
        .route(
            "/api/v1/staff-transfers/{id}/cancel",
            post(transfers::cancel),
        )
        .route("/api/v1/orgs/{org}/staff.csv", get(staff::export))
        .route("/api/v1/orgs/{org}/dormant", get(staff::dormant))
        .route(
            "/api/v1/orgs/{org}/dormant/disable",
            post(staff::disable_dormant),
        )
        .route("/api/v1/applications/{id}", get(applications::get))
        .route(
            "/api/v1/orgs/{org}/guest-settings",
            get(applications::guest_settings).put(applications::save_guest_settings),
        )
        .route(
            "/api/v1/invitations/{token}",
            get(applications::invitation).post(applications::accept_invitation),
        )
        .route(
            "/api/v1/applications/{id}/transitions",
            post(applications::step),
        )
        .route(
            "/api/v1/orgs/{org}/maintenance",
            get(sign_in::get_maintenance).put(sign_in::put_maintenance),
        )
        .route(
            "/api/v1/orgs/{org}/sign-in-settings",
            get(sign_in::get_settings).put(sign_in::put_settings),
        )
        .route(
            "/api/v1/users/{user}/sign-in-method",
            axum::routing::put(sign_in::set_method),
        )
        .route(
            "/api/v1/orgs/{org}/mfa-policy",
            get(mfa::get_policy).put(mfa::put_policy),
        )
        .route("/api/v1/me", get(me::me))
        .route("/api/v1/me/password", post(me::change_password))
        .route("/api/v1/me/sessions", get(me::sessions))
        .route("/api/v1/me/sessions/{session}", delete(me::end_session))
        .route("/api/v1/orgs/{org}/directory", get(admin::directory))
        .route(
            "/api/v1/orgs/{org}/departments",
            get(admin::departments).post(admin::create_department),
        )
        .route(
            "/api/v1/orgs/{org}/users",
            get(admin::users).post(admin::create_user),
        )
        .route("/api/v1/orgs/{org}/audit", get(admin::audit_log))
        .route("/api/v1/orgs/{org}/privileged", get(admin::privileged))
        .route("/api/v1/users/{user}/suspend", post(admin::suspend))
        .route("/api/v1/users/{user}/reactivate", post(admin::reactivate))
        .route(
            "/api/v1/users/{user}/reset-password",
            post(admin::reset_password),
        )
        .route("/api/v1/users/{user}/roles", post(admin::grant_role))
        .route(
            "/api/v1/users/{user}/roles/{role}",
            delete(admin::revoke_role),
        )
        .route("/api/v1/talks", get(chat::list).post(chat::create))
        .route("/api/v1/talks/{talk}", get(chat::get).patch(chat::rename))
        .route(
            "/api/v1/talks/{talk}/messages",
            get(chat::messages).post(chat::post),
        )
        .route("/api/v1/talks/{talk}/read", post(chat::read))
        .route("/api/v1/talks/{talk}/members", post(chat::invite))
        .route("/api/v1/talks/{talk}/members/me", delete(chat::leave))
        .route(
            "/api/v1/messages/{message}",
            axum::routing::patch(chat::edit).delete(chat::delete),
        )
        .route("/api/v1/messages/{message}/reactions", post(chat::react))
        .route(
            "/api/v1/messages/{message}/reactions/{stamp}",
            delete(chat::unreact),
        )
        .route(
            "/api/v1/messages/{message}/pin",
            post(chat::pin).delete(chat::unpin),
        )
        .route(
            "/api/v1/talks/{talk}/class",
            axum::routing::put(chat::set_class),
        )
        .route("/api/v1/messages/{message}/forward", post(chat::forward))
        .route(
            "/api/v1/orgs/{org}/protection",
            get(protection::get).put(protection::put),
        )
        .route("/api/v1/orgs/{org}/dlp-events", get(protection::dlp_events))
        .route("/api/v1/me/notifications", get(protection::notifications))
        .route(
            "/api/v1/me/notifications/read",
            post(protection::notifications_read),
        )
        .route("/api/v1/orgs/{org}/talks", get(review::talks))
        .route("/api/v1/talks/{talk}/review", post(review::review))
        .route("/api/v1/orgs/{org}/content-reviews", get(review::reviews))
        .route(
            "/api/v1/talks/{talk}/files",
            get(files::list)
                .post(files::upload)
                // The upload handler reads the body itself, up to the configured file size.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/api/v1/files/{file}", get(files::download))
        .route("/api/v1/files/{file}/view", get(files::view))
        .route("/api/v1/ws", get(crate::realtime::ws))
}
