//! A body's sign-in screen and session settings (I4, seed 004 5.3(3)): the message on its
//! sign-in page, how long an idle session lasts, how many wrong attempts lock an ID and for
//! how long, and whether people see their previous sign-in and sign-out.

use crate::DomainError;
use serde::{Deserialize, Serialize};

/// Stored as `settings.sign_in` on the body. The lockout numbers live with the body's
/// password rules (`settings.password`), where the sign-in path reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInSettings {
    /// The message on the body's sign-in page; empty: the server's warning.
    #[serde(default)]
    pub message_ja: String,
    #[serde(default)]
    pub message_en: String,
    /// Minutes without activity before a session ends; none: the server's default.
    #[serde(default)]
    pub idle_minutes: Option<u32>,
    /// Whether the home page shows the previous sign-in, sign-out and failed attempts.
    #[serde(default = "yes")]
    pub show_last_sign_in: bool,
}

fn yes() -> bool {
    true
}

impl Default for SignInSettings {
    fn default() -> Self {
        SignInSettings {
            message_ja: String::new(),
            message_en: String::new(),
            idle_minutes: None,
            show_last_sign_in: true,
        }
    }
}

pub const MESSAGE_MAX_CHARS: usize = 1000;
pub const IDLE_MINUTES: std::ops::RangeInclusive<u32> = 5..=480;
/// What a body's administrator may set for the lockout of general staff; privileged IDs are
/// never looser than staff.
pub const LOCKOUT_THRESHOLD: std::ops::RangeInclusive<u32> = 3..=10;
pub const LOCKOUT_MINUTES: std::ops::RangeInclusive<u32> = 5..=1440;

fn invalid(field: &'static str, label: &'static str, ja: String, en: String) -> DomainError {
    DomainError::invalid(field, label, ja, en)
}

impl SignInSettings {
    /// Trims the messages and checks every value against its bounds.
    pub fn validated(mut self) -> Result<SignInSettings, DomainError> {
        for (field, m) in [
            ("message_ja", &mut self.message_ja),
            ("message_en", &mut self.message_en),
        ] {
            *m = m.trim().replace("\r\n", "\n");
            if m.chars().count() > MESSAGE_MAX_CHARS {
                return Err(invalid(
                    field,
                    "サインイン画面のメッセージ",
                    format!("メッセージは{MESSAGE_MAX_CHARS}文字以内で入力してください。"),
                    format!("the message may have at most {MESSAGE_MAX_CHARS} characters."),
                ));
            }
            if m.chars().any(|c| c.is_control() && c != '\n') {
                return Err(invalid(
                    field,
                    "サインイン画面のメッセージ",
                    "改行以外の制御文字は使えません。".to_owned(),
                    "the message may not contain control characters other than line breaks."
                        .to_owned(),
                ));
            }
        }
        if let Some(m) = self.idle_minutes
            && !IDLE_MINUTES.contains(&m)
        {
            return Err(invalid(
                "idle_minutes",
                "自動サインアウトまでの時間",
                format!(
                    "{}〜{}分の範囲で入力してください。",
                    IDLE_MINUTES.start(),
                    IDLE_MINUTES.end()
                ),
                format!(
                    "enter {}–{} minutes.",
                    IDLE_MINUTES.start(),
                    IDLE_MINUTES.end()
                ),
            ));
        }
        Ok(self)
    }
}

/// Checks the lockout numbers a body's administrator chose.
pub fn check_lockout(threshold: u32, minutes: u32) -> Result<(), DomainError> {
    if !LOCKOUT_THRESHOLD.contains(&threshold) {
        return Err(invalid(
            "lockout_threshold",
            "ロックまでの失敗回数",
            format!(
                "{}〜{}回の範囲で入力してください。",
                LOCKOUT_THRESHOLD.start(),
                LOCKOUT_THRESHOLD.end()
            ),
            format!(
                "enter {}–{} attempts.",
                LOCKOUT_THRESHOLD.start(),
                LOCKOUT_THRESHOLD.end()
            ),
        ));
    }
    if !LOCKOUT_MINUTES.contains(&minutes) {
        return Err(invalid(
            "lockout_minutes",
            "ロックの時間",
            format!(
                "{}〜{}分の範囲で入力してください。",
                LOCKOUT_MINUTES.start(),
                LOCKOUT_MINUTES.end()
            ),
            format!(
                "enter {}–{} minutes.",
                LOCKOUT_MINUTES.start(),
                LOCKOUT_MINUTES.end()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_limits_are_bounded() {
        let ok = SignInSettings {
            message_ja: "  庁内専用です。\r\n業務以外で使わないでください。 ".into(),
            idle_minutes: Some(15),
            ..SignInSettings::default()
        }
        .validated()
        .unwrap();
        assert_eq!(
            ok.message_ja,
            "庁内専用です。\n業務以外で使わないでください。"
        );
        let refused = |bad: SignInSettings| match bad.validated() {
            Err(DomainError::InvalidField {
                field, reason_en, ..
            }) => (field, reason_en),
            other => panic!("{other:?}"),
        };
        let (field, why) = refused(SignInSettings {
            message_ja: "あ".repeat(MESSAGE_MAX_CHARS + 1),
            ..SignInSettings::default()
        });
        assert_eq!(field, "message_ja");
        assert!(why.contains("at most 1000"), "{why}");
        let (field, why) = refused(SignInSettings {
            message_en: "bell\u{7}".into(),
            ..SignInSettings::default()
        });
        assert_eq!(field, "message_en");
        assert!(why.contains("control characters"), "{why}");
        for minutes in [4, 481] {
            let (field, _) = refused(SignInSettings {
                idle_minutes: Some(minutes),
                ..SignInSettings::default()
            });
            assert_eq!(field, "idle_minutes");
        }
        for minutes in [5, 480] {
            let ok = SignInSettings {
                idle_minutes: Some(minutes),
                ..SignInSettings::default()
            };
            assert!(ok.validated().is_ok(), "{minutes}");
        }
        assert!(check_lockout(3, 5).is_ok());
        assert!(check_lockout(10, 1440).is_ok());
        assert!(check_lockout(2, 15).is_err());
        assert!(check_lockout(11, 15).is_err());
        assert!(check_lockout(5, 4).is_err());
        assert!(check_lockout(5, 1441).is_err());
    }

    #[test]
    fn a_body_without_settings_shows_the_last_sign_in() {
        let s: SignInSettings = serde_json::from_str("{}").unwrap();
        assert!(s.show_last_sign_in);
        assert_eq!(s.idle_minutes, None);
    }
}
