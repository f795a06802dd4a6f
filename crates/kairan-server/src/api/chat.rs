//! Talks and messages over JSON (C1–C3). Live updates come through `GET /api/v1/ws`.

use super::ApiJson;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::realtime::MessageView;
use crate::services::chat::{self, ClassRequest, Member, Post};
use crate::services::protection;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use kairan_domain::classification::{Level, Scheme};
use kairan_domain::policy::Actor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub(crate) fn member<'a>(me: &'a CurrentUser, actor: &'a Actor) -> Member<'a> {
    Member {
        actor,
        user_id: &me.user.id,
        org_id: &me.user.org_id,
        device: me.client.device,
    }
}

#[derive(Serialize, ToSchema)]
pub struct TalkView {
    pub id: String,
    /// `direct` (1:1) or `group`.
    pub kind: String,
    /// The group's name, or the other person's name for a 1:1 talk.
    pub name: String,
    pub last_seq: i64,
    pub last_read_seq: i64,
    pub unread: i64,
    /// Unread messages that mention the caller.
    pub unread_mentions: i64,
    pub last_message_at: Option<i64>,
    /// The highest class of anything posted in the talk.
    pub max_class: ClassLabel,
    pub ceiling: ClassLabel,
    /// An inter-body group (staff of several bodies).
    pub shared: bool,
    /// The group's period is over: read-only.
    pub closed: bool,
}

/// A class: its rank on the body's scale and its names.
#[derive(Serialize, ToSchema, Clone)]
pub struct ClassLabel {
    pub rank: i64,
    pub label_ja: String,
    pub label_en: String,
}

impl ClassLabel {
    /// The level at `rank` on a scale, if there is one.
    fn at(scale: &[Level], rank: i64) -> Option<ClassLabel> {
        let level = scale.get(usize::try_from(rank).ok()?)?;
        Some(ClassLabel {
            rank,
            label_ja: level.label_ja.clone(),
            label_en: level.label_en.clone(),
        })
    }

    /// A confidentiality class (stored ranks are always on the scale).
    pub fn of(scheme: &Scheme, rank: i64) -> ClassLabel {
        ClassLabel::at(&scheme.confidentiality, rank).unwrap_or(ClassLabel {
            rank,
            label_ja: String::new(),
            label_en: String::new(),
        })
    }

    fn scale(levels: &[Level]) -> Vec<ClassLabel> {
        (0..levels.len())
            .filter_map(|i| ClassLabel::at(levels, i64::try_from(i).ok()?))
            .collect()
    }
}

/// The body's classification scheme, least confidential (or critical) first.
#[derive(Serialize, ToSchema)]
pub struct SchemeView {
    pub preset: String,
    pub confidentiality: Vec<ClassLabel>,
    pub integrity: Vec<ClassLabel>,
    pub availability: Vec<ClassLabel>,
}

impl SchemeView {
    pub fn of(s: &Scheme) -> SchemeView {
        SchemeView {
            preset: s.preset.clone(),
            confidentiality: ClassLabel::scale(&s.confidentiality),
            integrity: ClassLabel::scale(&s.integrity),
            availability: ClassLabel::scale(&s.availability),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/talks", responses((status = 200, body = [TalkView])))]
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
) -> Result<Json<Vec<TalkView>>, AppError> {
    let actor = me.actor();
    let list = chat::talks(&state, &member(&me, &actor)).await?;
    let scheme = protection::scheme(&state, &me.user.org_id).await?;
    // One query gives every talk with its unread counts and, for 1:1 talks, the other name.
    let out = list
        .into_iter()
        .map(|s| {
            let t = s.talk;
            TalkView {
                unread: (t.last_seq - s.last_read_seq).max(0),
                unread_mentions: s.unread_mentions,
                name: match s.partner_name {
                    Some(partner) if t.kind == "direct" => partner,
                    _ if t.kind == "direct" => me.user.display_name.clone(),
                    _ => t.name,
                },
                max_class: ClassLabel::of(&scheme, t.max_class),
                ceiling: ClassLabel::of(&scheme, t.ceiling),
                shared: t.application_id.is_some(),
                closed: t.closed_at.is_some(),
                id: t.id,
                kind: t.kind,
                last_seq: t.last_seq,
                last_read_seq: s.last_read_seq,
                last_message_at: t.last_message_at,
            }
        })
        .collect();
    Ok(Json(out))
}

#[derive(Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NewTalk {
    /// Opens (or reopens) the 1:1 talk with a colleague.
    Direct { user_id: String },
    Group {
        name: String,
        #[serde(default)]
        members: Vec<String>,
        /// The ceiling (rank); one below the body's top class when absent.
        #[serde(default)]
        ceiling: Option<i64>,
        /// The class a message gets unless its sender chooses; the lowest when absent.
        #[serde(default)]
        default_class: Option<i64>,
        #[serde(default)]
        integrity: Option<i64>,
        #[serde(default)]
        availability: Option<i64>,
    },
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

#[utoipa::path(post, path = "/api/v1/talks", request_body = NewTalk,
    responses((status = 201, body = Created), (status = 200, body = Created, description = "the existing 1:1 talk"), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiJson(req): ApiJson<NewTalk>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let actor = me.actor();
    let m = member(&me, &actor);
    match req {
        NewTalk::Direct { user_id } => {
            let (id, created) = chat::open_direct(&state, &m, &user_id).await?;
            Ok((
                if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                Json(Created { id }),
            ))
        }
        NewTalk::Group {
            name,
            members,
            ceiling,
            default_class,
            integrity,
            availability,
        } => {
            let class = ClassRequest {
                ceiling,
                default_class,
                integrity,
                availability,
            };
            let id = chat::create_group(&state, &m, &name, &members, &class).await?;
            Ok((StatusCode::CREATED, Json(Created { id })))
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MemberView {
    pub user_id: String,
    pub display_name: String,
    pub kana: String,
    pub last_read_seq: i64,
    /// The member's body, when it is not the reader's (an inter-body group): shown beside
    /// the name.
    pub org_name: Option<String>,
    /// For a guest, the body or company it comes from: shown as ゲスト beside the name.
    pub guest_affiliation: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TalkDetail {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub last_seq: i64,
    pub members: Vec<MemberView>,
    /// Pinned messages, most recently pinned first.
    pub pinned: Vec<MessageView>,
    /// Nothing above this class may be posted here.
    pub ceiling: ClassLabel,
    /// The class a message gets unless its sender chooses another.
    pub default_class: ClassLabel,
    /// The highest class of anything posted here.
    pub max_class: ClassLabel,
    pub integrity: Option<ClassLabel>,
    pub availability: Option<ClassLabel>,
    /// The body's scheme, for choosing classes.
    pub scheme: SchemeView,
    /// Whether the caller may raise the ceiling to the top class.
    pub can_allow_top: bool,
    /// An inter-body group: members of several bodies, membership decided by application.
    pub shared: bool,
    /// The group's period is over: it can be read, not written to.
    pub closed: bool,
    /// For an inter-body group, its application (period, bodies).
    pub application_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/talks/{talk}", params(("talk" = String, Path)),
    responses((status = 200, body = TalkDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(talk): Path<String>,
) -> Result<Json<TalkDetail>, AppError> {
    let actor = me.actor();
    let opened = chat::talk(&state, &member(&me, &actor), &talk).await?;
    let t = opened.talk;
    // Classes are on the scale of the body the talk belongs to (for a group shared by several
    // bodies, the applicant's).
    let scheme = protection::scheme(&state, &t.org_id).await?;
    Ok(Json(TalkDetail {
        ceiling: ClassLabel::of(&scheme, t.ceiling),
        default_class: ClassLabel::of(&scheme, t.default_class),
        max_class: ClassLabel::of(&scheme, t.max_class),
        integrity: t
            .integrity
            .and_then(|r| ClassLabel::at(&scheme.integrity, r)),
        availability: t
            .availability
            .and_then(|r| ClassLabel::at(&scheme.availability, r)),
        can_allow_top: chat::may_allow_top(&member(&me, &actor), &t),
        scheme: SchemeView::of(&scheme),
        shared: t.application_id.is_some(),
        closed: t.closed_at.is_some(),
        application_id: t.application_id,
        id: t.id,
        kind: t.kind,
        name: t.name,
        last_seq: t.last_seq,
        members: opened
            .members
            .into_iter()
            .map(|u| MemberView {
                org_name: (u.org_id != me.user.org_id).then_some(u.org_name),
                guest_affiliation: u.guest_affiliation,
                user_id: u.user_id,
                display_name: u.display_name,
                kana: u.kana,
                last_read_seq: u.last_read_seq,
            })
            .collect(),
        pinned: opened.pinned.iter().map(MessageView::from).collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Page {
    /// Messages with a sequence number above this (oldest first).
    pub after: Option<i64>,
    /// The page before this sequence number (for scrolling back), oldest first.
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/talks/{talk}/messages", params(("talk" = String, Path), Page),
    responses((status = 200, body = [MessageView]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(talk): Path<String>,
    Query(p): Query<Page>,
) -> Result<Json<Vec<MessageView>>, AppError> {
    let actor = me.actor();
    let list = chat::messages(
        &state,
        &member(&me, &actor),
        &talk,
        p.after,
        p.before,
        p.limit.unwrap_or(50),
    )
    .await?;
    Ok(Json(list))
}

#[derive(Deserialize, ToSchema)]
pub struct NewMessage {
    pub body: String,
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Send despite findings that only ask for confirmation (409 `dlp_confirm_required`).
    /// Findings that block (422 `dlp_blocked`) are never sent; send the masked text instead.
    #[serde(default)]
    pub confirm_dlp: bool,
    /// Members mentioned; each must appear in the text as @name or ＠name.
    #[serde(default)]
    pub mentions: Vec<String>,
    /// The message's class (a rank on the body's scale); the talk's default when absent. The
    /// personal data found in the text may raise it; nothing above the talk's ceiling is taken
    /// (422 `class_above_ceiling`).
    #[serde(default)]
    pub class: Option<i64>,
    /// Files uploaded to this talk (`POST /api/v1/talks/{talk}/files`) to send with the text,
    /// at most 10; with files the text may be empty.
    #[serde(default)]
    pub files: Vec<String>,
}

/// Sends a message. The 201 answer means it is committed: it survives a crash. A user who
/// sends faster than the configured rate gets 429 `rate_limited` with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/talks/{talk}/messages", params(("talk" = String, Path)), request_body = NewMessage,
    responses((status = 201, body = MessageView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)))]
pub async fn post(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(talk): Path<String>,
    ApiJson(req): ApiJson<NewMessage>,
) -> Result<(StatusCode, Json<MessageView>), AppError> {
    crate::limits::throttle(&state, &me.user.id)?;
    let actor = me.actor();
    let m = chat::post(
        &state,
        &member(&me, &actor),
        &talk,
        Post {
            body: &req.body,
            reply_to: req.reply_to.as_deref(),
            mentions: &req.mentions,
            class: req.class,
            confirmed: req.confirm_dlp,
            files: &req.files,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(MessageView::with_mentions(&m.0, m.1)),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ReadUpTo {
    pub seq: i64,
}

#[utoipa::path(post, path = "/api/v1/talks/{talk}/read", params(("talk" = String, Path)), request_body = ReadUpTo, responses((status = 204)))]
pub async fn read(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(talk): Path<String>,
    ApiJson(req): ApiJson<ReadUpTo>,
) -> Result<StatusCode, AppError> {
    let actor = me.actor();
    chat::mark_read(&state, &member(&me, &actor), &talk, req.seq).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct Invite {
    pub user_ids: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/talks/{talk}/members", params(("talk" = String, Path)), request_body = Invite, responses((status = 204)))]
pub async fn invite(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(talk): Path<String>,
    ApiJson(req): ApiJson<Invite>,
) -> Result<StatusCode, AppError> {
    let actor = me.actor();
    chat::invite(&state, &member(&me, &actor), &talk, &req.user_ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/talks/{talk}/members/me", params(("talk" = String, Path)), responses((status = 204)))]
pub async fn leave(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(talk): Path<String>,
) -> Result<StatusCode, AppError> {
    let actor = me.actor();
    chat::leave(&state, &member(&me, &actor), &talk).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct Rename {
    pub name: String,
}

#[utoipa::path(patch, path = "/api/v1/talks/{talk}", params(("talk" = String, Path)), request_body = Rename, responses((status = 204)))]
pub async fn rename(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(talk): Path<String>,
    ApiJson(req): ApiJson<Rename>,
) -> Result<StatusCode, AppError> {
    let actor = me.actor();
    chat::rename(&state, &member(&me, &actor), &talk, &req.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct EditMessage {
    pub body: String,
    #[serde(default)]
    pub confirm_dlp: bool,
}

/// Edits one's own message. Members see it marked edited; every version is kept for auditors.
#[utoipa::path(patch, path = "/api/v1/messages/{message}", params(("message" = String, Path)), request_body = EditMessage,
    responses((status = 200, body = MessageView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn edit(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(message): Path<String>,
    ApiJson(req): ApiJson<EditMessage>,
) -> Result<Json<MessageView>, AppError> {
    let actor = me.actor();
    let m = chat::edit(
        &state,
        &member(&me, &actor),
        &message,
        &req.body,
        req.confirm_dlp,
    )
    .await?;
    Ok(Json(MessageView::from(&m)))
}

/// Deletes one's own message: members see 「このメッセージは削除されました」.
#[utoipa::path(delete, path = "/api/v1/messages/{message}", params(("message" = String, Path)),
    responses((status = 200, body = MessageView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(message): Path<String>,
) -> Result<Json<MessageView>, AppError> {
    let actor = me.actor();
    let m = chat::delete(&state, &member(&me, &actor), &message).await?;
    Ok(Json(MessageView::from(&m)))
}

#[derive(Deserialize, ToSchema)]
pub struct Stamp {
    /// like, ok, thanks, done, looking, celebrate
    pub stamp: String,
}

#[utoipa::path(post, path = "/api/v1/messages/{message}/reactions", params(("message" = String, Path)), request_body = Stamp, responses((status = 204)))]
pub async fn react(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(message): Path<String>,
    ApiJson(req): ApiJson<Stamp>,
) -> Result<StatusCode, AppError> {
    let actor = me.actor();
    chat::react(&state, &member(&me, &actor), &message, &req.stamp, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/messages/{message}/reactions/{stamp}", params(("message" = String, Path), ("stamp" = String, Path)), responses((status = 204)))]
pub async fn unreact(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((message, stamp)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let actor = me.actor();
    chat::react(&state, &member(&me, &actor), &message, &stamp, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/messages/{message}/pin", params(("message" = String, Path)), responses((status = 200, body = MessageView)))]
pub async fn pin(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(message): Path<String>,
) -> Result<Json<MessageView>, AppError> {
    let actor = me.actor();
    let m = chat::pin(&state, &member(&me, &actor), &message, true).await?;
    Ok(Json(MessageView::from(&m)))
}

#[utoipa::path(delete, path = "/api/v1/messages/{message}/pin", params(("message" = String, Path)), responses((status = 200, body = MessageView)))]
pub async fn unpin(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(message): Path<String>,
) -> Result<Json<MessageView>, AppError> {
    let actor = me.actor();
    let m = chat::pin(&state, &member(&me, &actor), &message, false).await?;
    Ok(Json(MessageView::from(&m)))
}

/// Changes a talk's classification. Any member may lower the ceiling (never below what the
/// talk holds) or change the default; raising it to the body's top class takes a member who
/// is a section head or security officer.
#[utoipa::path(put, path = "/api/v1/talks/{talk}/class", params(("talk" = String, Path)), request_body = ClassRequest,
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_class(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(talk): Path<String>,
    ApiJson(req): ApiJson<ClassRequest>,
) -> Result<StatusCode, AppError> {
    let actor = me.actor();
    chat::set_class(&state, &member(&me, &actor), &talk, &req).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct Forward {
    /// The talk to forward into; the caller must be a member.
    pub talk_id: String,
    #[serde(default)]
    pub confirm_dlp: bool,
}

/// Forwards a message into another of the caller's talks. The copy keeps its class and is
/// refused (422 `class_above_ceiling`) where that class is above the target's ceiling.
#[utoipa::path(post, path = "/api/v1/messages/{message}/forward", params(("message" = String, Path)), request_body = Forward,
    responses((status = 201, body = MessageView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody)))]
pub async fn forward(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(message): Path<String>,
    ApiJson(req): ApiJson<Forward>,
) -> Result<(StatusCode, Json<MessageView>), AppError> {
    crate::limits::throttle(&state, &me.user.id)?;
    let actor = me.actor();
    let m = chat::forward(
        &state,
        &member(&me, &actor),
        &message,
        &req.talk_id,
        req.confirm_dlp,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(MessageView::from(&m))))
}
