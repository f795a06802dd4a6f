//! Personal-data protection on sending (G2, G3; seed 003 §8-9: no 機密性3 information in chat
//! unless processed so that a thief cannot read it). Every message is scanned before it is
//! stored; what happens depends on the kind and the score:
//!
//! - **block**: identifiers of a person (個人番号, 基礎年金番号, 住民票コード, 在留カード・旅券・
//!   免許証の番号, card and account numbers) found with confidence. Refused; the sender is offered
//!   the masked text, which passes.
//! - **confirm**: weaker signals (a birth date, an address, a confidentiality stamp, a low-score
//!   number). The sender sees the findings and may send anyway; that choice is audited.
//! - **allow**: office phone numbers, e-mail and postal codes, which fill ordinary work.
//!
//! The audit log keeps the kind and position of each finding, never the value.

use kairan_dlp::{Finding, Kind, Scanner, mask};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Allow,
    Confirm,
    Block,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Confirm => "confirm",
            Action::Block => "block",
        }
    }
}

/// The default rule for a finding.
pub fn action_for(f: &Finding) -> Action {
    match f.kind {
        Kind::MyNumber
        | Kind::BasicPensionNumber
        | Kind::ResidentRecordCode
        | Kind::ResidenceCardNumber
        | Kind::PassportNumber
        | Kind::DriversLicenseNumber
        | Kind::CreditCard
        | Kind::BankAccount => {
            if f.score >= 0.6 {
                Action::Block
            } else {
                Action::Confirm
            }
        }
        Kind::BirthDate | Kind::Address | Kind::Keyword => Action::Confirm,
        Kind::PhoneNumber | Kind::Email | Kind::PostalCode | Kind::CorporateNumber => Action::Allow,
    }
}

/// A finding as the sender sees it: where, what kind, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FindingView {
    pub kind: String,
    pub label_ja: String,
    pub label_en: String,
    /// Byte offsets into `checked_text`.
    pub start: usize,
    pub end: usize,
    pub score: f32,
    /// `block` or `confirm`.
    pub action: String,
}

/// The outcome of checking one message.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    /// The strongest action any finding asks for.
    #[serde(skip)]
    pub action_level: u8,
    pub findings: Vec<FindingView>,
    /// The text as checked (line breaks normalized), which the offsets point into.
    pub checked_text: String,
    /// The same text with every finding masked: sending this passes.
    pub masked_text: String,
}

impl Verdict {
    pub fn action(&self) -> Action {
        match self.action_level {
            2 => Action::Block,
            1 => Action::Confirm,
            _ => Action::Allow,
        }
    }

    /// Kinds and positions only, for the audit log.
    pub fn audit_details(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.findings
                .iter()
                .map(|f| serde_json::json!({ "kind": f.kind, "start": f.start, "end": f.end, "action": f.action }))
                .collect(),
        )
    }
}

pub fn check(scanner: &Scanner, text: &str) -> Verdict {
    let all = scanner.scan(text);
    let mut worst = Action::Allow;
    let mut shown = Vec::new();
    let mut masked_findings = Vec::new();
    for f in &all {
        let a = action_for(f);
        if a == Action::Allow {
            continue;
        }
        worst = worst.max(a);
        masked_findings.push(*f);
        shown.push(FindingView {
            kind: f.kind.code().to_owned(),
            label_ja: f.kind.label_ja().to_owned(),
            label_en: f.kind.label_en().to_owned(),
            start: f.start,
            end: f.end,
            score: f.score,
            action: a.code().to_owned(),
        });
    }
    Verdict {
        action_level: match worst {
            Action::Allow => 0,
            Action::Confirm => 1,
            Action::Block => 2,
        },
        findings: shown,
        checked_text: text.to_owned(),
        masked_text: mask(text, &masked_findings),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(text: &str) -> Action {
        check(&Scanner::default(), text).action()
    }

    #[test]
    fn a_my_number_with_context_is_blocked_and_its_masked_form_passes() {
        let v = check(
            &Scanner::default(),
            "申請者の個人番号は1234-5678-9018です。",
        );
        assert_eq!(v.action(), Action::Block);
        assert_eq!(v.findings[0].kind, "my_number");
        assert_eq!(act(&v.masked_text), Action::Allow);
    }

    #[test]
    fn office_phone_numbers_and_ordinary_business_pass_without_a_prompt() {
        assert_eq!(
            act("住民課(内線1234)または0749-12-3456までご連絡ください。"),
            Action::Allow
        );
        assert_eq!(
            act("令和8年度予算 1,234,567円。会議は3月5日10時から305会議室です。"),
            Action::Allow
        );
    }

    #[test]
    fn a_birth_date_or_a_confidentiality_stamp_asks_for_confirmation() {
        assert_eq!(act("生年月日は昭和60年4月1日です。"), Action::Confirm);
        assert_eq!(act("この資料は取扱注意です。"), Action::Confirm);
    }

    #[test]
    fn the_audit_details_hold_kinds_and_positions_but_no_value() {
        let v = check(&Scanner::default(), "個人番号 123456789018");
        let d = v.audit_details().to_string();
        assert!(d.contains("my_number"));
        assert!(!d.contains("9018"));
    }
}
