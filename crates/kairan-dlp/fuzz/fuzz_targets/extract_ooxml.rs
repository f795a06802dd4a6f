//! cargo-fuzz target: arbitrary bytes read as .docx / .xlsx / .pptx (and listed as a zip)
//! must never panic, and any text must respect the limits.

#![no_main]

use kairan_dlp::{DocKind, Limits, extract, zip_entry_names};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small limits so that the fuzzer reaches them.
    let limits = Limits {
        max_text_bytes: 4096,
        max_inflated_bytes: 1 << 20,
        max_entries: 64,
        max_ratio: 100,
    };
    for kind in [DocKind::Docx, DocKind::Xlsx, DocKind::Pptx] {
        if let Ok(out) = extract(kind, data, &limits) {
            assert!(out.text.len() <= limits.max_text_bytes);
        }
    }
    if let Ok(names) = zip_entry_names(data, &limits) {
        assert!(names.len() <= limits.max_entries);
    }
});
