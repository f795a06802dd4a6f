//! The property both extraction targets check: cutting the text short only cuts it.

use kairan_dlp::{DocKind, Limits, extract};

/// Extracts `data` as `kind` under `limits` and again with at most `small` bytes of text.
/// Neither may panic, and when both succeed the cut text is a prefix of the whole, the
/// rest being layout (newlines, tabs, spaces) only unless the cut one is marked truncated.
pub fn check(kind: DocKind, data: &[u8], limits: &Limits, small: usize) {
    let whole = extract(kind, data, limits);
    let cut_limits = Limits {
        max_text_bytes: small,
        ..limits.clone()
    };
    if let (Ok(whole), Ok(cut)) = (whole, extract(kind, data, &cut_limits)) {
        match whole.text.strip_prefix(cut.text.as_str()) {
            Some(rest) => assert!(
                cut.truncated || rest.chars().all(|c| matches!(c, '\n' | '\t' | ' ')),
                "{kind:?}: {:?} not marked truncated before {rest:?}",
                cut.text
            ),
            None => panic!(
                "{kind:?}: {:?} is not a prefix of {:?}",
                cut.text, whole.text
            ),
        }
    }
}
