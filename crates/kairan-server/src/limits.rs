//! How fast one user may send (issue 5: a flood from one client gets a clear error and never
//! takes the server or another connection down). A token bucket per user on this node, shared
//! by every device and by the HTTP API and the live connection alike: a person typing never
//! meets it, a script stuck in a loop does at once.
//!
//! The buckets live on the node, so with N nodes a user could send up to N times the rate;
//! that still bounds a runaway client, which is what the limit is for.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct SendLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<Buckets>,
}

#[derive(Default)]
struct Buckets {
    map: HashMap<String, Bucket>,
    checks: u64,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl SendLimiter {
    pub fn new(per_second: u32, burst: u32) -> SendLimiter {
        SendLimiter {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::default(),
        }
    }

    /// Takes one send from the user's bucket, or says how long until one is free.
    pub fn take(&self, user_id: &str) -> Result<(), Duration> {
        self.take_at(user_id, Instant::now())
    }

    fn take_at(&self, user_id: &str, now: Instant) -> Result<(), Duration> {
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        b.checks += 1;
        if b.checks.is_multiple_of(4096) {
            // A bucket that has refilled is the same as no bucket: forget it, so the map holds
            // only users who sent in the last few seconds.
            let full_after = Duration::from_secs_f64(self.burst / self.per_second);
            b.map.retain(|_, v| now.duration_since(v.at) < full_after);
        }
        let bucket = b.map.entry(user_id.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.per_second,
            ))
        }
    }
}

/// The handlers' gate before a send (HTTP or live connection): a refusal says when to retry.
pub fn throttle(
    state: &crate::state::AppState,
    user_id: &str,
) -> Result<(), crate::error::AppError> {
    state
        .send_limiter
        .take(user_id)
        .map_err(|wait| crate::error::AppError::RateLimited {
            retry_after_s: wait.as_secs_f64().ceil().max(1.0) as u64,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_holds_and_users_are_apart() {
        let l = SendLimiter::new(10, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.take_at("a", t0).is_ok());
        }
        let wait = l.take_at("a", t0).unwrap_err();
        assert!(wait > Duration::from_millis(90) && wait <= Duration::from_millis(100));
        // Someone else is not held up by "a".
        assert!(l.take_at("b", t0).is_ok());
        // After 100 ms one more send is free, and only one.
        let t1 = t0 + Duration::from_millis(100);
        assert!(l.take_at("a", t1).is_ok());
        assert!(l.take_at("a", t1).is_err());
        // A long pause refills to the burst, not beyond.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(l.take_at("a", t2).is_ok());
        }
        assert!(l.take_at("a", t2).is_err());
    }
}
