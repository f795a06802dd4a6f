//! Errors of the pure rules. Every error has a stable `code` and a Japanese and English
//! message, so the server can answer `{"error":{"code","message_ja","message_en"}}` without
//! knowing the rule that failed.

use crate::password::PasswordError;

/// Something that can be shown to a user in both languages under a stable code.
pub trait Localized {
    fn code(&self) -> &'static str;
    fn message_ja(&self) -> String;
    fn message_en(&self) -> String;
}

/// A rejected input or a broken rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("invalid field {field}: {reason_en}")]
    InvalidField {
        field: &'static str,
        label_ja: &'static str,
        reason_ja: String,
        reason_en: String,
    },
    #[error("password rule: {0:?}")]
    Password(PasswordError),
    /// A guest's or group's period that runs past 31 March (seed 003 §6): its own code, so a
    /// form can point at the end date and name the last allowed day.
    #[error("period crosses the fiscal year end; last day {last_day_en}")]
    PeriodCrossesFiscalYear {
        last_day_ja: String,
        last_day_en: String,
    },
}

impl DomainError {
    pub fn invalid(
        field: &'static str,
        label_ja: &'static str,
        reason_ja: impl Into<String>,
        reason_en: impl Into<String>,
    ) -> Self {
        DomainError::InvalidField {
            field,
            label_ja,
            reason_ja: reason_ja.into(),
            reason_en: reason_en.into(),
        }
    }
}

impl Localized for DomainError {
    fn code(&self) -> &'static str {
        match self {
            DomainError::InvalidField { .. } => "invalid_field",
            DomainError::Password(p) => p.code(),
            DomainError::PeriodCrossesFiscalYear { .. } => "period_crosses_fiscal_year",
        }
    }

    fn message_ja(&self) -> String {
        match self {
            DomainError::InvalidField {
                label_ja,
                reason_ja,
                ..
            } => format!("{label_ja}: {reason_ja}"),
            DomainError::Password(p) => p.message_ja(),
            DomainError::PeriodCrossesFiscalYear { last_day_ja, .. } => format!(
                "終了日: 期間は年度をまたげません。年度末（{last_day_ja}）までの日付を指定してください。"
            ),
        }
    }

    fn message_en(&self) -> String {
        match self {
            DomainError::InvalidField {
                field, reason_en, ..
            } => format!("{field}: {reason_en}"),
            DomainError::Password(p) => p.message_en(),
            DomainError::PeriodCrossesFiscalYear { last_day_en, .. } => format!(
                "end_date: the period may not go past the end of the fiscal year ({last_day_en})."
            ),
        }
    }
}

impl From<PasswordError> for DomainError {
    fn from(value: PasswordError) -> Self {
        DomainError::Password(value)
    }
}
