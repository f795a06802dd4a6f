//! Personal-data protection on sending (G1–G3; seed 003 §8-9: no 機密性3 information in chat
//! unless processed so that a thief cannot read it). Every text is scanned before it is
//! stored, against the rules of the sender's body ([`Protection`]):
//!
//! - each detector kind has an action: **block** (refused; edit it yourself), **mask** (refused
//!   as is, "mask and send" passes), **confirm** (the sender may send anyway, audited) or
//!   **allow**; and whether the **security officer is notified**;
//! - a confident finding implies a minimum class (default: the body's top class for the
//!   numbers and dates that identify a person). Content whose implied class is above the
//!   talk's ceiling is refused unless masked, whatever the kind's own action;
//! - a finding with a low score (a number that only looks valid, with no context) asks for
//!   confirmation at most, and implies nothing.
//!
//! The audit log keeps the kind and position of each finding, never the value.

use kairan_dlp::{Finding, Kind, ScanConfig, Scanner, mask};
use kairan_domain::classification::Scheme;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Below this score a finding is a guess: it never blocks and implies no class.
pub const CONFIDENT: f32 = 0.6;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Allow,
    Confirm,
    Mask,
    Block,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::Allow, Action::Confirm, Action::Mask, Action::Block];

    pub fn code(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Confirm => "confirm",
            Action::Mask => "mask",
            Action::Block => "block",
        }
    }

    pub fn parse(code: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.code() == code)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Action::Allow => "許可",
            Action::Confirm => "確認して送信",
            Action::Mask => "マスクすれば送信可",
            Action::Block => "送信不可",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Action::Allow => "Allow",
            Action::Confirm => "Confirm before sending",
            Action::Mask => "Allow when masked",
            Action::Block => "Block",
        }
    }
}

/// What a body does with one kind of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rule {
    pub action: Action,
    /// Tell the body's security officers when a message with this kind is refused or sent.
    #[serde(default)]
    pub notify: bool,
    /// The confidentiality rank a confident finding implies, if any.
    #[serde(default)]
    pub implies: Option<u8>,
}

/// The body's information-protection settings: its classification scheme, one rule per
/// detector kind, and its confidentiality keywords.
#[derive(Debug, Clone)]
pub struct Protection {
    pub scheme: Scheme,
    pub rules: BTreeMap<Kind, Rule>,
    pub keywords: Vec<String>,
    pub scanner: Scanner,
}

/// The stored form of the rules (the `dlp_rules` document).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredRules {
    #[serde(default)]
    pub rules: BTreeMap<String, Rule>,
    #[serde(default)]
    pub keywords: Option<Vec<String>>,
}

/// The rule a body starts with for `kind`.
pub fn default_rule(kind: Kind, scheme: &Scheme) -> Rule {
    let top = Some(scheme.top());
    let middle = Some(scheme.default_ceiling());
    let (action, notify, implies) = match kind {
        // 特定個人情報 and the national identifiers: never in chat unless masked, and the
        // security officer hears of every attempt.
        Kind::MyNumber | Kind::BasicPensionNumber | Kind::ResidentRecordCode => {
            (Action::Mask, true, top)
        }
        Kind::ResidenceCardNumber
        | Kind::PassportNumber
        | Kind::DriversLicenseNumber
        | Kind::CreditCard
        | Kind::BankAccount => (Action::Mask, false, top),
        // A birth date identifies a person: personal information is the top class (004 2(1)).
        Kind::BirthDate => (Action::Confirm, false, top),
        // Offices and public facilities have addresses too: ask, imply nothing.
        Kind::Address => (Action::Confirm, false, None),
        // 取扱注意, 部外秘 … mark information not yet for the public (第2種).
        Kind::Keyword => (Action::Confirm, false, middle),
        Kind::PhoneNumber | Kind::Email | Kind::PostalCode | Kind::CorporateNumber => {
            (Action::Allow, false, None)
        }
    };
    Rule {
        action,
        notify,
        implies,
    }
}

impl Protection {
    /// The defaults for a scheme.
    pub fn defaults(scheme: Scheme) -> Protection {
        Protection::build(scheme, &StoredRules::default())
    }

    /// The settings from their stored documents, each kind not listed taking its default.
    pub fn build(scheme: Scheme, stored: &StoredRules) -> Protection {
        let top = scheme.top();
        let rules = Kind::ALL
            .into_iter()
            .map(|k| {
                let mut rule = stored
                    .rules
                    .get(k.code())
                    .copied()
                    .unwrap_or_else(|| default_rule(k, &scheme));
                rule.implies = rule.implies.map(|c| c.min(top));
                (k, rule)
            })
            .collect();
        let keywords = stored.keywords.clone().unwrap_or_else(|| {
            kairan_dlp::DEFAULT_KEYWORDS
                .iter()
                .map(|k| (*k).to_owned())
                .collect()
        });
        let scanner = Scanner::new(&ScanConfig {
            keywords: keywords.clone(),
            ..ScanConfig::default()
        });
        Protection {
            scheme,
            rules,
            keywords,
            scanner,
        }
    }

    pub fn rule(&self, kind: Kind) -> Rule {
        self.rules
            .get(&kind)
            .copied()
            .unwrap_or_else(|| default_rule(kind, &self.scheme))
    }

    pub fn stored_rules(&self) -> StoredRules {
        StoredRules {
            rules: self
                .rules
                .iter()
                .map(|(k, r)| (k.code().to_owned(), *r))
                .collect(),
            keywords: Some(self.keywords.clone()),
        }
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
    /// What this finding asks for: `block`, `mask` or `confirm`.
    pub action: Action,
    /// The class it implies, when it is above the talk's ceiling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub above_ceiling_ja: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub above_ceiling_en: Option<String>,
}

/// The outcome of checking one text.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    /// The strongest action any finding asks for.
    pub action: Action,
    pub findings: Vec<FindingView>,
    /// The text as checked (line breaks normalized), which the offsets point into.
    pub checked_text: String,
    /// The same text with every finding masked: sending this passes.
    pub masked_text: String,
    /// The class the content implies (a rank on the body's scale).
    pub implied_class: u8,
    /// The talk's ceiling, named, for the sender's explanation.
    pub ceiling_ja: String,
    pub ceiling_en: String,
    /// Whether the body's security officers are told of this text.
    #[serde(skip)]
    pub notify: bool,
}

impl Verdict {
    pub fn action(&self) -> Action {
        self.action
    }

    /// Kinds and positions only, for the audit log and notifications.
    pub fn audit_details(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.findings
                .iter()
                .map(|f| serde_json::json!({ "kind": f.kind, "start": f.start, "end": f.end, "action": f.action }))
                .collect(),
        )
    }

    /// Whether any finding is refused because of the talk's ceiling.
    fn above_ceiling(&self) -> bool {
        self.findings.iter().any(|f| f.above_ceiling_ja.is_some())
    }

    pub fn code(&self) -> &'static str {
        match self.action {
            Action::Block => "dlp_blocked",
            Action::Mask => "dlp_mask_required",
            Action::Confirm | Action::Allow => "dlp_confirm_required",
        }
    }

    pub fn message_ja(&self) -> String {
        match self.action {
            Action::Block => "送信が禁止されている情報が含まれているため、送信できません。該当箇所を削除してください。".into(),
            Action::Mask if self.above_ceiling() => format!(
                "このトークで扱える区分（{}）を超える情報が含まれているため、このままでは送信できません。該当箇所をマスクすれば送信できます。",
                self.ceiling_ja
            ),
            Action::Mask => "個人を特定できる番号などが含まれているため、このままでは送信できません。該当箇所をマスクすれば送信できます。".into(),
            Action::Confirm | Action::Allow => "個人情報または取扱注意の情報が含まれている可能性があります。内容を確認してから送信してください。".into(),
        }
    }

    pub fn message_en(&self) -> String {
        match self.action {
            Action::Block => "The message contains information that may not be sent. Remove it.".into(),
            Action::Mask if self.above_ceiling() => format!(
                "The message holds information above what this talk may hold ({}). Mask it and send.",
                self.ceiling_en
            ),
            Action::Mask => "The message contains numbers that identify a person and cannot be sent as is. Mask them and send.".into(),
            Action::Confirm | Action::Allow => "The message may contain personal or restricted information. Check it before sending.".into(),
        }
    }
}

/// Checks `text` against the body's rules for a talk whose ceiling is `ceiling`.
pub fn check(p: &Protection, text: &str, ceiling: u8) -> Verdict {
    let all = p.scanner.scan(text);
    let mut worst = Action::Allow;
    let mut implied = 0u8;
    let mut notify = false;
    let mut shown = Vec::new();
    let mut masked_findings: Vec<Finding> = Vec::new();
    for f in &all {
        let rule = p.rule(f.kind);
        let confident = f.score >= CONFIDENT;
        let mut action = if confident {
            rule.action
        } else {
            rule.action.min(Action::Confirm)
        };
        let implies = rule
            .implies
            .filter(|_| confident && action != Action::Allow);
        let above = implies.filter(|c| *c > ceiling);
        if above.is_some() {
            // Above the ceiling: it may only go masked (seed 003 §9 "加工").
            action = action.max(Action::Mask);
        }
        if action == Action::Allow {
            continue;
        }
        worst = worst.max(action);
        implied = implied.max(implies.unwrap_or(0));
        notify |= rule.notify;
        masked_findings.push(*f);
        shown.push(FindingView {
            kind: f.kind.code().to_owned(),
            label_ja: f.kind.label_ja().to_owned(),
            label_en: f.kind.label_en().to_owned(),
            start: f.start,
            end: f.end,
            score: f.score,
            action,
            above_ceiling_ja: above.map(|c| p.scheme.label(c, "ja")),
            above_ceiling_en: above.map(|c| p.scheme.label(c, "en")),
        });
    }
    Verdict {
        action: worst,
        findings: shown,
        checked_text: text.to_owned(),
        masked_text: mask(text, &masked_findings),
        implied_class: implied,
        ceiling_ja: p.scheme.label(ceiling, "ja"),
        ceiling_en: p.scheme.label(ceiling, "en"),
        notify,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Protection {
        Protection::defaults(Scheme::seed004())
    }

    /// The default ceiling of a talk: 機密性 第2種.
    const CEILING: u8 = 1;
    const TOP: u8 = 2;

    fn act(text: &str) -> Action {
        check(&defaults(), text, CEILING).action()
    }

    #[test]
    fn a_my_number_with_context_must_be_masked_and_its_masked_form_passes() {
        let v = check(
            &defaults(),
            "申請者の個人番号は1234-5678-9018です。",
            CEILING,
        );
        assert_eq!(v.action(), Action::Mask);
        assert_eq!(v.code(), "dlp_mask_required");
        assert_eq!(v.findings[0].kind, "my_number");
        assert!(v.notify, "the security officer hears of My Number");
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
    fn a_birth_date_is_top_class_so_an_ordinary_talk_takes_it_only_masked() {
        let v = check(&defaults(), "生年月日は昭和60年4月1日です。", CEILING);
        assert_eq!(v.action(), Action::Mask);
        assert_eq!(
            v.findings[0].above_ceiling_ja.as_deref(),
            Some("機密性 第1種")
        );
        assert!(v.message_ja().contains("機密性 第2種"));
        // In a talk cleared for the top class the sender is only asked to confirm.
        let v = check(&defaults(), "生年月日は昭和60年4月1日です。", TOP);
        assert_eq!(v.action(), Action::Confirm);
        assert_eq!(v.implied_class, TOP);
    }

    #[test]
    fn a_confidentiality_stamp_asks_for_confirmation_and_implies_class_2() {
        let v = check(&defaults(), "この資料は取扱注意です。", CEILING);
        assert_eq!(v.action(), Action::Confirm);
        assert_eq!(v.implied_class, 1);
    }

    #[test]
    fn a_body_can_block_a_kind_outright_or_allow_it() {
        let scheme = Scheme::seed004();
        let mut stored = StoredRules::default();
        stored.rules.insert(
            "my_number".into(),
            Rule {
                action: Action::Block,
                notify: false,
                implies: None,
            },
        );
        stored.rules.insert(
            "keyword".into(),
            Rule {
                action: Action::Allow,
                notify: false,
                implies: None,
            },
        );
        let p = Protection::build(scheme, &stored);
        let v = check(&p, "個人番号 1234 5678 9018", TOP);
        assert_eq!(v.code(), "dlp_blocked");
        assert!(!v.notify);
        assert_eq!(
            check(&p, "この資料は取扱注意です。", CEILING).action(),
            Action::Allow
        );
    }

    #[test]
    fn a_body_keyword_list_replaces_the_default() {
        let stored = StoredRules {
            keywords: Some(vec!["庁内限り".into()]),
            ..StoredRules::default()
        };
        let p = Protection::build(Scheme::seed004(), &stored);
        assert_eq!(
            check(&p, "この資料は庁内限りです。", CEILING).action(),
            Action::Confirm
        );
        assert_eq!(
            check(&p, "この資料は取扱注意です。", CEILING).action(),
            Action::Allow
        );
    }

    #[test]
    fn a_guess_without_context_only_asks_and_implies_nothing() {
        // A valid My Number check digit, but no context: a low score.
        let v = check(&defaults(), "注文 123456789018 を確認", CEILING);
        assert_eq!(v.findings.len(), 1);
        assert!(v.findings[0].score < CONFIDENT);
        assert_eq!(v.action(), Action::Confirm);
        assert_eq!(v.implied_class, 0);
    }

    #[test]
    fn the_audit_details_hold_kinds_and_positions_but_no_value() {
        let v = check(&defaults(), "個人番号 123456789018", CEILING);
        let d = v.audit_details().to_string();
        assert!(d.contains("my_number"));
        assert!(!d.contains("9018"));
    }

    #[test]
    fn implied_classes_are_capped_at_the_scheme_top() {
        let mut stored = StoredRules::default();
        stored.rules.insert(
            "email".into(),
            Rule {
                action: Action::Confirm,
                notify: false,
                implies: Some(9),
            },
        );
        let p = Protection::build(Scheme::seed003(), &stored);
        assert_eq!(p.rule(Kind::Email).implies, Some(2));
    }
}
