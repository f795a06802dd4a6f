//! `kairan bench files`: uploads through a running server (issue 9's figures). For each size
//! it uploads a file N times with the malware scan and the text check in the path, and reports
//! the median time to a stored, clean file (the 201 answer comes after clamd and DLP), the
//! throughput, and the server's memory before and at its peak. Prints one JSON line per size.

use crate::bench_chat::{Shape, current_rss_kib, pct, rss_kib, setup};
use anyhow::{Context, Result, bail};
use clap::Args;
use kairan_server::config::Config;
use std::time::Instant;

#[derive(Args)]
pub struct FilesArgs {
    /// The running server, e.g. http://127.0.0.1:8080
    #[arg(long)]
    url: String,
    /// File sizes in MiB, comma-separated.
    #[arg(long, default_value = "1,20,100", value_delimiter = ',')]
    sizes: Vec<u64>,
    /// Uploads per size.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// `png` (scanned by clamd, no text to check) or `txt` (scanned, then read by DLP up to
    /// its 16 MiB text limit).
    #[arg(long, default_value = "png", value_parser = ["png", "txt"])]
    kind: String,
    /// Server process ID, to report its memory.
    #[arg(long)]
    server_pid: Option<u32>,
}

/// A file of `mib` MiB that the server accepts as `kind`. Every file differs (a seed from the
/// clock and the round): clamd caches the hashes of clean content, and a repeated file would
/// measure its cache, not a scan.
fn content(kind: &str, mib: u64, round: usize) -> Vec<u8> {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let len = usize::try_from(mib * 1024 * 1024).unwrap_or(usize::MAX);
    let mut v = Vec::with_capacity(len);
    if kind == "png" {
        v.extend_from_slice(b"\x89PNG\r\n\x1a\n");
        let mut x = (0x9E37_79B9_7F4A_7C15u64 ^ seed ^ round as u64) | 1;
        while v.len() < len {
            // xorshift: incompressible, like photo data.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.extend_from_slice(&x.to_le_bytes());
        }
    } else {
        v.extend_from_slice(format!("第{round}版 {seed:x}\n").as_bytes());
        let line =
            "令和8年度 窓口業務の改善計画。担当課と期日を定め、毎月の会議で進捗を確認する。\n";
        while v.len() < len {
            v.extend_from_slice(line.as_bytes());
        }
    }
    v.truncate(len);
    v
}

pub async fn run(config: Config, a: FilesArgs) -> Result<()> {
    let s = setup(
        config,
        &Shape {
            clients: 1,
            devices: 1,
            talks: 1,
            members: 2,
        },
    )
    .await?;
    let user = &s.users[0];
    let talk = &s.talks[0].0;
    let http = reqwest::Client::new();
    for &mib in &a.sizes {
        let before = a.server_pid.and_then(current_rss_kib);
        let mut times = Vec::with_capacity(a.rounds);
        for round in 0..a.rounds {
            let body = content(&a.kind, mib, round);
            let started = Instant::now();
            let r = http
                .post(format!("{}/api/v1/talks/{talk}/files", a.url))
                .query(&[("name", format!("bench-{mib}-{round}.{}", a.kind))])
                .header("cookie", &user.cookie)
                .header("x-csrf-token", &user.csrf)
                .body(body)
                .send()
                .await
                .context("upload")?;
            let status = r.status();
            let answer = r.text().await.unwrap_or_default();
            if status.as_u16() != 201 {
                bail!("upload of {mib} MiB answered {status}: {answer}");
            }
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        let median_ms = pct(&mut times, 0.5);
        println!(
            "{}",
            serde_json::json!({
                "size_mib": mib,
                "kind": a.kind,
                "rounds": a.rounds,
                "median_ms_to_clean": (median_ms * 10.0).round() / 10.0,
                "max_ms": (pct(&mut times, 1.0) * 10.0).round() / 10.0,
                "mb_per_s": ((mib as f64 * 1.048_576) / (median_ms / 1000.0) * 10.0).round() / 10.0,
                "server_rss_before_kib": before,
                "server_rss_peak_kib": a.server_pid.and_then(rss_kib),
            })
        );
    }
    Ok(())
}
