//! Masking of findings for display in chat clients and audit logs.
//!
//! Rules, per kind (digits are ASCII or full-width; separators are always kept):
//! - My Number, corporate number, card, driver's license, 住民票コード, 基礎年金番号:
//!   every digit but the last four becomes `*` (`****-****-9012`).
//! - Phone: the first and last digit groups stay (`090-****-5678`); for `+81` numbers
//!   the country code and the next group stay; an unsplit number keeps its first
//!   three and last four digits.
//! - Postal code: the first three digits stay (`〒100-****`).
//! - Bank account, birth date: every digit (and 元) becomes `*` (`****年*月*日`).
//! - Residence card, passport: every letter and digit becomes `*`.
//! - Address: the prefecture and the first municipality stay, the rest becomes `*`
//!   (`東京都千代田区***-*-*`).
//! - Email: the first character of the local part and the domain stay (`t****@example.jp`).
//! - Keyword: left unchanged, because the stamp itself (極秘) is the signal readers need.

use crate::detect::prefecture_at;
use crate::{Finding, Kind};

#[inline]
fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

#[inline]
fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || ('０'..='９').contains(&c)
        || ('Ａ'..='Ｚ').contains(&c)
        || ('ａ'..='ｚ').contains(&c)
}

/// Replaces each finding in `text` by its masked form.
///
/// Findings that overlap an earlier one, or whose offsets are not char boundaries of
/// `text`, are ignored rather than causing a panic.
pub fn mask(text: &str, findings: &[Finding]) -> String {
    let mut sorted: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.start < f.end && text.get(f.start..f.end).is_some())
        .collect();
    sorted.sort_by_key(|f| (f.start, f.end));
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for f in sorted {
        if f.start < pos {
            continue;
        }
        out.push_str(&text[pos..f.start]);
        out.push_str(&mask_span(f.kind, &text[f.start..f.end]));
        pos = f.end;
    }
    out.push_str(&text[pos..]);
    out
}

/// Masks one matched span according to the rules of its kind (see the module docs).
pub fn mask_span(kind: Kind, span: &str) -> String {
    match kind {
        Kind::MyNumber
        | Kind::CorporateNumber
        | Kind::CreditCard
        | Kind::DriversLicenseNumber
        | Kind::ResidentRecordCode
        | Kind::BasicPensionNumber => keep_last_digits(span, 4),
        Kind::PhoneNumber => mask_phone(span),
        Kind::PostalCode => keep_first_digits(span, 3),
        Kind::BankAccount => keep_last_digits(span, 0),
        Kind::BirthDate => span
            .chars()
            .map(|c| if is_digit(c) || c == '元' { '*' } else { c })
            .collect(),
        Kind::ResidenceCardNumber | Kind::PassportNumber => span
            .chars()
            .map(|c| if is_alnum(c) { '*' } else { c })
            .collect(),
        Kind::Address => mask_address(span),
        Kind::Email => mask_email(span),
        Kind::Keyword => span.to_string(),
    }
}

fn keep_last_digits(span: &str, keep: usize) -> String {
    let total = span.chars().filter(|&c| is_digit(c)).count();
    let mut seen = 0;
    span.chars()
        .map(|c| {
            if is_digit(c) {
                seen += 1;
                if seen + keep <= total {
                    return '*';
                }
            }
            c
        })
        .collect()
}

fn keep_first_digits(span: &str, keep: usize) -> String {
    let mut seen = 0;
    span.chars()
        .map(|c| {
            if is_digit(c) {
                seen += 1;
                if seen > keep {
                    return '*';
                }
            }
            c
        })
        .collect()
}

fn mask_phone(span: &str) -> String {
    let chars: Vec<char> = span.chars().collect();
    // Index of the digit group each char belongs to, if any.
    let mut group = vec![None; chars.len()];
    let mut groups = 0;
    let mut in_group = false;
    for (i, &c) in chars.iter().enumerate() {
        if is_digit(c) {
            if !in_group {
                groups += 1;
                in_group = true;
            }
            group[i] = Some(groups - 1);
        } else {
            in_group = false;
        }
    }
    if groups <= 1 {
        let total = chars.iter().filter(|&&c| is_digit(c)).count();
        let head = if chars.first() == Some(&'+') { 4 } else { 3 };
        let mut seen = 0;
        return chars
            .iter()
            .map(|&c| {
                if is_digit(c) {
                    seen += 1;
                    if seen > head && seen + 4 <= total {
                        return '*';
                    }
                }
                c
            })
            .collect();
    }
    let keep_head = if chars.first() == Some(&'+') { 2 } else { 1 };
    chars
        .iter()
        .zip(group)
        .map(|(&c, g)| match g {
            Some(g) if g >= keep_head && g + 1 < groups => '*',
            _ => c,
        })
        .collect()
}

fn mask_address(span: &str) -> String {
    let chars: Vec<char> = span.chars().collect();
    let mut keep = prefecture_at(&chars, 0).unwrap_or(0);
    // The municipality name needs at least one char before its marker (町田市 is a
    // city, not 町 + 田市).
    let mut i = keep + 1;
    while i < chars.len() {
        if matches!(chars[i], '市' | '区' | '町' | '村' | '郡') {
            keep = i + 1;
            break;
        }
        if !crate::detect::is_kanji(chars[i]) {
            break;
        }
        i += 1;
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if i < keep || matches!(c, '-' | '－' | '−' | '‐' | 'ー' | ' ' | '　') {
                c
            } else {
                '*'
            }
        })
        .collect()
}

fn mask_email(span: &str) -> String {
    let Some(at) = span.find(['@', '＠']) else {
        return "*".repeat(span.chars().count());
    };
    let mut out = String::with_capacity(span.len());
    if let Some(first) = span[..at].chars().next() {
        out.push(first);
    }
    out.push_str("****");
    out.push_str(&span[at..]);
    out
}
