//! The chat screen. The page is a shell; `static/chat.js` fills it from the JSON API and keeps
//! it live over the WebSocket, rendering every message as text (never as HTML).

use super::{PageCtx, PageError, me_value, render};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::services::admin;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use minijinja::context;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/talks", get(list))
        .route("/talks/{id}", get(open))
}

async fn list(
    state: State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
) -> Result<Html<String>, PageError> {
    page(state, ctx, me, None).await
}

async fn open(
    state: State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    page(state, ctx, me, Some(id)).await
}

/// Words the script needs: key, Japanese, English.
const SCRIPT_TEXT: &[(&str, &str, &str)] = &[
    ("read", "既読", "Read by"),
    ("read_all", "全員既読", "Read by all"),
    ("people", "人", " members"),
    ("guest", "ゲスト", "guest"),
    ("load_older", "以前のメッセージ", "Earlier messages"),
    (
        "no_talks",
        "トークはまだありません。「新しいトーク」から始めましょう。",
        "No talks yet. Start one with “New talk”.",
    ),
    (
        "no_messages",
        "まだメッセージはありません。",
        "No messages yet.",
    ),
    ("send_failed", "送信できませんでした。", "Could not send."),
    (
        "choose_people",
        "相手を選んでください。",
        "Choose who to talk with.",
    ),
    ("reconnecting", "再接続しています…", "Reconnecting…"),
    ("you", "自分", "You"),
    (
        "deleted",
        "このメッセージは削除されました",
        "This message was deleted",
    ),
    ("edited", "(編集済み)", "(edited)"),
    ("reply", "返信", "Reply"),
    ("stamp", "スタンプ", "React"),
    ("edit", "編集", "Edit"),
    ("delete", "削除", "Delete"),
    (
        "delete_confirm",
        "このメッセージを削除しますか。相手の画面からも消えます。",
        "Delete this message? It disappears for everyone.",
    ),
    ("replying_to", "返信先:", "Replying to"),
    ("cancel_reply", "返信をやめる", "Cancel reply"),
    ("save", "保存", "Save"),
    ("read_by", "既読", "Read"),
    ("not_read_by", "未読", "Not read yet"),
    ("close", "閉じる", "Close"),
    ("pin", "ピン留め", "Pin"),
    ("unpin", "ピンを外す", "Unpin"),
    ("pinned", "ピン留め", "Pinned"),
    (
        "mentioned",
        "あなた宛てのメンションがあります",
        "You were mentioned",
    ),
    ("cancel", "キャンセル", "Cancel"),
    ("forward", "転送", "Forward"),
    ("forwarded", "転送", "Forwarded"),
    ("ceiling", "上限", "Ceiling"),
    (
        "holds",
        "このトークの内容の最高区分:",
        "Highest class held here:",
    ),
    ("none", "指定しない", "None"),
    (
        "no_other_talks",
        "転送できるトークがありません。",
        "No other talk to forward to.",
    ),
    (
        "above_ceiling",
        "上限を超えるため、マスクが必要です",
        "above the ceiling: mask it",
    ),
    (
        "forward_confirm",
        "転送先でも個人情報などの確認が必要です。このまま転送しますか。",
        "The message needs confirming in the target talk too. Forward it anyway?",
    ),
    ("uploading", "アップロード中", "Uploading"),
    ("scanning", "ウイルス検査中", "Scanning for malware"),
    ("file_ready", "送信できます", "Ready to send"),
    ("remove_file", "添付を取り消す", "Remove"),
    (
        "files_pending",
        "ファイルの準備が終わってから送信してください。",
        "Wait until the files are ready, then send.",
    ),
    (
        "upload_failed",
        "アップロードできませんでした。",
        "Upload failed.",
    ),
    (
        "no_download",
        "この端末ではダウンロードできません",
        "Not downloadable on this device",
    ),
    ("confirm_attach", "確認して添付", "Confirm and attach"),
    ("download", "ダウンロード", "Download"),
    (
        "drop_here",
        "ここにファイルをドロップして添付",
        "Drop files here to attach",
    ),
];

/// Words the script needs, in the page's language. A guest, who starts no talks, is told
/// that talks it is invited into will appear.
fn script_text(lang: Lang, guest: bool) -> serde_json::Value {
    let mut words = crate::i18n::table(SCRIPT_TEXT, lang);
    words.insert("lang", lang.code());
    if guest {
        words.insert(
            "no_talks",
            lang.pick(
                "招待されたトークはまだありません。職員がトークに招待すると、ここに表示されます。",
                "No talks yet. Talks that staff invite you into appear here.",
            ),
        );
    }
    serde_json::json!(words)
}

async fn page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    talk_id: Option<String>,
) -> Result<Html<String>, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let org = admin::org_by_id(&state, &me.user.org_id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let guest = kairan_domain::role::only_guest(&me.roles);
    let files = crate::services::guests::file_rights(&state, &me.actor(), &me.user.org_id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    render(
        &state,
        "talks.html",
        &ctx,
        context! {
            me => me_value(&me, &org.name, ctx.lang),
            nav => "talks",
            talk_id,
            chat_text => script_text(ctx.lang, guest).to_string(),
            can_start => !guest,
            can_download => crate::services::files::may_download(&state, me.client.device)
                && files.may_download(),
            can_upload => files.may_upload(),
        },
    )
}
