//! cargo-fuzz target: arbitrary bytes read as PDF (and as text and CSV) must never panic
//! or hang, and any text must respect the limits.

#![no_main]

use kairan_dlp::{DocKind, Limits, extract};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_text_bytes: 4096,
        max_inflated_bytes: 1 << 20,
        max_entries: 256,
        max_ratio: 100,
    };
    for kind in [DocKind::Pdf, DocKind::Text, DocKind::Csv] {
        if let Ok(out) = extract(kind, data, &limits) {
            assert!(out.text.len() <= limits.max_text_bytes);
        }
    }
});
