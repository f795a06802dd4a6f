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

/// Words the script needs, in the page's language.
fn script_text(lang: Lang) -> serde_json::Value {
    let ja = lang == Lang::Ja;
    serde_json::json!({
        "read": if ja { "既読" } else { "Read by" },
        "read_all": if ja { "全員既読" } else { "Read by all" },
        "people": if ja { "人" } else { " members" },
        "load_older": if ja { "以前のメッセージ" } else { "Earlier messages" },
        "no_talks": if ja { "トークはまだありません。「新しいトーク」から始めましょう。" } else { "No talks yet. Start one with “New talk”." },
        "no_messages": if ja { "まだメッセージはありません。" } else { "No messages yet." },
        "send_failed": if ja { "送信できませんでした。" } else { "Could not send." },
        "choose_people": if ja { "相手を選んでください。" } else { "Choose who to talk with." },
        "reconnecting": if ja { "再接続しています…" } else { "Reconnecting…" },
        "you": if ja { "自分" } else { "You" },
        "deleted": if ja { "このメッセージは削除されました" } else { "This message was deleted" },
        "edited": if ja { "(編集済み)" } else { "(edited)" },
        "reply": if ja { "返信" } else { "Reply" },
        "stamp": if ja { "スタンプ" } else { "React" },
        "edit": if ja { "編集" } else { "Edit" },
        "delete": if ja { "削除" } else { "Delete" },
        "delete_confirm": if ja { "このメッセージを削除しますか。相手の画面からも消えます。" } else { "Delete this message? It disappears for everyone." },
        "replying_to": if ja { "返信先:" } else { "Replying to" },
        "cancel_reply": if ja { "返信をやめる" } else { "Cancel reply" },
        "save": if ja { "保存" } else { "Save" },
        "read_by": if ja { "既読" } else { "Read" },
        "not_read_by": if ja { "未読" } else { "Not read yet" },
        "close": if ja { "閉じる" } else { "Close" },
        "pin": if ja { "ピン留め" } else { "Pin" },
        "unpin": if ja { "ピンを外す" } else { "Unpin" },
        "pinned": if ja { "ピン留め" } else { "Pinned" },
        "mentioned": if ja { "あなた宛てのメンションがあります" } else { "You were mentioned" },
        "cancel": if ja { "キャンセル" } else { "Cancel" },
        "forward": if ja { "転送" } else { "Forward" },
        "forwarded": if ja { "転送" } else { "Forwarded" },
        "ceiling": if ja { "上限" } else { "Ceiling" },
        "holds": if ja { "このトークの内容の最高区分:" } else { "Highest class held here:" },
        "none": if ja { "指定しない" } else { "None" },
        "no_other_talks": if ja { "転送できるトークがありません。" } else { "No other talk to forward to." },
        "above_ceiling": if ja { "上限を超えるため、マスクが必要です" } else { "above the ceiling: mask it" },
        "forward_confirm": if ja { "転送先でも個人情報などの確認が必要です。このまま転送しますか。" } else { "The message needs confirming in the target talk too. Forward it anyway?" },
        "lang": if ja { "ja" } else { "en" },
    })
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
    render(
        &state,
        "talks.html",
        &ctx,
        context! {
            me => me_value(&me, &org.name, ctx.lang),
            nav => "talks",
            talk_id,
            chat_text => script_text(ctx.lang).to_string(),
        },
    )
}
