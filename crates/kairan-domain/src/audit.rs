//! The audit record (G5): its typed actions with stable codes, and the canonical encoding the
//! SHA-256 hash chain is computed over.
//!
//! Each record's hash is `SHA-256(prev_hash ‖ canonical(record))`, where the canonical form
//! writes every field in a fixed order with a length prefix, so no two different records can
//! encode to the same bytes. The store appends records in the same transaction as the change
//! they record; `kairan audit verify` recomputes the chain.

use sha2::{Digest, Sha256};

/// The hash before the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Every kind of audited event. Codes are stable: they are stored, exported and searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    SignInSucceeded,
    SignInFailed,
    AccountLocked,
    SignedOut,
    SessionRevoked,
    SessionExpired,
    PasswordChanged,
    PasswordReset,
    OrgCreated,
    DepartmentCreated,
    UserCreated,
    UserSuspended,
    UserReactivated,
    RoleGranted,
    RoleRevoked,
    TalkCreated,
    TalkRenamed,
    TalkMemberAdded,
    TalkMemberLeft,
    MessagePosted,
    OrgSettingsChanged,
    DlpBlocked,
    DlpConfirmRequested,
    MessageEdited,
    MessageDeleted,
    ReactionChanged,
    MessagePinned,
    ProtectionChanged,
    TalkClassChanged,
    MessageForwarded,
    /// A talk's content read for audit, with a recorded reason (G7).
    ContentReviewed,
    FileUploaded,
    /// The scanner found malware; the file is quarantined (G9).
    FileInfected,
    FileDownloaded,
    /// A file stored while the scanner was down, under the administrator's choice to defer
    /// scans, was scanned later and found clean (G9).
    FileScanned,
    /// The node started with deferred scanning switched on: the administrator's choice to
    /// accept uploads while the scanner is down, on record (G9).
    ScanDeferralInForce,
    /// A second factor enrolled or replaced (I3).
    MfaEnrolled,
    MfaRemoved,
    MfaVerified,
    MfaFailed,
    /// An administrator removed a user's second factor, with a recorded reason (I3).
    MfaReset,
    RecoveryCodesIssued,
    MfaPolicyChanged,
    /// An internet device signed in for the first time and was registered (I5).
    DeviceRegistered,
    DeviceApproved,
    DeviceRefused,
    /// A device reported lost: its sessions ended and it is blocked (seed 003 §8-12).
    DeviceLost,
    DeviceRestored,
    /// A device registered without a key proved one at sign-in and is bound to it from now on.
    DeviceKeyBound,
    DeviceRenamed,
    DevicePolicyChanged,
    /// A body's directory sign-in settings changed (I9).
    DirectoryConfigured,
    /// An ID moved between Kairan's own password and the directory.
    SignInMethodChanged,
    /// A directory sign-in changed the user's roles or department from the directory's groups.
    DirectorySynced,
    /// A body's sign-in screen and session settings changed (I4).
    SignInSettingsChanged,
    /// An application (a guest, an inter-body group…) was created, as a draft or submitted.
    ApplicationCreated,
    /// An application moved: submitted, returned, approved, rejected, withdrawn, edited….
    ApplicationTransition,
    /// An approved guest application admitted its guest (an ID and a one-time invitation).
    GuestAdmitted,
    /// The guest set a password through the invitation.
    GuestInvitationAccepted,
    /// The guest's period ended: the ID disabled, sessions ended, talks left.
    GuestEnded,
    /// The guest's name, affiliation and address were removed after the set number of days.
    GuestPurged,
    /// An inter-body group's period began: its talk made with every body's approved members.
    GroupStarted,
    /// An inter-body group's period ended: its talk turned read-only.
    GroupEnded,
    /// An ended group's talk was taken out of its members' sight after the set number of days.
    GroupRemoved,
    /// A staff CSV was imported (one record for the whole file: counts and the file's hash).
    StaffImported,
    /// A transfer batch (異動) was prepared for its effective day.
    StaffTransferScheduled,
    /// A transfer batch was applied on its day (the import itself is `staff.imported`).
    StaffTransferApplied,
    /// A transfer batch could not be applied on its day (the file no longer fits the body).
    StaffTransferFailed,
    /// A transfer batch was withdrawn before its day.
    StaffTransferCancelled,
    /// A leaver's ID was disabled after their last day.
    UserLeft,
    /// A body's maintenance mode was turned on or off (G10).
    MaintenanceChanged,
}

impl AuditAction {
    pub const ALL: [AuditAction; 71] = [
        AuditAction::SignInSucceeded,
        AuditAction::SignInFailed,
        AuditAction::AccountLocked,
        AuditAction::SignedOut,
        AuditAction::SessionRevoked,
        AuditAction::SessionExpired,
        AuditAction::PasswordChanged,
        AuditAction::PasswordReset,
        AuditAction::OrgCreated,
        AuditAction::DepartmentCreated,
        AuditAction::UserCreated,
        AuditAction::UserSuspended,
        AuditAction::UserReactivated,
        AuditAction::RoleGranted,
        AuditAction::RoleRevoked,
        AuditAction::TalkCreated,
        AuditAction::TalkRenamed,
        AuditAction::TalkMemberAdded,
        AuditAction::TalkMemberLeft,
        AuditAction::MessagePosted,
        AuditAction::OrgSettingsChanged,
        AuditAction::DlpBlocked,
        AuditAction::DlpConfirmRequested,
        AuditAction::MessageEdited,
        AuditAction::MessageDeleted,
        AuditAction::ReactionChanged,
        AuditAction::MessagePinned,
        AuditAction::ProtectionChanged,
        AuditAction::TalkClassChanged,
        AuditAction::MessageForwarded,
        AuditAction::ContentReviewed,
        AuditAction::FileUploaded,
        AuditAction::FileInfected,
        AuditAction::FileDownloaded,
        AuditAction::FileScanned,
        AuditAction::ScanDeferralInForce,
        AuditAction::MfaEnrolled,
        AuditAction::MfaRemoved,
        AuditAction::MfaVerified,
        AuditAction::MfaFailed,
        AuditAction::MfaReset,
        AuditAction::RecoveryCodesIssued,
        AuditAction::MfaPolicyChanged,
        AuditAction::DeviceRegistered,
        AuditAction::DeviceApproved,
        AuditAction::DeviceRefused,
        AuditAction::DeviceLost,
        AuditAction::DeviceRestored,
        AuditAction::DeviceKeyBound,
        AuditAction::DeviceRenamed,
        AuditAction::DevicePolicyChanged,
        AuditAction::DirectoryConfigured,
        AuditAction::SignInMethodChanged,
        AuditAction::DirectorySynced,
        AuditAction::SignInSettingsChanged,
        AuditAction::ApplicationCreated,
        AuditAction::ApplicationTransition,
        AuditAction::GuestAdmitted,
        AuditAction::GuestInvitationAccepted,
        AuditAction::GuestEnded,
        AuditAction::GuestPurged,
        AuditAction::GroupStarted,
        AuditAction::GroupEnded,
        AuditAction::GroupRemoved,
        AuditAction::StaffImported,
        AuditAction::StaffTransferScheduled,
        AuditAction::StaffTransferApplied,
        AuditAction::StaffTransferFailed,
        AuditAction::StaffTransferCancelled,
        AuditAction::UserLeft,
        AuditAction::MaintenanceChanged,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AuditAction::SignInSucceeded => "auth.sign_in",
            AuditAction::SignInFailed => "auth.sign_in_failed",
            AuditAction::AccountLocked => "auth.locked",
            AuditAction::SignedOut => "auth.sign_out",
            AuditAction::SessionRevoked => "session.revoked",
            AuditAction::SessionExpired => "session.expired",
            AuditAction::PasswordChanged => "password.changed",
            AuditAction::PasswordReset => "password.reset",
            AuditAction::OrgCreated => "org.created",
            AuditAction::DepartmentCreated => "department.created",
            AuditAction::UserCreated => "user.created",
            AuditAction::UserSuspended => "user.suspended",
            AuditAction::UserReactivated => "user.reactivated",
            AuditAction::RoleGranted => "role.granted",
            AuditAction::RoleRevoked => "role.revoked",
            AuditAction::TalkCreated => "talk.created",
            AuditAction::TalkRenamed => "talk.renamed",
            AuditAction::TalkMemberAdded => "talk.member_added",
            AuditAction::TalkMemberLeft => "talk.member_left",
            AuditAction::MessagePosted => "message.posted",
            AuditAction::OrgSettingsChanged => "org.settings_changed",
            AuditAction::DlpBlocked => "dlp.blocked",
            AuditAction::DlpConfirmRequested => "dlp.confirm_requested",
            AuditAction::MessageEdited => "message.edited",
            AuditAction::MessageDeleted => "message.deleted",
            AuditAction::ReactionChanged => "message.reaction",
            AuditAction::MessagePinned => "message.pin",
            AuditAction::ProtectionChanged => "protection.changed",
            AuditAction::TalkClassChanged => "talk.class_changed",
            AuditAction::MessageForwarded => "message.forwarded",
            AuditAction::ContentReviewed => "content.reviewed",
            AuditAction::FileUploaded => "file.uploaded",
            AuditAction::FileInfected => "file.infected",
            AuditAction::FileDownloaded => "file.downloaded",
            AuditAction::FileScanned => "file.scanned",
            AuditAction::ScanDeferralInForce => "system.scan_deferral",
            AuditAction::MfaEnrolled => "mfa.enrolled",
            AuditAction::MfaRemoved => "mfa.removed",
            AuditAction::MfaVerified => "mfa.verified",
            AuditAction::MfaFailed => "mfa.failed",
            AuditAction::MfaReset => "mfa.reset",
            AuditAction::RecoveryCodesIssued => "mfa.recovery_codes",
            AuditAction::MfaPolicyChanged => "mfa.policy_changed",
            AuditAction::DeviceRegistered => "device.registered",
            AuditAction::DeviceApproved => "device.approved",
            AuditAction::DeviceRefused => "device.refused",
            AuditAction::DeviceLost => "device.lost",
            AuditAction::DeviceRestored => "device.restored",
            AuditAction::DeviceKeyBound => "device.key_bound",
            AuditAction::DeviceRenamed => "device.renamed",
            AuditAction::DevicePolicyChanged => "device.policy_changed",
            AuditAction::DirectoryConfigured => "directory.configured",
            AuditAction::SignInMethodChanged => "user.sign_in_method",
            AuditAction::DirectorySynced => "directory.synced",
            AuditAction::SignInSettingsChanged => "org.sign_in_settings",
            AuditAction::ApplicationCreated => "application.created",
            AuditAction::ApplicationTransition => "application.transition",
            AuditAction::GuestAdmitted => "guest.admitted",
            AuditAction::GuestInvitationAccepted => "guest.invitation_accepted",
            AuditAction::GuestEnded => "guest.ended",
            AuditAction::GuestPurged => "guest.purged",
            AuditAction::GroupStarted => "group.started",
            AuditAction::GroupEnded => "group.ended",
            AuditAction::GroupRemoved => "group.removed",
            AuditAction::StaffImported => "staff.imported",
            AuditAction::StaffTransferScheduled => "staff.transfer_scheduled",
            AuditAction::StaffTransferApplied => "staff.transfer_applied",
            AuditAction::StaffTransferFailed => "staff.transfer_failed",
            AuditAction::StaffTransferCancelled => "staff.transfer_cancelled",
            AuditAction::UserLeft => "user.left",
            AuditAction::MaintenanceChanged => "org.maintenance",
        }
    }

    pub fn parse(code: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.code() == code)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            AuditAction::SignInSucceeded => "サインイン",
            AuditAction::SignInFailed => "サインイン失敗",
            AuditAction::AccountLocked => "アカウントロック",
            AuditAction::SignedOut => "サインアウト",
            AuditAction::SessionRevoked => "セッション終了",
            AuditAction::SessionExpired => "セッション期限切れ",
            AuditAction::PasswordChanged => "パスワード変更",
            AuditAction::PasswordReset => "パスワード再発行",
            AuditAction::OrgCreated => "団体作成",
            AuditAction::DepartmentCreated => "所属作成",
            AuditAction::UserCreated => "職員ID作成",
            AuditAction::UserSuspended => "利用停止",
            AuditAction::UserReactivated => "利用再開",
            AuditAction::RoleGranted => "権限付与",
            AuditAction::RoleRevoked => "権限削除",
            AuditAction::TalkCreated => "トーク作成",
            AuditAction::TalkRenamed => "トーク名変更",
            AuditAction::TalkMemberAdded => "トークへの招待",
            AuditAction::TalkMemberLeft => "トーク退出",
            AuditAction::MessagePosted => "メッセージ送信",
            AuditAction::OrgSettingsChanged => "団体設定変更",
            AuditAction::DlpBlocked => "個人情報検知(送信停止)",
            AuditAction::DlpConfirmRequested => "個人情報検知(確認)",
            AuditAction::MessageEdited => "メッセージ編集",
            AuditAction::MessageDeleted => "メッセージ削除",
            AuditAction::ReactionChanged => "リアクション",
            AuditAction::MessagePinned => "ピン留め",
            AuditAction::ProtectionChanged => "情報保護設定の変更",
            AuditAction::TalkClassChanged => "トークの区分変更",
            AuditAction::MessageForwarded => "メッセージ転送",
            AuditAction::ContentReviewed => "監査のためのトーク閲覧",
            AuditAction::FileUploaded => "ファイルのアップロード",
            AuditAction::FileInfected => "マルウェアの検出（隔離）",
            AuditAction::FileDownloaded => "ファイルのダウンロード",
            AuditAction::FileScanned => "保留していたウイルス検査（異常なし）",
            AuditAction::ScanDeferralInForce => "ウイルス検査の保留を許可する設定で起動",
            AuditAction::MfaEnrolled => "2要素認証の登録",
            AuditAction::MfaRemoved => "2要素認証の解除",
            AuditAction::MfaVerified => "2要素認証の成功",
            AuditAction::MfaFailed => "2要素認証の失敗",
            AuditAction::MfaReset => "2要素認証のリセット（管理者）",
            AuditAction::RecoveryCodesIssued => "リカバリーコードの発行",
            AuditAction::MfaPolicyChanged => "2要素認証の方針変更",
            AuditAction::DeviceRegistered => "端末の登録",
            AuditAction::DeviceApproved => "端末の利用承認",
            AuditAction::DeviceRefused => "端末の利用拒否",
            AuditAction::DeviceLost => "端末の紛失届",
            AuditAction::DeviceRestored => "端末の利用再開",
            AuditAction::DeviceKeyBound => "端末の鍵の登録",
            AuditAction::DeviceRenamed => "端末名の変更",
            AuditAction::DevicePolicyChanged => "端末の承認方針の変更",
            AuditAction::DirectoryConfigured => "ディレクトリ連携の設定",
            AuditAction::SignInMethodChanged => "サインイン方法の変更",
            AuditAction::DirectorySynced => "ディレクトリからの権限・所属の反映",
            AuditAction::SignInSettingsChanged => "サインイン画面・セッション設定の変更",
            AuditAction::ApplicationCreated => "申請の作成",
            AuditAction::ApplicationTransition => "申請の状態の変更",
            AuditAction::GuestAdmitted => "ゲストIDの発行",
            AuditAction::GuestInvitationAccepted => "ゲストの招待の受諾",
            AuditAction::GuestEnded => "ゲストの利用期間の終了",
            AuditAction::GuestPurged => "ゲストの個人情報の削除",
            AuditAction::GroupStarted => "団体間グループの開始",
            AuditAction::GroupEnded => "団体間グループの終了（閲覧のみ）",
            AuditAction::GroupRemoved => "団体間グループの削除",
            AuditAction::StaffImported => "職員名簿の取り込み（CSV）",
            AuditAction::StaffTransferScheduled => "人事異動の予約",
            AuditAction::StaffTransferApplied => "人事異動の反映",
            AuditAction::StaffTransferFailed => "人事異動の反映の失敗",
            AuditAction::StaffTransferCancelled => "人事異動の予約の取消し",
            AuditAction::UserLeft => "退職によるIDの無効化",
            AuditAction::MaintenanceChanged => "保守モードの切り替え",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            AuditAction::SignInSucceeded => "Signed in",
            AuditAction::SignInFailed => "Sign-in failed",
            AuditAction::AccountLocked => "Account locked",
            AuditAction::SignedOut => "Signed out",
            AuditAction::SessionRevoked => "Session ended",
            AuditAction::SessionExpired => "Session expired",
            AuditAction::PasswordChanged => "Password changed",
            AuditAction::PasswordReset => "Password reset",
            AuditAction::OrgCreated => "Body created",
            AuditAction::DepartmentCreated => "Department created",
            AuditAction::UserCreated => "Staff ID created",
            AuditAction::UserSuspended => "Suspended",
            AuditAction::UserReactivated => "Reactivated",
            AuditAction::RoleGranted => "Role granted",
            AuditAction::RoleRevoked => "Role revoked",
            AuditAction::TalkCreated => "Talk created",
            AuditAction::TalkRenamed => "Talk renamed",
            AuditAction::TalkMemberAdded => "Member added to talk",
            AuditAction::TalkMemberLeft => "Member left talk",
            AuditAction::MessagePosted => "Message sent",
            AuditAction::OrgSettingsChanged => "Body settings changed",
            AuditAction::DlpBlocked => "Personal data blocked",
            AuditAction::DlpConfirmRequested => "Personal data: confirmation asked",
            AuditAction::MessageEdited => "Message edited",
            AuditAction::MessageDeleted => "Message deleted",
            AuditAction::ReactionChanged => "Reaction",
            AuditAction::MessagePinned => "Pin",
            AuditAction::ProtectionChanged => "Protection settings changed",
            AuditAction::TalkClassChanged => "Talk classification changed",
            AuditAction::MessageForwarded => "Message forwarded",
            AuditAction::ContentReviewed => "Talk read for audit",
            AuditAction::FileUploaded => "File uploaded",
            AuditAction::FileInfected => "Malware found (quarantined)",
            AuditAction::FileDownloaded => "File downloaded",
            AuditAction::FileScanned => "Deferred malware scan: clean",
            AuditAction::ScanDeferralInForce => "Started with deferred malware scans allowed",
            AuditAction::MfaEnrolled => "Second factor enrolled",
            AuditAction::MfaRemoved => "Second factor removed",
            AuditAction::MfaVerified => "Second factor passed",
            AuditAction::MfaFailed => "Second factor failed",
            AuditAction::MfaReset => "Second factor reset by an administrator",
            AuditAction::RecoveryCodesIssued => "Recovery codes issued",
            AuditAction::MfaPolicyChanged => "Second-factor policy changed",
            AuditAction::DeviceRegistered => "Device registered",
            AuditAction::DeviceApproved => "Device approved",
            AuditAction::DeviceRefused => "Device refused",
            AuditAction::DeviceLost => "Device reported lost",
            AuditAction::DeviceRestored => "Device restored",
            AuditAction::DeviceKeyBound => "Device key bound",
            AuditAction::DeviceRenamed => "Device renamed",
            AuditAction::DevicePolicyChanged => "Device approval policy changed",
            AuditAction::DirectoryConfigured => "Directory sign-in configured",
            AuditAction::SignInMethodChanged => "Sign-in method changed",
            AuditAction::DirectorySynced => "Roles or department taken from the directory",
            AuditAction::SignInSettingsChanged => "Sign-in screen and session settings changed",
            AuditAction::ApplicationCreated => "Application created",
            AuditAction::ApplicationTransition => "Application state changed",
            AuditAction::GuestAdmitted => "Guest ID issued",
            AuditAction::GuestInvitationAccepted => "Guest invitation accepted",
            AuditAction::GuestEnded => "Guest period ended",
            AuditAction::GuestPurged => "Guest's personal data removed",
            AuditAction::GroupStarted => "Inter-body group started",
            AuditAction::GroupEnded => "Inter-body group ended (read-only)",
            AuditAction::GroupRemoved => "Inter-body group removed",
            AuditAction::StaffImported => "Staff list imported (CSV)",
            AuditAction::StaffTransferScheduled => "Personnel transfer scheduled",
            AuditAction::StaffTransferApplied => "Personnel transfer applied",
            AuditAction::StaffTransferFailed => "Personnel transfer could not be applied",
            AuditAction::StaffTransferCancelled => "Personnel transfer cancelled",
            AuditAction::UserLeft => "ID disabled after the last day",
            AuditAction::MaintenanceChanged => "Maintenance mode switched",
        }
    }
}

/// One stored audit record, exactly as hashed. `details` is a JSON object of identifiers and
/// codes only: never a password, token or personal value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub id: String,
    /// Microseconds since the Unix epoch, UTC.
    pub at_us: i64,
    pub org_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub details: String,
    pub prev_hash: String,
}

/// A record borrowed from wherever it was read (a row, a struct), so verification of a long
/// log allocates nothing per record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    pub seq: i64,
    pub id: &'a str,
    pub at_us: i64,
    pub org_id: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub target_id: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub details: &'a str,
    pub prev_hash: &'a str,
}

fn field(h: &mut Sha256, value: Option<&str>) {
    match value {
        Some(v) => {
            h.update((v.len() as u64).to_be_bytes());
            h.update(v.as_bytes());
        }
        None => h.update(u64::MAX.to_be_bytes()),
    }
}

impl RecordRef<'_> {
    /// The chain hash as lower-case hex, written into `out` without allocating.
    pub fn hash_hex(&self, out: &mut [u8; 64]) {
        let mut h = Sha256::new();
        h.update(b"kairan-audit-v1");
        field(&mut h, Some(self.prev_hash));
        h.update(self.seq.to_be_bytes());
        field(&mut h, Some(self.id));
        h.update(self.at_us.to_be_bytes());
        field(&mut h, self.org_id);
        field(&mut h, self.actor_id);
        field(&mut h, Some(self.action));
        field(&mut h, self.target_id);
        field(&mut h, self.ip);
        field(&mut h, Some(self.details));
        // 32 bytes always fit 64 hex digits; the error case cannot occur.
        let _ = hex::encode_to_slice(h.finalize(), out);
    }

    pub fn compute_hash(&self) -> String {
        let mut out = [0u8; 64];
        self.hash_hex(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl AuditRecord {
    pub fn as_ref(&self) -> RecordRef<'_> {
        RecordRef {
            seq: self.seq,
            id: &self.id,
            at_us: self.at_us,
            org_id: self.org_id.as_deref(),
            actor_id: self.actor_id.as_deref(),
            action: &self.action,
            target_id: self.target_id.as_deref(),
            ip: self.ip.as_deref(),
            details: &self.details,
            prev_hash: &self.prev_hash,
        }
    }

    /// The record's chain hash, lower-case hex.
    pub fn compute_hash(&self) -> String {
        self.as_ref().compute_hash()
    }
}

/// What verification found wrong first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainFault {
    /// The record's content does not match its stored hash (modified).
    HashMismatch { seq: i64 },
    /// The record does not point at the hash of the record before it (deleted, reordered or
    /// inserted before it).
    BrokenLink { seq: i64 },
    /// Sequence numbers skip or repeat (a record was deleted or inserted).
    SequenceGap { expected: i64, found: i64 },
    /// The chain ends before the recorded head (records were removed from the end).
    Truncated { head_seq: i64, last_seq: i64 },
}

impl std::fmt::Display for ChainFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainFault::HashMismatch { seq } => {
                write!(
                    f,
                    "record {seq}: content does not match its hash (modified)"
                )
            }
            ChainFault::BrokenLink { seq } => write!(
                f,
                "record {seq}: does not follow the record before it (deleted, reordered or inserted)"
            ),
            ChainFault::SequenceGap { expected, found } => write!(
                f,
                "record {found}: expected record {expected} (a record was deleted or inserted)"
            ),
            ChainFault::Truncated { head_seq, last_seq } => write!(
                f,
                "record {}: missing; the chain ends at {last_seq} but its head is {head_seq}",
                last_seq + 1
            ),
        }
    }
}

/// Checks records fed in sequence order. Keeps only the previous hash, so a million records
/// need no memory beyond one row.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    pub checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            checked: 0,
        }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, record: &RecordRef<'_>, stored_hash: &str) -> Result<(), ChainFault> {
        if record.seq != self.expected_seq {
            return Err(ChainFault::SequenceGap {
                expected: self.expected_seq,
                found: record.seq,
            });
        }
        if record.prev_hash != self.prev_hash {
            return Err(ChainFault::BrokenLink { seq: record.seq });
        }
        let mut computed = [0u8; 64];
        record.hash_hex(&mut computed);
        if computed.as_slice() != stored_hash.as_bytes() {
            return Err(ChainFault::HashMismatch { seq: record.seq });
        }
        self.prev_hash.clear();
        self.prev_hash.push_str(stored_hash);
        self.expected_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// Compares the end of the chain with the head the store keeps separately.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<u64, ChainFault> {
        let last_seq = self.expected_seq - 1;
        if head_seq > last_seq {
            return Err(ChainFault::Truncated { head_seq, last_seq });
        }
        if head_seq < last_seq {
            return Err(ChainFault::SequenceGap {
                expected: head_seq + 1,
                found: last_seq,
            });
        }
        if head_hash != self.prev_hash {
            return Err(ChainFault::BrokenLink { seq: last_seq });
        }
        Ok(self.checked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<(AuditRecord, String)> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let r = AuditRecord {
                    seq,
                    id: format!("id-{seq}"),
                    at_us: 1_700_000_000_000_000 + seq,
                    org_id: Some("org".into()),
                    actor_id: None,
                    action: "auth.sign_in".into(),
                    target_id: Some("u".into()),
                    ip: Some("127.0.0.1".into()),
                    details: "{}".into(),
                    prev_hash: prev.clone(),
                };
                let h = r.compute_hash();
                prev = h.clone();
                (r, h)
            })
            .collect()
    }

    fn verify(records: &[(AuditRecord, String)], head: (i64, &str)) -> Result<u64, ChainFault> {
        let mut v = ChainVerifier::default();
        for (r, h) in records {
            v.push(&r.as_ref(), h)?;
        }
        v.finish(head.0, head.1)
    }

    #[test]
    fn an_intact_chain_verifies_and_counts_every_record() {
        let c = chain(5);
        let head = c[4].1.clone();
        assert_eq!(verify(&c, (5, &head)), Ok(5));
    }

    #[test]
    fn a_modified_record_is_named() {
        let mut c = chain(5);
        let head = c[4].1.clone();
        c[2].0.details = r#"{"x":1}"#.into();
        assert_eq!(
            verify(&c, (5, &head)),
            Err(ChainFault::HashMismatch { seq: 3 })
        );
    }

    #[test]
    fn a_deleted_record_is_found() {
        let mut c = chain(5);
        let head = c[4].1.clone();
        c.remove(1);
        assert_eq!(
            verify(&c, (5, &head)),
            Err(ChainFault::SequenceGap {
                expected: 2,
                found: 3
            })
        );
    }

    #[test]
    fn swapped_records_are_found() {
        let mut c = chain(5);
        let head = c[4].1.clone();
        // Swap the contents but keep the sequence numbers in order, as an attacker would.
        let (a, b) = (c[1].clone(), c[2].clone());
        c[1] = (AuditRecord { seq: 2, ..b.0 }, b.1);
        c[2] = (AuditRecord { seq: 3, ..a.0 }, a.1);
        assert_eq!(
            verify(&c, (5, &head)),
            Err(ChainFault::BrokenLink { seq: 2 })
        );
    }

    #[test]
    fn records_cut_from_the_end_are_found_through_the_head() {
        let c = chain(5);
        let head = c[4].1.clone();
        assert_eq!(
            verify(&c[..3], (5, &head)),
            Err(ChainFault::Truncated {
                head_seq: 5,
                last_seq: 3
            })
        );
    }

    #[test]
    fn an_empty_chain_is_intact() {
        assert_eq!(verify(&[], (0, GENESIS_HASH)), Ok(0));
    }

    #[test]
    fn every_action_code_parses_back() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.code()), Some(a));
        }
    }
}
