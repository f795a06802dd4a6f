//! Password rules (I2), after NIST SP 800-63B rev. 4: length over composition, a strength
//! estimate, a blocklist of common passwords and of the user's own identifiers, and no reuse of
//! recent passwords (checked by the server, which holds the hashes).
//!
//! Lengths count Unicode scalar values, so a Japanese passphrase counts as a person sees it.

use crate::error::Localized;
use serde::{Deserialize, Serialize};

/// Per-body password policy. Defaults follow SP 800-63B rev. 4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Minimum length when the password is the only factor.
    pub min_length: usize,
    /// Minimum length for privileged IDs.
    pub min_length_privileged: usize,
    /// Minimum length once a second factor is enrolled (SP 800-63B: 8).
    pub min_length_with_mfa: usize,
    pub max_length: usize,
    /// Minimum zxcvbn score (0–4).
    pub min_strength: u8,
    /// How many previous passwords may not be reused.
    pub history: usize,
    /// Failed sign-ins before the ID is locked.
    pub lockout_threshold: u32,
    pub lockout_threshold_privileged: u32,
    /// How long a lockout lasts, in minutes.
    pub lockout_minutes: u32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 15,
            min_length_privileged: 16,
            min_length_with_mfa: 8,
            max_length: 128,
            min_strength: 3,
            history: 5,
            lockout_threshold: 5,
            lockout_threshold_privileged: 3,
            lockout_minutes: 15,
        }
    }
}

/// What is known about the person whose password this is.
#[derive(Debug, Clone, Default)]
pub struct PasswordContext<'a> {
    pub login_id: &'a str,
    pub display_name: &'a str,
    pub kana: &'a str,
    pub privileged: bool,
    pub has_second_factor: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordError {
    TooShort { min: usize },
    TooLong { max: usize },
    Common,
    ContainsPersonalInfo,
    TooWeak,
    Reused { history: usize },
    ConfirmationMismatch,
    WrongCurrentPassword,
}

impl PasswordPolicy {
    pub fn min_length_for(&self, ctx: &PasswordContext<'_>) -> usize {
        if ctx.privileged {
            self.min_length_privileged
        } else if ctx.has_second_factor {
            self.min_length_with_mfa
        } else {
            self.min_length
        }
    }

    pub fn lockout_threshold_for(&self, privileged: bool) -> u32 {
        if privileged {
            self.lockout_threshold_privileged
        } else {
            self.lockout_threshold
        }
    }

    /// Checks a new password against every rule that needs no stored state.
    pub fn check(&self, password: &str, ctx: &PasswordContext<'_>) -> Result<(), PasswordError> {
        let len = password.chars().count();
        let min = self.min_length_for(ctx);
        if len < min {
            return Err(PasswordError::TooShort { min });
        }
        if len > self.max_length {
            return Err(PasswordError::TooLong {
                max: self.max_length,
            });
        }
        let lower = password.to_lowercase();
        let squeezed: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
        if is_common(&squeezed) {
            return Err(PasswordError::Common);
        }
        let personal = personal_tokens(ctx);
        if personal.iter().any(|p| squeezed.contains(p.as_str())) {
            return Err(PasswordError::ContainsPersonalInfo);
        }
        let inputs: Vec<&str> = personal.iter().map(String::as_str).collect();
        let score = u8::from(zxcvbn::zxcvbn(password, &inputs).score());
        if score < self.min_strength {
            return Err(PasswordError::TooWeak);
        }
        Ok(())
    }
}

/// The user's own identifiers, lower-cased, without spaces, at least 3 characters long.
fn personal_tokens(ctx: &PasswordContext<'_>) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut push = |s: &str| {
        let t: String = s
            .to_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if t.chars().count() >= 3 && !tokens.contains(&t) {
            tokens.push(t);
        }
    };
    push(ctx.login_id);
    for part in ctx.login_id.split(['.', '_', '-']) {
        push(part);
    }
    push(ctx.display_name);
    push(ctx.kana);
    for part in ctx.display_name.split([' ', '　']) {
        if part.chars().count() >= 2 {
            // Two-kanji family names are common; require them to stand as a whole word of
            // the password only when three or more characters long, so 山田 alone does not
            // block every password that happens to contain it.
            push(part);
        }
    }
    tokens
}

/// Passwords that attackers try first, plus the municipal ones seen in incident reports.
/// Compared after lower-casing and removing spaces; a password that is one of these with
/// digits or symbols appended is also refused.
const COMMON: &[&str] = &[
    "password",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "qwerty",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "123456789012345",
    "1234567890",
    "abcdefghijklmno",
    "iloveyou",
    "letmein",
    "welcome",
    "admin",
    "administrator",
    "changeme",
    "kairan",
    "logochat",
    "lgwan",
    "yakuba",
    "yakusho",
    "shiyakusho",
    "chouyakuba",
    "soumuka",
    "jouhou",
    "security",
    "sakura",
    "tokyo",
    "nippon",
    "japan",
    "passwordpassword",
];

fn is_common(squeezed: &str) -> bool {
    let stem = squeezed.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    let stem = stem.trim_start_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    if stem.is_empty() {
        // Only digits and symbols: a number sequence or a keyboard row.
        return true;
    }
    // A common word repeated ("passwordpassword123") is still common.
    COMMON.iter().any(|c| {
        stem == *c
            || (stem.len() % c.len() == 0
                && stem.len() > c.len()
                && stem.as_bytes().chunks(c.len()).all(|ch| ch == c.as_bytes()))
    }) || is_single_repeated(stem)
}

fn is_single_repeated(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => chars.all(|c| c == first),
        None => true,
    }
}

impl Localized for PasswordError {
    fn code(&self) -> &'static str {
        match self {
            PasswordError::TooShort { .. } => "password_too_short",
            PasswordError::TooLong { .. } => "password_too_long",
            PasswordError::Common => "password_common",
            PasswordError::ContainsPersonalInfo => "password_contains_personal_info",
            PasswordError::TooWeak => "password_too_weak",
            PasswordError::Reused { .. } => "password_reused",
            PasswordError::ConfirmationMismatch => "password_confirmation_mismatch",
            PasswordError::WrongCurrentPassword => "password_current_wrong",
        }
    }

    fn message_ja(&self) -> String {
        match self {
            PasswordError::TooShort { min } => {
                format!("パスワードは{min}文字以上にしてください。")
            }
            PasswordError::TooLong { max } => {
                format!("パスワードは{max}文字以内にしてください。")
            }
            PasswordError::Common => "よく使われるパスワードのため使用できません。".into(),
            PasswordError::ContainsPersonalInfo => {
                "ログインID、氏名またはフリガナを含むパスワードは使用できません。".into()
            }
            PasswordError::TooWeak => {
                "推測されやすいパスワードです。単語を組み合わせるなどして長く複雑にしてください。"
                    .into()
            }
            PasswordError::Reused { history } => {
                format!("直近{history}回以内に使用したパスワードは使用できません。")
            }
            PasswordError::ConfirmationMismatch => "確認用のパスワードが一致しません。".into(),
            PasswordError::WrongCurrentPassword => "現在のパスワードが正しくありません。".into(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            PasswordError::TooShort { min } => {
                format!("The password must be at least {min} characters long.")
            }
            PasswordError::TooLong { max } => {
                format!("The password must be at most {max} characters long.")
            }
            PasswordError::Common => "This password is too common to be used.".into(),
            PasswordError::ContainsPersonalInfo => {
                "The password must not contain your login ID, name or kana.".into()
            }
            PasswordError::TooWeak => {
                "This password is easy to guess. Make it longer, for example by combining words."
                    .into()
            }
            PasswordError::Reused { history } => {
                format!("You cannot reuse any of your last {history} passwords.")
            }
            PasswordError::ConfirmationMismatch => "The two new passwords do not match.".into(),
            PasswordError::WrongCurrentPassword => "The current password is not correct.".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(privileged: bool) -> PasswordContext<'static> {
        PasswordContext {
            login_id: "hanako.sato",
            display_name: "佐藤 花子",
            kana: "サトウ ハナコ",
            privileged,
            has_second_factor: false,
        }
    }

    fn check(pw: &str, privileged: bool) -> Result<(), PasswordError> {
        PasswordPolicy::default().check(pw, &ctx(privileged))
    }

    #[test]
    fn a_long_unusual_passphrase_is_accepted() {
        assert_eq!(check("blue kettle under the 4th bridge", false), Ok(()));
    }

    #[test]
    fn fourteen_characters_are_too_short_for_a_password_only_account() {
        assert_eq!(
            check("kT9#vQ2!mR7$wZ", false),
            Err(PasswordError::TooShort { min: 15 })
        );
    }

    #[test]
    fn privileged_ids_need_sixteen_characters() {
        assert_eq!(
            check("kT9#vQ2!mR7$wZ4", true),
            Err(PasswordError::TooShort { min: 16 })
        );
        assert_eq!(check("kT9#vQ2!mR7$wZ4x", true), Ok(()));
    }

    #[test]
    fn japanese_characters_count_one_each() {
        // 15 kanji/kana characters: long enough, even though it is 45 bytes.
        assert_eq!(PasswordPolicy::default().min_length_for(&ctx(false)), 15);
        assert_ne!(
            check("桜並木の向こうに見える赤い郵便局の屋根", false),
            Err(PasswordError::TooShort { min: 15 })
        );
    }

    #[test]
    fn common_passwords_are_refused_even_padded_with_digits() {
        assert_eq!(
            check("passwordpassword123", false),
            Err(PasswordError::Common)
        );
        assert_eq!(
            check("P@ssw0rd!!!!!!!!!!", false),
            Err(PasswordError::Common)
        );
        assert_eq!(
            check("123456789012345678", false),
            Err(PasswordError::Common)
        );
        assert_eq!(
            check("aaaaaaaaaaaaaaaaaaaa", false),
            Err(PasswordError::Common)
        );
    }

    #[test]
    fn the_users_own_login_id_or_name_is_refused() {
        assert_eq!(
            check("hanako.sato-secure-2026", false),
            Err(PasswordError::ContainsPersonalInfo)
        );
        assert_eq!(
            check("サトウハナコのながいぱすわーど", false),
            Err(PasswordError::ContainsPersonalInfo)
        );
    }

    #[test]
    fn a_long_but_predictable_password_is_too_weak() {
        assert_eq!(
            check("abcabcabcabc1234", false),
            Err(PasswordError::TooWeak)
        );
    }

    #[test]
    fn composition_rules_are_not_required() {
        // All lower-case, no digits or symbols: fine when long and unusual.
        assert_eq!(check("correct horse battery staple", false), Ok(()));
    }

    #[test]
    fn every_error_has_both_messages_and_a_stable_code() {
        for e in [
            PasswordError::TooShort { min: 15 },
            PasswordError::TooLong { max: 128 },
            PasswordError::Common,
            PasswordError::ContainsPersonalInfo,
            PasswordError::TooWeak,
            PasswordError::Reused { history: 5 },
            PasswordError::ConfirmationMismatch,
            PasswordError::WrongCurrentPassword,
        ] {
            assert!(e.code().starts_with("password_"));
            assert!(!e.message_ja().is_ascii());
            assert!(e.message_en().is_ascii());
        }
    }
}
