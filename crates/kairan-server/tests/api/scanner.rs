//! The ClamAV client (G9) against a real, private `clamd` started for each test with its own
//! signature for the EICAR test string (this machine cannot download ClamAV's databases).

use crate::helpers::{Clamd, EICAR};
use kairan_server::scanner::{Endpoint, ScanError, Scanner, Verdict};
use std::time::Duration;

#[tokio::test]
async fn the_eicar_string_is_found_anywhere_and_ordinary_files_are_clean() {
    let clamd = Clamd::start("4M").await;
    let s = clamd.scanner(Duration::from_secs(5));
    match s.scan(EICAR.as_bytes()).await.unwrap() {
        Verdict::Infected(name) => assert_eq!(name, "Kairan.Test.EICAR.UNOFFICIAL"),
        Verdict::Clean => panic!("EICAR passed as clean"),
    }
    // Deep inside a larger file, across chunk boundaries.
    let mut big = "住民票の写しの交付申請について\n"
        .repeat(20_000)
        .into_bytes();
    let at = 64 * 1024 - 10;
    big.splice(at..at, EICAR.bytes());
    assert!(matches!(s.scan(&big).await.unwrap(), Verdict::Infected(_)));
    // Ordinary content, including an empty file.
    let ordinary = "令和8年度 窓口当番表\n月曜: 佐藤\n火曜: 鈴木\n".repeat(1_000);
    assert_eq!(s.scan(ordinary.as_bytes()).await.unwrap(), Verdict::Clean);
    assert_eq!(s.scan(b"").await.unwrap(), Verdict::Clean);
}

#[tokio::test]
async fn a_stream_over_the_limit_is_not_called_clean() {
    let clamd = Clamd::start("1M").await;
    let s = clamd.scanner(Duration::from_secs(5));
    let big = vec![b'a'; 3 * 1024 * 1024];
    assert_eq!(s.scan(&big).await, Err(ScanError::TooLarge));
    // The scanner is still there for the next file.
    assert_eq!(s.scan(b"ok").await.unwrap(), Verdict::Clean);
}

#[tokio::test]
async fn no_scanner_or_a_silent_one_is_an_error_never_clean() {
    let gone = Scanner::new(
        Endpoint::Unix(std::env::temp_dir().join("kairan-no-such-clamd.sock")),
        Duration::from_secs(2),
    );
    assert!(matches!(
        gone.scan(b"x").await,
        Err(ScanError::Unavailable(_))
    ));
    // Something that accepts and never answers: the timeout decides.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut kept = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            kept.push(sock);
        }
    });
    let s = Scanner::new(Endpoint::Tcp(addr.to_string()), Duration::from_millis(300));
    let started = std::time::Instant::now();
    assert!(matches!(s.scan(b"x").await, Err(ScanError::Unavailable(_))));
    // It waited for the timeout, and no longer.
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    hold.abort();
}
