//! Malware scanning through ClamAV's `clamd` (G9, seed 004 5.5), over its INSTREAM protocol:
//! the bytes are streamed in length-prefixed chunks and clamd answers `stream: OK` or
//! `stream: NAME FOUND`. Nothing is written to disk for the scan and clamd needs no access to
//! our files.
//!
//! Every failure to get a clear answer (clamd down, slow, or saying something unexpected) is an
//! error, never "clean": the caller decides to fail closed. The upload path (issue 9) builds on
//! this; it is here first so that its harness (a private clamd with a test signature) is proven.

use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Where clamd listens: `unix:/run/clamav/clamd.ctl` or `tcp:127.0.0.1:3310`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp(String),
}

impl Endpoint {
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("unix: needs a socket path".into());
            }
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        if let Some(addr) = s.strip_prefix("tcp:") {
            if !addr.contains(':') {
                return Err("tcp: needs host:port".into());
            }
            return Ok(Endpoint::Tcp(addr.to_owned()));
        }
        Err("must start with unix: or tcp:".into())
    }
}

/// clamd's answer about one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// The signature that matched, as clamd names it.
    Infected(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScanError {
    /// No answer: clamd is not running, refused the connection, or did not answer in time.
    #[error("the malware scanner is unavailable: {0}")]
    Unavailable(String),
    /// Larger than clamd's `StreamMaxLength`: it cannot vouch for the file.
    #[error("the file is larger than the scanner accepts")]
    TooLarge,
    /// An answer we do not understand; treated like no answer.
    #[error("unexpected answer from the scanner: {0}")]
    Protocol(String),
}

/// Bytes per INSTREAM chunk.
const CHUNK: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct Scanner {
    endpoint: Endpoint,
    timeout: Duration,
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

impl Scanner {
    /// `timeout` bounds the whole exchange, connection included.
    pub fn new(endpoint: Endpoint, timeout: Duration) -> Scanner {
        Scanner { endpoint, timeout }
    }

    async fn connect(&self) -> Result<Box<dyn Stream>, ScanError> {
        let unavailable = |e: std::io::Error| ScanError::Unavailable(e.to_string());
        Ok(match &self.endpoint {
            Endpoint::Unix(path) => Box::new(
                tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(unavailable)?,
            ),
            Endpoint::Tcp(addr) => Box::new(
                tokio::net::TcpStream::connect(addr)
                    .await
                    .map_err(unavailable)?,
            ),
        })
    }

    async fn exchange(
        &self,
        command: &[u8],
        data: Option<&mut (dyn AsyncRead + Unpin + Send)>,
    ) -> Result<String, ScanError> {
        let io = |e: std::io::Error| ScanError::Unavailable(e.to_string());
        let work = async {
            let s = self.connect().await?;
            let (mut rx, mut tx) = tokio::io::split(s);
            // Read while writing: clamd answers and closes as soon as a stream passes its
            // size limit, and an answer left unread when the connection resets is lost.
            let send = async {
                tx.write_all(command).await?;
                if let Some(data) = data {
                    // One chunk in memory at a time, whatever the size of the file.
                    let mut chunk = vec![0u8; CHUNK];
                    loop {
                        let n = data.read(&mut chunk).await?;
                        if n == 0 {
                            break;
                        }
                        // Lengths are 32-bit big-endian; a chunk is at most CHUNK bytes.
                        let len = u32::try_from(n).unwrap_or(u32::MAX);
                        tx.write_all(&len.to_be_bytes()).await?;
                        tx.write_all(&chunk[..n]).await?;
                    }
                    tx.write_all(&0u32.to_be_bytes()).await?;
                }
                tx.flush().await
            };
            let receive = async {
                let mut reply = Vec::new();
                let read = rx.read_to_end(&mut reply).await;
                (reply, read)
            };
            let (sent, (reply, read)) = tokio::join!(send, receive);
            if !reply.is_empty() {
                return Ok(String::from_utf8_lossy(&reply).into_owned());
            }
            sent.map_err(io)?;
            read.map_err(io)?;
            Ok::<String, ScanError>(String::new())
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| ScanError::Unavailable(format!("no answer within {:?}", self.timeout)))?
    }

    /// Scans bytes held in memory.
    pub async fn scan(&self, mut data: &[u8]) -> Result<Verdict, ScanError> {
        parse_reply(&self.exchange(b"zINSTREAM\0", Some(&mut data)).await?)
    }

    /// Scans a file, streamed to clamd a chunk at a time.
    pub async fn scan_file(&self, path: &std::path::Path) -> Result<Verdict, ScanError> {
        let mut f = tokio::fs::File::open(path)
            .await
            .map_err(|e| ScanError::Unavailable(format!("cannot read the upload: {e}")))?;
        parse_reply(&self.exchange(b"zINSTREAM\0", Some(&mut f)).await?)
    }

    /// Whether clamd answers at all (for readiness checks).
    pub async fn ping(&self) -> Result<(), ScanError> {
        let reply = self.exchange(b"zPING\0", None).await?;
        match reply.trim_end_matches('\0').trim() {
            "PONG" => Ok(()),
            other => Err(ScanError::Protocol(other.to_owned())),
        }
    }
}

/// Reads clamd's answer to INSTREAM (`z` commands end it with a NUL).
pub fn parse_reply(reply: &str) -> Result<Verdict, ScanError> {
    let reply = reply.trim_end_matches('\0').trim();
    if reply == "stream: OK" {
        return Ok(Verdict::Clean);
    }
    if let Some(name) = reply
        .strip_prefix("stream: ")
        .and_then(|r| r.strip_suffix(" FOUND"))
        .filter(|n| !n.is_empty())
    {
        return Ok(Verdict::Infected(name.to_owned()));
    }
    if reply.contains("size limit exceeded") {
        return Err(ScanError::TooLarge);
    }
    if reply.is_empty() {
        return Err(ScanError::Unavailable(
            "the scanner closed without answering".into(),
        ));
    }
    Err(ScanError::Protocol(reply.chars().take(200).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_strictly() {
        assert_eq!(parse_reply("stream: OK\0"), Ok(Verdict::Clean));
        assert_eq!(
            parse_reply("stream: Eicar-Test-Signature.UNOFFICIAL FOUND\0"),
            Ok(Verdict::Infected("Eicar-Test-Signature.UNOFFICIAL".into()))
        );
        assert_eq!(
            parse_reply("INSTREAM size limit exceeded. ERROR\0"),
            Err(ScanError::TooLarge)
        );
        assert!(matches!(parse_reply(""), Err(ScanError::Unavailable(_))));
        // Anything else is not "clean".
        assert!(matches!(
            parse_reply("stream: OK FOUND\0"),
            Ok(Verdict::Infected(_))
        ));
        assert!(matches!(
            parse_reply("stream:  FOUND"),
            Err(ScanError::Protocol(_))
        ));
        assert!(matches!(
            parse_reply("UNKNOWN COMMAND"),
            Err(ScanError::Protocol(_))
        ));
    }

    #[test]
    fn endpoints_name_their_kind() {
        assert_eq!(
            Endpoint::parse("unix:/run/clamav/clamd.ctl"),
            Ok(Endpoint::Unix("/run/clamav/clamd.ctl".into()))
        );
        assert_eq!(
            Endpoint::parse("tcp:127.0.0.1:3310"),
            Ok(Endpoint::Tcp("127.0.0.1:3310".into()))
        );
        assert!(Endpoint::parse("127.0.0.1:3310").is_err());
        assert!(Endpoint::parse("unix:").is_err());
        assert!(Endpoint::parse("tcp:localhost").is_err());
    }
}
