//! What a section head fills in to apply for a guest (ゲスト利用申請, seed 003 §6, §8-7): why
//! the guest is needed, who the guest is, how to reach them, the period, and the confirmation
//! that the guest's own environment meets the procedure. Checked here so the API, the form and
//! a later CSV import refuse the same things with the same words.

use crate::DomainError;
use crate::fiscal::{self, Date};
use serde::{Deserialize, Serialize};

/// The typed fields of a guest application, stored as the application's `fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestRequest {
    /// What the guest takes part in (the business).
    pub purpose: String,
    /// Why a talk is needed rather than mail or telephone.
    pub need: String,
    pub guest_name: String,
    /// The guest's body or company.
    pub guest_affiliation: String,
    pub guest_email: String,
    pub start_date: Date,
    /// The last day, inclusive; never past 31 March of the fiscal year the period starts in.
    pub end_date: Date,
    /// The applicant confirms that the guest's environment meets the procedure (seed 003 §8-7).
    #[serde(default)]
    pub environment_confirmed: bool,
}

pub const TEXT_MAX_CHARS: usize = 500;
/// A name fits the ID's display name (50); an affiliation may be longer.
pub const NAME_MAX_CHARS: usize = 50;
pub const AFFILIATION_MAX_CHARS: usize = 100;

pub(crate) fn text(
    value: &mut String,
    field: &'static str,
    label: &'static str,
    max: usize,
) -> Result<(), DomainError> {
    *value = value.trim().replace("\r\n", "\n");
    if value.is_empty() {
        return Err(DomainError::invalid(
            field,
            label,
            "入力してください。",
            "must not be empty.",
        ));
    }
    if value.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            label,
            format!("{max}文字以内で入力してください。"),
            format!("may have at most {max} characters."),
        ));
    }
    if value.chars().any(|c| c != '\n' && crate::input::hidden(c)) {
        return Err(DomainError::invalid(
            field,
            label,
            "制御文字や、文字の向きを変える文字は使えません。",
            "may not contain control characters or text-direction overrides.",
        ));
    }
    Ok(())
}

/// A plain check of an address's shape: one `@`, something on each side, a dot in the domain,
/// no spaces. Whether it reaches the guest is shown by the invitation, not by a rule here.
fn email_shape(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    value.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && value.chars().all(|c| c.is_ascii_graphic())
}

impl GuestRequest {
    /// Trims the texts and checks every field; `today` is the date in Japan.
    pub fn validated(mut self, today: Date) -> Result<GuestRequest, DomainError> {
        text(&mut self.purpose, "purpose", "利用目的", TEXT_MAX_CHARS)?;
        text(&mut self.need, "need", "トークが必要な理由", TEXT_MAX_CHARS)?;
        text(
            &mut self.guest_name,
            "guest_name",
            "ゲストの氏名",
            NAME_MAX_CHARS,
        )?;
        text(
            &mut self.guest_affiliation,
            "guest_affiliation",
            "ゲストの所属（団体・会社）",
            AFFILIATION_MAX_CHARS,
        )?;
        self.guest_email = self.guest_email.trim().to_owned();
        if !email_shape(&self.guest_email) {
            return Err(DomainError::invalid(
                "guest_email",
                "ゲストの連絡先メールアドレス",
                "メールアドレスの形式で入力してください（例: name@example.jp）。",
                "enter an e-mail address (e.g. name@example.jp).",
            ));
        }
        fiscal::check_period(self.start_date, self.end_date, today)?;
        if !self.environment_confirmed {
            return Err(DomainError::invalid(
                "environment_confirmed",
                "利用環境の確認",
                "ゲストの利用環境がこの手順の要件を満たしていることを確認してください。",
                "confirm that the guest's environment meets this procedure.",
            ));
        }
        Ok(self)
    }
}

/// A request for a later last day for an approved guest (延長申請): again within the fiscal
/// year, again approved by an administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionRequest {
    /// The approved guest application to extend.
    pub application_id: String,
    /// The new last day, inclusive.
    pub end_date: Date,
    /// Why the guest is needed for longer.
    pub reason: String,
}

impl ExtensionRequest {
    /// Checks the reason and the new last day against the current one.
    pub fn validated(mut self, current_end: Date) -> Result<ExtensionRequest, DomainError> {
        text(&mut self.reason, "reason", "延長の理由", TEXT_MAX_CHARS)?;
        fiscal::check_extension(current_end, self.end_date)?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::new(y, m, day).unwrap()
    }

    fn request() -> GuestRequest {
        GuestRequest {
            purpose: " 防災訓練の合同準備 ".into(),
            need: "資料の確認を日々やり取りするため".into(),
            guest_name: "山田 花子".into(),
            guest_affiliation: "株式会社東山防災".into(),
            guest_email: "hanako@example.co.jp".into(),
            start_date: d(2026, 12, 10),
            end_date: d(2027, 3, 31),
            environment_confirmed: true,
        }
    }

    fn field(r: Result<GuestRequest, DomainError>) -> &'static str {
        match r {
            Ok(_) => "ok",
            Err(DomainError::InvalidField { field, .. }) => field,
            Err(DomainError::PeriodCrossesFiscalYear { .. }) => "period_crosses_fiscal_year",
            Err(DomainError::Password(_)) => "password",
        }
    }

    #[test]
    fn a_complete_request_inside_the_fiscal_year_is_accepted_trimmed() {
        let ok = request().validated(d(2026, 12, 4)).unwrap();
        assert_eq!(ok.purpose, "防災訓練の合同準備");
    }

    #[test]
    fn each_missing_or_bad_field_is_named() {
        let today = d(2026, 12, 4);
        let cases: Vec<(GuestRequest, &str)> = vec![
            (
                GuestRequest {
                    purpose: "  ".into(),
                    ..request()
                },
                "purpose",
            ),
            (
                GuestRequest {
                    need: "あ".repeat(TEXT_MAX_CHARS + 1),
                    ..request()
                },
                "need",
            ),
            (
                GuestRequest {
                    guest_name: "山田\u{202e}花子".into(),
                    ..request()
                },
                "guest_name",
            ),
            (
                GuestRequest {
                    guest_email: "hanako@localhost".into(),
                    ..request()
                },
                "guest_email",
            ),
            (
                GuestRequest {
                    guest_email: "はなこ@example.jp".into(),
                    ..request()
                },
                "guest_email",
            ),
            (
                GuestRequest {
                    end_date: d(2027, 4, 1),
                    ..request()
                },
                "period_crosses_fiscal_year",
            ),
            (
                GuestRequest {
                    start_date: d(2026, 12, 3),
                    ..request()
                },
                "start_date",
            ),
            (
                GuestRequest {
                    environment_confirmed: false,
                    ..request()
                },
                "environment_confirmed",
            ),
        ];
        for (r, expected) in cases {
            assert_eq!(field(r.clone().validated(today)), expected, "{r:?}");
        }
    }

    #[test]
    fn an_extension_moves_the_end_later_but_never_past_31_march() {
        let current = d(2027, 1, 31);
        let ask = |end| ExtensionRequest {
            application_id: "a".into(),
            end_date: end,
            reason: "訓練の日程が延びたため".into(),
        };
        assert!(ask(d(2027, 3, 31)).validated(current).is_ok());
        assert_eq!(
            field(ask(d(2027, 4, 1)).validated(current).map(|_| request())),
            "period_crosses_fiscal_year"
        );
        assert_eq!(
            field(ask(d(2027, 1, 31)).validated(current).map(|_| request())),
            "end_date"
        );
        let no_reason = ExtensionRequest {
            reason: " ".into(),
            ..ask(d(2027, 2, 28))
        };
        assert_eq!(
            field(no_reason.validated(current).map(|_| request())),
            "reason"
        );
    }

    #[test]
    fn dates_arrive_as_iso_text() {
        let v = serde_json::to_value(request()).unwrap();
        assert_eq!(v["end_date"], "2027-03-31");
        let back: GuestRequest = serde_json::from_value(v).unwrap();
        assert_eq!(back, request());
    }
}
