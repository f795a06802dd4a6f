//! The one error type of the server, turned into HTTP in one place. The same value renders as
//! `{"error":{"code","message_ja","message_en"}}` for the API and as a page for browsers.
//! Internal errors are logged once here and reach the client only as "something went wrong".

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kairan_domain::policy::Denied;
use kairan_domain::{DomainError, Localized};
use kairan_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid input: {0}")]
    Invalid(#[from] DomainError),
    #[error("denied: {0}")]
    Denied(#[from] Denied),
    #[error("not signed in")]
    Unauthenticated,
    #[error("sign-in failed")]
    SignInFailed,
    #[error("password change required")]
    PasswordChangeRequired,
    /// The session has passed its password step but still owes the user's second factor.
    #[error("second factor required")]
    MfaRequired,
    /// The policy requires a second factor and the user has none yet: enrolment first.
    #[error("second-factor enrolment required")]
    MfaEnrolmentRequired,
    /// A wrong, replayed or spent code.
    #[error("second factor failed")]
    MfaFailed,
    /// A correct password from an internet device that may not be used: waiting for
    /// approval, refused, reported lost, or without a device token.
    #[error("device refused: {0}")]
    DeviceRefused(&'static str),
    /// The body's directory could not be asked (down, timed out, a TLS failure, an answer
    /// that made no sense): directory IDs cannot sign in; local IDs still can.
    #[error("directory unavailable")]
    DirectoryUnavailable,
    /// A passkey's answer did not verify (the reason is a `WebauthnError` code).
    #[error("passkey failed: {0}")]
    Passkey(&'static str),
    #[error("csrf check failed")]
    Csrf,
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The body is in maintenance: only administrators may sign in. Carries the body's own
    /// note (Japanese, English), which may be empty.
    #[error("maintenance")]
    Maintenance(Box<(String, String)>),
    /// The approval engine refused a step (not allowed from this state, one's own
    /// application, a missing reason).
    #[error("application: {0}")]
    Application(#[from] kairan_domain::application::ApplicationError),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("internal: {0}")]
    Internal(String),
    /// The message holds personal data: refused (block, mask) or waiting for the sender's
    /// confirmation.
    #[error("personal data found")]
    Dlp(Box<crate::services::dlp::Verdict>),
    /// Personal data in an uploaded document's text: kinds and counts only.
    #[error("personal data in an uploaded file")]
    FileDlp(Box<crate::services::files::FileFindings>),
    /// Too many sends in a short time from one user; try again after this many seconds.
    #[error("rate limited")]
    RateLimited { retry_after_s: u64 },
    /// An upload refused for what it is: `file_empty`, `file_type_not_allowed`,
    /// `file_infected`, `file_too_large`.
    #[error("file refused: {0}")]
    FileRefused(&'static str),
    /// The malware scanner did not answer: uploads fail closed (G9).
    #[error("scanner unavailable")]
    ScannerUnavailable,
    /// A class above the talk's ceiling (G1).
    #[error("class above the ceiling")]
    AboveCeiling {
        class_ja: String,
        class_en: String,
        ceiling_ja: String,
        ceiling_en: String,
    },
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict => AppError::Conflict("conflict"),
            StoreError::Config(_) | StoreError::Corrupt(_) | StoreError::Db(_) => {
                AppError::Internal(e.to_string())
            }
        }
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Denied(_)
            | AppError::PasswordChangeRequired
            | AppError::MfaRequired
            | AppError::MfaEnrolmentRequired
            | AppError::DeviceRefused(_)
            | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Unauthenticated
            | AppError::SignInFailed
            | AppError::MfaFailed
            | AppError::Passkey(_) => StatusCode::UNAUTHORIZED,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::DirectoryUnavailable | AppError::Maintenance(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Dlp(v) => match v.action() {
                crate::services::dlp::Action::Block | crate::services::dlp::Action::Mask => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                crate::services::dlp::Action::Confirm | crate::services::dlp::Action::Allow => {
                    StatusCode::CONFLICT
                }
            },
            AppError::AboveCeiling { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::FileDlp(f) => match f.action {
                crate::services::dlp::Action::Block | crate::services::dlp::Action::Mask => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                crate::services::dlp::Action::Confirm | crate::services::dlp::Action::Allow => {
                    StatusCode::CONFLICT
                }
            },
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::FileRefused("file_too_large") => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::FileRefused("upload_interrupted") => StatusCode::BAD_REQUEST,
            AppError::FileRefused(
                "download_not_allowed_on_device" | "files_not_allowed_for_guests",
            ) => StatusCode::FORBIDDEN,
            AppError::FileRefused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::ScannerUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Application(e) => {
                use kairan_domain::application::ApplicationError as E;
                match e {
                    E::SelfApproval | E::NotApplicant | E::NotApprover => StatusCode::FORBIDDEN,
                    E::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    _ => StatusCode::CONFLICT,
                }
            }
        }
    }
}

impl Localized for AppError {
    fn code(&self) -> &'static str {
        match self {
            AppError::Invalid(e) => e.code(),
            AppError::Denied(d) => d.code(),
            AppError::Unauthenticated => "unauthenticated",
            AppError::SignInFailed => "sign_in_failed",
            AppError::PasswordChangeRequired => "password_change_required",
            AppError::MfaRequired => "mfa_required",
            AppError::MfaEnrolmentRequired => "mfa_enrolment_required",
            AppError::MfaFailed => "mfa_failed",
            AppError::DirectoryUnavailable => "directory_unavailable",
            AppError::Maintenance(_) => "maintenance",
            AppError::DeviceRefused(code) => code,
            AppError::Passkey("challenge") => "passkey_expired",
            AppError::Passkey(_) => "passkey_failed",
            AppError::Csrf => "csrf_failed",
            AppError::NotFound => "not_found",
            AppError::Conflict(code) => code,
            AppError::BadRequest(_) => "bad_request",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::Internal(_) => "internal_error",
            AppError::Dlp(v) => v.code(),
            AppError::FileDlp(f) => f.code(),
            AppError::AboveCeiling { .. } => "class_above_ceiling",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::FileRefused(code) => code,
            AppError::ScannerUnavailable => "scanner_unavailable",
            AppError::Application(e) => e.code(),
        }
    }

    fn message_ja(&self) -> String {
        match self {
            AppError::Invalid(e) => e.message_ja(),
            AppError::Denied(d) => d.message_ja(),
            AppError::Unauthenticated => "サインインしてください。".into(),
            AppError::SignInFailed => "ログインIDまたはパスワードが正しくありません。失敗が続くと、一定時間サインインできなくなります。".into(),
            AppError::PasswordChangeRequired => "パスワードを変更してから操作してください。".into(),
            AppError::MfaRequired => "確認コードを入力して、サインインを完了してください。".into(),
            AppError::MfaEnrolmentRequired => "このIDは2要素認証が必要です。認証アプリを登録してから操作してください。".into(),
            AppError::DeviceRefused(code) => device_ja(code).into(),
            AppError::Passkey("challenge") => "確認の有効期限が切れたか、別の画面で始めた確認です。もう一度お試しください。".into(),
            AppError::Passkey(_) => "パスキーを確認できませんでした。登録したパスキーで、もう一度お試しください。失敗が続くと、一定時間サインインできなくなります。".into(),
            AppError::Maintenance(note) => {
                let mut m = String::from(
                    "現在、システムの保守作業中のため、管理者以外はサインインできません。作業が終わるまでお待ちください。",
                );
                if !note.0.is_empty() {
                    m.push_str(&format!("（{}）", note.0));
                }
                m
            }
            AppError::DirectoryUnavailable => "ディレクトリサーバー（Active Directory など）に接続できないため、サインインできません。しばらくしてからもう一度お試しください。続く場合はシステム管理者に連絡してください。".into(),
            AppError::MfaFailed => "確認コードが正しくないか、既に使用されています。新しいコードを入力してください。失敗が続くと、一定時間サインインできなくなります。".into(),
            AppError::Csrf => "画面の有効期限が切れました。ページを再読み込みしてから、もう一度操作してください。".into(),
            AppError::NotFound => "お探しの情報は見つかりませんでした。".into(),
            AppError::Conflict(code) => conflict_ja(code).into(),
            AppError::BadRequest(_) => "入力の形式が正しくありません。".into(),
            AppError::PayloadTooLarge => "送信されたデータが大きすぎます。".into(),
            AppError::Internal(_) => "システムエラーが発生しました。時間をおいて再度お試しください。".into(),
            AppError::Dlp(v) => v.message_ja(),
            AppError::FileDlp(f) => f.message_ja(),
            AppError::AboveCeiling { class_ja, ceiling_ja, .. } => format!(
                "「{class_ja}」の情報は、上限が「{ceiling_ja}」のこのトークには送信できません。"
            ),
            AppError::FileRefused(code) => file_ja(code).into(),
            AppError::ScannerUnavailable => "ウイルス検査が一時的に利用できないため、ファイルを受け付けられません。時間をおいて再度お試しください。".into(),
            AppError::Application(e) => e.message_ja(),
            AppError::RateLimited { retry_after_s } => format!(
                "短い間に多くのメッセージが送信されたため、受付を一時停止しています。{retry_after_s}秒ほど待ってから送信してください。"
            ),
        }
    }

    fn message_en(&self) -> String {
        match self {
            AppError::Invalid(e) => e.message_en(),
            AppError::Denied(d) => d.message_en(),
            AppError::Unauthenticated => "Please sign in.".into(),
            AppError::SignInFailed => "The login ID or password is incorrect. After repeated failures, sign-in is blocked for a while.".into(),
            AppError::PasswordChangeRequired => "Change your password first.".into(),
            AppError::MfaRequired => "Enter your verification code to finish signing in.".into(),
            AppError::MfaEnrolmentRequired => "This ID must use two-factor authentication. Set up an authenticator app first.".into(),
            AppError::DeviceRefused(code) => device_en(code).into(),
            AppError::Passkey("challenge") => "This check expired or was started elsewhere. Please try again.".into(),
            AppError::Passkey(_) => "The passkey could not be verified. Try again with a passkey you registered. After repeated failures, sign-in is blocked for a while.".into(),
            AppError::Maintenance(note) => {
                let mut m = String::from(
                    "The system is under maintenance: only administrators can sign in now. Please wait until it is over.",
                );
                let extra = if note.1.is_empty() { &note.0 } else { &note.1 };
                if !extra.is_empty() {
                    m.push_str(&format!(" ({extra})"));
                }
                m
            }
            AppError::DirectoryUnavailable => "The directory server (such as Active Directory) cannot be reached, so you cannot sign in now. Try again shortly; if it goes on, contact your system administrator.".into(),
            AppError::MfaFailed => "The code is wrong or has already been used. Enter a new code. After repeated failures, sign-in is blocked for a while.".into(),
            AppError::Csrf => "This page has expired. Reload it and try again.".into(),
            AppError::NotFound => "Not found.".into(),
            AppError::Conflict(code) => conflict_en(code).into(),
            AppError::BadRequest(detail) => format!("The request is malformed: {detail}"),
            AppError::PayloadTooLarge => "The request is too large.".into(),
            AppError::Internal(_) => "Something went wrong. Please try again later.".into(),
            AppError::Dlp(v) => v.message_en(),
            AppError::FileDlp(f) => f.message_en(),
            AppError::AboveCeiling { class_en, ceiling_en, .. } => format!(
                "\"{class_en}\" information cannot go into this talk, whose ceiling is \"{ceiling_en}\"."
            ),
            AppError::FileRefused(code) => file_en(code).into(),
            AppError::ScannerUnavailable => "The malware scanner is not available, so no file can be accepted now. Please try again later.".into(),
            AppError::Application(e) => e.message_en(),
            AppError::RateLimited { retry_after_s } => format!(
                "Too many messages in a short time. Wait about {retry_after_s} s and send again."
            ),
        }
    }
}

fn device_ja(code: &str) -> &'static str {
    match code {
        "device_pending_approval" => {
            "この端末は登録されましたが、管理者の承認を待っています。承認後にもう一度サインインしてください。"
        }
        "device_lost" => {
            "この端末は紛失の届出がされているため、サインインできません。見つかった場合は、情報システム担当者に利用の再開を依頼してください。"
        }
        "device_cookie_required" => {
            "この端末を識別できません。Cookieを有効にして、ページを再読み込みしてからサインインしてください。"
        }
        "device_key_invalid" => {
            "この端末の鍵を確認できませんでした。ページを再読み込みしてから、もう一度サインインしてください。続く場合は、情報システム担当者に連絡してください。"
        }
        _ => "この端末の利用は認められていません。情報システム担当者に確認してください。",
    }
}

fn device_en(code: &str) -> &'static str {
    match code {
        "device_pending_approval" => {
            "This device is registered and waits for an administrator's approval. Sign in again once it is approved."
        }
        "device_lost" => {
            "This device was reported lost, so it cannot sign in. If it was found, ask your system administrator to restore it."
        }
        "device_cookie_required" => {
            "This device cannot be identified. Allow cookies, reload the page and sign in again."
        }
        "device_key_invalid" => {
            "This device's key could not be confirmed. Reload the page and sign in again; if it goes on, contact your system administrator."
        }
        _ => "This device may not be used. Ask your system administrator.",
    }
}

fn file_ja(code: &str) -> &'static str {
    match code {
        "file_empty" => "空のファイルは送信できません。",
        "upload_interrupted" => "アップロードが途中で切れました。もう一度お試しください。",
        "file_type_not_allowed_on_device" => {
            "この端末からは、この種類のファイルを送信できません。職場のパソコン（LGWAN接続系）から送信してください。"
        }
        "download_not_allowed_on_device" => {
            "この端末ではファイルをダウンロードできません。職場のパソコン（LGWAN接続系）で開いてください。"
        }
        "files_not_allowed_for_guests" => {
            "ゲストの方は、この団体の設定によりファイルを送信・受信できません。必要な場合は、担当の職員にご相談ください。"
        }
        "file_encrypted" => {
            "パスワードで保護されたファイルは中身を検査できないため、受け付けません。保護を解除してから添付してください。"
        }
        "file_active_content" => {
            "マクロ、ActiveX、埋め込みオブジェクトを含むOfficeファイルは送信できません。それらを取り除いて保存し直してから添付してください。"
        }
        "file_malformed" => {
            "ファイルが壊れているか、展開すると大きくなりすぎるため、受け付けません。"
        }
        "file_too_large" => "ファイルが大きすぎます。上限を超えないファイルを選んでください。",
        "file_infected" => {
            "このファイルからマルウェアが検出されたため、受け付けませんでした。ファイルは隔離され、情報セキュリティ担当者に通知されました。"
        }
        _ => {
            "この種類のファイルは送信できません。画像（PNG、JPEG、GIF）、PDF、Word・Excel・PowerPoint（マクロなし）、テキストに限ります。"
        }
    }
}

fn file_en(code: &str) -> &'static str {
    match code {
        "file_empty" => "An empty file cannot be sent.",
        "upload_interrupted" => "The upload was cut off. Please try again.",
        "file_type_not_allowed_on_device" => {
            "This kind of file cannot be sent from this device. Send it from an office PC on the LGWAN side."
        }
        "download_not_allowed_on_device" => {
            "Files cannot be downloaded on this device. Open it on an office PC on the LGWAN side."
        }
        "files_not_allowed_for_guests" => {
            "This body's settings do not let guests send or receive files. Ask the member of staff you work with."
        }
        "file_encrypted" => {
            "A password-protected file cannot be inspected, so it is not accepted. Remove the protection and attach it again."
        }
        "file_active_content" => {
            "Office files with macros, ActiveX controls or embedded objects cannot be sent. Remove them, save, and attach again."
        }
        "file_malformed" => {
            "The file is damaged, or too large once decompressed, so it is not accepted."
        }
        "file_too_large" => "The file is too large.",
        "file_infected" => {
            "Malware was found in this file, so it was not accepted. It has been quarantined and the security officer has been told."
        }
        _ => {
            "This kind of file cannot be sent. Images (PNG, JPEG, GIF), PDF, Word, Excel and PowerPoint without macros, and text are accepted."
        }
    }
}

fn conflict_ja(code: &str) -> &'static str {
    match code {
        "file_scan_pending" => {
            "このファイルはウイルス検査がまだ終わっていないため、開けません。検査が終わるまでお待ちください。"
        }
        "application_changed" => {
            "この申請は、他の担当者が先に処理しました。画面を更新して、最新の状態を確認してください。"
        }
        "invitation_invalid" => {
            "この招待のリンクは、使用済みか、有効期限が切れています。申請した職員に連絡してください。"
        }
        "transfer_not_scheduled" => {
            "この異動はすでに反映されたか、反映できなかったか、取り消されています。"
        }
        "talk_closed" => {
            "このグループは期間が終了したため、閲覧のみできます。引き続き使う場合は、期間の延長を申請してください。"
        }
        "extension_target_closed" => {
            "延長しようとした申請は、すでに終了しているか、取り下げ・却下されています。延長はできません。"
        }
        "login_id_taken" => "このログインIDは既に使われています。",
        "password_in_directory" => {
            "このIDのパスワードはディレクトリ（Active Directory など）で管理されています。パスワードの変更は、庁内の通常の手順で行ってください。"
        }
        "last_local_admin" => {
            "この団体でディレクトリを使わずにサインインできるシステム管理者が、この1人だけになります。ディレクトリが止まったときのために、ローカルの管理者を1人以上残してください。"
        }
        "directory_not_configured" => {
            "この団体ではディレクトリ連携が設定されていません。先に「サインインの設定」でディレクトリを設定してください。"
        }
        "org_code_taken" => "この団体コードは既に使われています。",
        "department_exists" => "同じ名前の所属が既にあります。",
        "role_already_granted" => "この権限は既に付与されています。",
        "role_not_granted" => "この権限は付与されていません。",
        "already_suspended" => "既に利用停止中です。",
        "already_active" => "既に利用中です。",
        "message_deleted" => "このメッセージは削除されています。",
        "mfa_required_by_policy" => {
            "このIDは2要素認証の利用が義務付けられているため、解除できません。認証アプリを変更する場合は、再設定してください。"
        }
        "totp_not_started" => {
            "認証アプリの登録が始まっていないか、期限が切れました。最初からやり直してください。"
        }
        "mfa_not_enrolled" => "2要素認証が登録されていません。",
        "mfa_not_pending" => "このセッションでは確認コードの入力は不要です。",
        "passkeys_not_configured" => {
            "このサーバーではパスキーの設定（webauthn.rp_id、webauthn.origins）がされていないため、パスキーを使えません。情報システム担当者に連絡してください。"
        }
        "no_passkey" => "パスキーが登録されていません。認証アプリの確認コードを入力してください。",
        "passkey_exists" => "このパスキーは既に登録されています。",
        "device_already_lost" => "この端末は既に紛失として扱われています。",
        "device_state_changed" => {
            "この端末の状態は既に変更されています。画面を再読み込みしてください。"
        }
        _ => "既に登録されています。",
    }
}

fn conflict_en(code: &str) -> &'static str {
    match code {
        "file_scan_pending" => {
            "This file has not been scanned for malware yet, so it cannot be opened. Please wait."
        }
        "application_changed" => {
            "Someone else acted on this application first. Reload to see where it stands."
        }
        "invitation_invalid" => {
            "This invitation link has been used or has expired. Contact the member of staff who applied for you."
        }
        "transfer_not_scheduled" => {
            "This transfer has already been applied, failed or been cancelled."
        }
        "talk_closed" => {
            "This group's period has ended: it can be read but not written to. Apply for an extension to go on using it."
        }
        "extension_target_closed" => {
            "The application to extend has ended, or was withdrawn or rejected; it cannot be extended."
        }
        "login_id_taken" => "This login ID is already in use.",
        "password_in_directory" => {
            "This ID's password is kept in the directory (such as Active Directory). Change it the usual way in your organisation."
        }
        "last_local_admin" => {
            "This is the body's last administrator who signs in without the directory. Keep at least one local administrator for when the directory is down."
        }
        "directory_not_configured" => {
            "Directory sign-in is not set up for this body. Set it up under Sign-in settings first."
        }
        "org_code_taken" => "This body code is already in use.",
        "department_exists" => "A department with this name already exists.",
        "role_already_granted" => "The user already has this role.",
        "role_not_granted" => "The user does not have this role.",
        "already_suspended" => "The user is already suspended.",
        "already_active" => "The user is already active.",
        "message_deleted" => "This message has been deleted.",
        "mfa_required_by_policy" => {
            "This ID must use two-factor authentication, so it cannot be turned off. Set it up again to change the app."
        }
        "totp_not_started" => "No authenticator set-up is in progress, or it expired. Start again.",
        "mfa_not_enrolled" => "No second factor is set up.",
        "mfa_not_pending" => "This session does not need a verification code.",
        "passkeys_not_configured" => {
            "Passkeys are not configured on this server (webauthn.rp_id, webauthn.origins). Contact your system administrator."
        }
        "no_passkey" => "No passkey is registered. Enter the code from your authenticator app.",
        "passkey_exists" => "This passkey is already registered.",
        "device_already_lost" => "This device is already treated as lost.",
        "device_state_changed" => "This device's state has already changed. Reload the page.",
        _ => "It already exists.",
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    /// Present for `dlp_blocked`, `dlp_mask_required` and `dlp_confirm_required`: what was found, where, and the
    /// masked text that would pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dlp: Option<crate::services::dlp::Verdict>,
    /// Present for `file_dlp_refused` and `file_dlp_confirm_required`: the kinds found in an
    /// uploaded document and how many of each.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_dlp: Option<crate::services::files::FileFindings>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable code, e.g. `password_too_short`.
    pub code: String,
    pub message_ja: String,
    pub message_en: String,
}

impl AppError {
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message_ja: self.message_ja(),
                message_en: self.message_en(),
            },
            dlp: match self {
                AppError::Dlp(v) => Some((**v).clone()),
                _ => None,
            },
            file_dlp: match self {
                AppError::FileDlp(f) => Some((**f).clone()),
                _ => None,
            },
        }
    }

    /// Logs internal errors (once, here) and hides their detail from the client.
    pub fn log(&self) {
        if let AppError::Internal(detail) = self {
            tracing::error!(error = %detail, "internal error");
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        if let AppError::RateLimited { retry_after_s } = self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_s),
            );
        }
        response
    }
}
