//! Prometheus metrics (O4): request counts by route and status, and a latency histogram.
//! Routes are the matched patterns (`/api/v1/users/{user}`), never raw paths, so no ID or
//! personal value reaches the metrics.

use std::collections::BTreeMap;
use std::sync::Mutex;

const BUCKETS_MS: [f64; 10] = [1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0];

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    buckets: [u64; BUCKETS_MS.len()],
    count: u64,
    sum_ms: f64,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, ms: f64) {
        let Ok(mut m) = self.inner.lock() else { return };
        *m.requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            if ms <= *b {
                m.buckets[i] += 1;
            }
        }
        m.count += 1;
        m.sum_ms += ms;
    }

    pub fn render(&self) -> String {
        let Ok(m) = self.inner.lock() else {
            return String::new();
        };
        let mut out = String::from(
            "# HELP kairan_http_requests_total HTTP requests by method, route and status.\n# TYPE kairan_http_requests_total counter\n",
        );
        for ((method, route, status), n) in &m.requests {
            out.push_str(&format!(
                "kairan_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}\n"
            ));
        }
        out.push_str("# HELP kairan_http_request_duration_seconds Request latency.\n# TYPE kairan_http_request_duration_seconds histogram\n");
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            out.push_str(&format!(
                "kairan_http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n",
                b / 1000.0,
                m.buckets[i]
            ));
        }
        out.push_str(&format!(
            "kairan_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\nkairan_http_request_duration_seconds_sum {}\nkairan_http_request_duration_seconds_count {}\n",
            m.count,
            m.sum_ms / 1000.0,
            m.count
        ));
        out
    }
}
