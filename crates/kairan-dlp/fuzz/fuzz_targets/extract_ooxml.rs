//! cargo-fuzz target: arbitrary bytes read as .docx / .xlsx / .pptx (and listed as a zip)
//! must never panic, and text cut at a small limit must be a prefix of the whole text.

#![no_main]

mod prefix;

use kairan_dlp::{DocKind, Limits, zip_entry_names};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small limits so that the fuzzer reaches them; the text limit is exercised by the
    // 64-byte cut.
    let limits = Limits {
        max_text_bytes: 1 << 20,
        max_inflated_bytes: 1 << 20,
        max_entries: 64,
        max_ratio: 100,
    };
    for kind in [DocKind::Docx, DocKind::Xlsx, DocKind::Pptx] {
        prefix::check(kind, data, &limits, 64);
    }
    if let Ok(names) = zip_entry_names(data, &limits) {
        assert!(names.len() <= limits.max_entries);
    }
});
