//! What hostile documents cost in memory, counted by the allocator rather than timed: a
//! limit that holds only after the memory is spent is no limit. One test, run in its own
//! binary, so no other test's allocations are counted.

// Test code may panic on a broken precondition: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use kairan_dlp::{DocKind, ExtractError, Limits, extract};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use support::*;

/// The system allocator, counting bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is the system allocator's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most memory `f` held at once beyond what was in use when it started, in MiB.
fn peak_mib<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = IN_USE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, (PEAK.load(Ordering::Relaxed) - base) >> 20)
}

#[test]
fn hostile_documents_are_refused_before_their_memory_is_spent() {
    // A docx whose 50 KB part inflates to 50 MiB while its header claims 1 KB: the ratio
    // stops it after about compressed × 200.
    let liar = bomb_docx(&zeros_deflated(), 1000);
    let (r, mib) = peak_mib(|| extract(DocKind::Docx, &liar, &Limits::default()));
    assert_eq!(r, Err(ExtractError::Bomb));
    assert!(mib < 32, "a zip bomb held {mib} MiB");

    // One page listing a 1 MB stream 300 times: 300 MB if joined before the check. The page
    // may take 16 × the file size + 16 MiB of content (32 MiB here), in a buffer that grows
    // by doubling, so up to about 96 MiB is held at the moment of refusal.
    let pdf = repeated_contents_pdf(300);
    let (r, mib) = peak_mib(|| extract(DocKind::Pdf, &pdf, &Limits::default()));
    assert_eq!(r, Err(ExtractError::Bomb));
    assert!(mib < 128, "repeated page content held {mib} MiB");
}
