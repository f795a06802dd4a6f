//! Classification of information assets (G1; seed 004 2(1), 2(2); seed 003 §8-9).
//!
//! A body (団体) keeps one scheme: an ordered confidentiality scale (機密性), least confidential
//! first, and optionally integrity (完全性) and availability (可用性) scales. A class is stored as
//! its rank on the scale (0 = least confidential), so comparisons are plain integer
//! comparisons and relabelling a scale never rewrites content.
//!
//! The rules that follow from it live here, without I/O:
//! - a talk has a ceiling; a message above it is refused ([`message_class`]);
//! - the message class is the chosen class (or the talk's default), raised to whatever the
//!   personal-data findings imply;
//! - a copy or forward keeps its class and is refused where that class is above the target's
//!   ceiling ([`forward_class`]);
//! - a container shows the highest class of its contents (the store keeps `max_class`);
//! - the top class stays out of chat by default: seed 003 §9 forbids 機密性3 information in a
//!   staff chat unless it is processed (masked) so that a thief cannot read it, so a new talk's
//!   ceiling is one below the top ([`Scheme::default_ceiling`]).

use crate::error::DomainError;
use serde::{Deserialize, Serialize};

/// One step on a scale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    pub label_ja: String,
    pub label_en: String,
}

/// A body's classification scheme. `preset` names a built-in scheme, or `custom`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheme {
    pub preset: String,
    /// Least confidential first.
    pub confidentiality: Vec<Level>,
    /// Least critical first; empty when the body does not use integrity classes.
    #[serde(default)]
    pub integrity: Vec<Level>,
    /// Least critical first; empty when the body does not use availability classes.
    #[serde(default)]
    pub availability: Vec<Level>,
}

fn levels(items: &[(&str, &str)]) -> Vec<Level> {
    items
        .iter()
        .map(|(ja, en)| Level {
            label_ja: (*ja).to_owned(),
            label_en: (*en).to_owned(),
        })
        .collect()
}

/// The built-in schemes, by code.
pub const PRESETS: [&str; 2] = ["seed004", "seed003"];

/// The most levels a custom scale may have.
pub const MAX_LEVELS: usize = 6;

impl Default for Scheme {
    fn default() -> Self {
        Scheme::seed004()
    }
}

impl Scheme {
    /// Seed 004 2(1): 機密性 第3種 < 第2種 < 第1種, 完全性 and 可用性 第4種 < … < 第1種.
    pub fn seed004() -> Scheme {
        Scheme {
            preset: "seed004".into(),
            confidentiality: levels(&[
                ("機密性 第3種", "Confidentiality class 3"),
                ("機密性 第2種", "Confidentiality class 2"),
                ("機密性 第1種", "Confidentiality class 1"),
            ]),
            integrity: levels(&[
                ("完全性 第4種", "Integrity class 4"),
                ("完全性 第3種", "Integrity class 3"),
                ("完全性 第2種", "Integrity class 2"),
                ("完全性 第1種", "Integrity class 1"),
            ]),
            availability: levels(&[
                ("可用性 第4種", "Availability class 4"),
                ("可用性 第3種", "Availability class 3"),
                ("可用性 第2種", "Availability class 2"),
                ("可用性 第1種", "Availability class 1"),
            ]),
        }
    }

    /// Seed 003 and the national guideline: 機密性1 < 機密性2 < 機密性3, 完全性1 < 完全性2,
    /// 可用性1 < 可用性2.
    pub fn seed003() -> Scheme {
        Scheme {
            preset: "seed003".into(),
            confidentiality: levels(&[
                ("機密性1", "Confidentiality 1"),
                ("機密性2", "Confidentiality 2"),
                ("機密性3", "Confidentiality 3"),
            ]),
            integrity: levels(&[("完全性1", "Integrity 1"), ("完全性2", "Integrity 2")]),
            availability: levels(&[("可用性1", "Availability 1"), ("可用性2", "Availability 2")]),
        }
    }

    pub fn preset(code: &str) -> Option<Scheme> {
        match code {
            "seed004" => Some(Scheme::seed004()),
            "seed003" => Some(Scheme::seed003()),
            _ => None,
        }
    }

    /// A custom confidentiality scale from labels, least confidential first, each written
    /// `日本語` or `日本語:English`. No integrity or availability classes.
    pub fn custom(spec: &str) -> Result<Scheme, DomainError> {
        let mut out = Vec::new();
        for item in spec.split(',') {
            let item = item.trim();
            let (ja, en) = match item.split_once(':') {
                Some((ja, en)) => (ja.trim(), en.trim()),
                None => (item, item),
            };
            if ja.is_empty() || ja.chars().count() > 20 || en.is_empty() || en.chars().count() > 40
            {
                return Err(invalid_scheme());
            }
            out.push(Level {
                label_ja: ja.to_owned(),
                label_en: en.to_owned(),
            });
        }
        let scheme = Scheme {
            preset: "custom".into(),
            confidentiality: out,
            integrity: Vec::new(),
            availability: Vec::new(),
        };
        scheme.validate()?;
        Ok(scheme)
    }

    /// Two to six confidentiality levels with distinct labels; the other scales empty or
    /// likewise.
    pub fn validate(&self) -> Result<(), DomainError> {
        for (scale, optional) in [
            (&self.confidentiality, false),
            (&self.integrity, true),
            (&self.availability, true),
        ] {
            if optional && scale.is_empty() {
                continue;
            }
            if scale.len() < 2 || scale.len() > MAX_LEVELS {
                return Err(invalid_scheme());
            }
            for (i, l) in scale.iter().enumerate() {
                if scale[..i].iter().any(|o| o.label_ja == l.label_ja) {
                    return Err(invalid_scheme());
                }
            }
        }
        Ok(())
    }

    /// The highest confidentiality rank.
    pub fn top(&self) -> u8 {
        u8::try_from(self.confidentiality.len().saturating_sub(1)).unwrap_or(0)
    }

    /// A new talk's ceiling: one below the top, which stays out of chat unless masked.
    pub fn default_ceiling(&self) -> u8 {
        self.top().saturating_sub(1)
    }

    /// The label of a confidentiality rank in the given language (`ja` or `en`).
    pub fn label(&self, rank: u8, lang: &str) -> String {
        label_of(&self.confidentiality, rank, lang)
    }

    pub fn integrity_label(&self, rank: u8, lang: &str) -> String {
        label_of(&self.integrity, rank, lang)
    }

    pub fn availability_label(&self, rank: u8, lang: &str) -> String {
        label_of(&self.availability, rank, lang)
    }

    /// Reads a confidentiality rank given by a client.
    pub fn confidentiality_rank(&self, rank: i64) -> Result<u8, DomainError> {
        rank_in(&self.confidentiality, rank, "class", "機密性の区分")
    }

    pub fn integrity_rank(&self, rank: i64) -> Result<u8, DomainError> {
        rank_in(&self.integrity, rank, "integrity", "完全性の区分")
    }

    pub fn availability_rank(&self, rank: i64) -> Result<u8, DomainError> {
        rank_in(&self.availability, rank, "availability", "可用性の区分")
    }

    /// Whether `next` may replace this scheme once content carries classes: the ranks keep
    /// their meaning only when each scale keeps its number of levels.
    pub fn same_shape(&self, next: &Scheme) -> bool {
        self.confidentiality.len() == next.confidentiality.len()
            && self.integrity.len() == next.integrity.len()
            && self.availability.len() == next.availability.len()
    }
}

fn label_of(scale: &[Level], rank: u8, lang: &str) -> String {
    match scale.get(usize::from(rank)) {
        Some(l) if lang == "en" => l.label_en.clone(),
        Some(l) => l.label_ja.clone(),
        None => String::new(),
    }
}

fn rank_in(
    scale: &[Level],
    rank: i64,
    field: &'static str,
    label_ja: &'static str,
) -> Result<u8, DomainError> {
    match u8::try_from(rank) {
        Ok(r) if usize::from(r) < scale.len() => Ok(r),
        _ => Err(DomainError::invalid(
            field,
            label_ja,
            "団体の分類にない区分です。",
            "not a class of your body's scheme.",
        )),
    }
}

fn invalid_scheme() -> DomainError {
    DomainError::invalid(
        "scheme",
        "分類",
        format!("区分は2〜{MAX_LEVELS}段階で、名前は20文字以内、重複なく指定してください。"),
        format!("give 2 to {MAX_LEVELS} distinct levels of at most 20 characters."),
    )
}

/// Why a class was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassRefusal {
    /// The chosen (or kept) class is above the talk's ceiling.
    AboveCeiling { class: u8, ceiling: u8 },
    /// What the content holds implies a class above the ceiling: masking lifts it.
    ContentAboveCeiling { implied: u8, ceiling: u8 },
}

/// The class a new message gets: the chosen class (or the talk's default) raised to what its
/// content implies, refused when either is above the talk's ceiling.
pub fn message_class(
    ceiling: u8,
    default: u8,
    chosen: Option<u8>,
    implied: u8,
) -> Result<u8, ClassRefusal> {
    let chosen = chosen.unwrap_or(default);
    if chosen > ceiling {
        return Err(ClassRefusal::AboveCeiling {
            class: chosen,
            ceiling,
        });
    }
    if implied > ceiling {
        return Err(ClassRefusal::ContentAboveCeiling { implied, ceiling });
    }
    Ok(chosen.max(implied))
}

/// A forward or copy keeps its class (seed 004 2(2)①(イ), ③(ア)); it may only go where the
/// ceiling allows it.
pub fn forward_class(class: u8, target_ceiling: u8) -> Result<u8, ClassRefusal> {
    if class > target_ceiling {
        return Err(ClassRefusal::AboveCeiling {
            class,
            ceiling: target_ceiling,
        });
    }
    Ok(class)
}

/// A talk's classification holds together: its default class is not above its ceiling, and
/// the ceiling never drops below the highest class the talk already holds.
pub fn talk_class(ceiling: u8, default: u8, max_class: u8) -> Result<(), DomainError> {
    if default > ceiling {
        return Err(DomainError::invalid(
            "default_class",
            "既定の区分",
            "既定の区分は上限以下にしてください。",
            "the default class must not be above the ceiling.",
        ));
    }
    if ceiling < max_class {
        return Err(DomainError::invalid(
            "ceiling",
            "上限",
            "このトークにはすでにそれより上の区分の内容があるため、上限を下げられません。",
            "the talk already holds content above that class, so its ceiling cannot go lower.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_004_scheme_orders_class_3_below_class_1_and_keeps_the_top_out_of_chat() {
        let s = Scheme::seed004();
        assert_eq!(s.label(0, "ja"), "機密性 第3種");
        assert_eq!(s.label(s.top(), "ja"), "機密性 第1種");
        assert_eq!(s.label(s.default_ceiling(), "ja"), "機密性 第2種");
        assert_eq!(s.integrity.len(), 4);
        assert_eq!(s.availability_label(3, "en"), "Availability class 1");
    }

    #[test]
    fn the_seed_003_scheme_calls_its_top_class_confidentiality_3() {
        let s = Scheme::seed003();
        assert_eq!(s.label(s.top(), "ja"), "機密性3");
        assert_eq!(s.label(0, "en"), "Confidentiality 1");
        assert!(s.validate().is_ok());
        assert!(Scheme::seed004().validate().is_ok());
    }

    #[test]
    fn a_custom_scale_needs_two_to_six_distinct_levels() {
        let s = Scheme::custom("公開:Public, 庁内限り:Internal, 秘:Secret").unwrap();
        assert_eq!(s.top(), 2);
        assert_eq!(s.label(1, "en"), "Internal");
        assert!(Scheme::custom("公開").is_err());
        assert!(Scheme::custom("公開,公開").is_err());
        assert!(Scheme::custom("a,b,c,d,e,f,g").is_err());
        assert!(Scheme::custom("公開,").is_err());
    }

    #[test]
    fn a_message_takes_the_default_raised_to_what_its_content_implies() {
        assert_eq!(message_class(1, 0, None, 0), Ok(0));
        assert_eq!(message_class(1, 0, None, 1), Ok(1));
        assert_eq!(message_class(1, 0, Some(1), 0), Ok(1));
        assert_eq!(message_class(2, 1, None, 0), Ok(1));
    }

    #[test]
    fn nothing_above_the_ceiling_is_posted() {
        assert_eq!(
            message_class(1, 0, Some(2), 0),
            Err(ClassRefusal::AboveCeiling {
                class: 2,
                ceiling: 1
            })
        );
        assert_eq!(
            message_class(1, 0, None, 2),
            Err(ClassRefusal::ContentAboveCeiling {
                implied: 2,
                ceiling: 1
            })
        );
    }

    #[test]
    fn a_forward_keeps_its_class_and_goes_only_under_a_high_enough_ceiling() {
        assert_eq!(forward_class(1, 2), Ok(1));
        assert_eq!(forward_class(1, 1), Ok(1));
        assert!(forward_class(2, 1).is_err());
    }

    #[test]
    fn a_ceiling_cannot_drop_below_what_the_talk_holds_nor_below_its_default() {
        assert!(talk_class(1, 0, 1).is_ok());
        let field = |r: Result<(), DomainError>| match r {
            Err(DomainError::InvalidField { field, .. }) => field,
            _ => "",
        };
        assert_eq!(field(talk_class(0, 0, 1)), "ceiling");
        assert_eq!(field(talk_class(0, 1, 0)), "default_class");
    }

    #[test]
    fn ranks_from_clients_are_checked_against_the_scale() {
        let s = Scheme::seed004();
        assert_eq!(s.confidentiality_rank(2), Ok(2));
        assert!(s.confidentiality_rank(3).is_err());
        assert!(s.confidentiality_rank(-1).is_err());
        assert!(s.integrity_rank(3).is_ok());
        assert!(Scheme::custom("a,b").unwrap().integrity_rank(0).is_err());
    }

    #[test]
    fn relabelling_keeps_the_shape_but_a_new_number_of_levels_does_not() {
        let a = Scheme::seed004();
        let mut b = Scheme::seed004();
        b.confidentiality[0].label_ja = "公開".into();
        assert!(a.same_shape(&b));
        assert!(!a.same_shape(&Scheme::seed003()));
    }
}
