//! `kairan-dlp` detects Japanese personal and confidential data (My Number, phone
//! numbers, addresses, birth dates, confidentiality stamps …) in business text and
//! masks it.
//!
//! The crate is pure: text in, [`Finding`]s out, no I/O. Uploaded documents (text, CSV,
//! `.docx`, `.xlsx`, `.pptx`, PDF) are turned into text first by [`extract()`], which is
//! equally pure: bytes in, text out. Matching runs on a normalized
//! copy of the text (full-width digits and letters, dashes, ideographic spaces folded)
//! while every finding carries byte offsets into the caller's original string.
//!
//! ```
//! use kairan_dlp::{mask, Kind, ScanConfig, Scanner};
//!
//! let scanner = Scanner::new(&ScanConfig::default());
//! let text = "申請者の個人番号は1234-5678-9018、携帯は090-1234-5678です。";
//! let findings = scanner.scan(text);
//! let kinds: Vec<Kind> = findings.iter().map(|f| f.kind).collect();
//! assert_eq!(kinds, [Kind::MyNumber, Kind::PhoneNumber]);
//! assert_eq!(
//!     mask(text, &findings),
//!     "申請者の個人番号は****-****-9018、携帯は090-****-5678です。"
//! );
//! ```

mod checksum;
mod context;
mod detect;
pub mod extract;
mod kind;
mod mask;
mod normalize;

use serde::{Deserialize, Serialize};

pub use checksum::{
    corporate_check_digit, corporate_number_valid, luhn_valid, my_number_check_digit,
    my_number_valid,
};
pub use extract::{DocKind, ExtractError, Extracted, Limits, extract, zip_entry_names};
pub use kind::Kind;
pub use mask::{mask, mask_span};

/// One detected span of sensitive data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// What was found; serialized as [`Kind::code`].
    pub kind: Kind,
    /// Byte offset of the first byte in the original text (a char boundary).
    pub start: usize,
    /// Byte offset one past the last byte in the original text (a char boundary).
    pub end: usize,
    /// Confidence in 0..=1; context words and check digits raise it.
    pub score: f32,
    /// True when a context word (個人番号, 電話, 生年月日 …) was found nearby.
    pub context: bool,
}

impl Finding {
    /// The matched slice of the original text, or `""` if the offsets do not fit it.
    pub fn text<'a>(&self, input: &'a str) -> &'a str {
        input.get(self.start..self.end).unwrap_or("")
    }
}

/// Keywords reported as [`Kind::Keyword`] unless configured otherwise.
pub const DEFAULT_KEYWORDS: [&str; 8] = [
    "秘",
    "極秘",
    "取扱注意",
    "部外秘",
    "関係者限り",
    "社外秘",
    "厳秘",
    "機密",
];

/// Scanner settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScanConfig {
    /// Confidentiality keywords. A one-character keyword (秘) only matches when it is
    /// not part of a longer word, so 秘書 and 黙秘 do not match; no keyword matches as the
    /// name of a property (機密性).
    pub keywords: Vec<String>,
    /// How many characters before a candidate are searched for context words (half as
    /// many after it).
    pub context_window: usize,
    /// Kinds to report; others are skipped.
    pub kinds: Vec<Kind>,
    /// Findings scoring below this are dropped.
    pub min_score: f32,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            keywords: DEFAULT_KEYWORDS.iter().map(|k| k.to_string()).collect(),
            context_window: 30,
            kinds: Kind::ALL.to_vec(),
            min_score: 0.0,
        }
    }
}

/// A configured, reusable, thread-safe detector.
#[derive(Debug, Clone)]
pub struct Scanner {
    /// Normalized keywords, longest first so 極秘 wins over 秘.
    keywords: Vec<Vec<char>>,
    /// Bitmap over the low 12 bits of each keyword's first char: a pre-filter that lets
    /// the hot loop skip almost every char with one load.
    kw_filter: [u64; 64],
    window: usize,
    enabled: [bool; 15],
    min_score: f32,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner::new(&ScanConfig::default())
    }
}

impl Scanner {
    /// Builds a scanner from `config`.
    pub fn new(config: &ScanConfig) -> Scanner {
        let mut keywords: Vec<Vec<char>> = config
            .keywords
            .iter()
            .map(|k| {
                k.trim()
                    .chars()
                    .map(normalize::map_char)
                    .collect::<Vec<_>>()
            })
            .filter(|k| !k.is_empty())
            .collect();
        keywords.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        keywords.dedup();
        let mut kw_filter = [0u64; 64];
        for k in &keywords {
            if let Some(&f) = k.first() {
                let b = f as usize & 0xFFF;
                kw_filter[b >> 6] |= 1 << (b & 63);
            }
        }
        let mut enabled = [false; 15];
        for k in &config.kinds {
            enabled[k.index()] = true;
        }
        Scanner {
            keywords,
            kw_filter,
            window: config.context_window,
            enabled,
            min_score: config.min_score,
        }
    }

    #[inline]
    pub(crate) fn may_start_keyword(&self, c: char) -> bool {
        let b = c as usize & 0xFFF;
        self.kw_filter[b >> 6] & (1 << (b & 63)) != 0
    }

    /// Scans `text` and returns non-overlapping findings sorted by start offset.
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        if text.is_empty() {
            return Vec::new();
        }
        let n = normalize::normalize(text);
        let mut engine = detect::Engine::new(&n.chars, &n.offsets, self);
        engine.run();
        detect::resolve_overlaps(engine.out)
    }
}
