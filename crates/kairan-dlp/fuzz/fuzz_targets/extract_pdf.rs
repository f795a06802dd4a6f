//! cargo-fuzz target: arbitrary bytes read as PDF (and as text and CSV) must never panic
//! or hang, and text cut at a small limit must be a prefix of the whole text.

#![no_main]

mod prefix;

use kairan_dlp::{DocKind, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small limits so that the fuzzer reaches them; the text limit is exercised by the
    // 64-byte cut.
    let limits = Limits {
        max_text_bytes: 1 << 20,
        max_inflated_bytes: 1 << 20,
        max_entries: 256,
        max_ratio: 100,
    };
    for kind in [DocKind::Pdf, DocKind::Text, DocKind::Csv] {
        prefix::check(kind, data, &limits, 64);
    }
});
