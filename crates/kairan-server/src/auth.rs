//! Who is calling: session cookies, the CSRF guard, and the extractors that build the actor
//! once per request.
//!
//! CSRF: every response that lacks it sets a random `kairan_csrf` cookie (HttpOnly,
//! SameSite=Strict). An unsafe request (POST, PUT, PATCH, DELETE) must echo that value in the
//! `X-CSRF-Token` header or, for an HTML form, in its `csrf` field; for a signed-in caller the
//! value must also be the token bound to the session at sign-in. Pages carry the token in a
//! `<meta>` tag and in hidden form fields, never in inline script.

use crate::error::AppError;
use crate::state::AppState;
use crate::token;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kairan_domain::Role;
use kairan_domain::audit::AuditAction;
use kairan_domain::policy::{Actor, UserActor};
use kairan_domain::{OrgId, UserId};
use kairan_store::audit::NewEntry;
use kairan_store::{sessions, users};
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "kairan_session";
pub const CSRF_COOKIE: &str = "kairan_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The device token of a browser or app (I5): random, long-lived, minted on first contact.
/// For an internet device it names the registered device at sign-in.
pub const DEVICE_COOKIE: &str = "kairan_device";
const DEVICE_COOKIE_DAYS: u64 = 400;
const MAX_FORM_BYTES: usize = 64 * 1024;

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value. `max_age` of `None` makes a browser-session cookie; `Some(0)` deletes.
pub fn set_cookie(name: &str, value: &str, max_age: Option<u64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The CSRF guard and the cookie that feeds it. Runs on every route.
///
/// A first visit has no token yet: one is minted here and added to the request's cookies, so
/// the page rendered for this very request already carries it in its forms.
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let cookie_token = cookie(req.headers(), CSRF_COOKIE);
    let mut req = if is_unsafe(req.method()) {
        match check_csrf(req, cookie_token.as_deref()).await {
            Ok(req) => req,
            Err(e) => return e.into_response(),
        }
    } else {
        req
    };
    let minted = match cookie_token {
        Some(_) => None,
        None => {
            let fresh = token::random_hex(32);
            if let Ok(v) = HeaderValue::from_str(&format!("{CSRF_COOKIE}={fresh}")) {
                req.headers_mut().append(COOKIE, v);
            }
            Some(fresh)
        }
    };
    // The device token, minted the same way, so that even a first request (a sign-in from a
    // fresh app) already carries one.
    let device = match cookie(req.headers(), DEVICE_COOKIE) {
        Some(_) => None,
        None => {
            let fresh = token::random_hex(32);
            if let Ok(v) = HeaderValue::from_str(&format!("{DEVICE_COOKIE}={fresh}")) {
                req.headers_mut().append(COOKIE, v);
            }
            Some(fresh)
        }
    };
    let mut resp = next.run(req).await;
    if let Some(fresh) = device {
        resp.headers_mut().append(
            SET_COOKIE,
            set_cookie(
                DEVICE_COOKIE,
                &fresh,
                Some(DEVICE_COOKIE_DAYS * 86_400),
                state.secure_cookies,
            ),
        );
    }
    if let Some(fresh) = minted {
        let sets_csrf = resp
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.starts_with(CSRF_COOKIE)));
        if !sets_csrf {
            resp.headers_mut().append(
                SET_COOKIE,
                set_cookie(CSRF_COOKIE, &fresh, None, state.secure_cookies),
            );
        }
    }
    resp
}

async fn check_csrf(req: Request, cookie_token: Option<&str>) -> Result<Request, AppError> {
    let Some(expected) = cookie_token else {
        return Err(AppError::Csrf);
    };
    // A browser always sends Origin on cross-site unsafe requests; when present it must name
    // this host.
    if let (Some(origin), Some(host)) = (req.headers().get("origin"), req.headers().get("host")) {
        let origin = origin.to_str().unwrap_or("");
        let host = host.to_str().unwrap_or("");
        let origin_host = origin.split("://").nth(1).unwrap_or("");
        if origin_host != host {
            return Err(AppError::Csrf);
        }
    }
    if let Some(sent) = req.headers().get(CSRF_HEADER) {
        return if token::same(sent.to_str().unwrap_or(""), expected) {
            Ok(req)
        } else {
            Err(AppError::Csrf)
        };
    }
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(AppError::Csrf);
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    let sent = form_urlencoded_value(&bytes, "csrf").unwrap_or_default();
    if !token::same(&sent, expected) {
        return Err(AppError::Csrf);
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn form_urlencoded_value(body: &[u8], key: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    pairs.into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Where a request came from: the client's address and device class, decided by the network
/// zones from the socket peer (and a trusted proxy's header), never from the client (I5).
#[derive(Debug, Clone)]
pub struct Client {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub device: kairan_domain::DeviceClass,
    /// The browser's or app's device token (`kairan_device`), which names its registered
    /// device when it is an internet device.
    pub device_token: Option<String>,
    /// The device key's answer to a sign-in challenge, when the sign-in's body carried one
    /// (filled in by the sign-in handlers; see `kairan_domain::device_key`).
    pub device_proof: Option<kairan_domain::device_key::DeviceProof>,
}

impl FromRequestParts<AppState> for Client {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let (ip, device) = match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            Some(c) => {
                let (ip, device) = state.zones.resolve(c.0.ip(), &parts.headers);
                (Some(ip.to_string()), device)
            }
            None => (None, kairan_domain::DeviceClass::InternetDevice),
        };
        let user_agent = parts
            .headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(200).collect());
        Ok(Client {
            ip,
            user_agent,
            device,
            device_token: cookie(&parts.headers, DEVICE_COOKIE),
            device_proof: None,
        })
    }
}

/// A signed-in user, whatever their password state.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub session: sessions::Session,
    pub user: users::User,
    pub roles: Vec<Role>,
    pub client: Client,
}

impl Authenticated {
    pub fn actor(&self) -> Actor {
        Actor::User(UserActor {
            user_id: UserId(self.user.id.clone()),
            org_id: OrgId(self.user.org_id.clone()),
            roles: self.roles.clone(),
        })
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// Whether a session has passed its idle or absolute limit at `now` (microseconds). The one
/// test for requests and for live connections alike.
pub fn session_expired(state: &AppState, session: &sessions::Session, now: i64) -> bool {
    let idle_minutes = session
        .idle_minutes
        .and_then(|m| u64::try_from(m).ok())
        .unwrap_or(state.config.session.idle_minutes);
    let idle_us = i64::try_from(idle_minutes * 60_000_000).unwrap_or(i64::MAX);
    let absolute_us =
        i64::try_from(state.config.session.absolute_hours * 3_600_000_000).unwrap_or(i64::MAX);
    now - session.last_seen_at > idle_us || now - session.created_at > absolute_us
}

/// How long a session may wait at its second-factor step before it must start again.
pub const MFA_STEP_MINUTES: i64 = 10;

/// A live session, whatever it still owes after the password step. Only the second-factor
/// endpoints and sign-out take this; everything else takes [`Authenticated`], which refuses
/// a session that has not finished signing in.
#[derive(Debug, Clone)]
pub struct AnySession(pub Authenticated);

impl FromRequestParts<AppState> for AnySession {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(done) = parts.extensions.get::<AnySession>() {
            return Ok(done.clone());
        }
        let client = Client::from_request_parts(parts, state).await?;
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(AppError::Unauthenticated)?;
        let hash = token::sha256_hex(&token);
        let mut conn = state.store.read().await?;
        let session = sessions::by_token_hash(&mut conn, &hash)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let now = kairan_store::now_us();
        let step_over =
            session.mfa_state != "none" && now - session.created_at > MFA_STEP_MINUTES * 60_000_000;
        if session_expired(state, &session, now) || step_over {
            drop(conn);
            let reason = if step_over {
                "mfa_timeout"
            } else {
                "idle_timeout"
            };
            expire(state, &session, &client, reason).await?;
            return Err(AppError::Unauthenticated);
        }
        let user = users::by_id(&mut conn, &session.user_id)
            .await?
            .filter(|u| u.is_active())
            .ok_or(AppError::Unauthenticated)?;
        if is_unsafe(&parts.method) {
            // The guard already matched the submitted token to the cookie; here the cookie
            // must also be the one issued with this session, so a token planted before
            // sign-in is worthless.
            let cookie_value = cookie(&parts.headers, CSRF_COOKIE).unwrap_or_default();
            if !token::same(&cookie_value, &session.csrf_token) {
                return Err(AppError::Csrf);
            }
        }
        let roles = users::roles(&mut conn, &user.id)
            .await?
            .iter()
            .filter_map(|r| Role::parse(r))
            .collect();
        // Keep writes rare: last-seen moves at most every 30 seconds.
        if now - session.last_seen_at > 30_000_000 {
            sessions::touch(&mut conn, &session.id, now).await?;
        }
        let me = AnySession(Authenticated {
            session,
            user,
            roles,
            client,
        });
        parts.extensions.insert(me.clone());
        Ok(me)
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for AnySession {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, AppError> {
        match <AnySession as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(me) => Ok(Some(me)),
            Err(AppError::Unauthenticated) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let AnySession(me) = AnySession::from_request_parts(parts, state).await?;
        match me.session.mfa_state.as_str() {
            "none" => Ok(me),
            "enrol" => Err(AppError::MfaEnrolmentRequired),
            _ => Err(AppError::MfaRequired),
        }
    }
}

async fn expire(
    state: &AppState,
    session: &sessions::Session,
    client: &Client,
    reason: &str,
) -> Result<(), AppError> {
    let mut tx = state.store.write().await?;
    if sessions::end(&mut tx, &session.id, reason).await? {
        let org = users::by_id(tx.conn(), &session.user_id)
            .await?
            .map(|u| u.org_id);
        let mut e = NewEntry::new(AuditAction::SessionExpired);
        e.org_id = org;
        e.actor_id = Some(session.user_id.clone());
        e.target_id = Some(session.id.clone());
        e.ip = client.ip.clone();
        crate::services::detail(&mut e, "reason", reason);
        kairan_store::audit::append(&mut tx, e).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A signed-in user who has no pending forced password change: what almost every handler takes.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Authenticated);

impl std::ops::Deref for CurrentUser {
    type Target = Authenticated;
    fn deref(&self) -> &Authenticated {
        &self.0
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let me = Authenticated::from_request_parts(parts, state).await?;
        if me.user.must_change_password != 0 {
            return Err(AppError::PasswordChangeRequired);
        }
        Ok(CurrentUser(me))
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for Authenticated {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, AppError> {
        match <Authenticated as FromRequestParts<AppState>>::from_request_parts(parts, state).await
        {
            Ok(me) => Ok(Some(me)),
            Err(AppError::Unauthenticated) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
