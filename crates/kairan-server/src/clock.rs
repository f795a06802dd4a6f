//! The server's "now" for the rules that follow the calendar: guest periods, fiscal years,
//! reminders. Real time, plus an offset that only code can set, so a test can apply on
//! 20 March and watch a guest locked out at 00:00 JST on 1 April without waiting for it.
//! Sessions, tokens and the audit log keep real time.

use kairan_domain::fiscal::Date;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Debug, Default)]
pub struct Clock {
    offset_us: AtomicI64,
}

impl Clock {
    pub fn now_us(&self) -> i64 {
        kairan_store::now_us() + self.offset_us.load(Ordering::Relaxed)
    }

    /// Today in Japan.
    pub fn today(&self) -> Date {
        Date::from_utc_us(self.now_us())
    }

    /// Moves "now" to `at_us` (µs since the epoch); time goes on from there.
    pub fn set(&self, at_us: i64) {
        self.offset_us
            .store(at_us - kairan_store::now_us(), Ordering::Relaxed);
    }
}
