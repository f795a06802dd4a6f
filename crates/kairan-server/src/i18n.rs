//! Interface text in Japanese (default) and English (O6). Pages take the language from the
//! `lang` cookie set by the language switch. Text is written for municipal staff in 公用文 style.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn from_cookie(v: Option<&str>) -> Lang {
        match v {
            Some("en") => Lang::En,
            _ => Lang::Ja,
        }
    }
}

/// (key, Japanese, English)
const TEXT: &[(&str, &str, &str)] = &[
    ("product", "Kairan", "Kairan"),
    (
        "tagline",
        "自治体職員のための業務チャット",
        "Secure staff chat for local government",
    ),
    ("sign_in", "サインイン", "Sign in"),
    ("sign_out", "サインアウト", "Sign out"),
    ("login_id", "ログインID", "Login ID"),
    ("password", "パスワード", "Password"),
    ("warning", "ご利用上の注意", "Notice"),
    ("language", "English", "日本語"),
    ("home", "ホーム", "Home"),
    ("welcome", "ようこそ", "Welcome"),
    ("last_sign_in", "前回のサインイン", "Last sign-in"),
    (
        "first_sign_in",
        "今回が初めてのサインインです。",
        "This is your first sign-in.",
    ),
    (
        "failed_since",
        "前回のサインイン以降の失敗回数",
        "Failed attempts since then",
    ),
    (
        "failed_warning",
        "心当たりのない失敗がある場合は、情報システム担当者に連絡してください。",
        "If you do not recognise these failures, tell your system administrator.",
    ),
    ("times", "回", ""),
    ("change_password", "パスワードの変更", "Change password"),
    (
        "change_password_required",
        "初めてのサインイン、または管理者による再発行のため、パスワードを変更してください。",
        "You signed in with a temporary password. Choose your own password to continue.",
    ),
    ("current_password", "現在のパスワード", "Current password"),
    ("new_password", "新しいパスワード", "New password"),
    (
        "confirm_password",
        "新しいパスワード(確認)",
        "New password (again)",
    ),
    (
        "password_hint",
        "15文字以上(特権IDは16文字以上)。記号などの組合せは不要です。長い文や単語の組合せが安全です。氏名やログインIDを含むもの、よく使われるものは使えません。",
        "At least 15 characters (16 for privileged IDs). No symbol rules: a long phrase or several words is safest. Your name, login ID and common passwords are not allowed.",
    ),
    ("save", "保存する", "Save"),
    (
        "password_changed",
        "パスワードを変更しました。",
        "Your password has been changed.",
    ),
    ("sessions", "サインイン中の端末", "Signed-in devices"),
    (
        "sessions_hint",
        "心当たりのない端末があれば、サインアウトさせてからパスワードを変更してください。",
        "If you do not recognise a device, sign it out and change your password.",
    ),
    ("device", "端末", "Device"),
    ("address", "接続元", "Address"),
    ("started", "開始", "Started"),
    ("last_seen", "最終操作", "Last active"),
    ("this_device", "この端末", "This device"),
    ("end_session", "サインアウトさせる", "Sign out"),
    ("admin", "管理", "Administration"),
    ("users", "職員", "Staff"),
    ("departments", "所属", "Departments"),
    ("privileged", "特権ID", "Privileged IDs"),
    ("audit_log", "監査ログ", "Audit log"),
    ("new_user", "職員IDの作成", "New staff ID"),
    ("display_name", "氏名", "Name"),
    ("kana", "フリガナ", "Reading (kana)"),
    ("title", "職名", "Title"),
    ("department", "所属", "Department"),
    ("roles", "権限", "Roles"),
    ("status", "状態", "Status"),
    ("active", "利用中", "Active"),
    ("suspended", "利用停止", "Suspended"),
    ("locked", "ロック中", "Locked"),
    ("pending_change", "初回変更待ち", "Must change password"),
    ("create", "作成する", "Create"),
    ("cancel", "戻る", "Back"),
    ("none", "なし", "None"),
    ("temporary_password", "仮パスワード", "Temporary password"),
    (
        "temporary_password_once",
        "この仮パスワードは今だけ表示されます。本人に確実に伝えてください。初回サインイン時に変更が必要です。",
        "This temporary password is shown only now. Pass it to the person; they must change it at first sign-in.",
    ),
    ("suspend", "利用停止にする", "Suspend"),
    ("reactivate", "利用を再開する", "Reactivate"),
    ("reset_password", "パスワードを再発行する", "Reset password"),
    ("grant", "付与する", "Grant"),
    ("revoke", "外す", "Revoke"),
    ("granted_at", "付与日時", "Granted"),
    ("granted_by", "付与者", "Granted by"),
    ("new_department", "所属の追加", "New department"),
    ("parent_department", "上位の所属", "Parent department"),
    ("top_level", "(最上位)", "(top level)"),
    ("add", "追加する", "Add"),
    ("when", "日時", "When"),
    ("actor", "操作者", "Actor"),
    ("action", "操作", "Action"),
    ("target", "対象", "Target"),
    ("details", "詳細", "Details"),
    ("all_actions", "すべての操作", "All actions"),
    ("filter", "絞り込む", "Filter"),
    ("older", "さらに古い記録", "Older records"),
    (
        "audit_hint",
        "記録はハッシュチェーンで連結され、改ざんは `kairan audit verify` で検出できます。",
        "Records are hash-chained; `kairan audit verify` detects any tampering.",
    ),
    ("error", "エラー", "Error"),
    ("back_home", "ホームへ戻る", "Back to home"),
    ("org", "団体", "Body"),
    ("your_roles", "あなたの権限", "Your roles"),
    ("operator", "運用者(コンソール)", "Operator (console)"),
    ("system", "システム", "System"),
    ("no_records", "記録はありません。", "No records."),
    ("saved", "保存しました。", "Saved."),
    (
        "suspended_done",
        "利用を停止しました。この職員のセッションはすべて終了しています。",
        "Suspended. All of this person's sessions have ended.",
    ),
    ("reactivated_done", "利用を再開しました。", "Reactivated."),
    ("skip_to_main", "本文へ移動", "Skip to content"),
    ("talks", "トーク", "Talks"),
    ("new_talk", "新しいトーク", "New talk"),
    ("direct_talk", "1対1", "One-to-one"),
    ("group_talk", "グループ", "Group"),
    ("talk_name", "トーク名", "Talk name"),
    (
        "talk_name_example",
        "例:令和8年度 予算要求 調整",
        "e.g. Budget request FY2026",
    ),
    ("members", "メンバー", "Members"),
    (
        "search_people",
        "氏名・フリガナで検索",
        "Search by name or kana",
    ),
    ("start_talk", "トークを始める", "Start talk"),
    ("search_talks", "トークを検索", "Search talks"),
    ("choose_talk", "トークを選んでください", "Choose a talk"),
    ("messages", "メッセージ", "Messages"),
    ("message", "メッセージ", "Message"),
    ("composer_hint", "メッセージを入力", "Write a message"),
    (
        "composer_help",
        "Enterで送信、Shift+Enterで改行。チャットでの合意は決裁ではありません。",
        "Enter sends, Shift+Enter adds a line. Agreement in chat is not a formal decision.",
    ),
    ("send", "送信", "Send"),
    (
        "dlp_title",
        "個人情報が含まれている可能性があります",
        "This may contain personal data",
    ),
    ("dlp_mask_send", "マスクして送信", "Mask and send"),
    (
        "dlp_send_anyway",
        "確認のうえ、このまま送信",
        "I have checked: send as is",
    ),
    ("dlp_edit", "修正する", "Edit"),
    ("menu", "メニュー", "Menu"),
];

pub fn strings(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    TEXT.iter()
        .map(|(k, ja, en)| (*k, if lang == Lang::Ja { *ja } else { *en }))
        .collect()
}

/// Microseconds since the epoch as Japan time (JST has no daylight saving), e.g.
/// 「2026年4月1日 9:05」 or "2026-04-01 09:05".
pub fn format_time(us: i64, lang: Lang) -> String {
    use chrono::{Datelike, FixedOffset, TimeZone, Timelike};
    let Some(jst) = FixedOffset::east_opt(9 * 3600) else {
        return String::new();
    };
    let Some(t) = jst.timestamp_micros(us).single() else {
        return String::new();
    };
    match lang {
        Lang::Ja => format!(
            "{}年{}月{}日 {}:{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Lang::En => t.format("%Y-%m-%d %H:%M").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_translated() {
        let mut keys: Vec<_> = TEXT.iter().map(|t| t.0).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n);
        for (k, ja, en) in TEXT {
            assert!(!ja.is_empty(), "{k}");
            assert!(!en.is_empty() || *k == "times", "{k}");
        }
    }

    #[test]
    fn times_are_shown_in_japan_time() {
        // 2026-04-01T00:05:00Z is 09:05 in Japan.
        let us = 1_775_001_900_000_000;
        assert_eq!(format_time(us, Lang::Ja), "2026年4月1日 9:05");
        assert_eq!(format_time(us, Lang::En), "2026-04-01 09:05");
    }
}
