//! `kairan dlp scan`: the personal-data detector from the console, for operators checking a
//! file before it is shared and for scripts. Prints findings (kind, byte offsets, score), never
//! the matched values, so the output itself can be kept in a ticket.

use anyhow::{Context, Result, bail};
use clap::Args;
use kairan_dlp::{ScanConfig, Scanner, mask};
use std::io::Read;
use std::path::PathBuf;

#[derive(Args)]
pub struct ScanArgs {
    /// Files to scan (txt, csv in UTF-8). Reads standard input when none is given.
    files: Vec<PathBuf>,
    /// Print the text with every finding masked instead of the findings.
    #[arg(long)]
    mask: bool,
}

fn read_text(bytes: Vec<u8>, name: &str) -> Result<String> {
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .map(<[u8]>::to_vec)
        .unwrap_or(bytes);
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        // Shift_JIS documents arrive with the files work; say so rather than guess.
        Err(_) => bail!("{name}: not UTF-8 text (Shift_JIS and documents are not supported yet)"),
    }
}

pub fn scan(args: ScanArgs) -> Result<()> {
    let scanner = Scanner::new(&ScanConfig::default());
    let mut inputs = Vec::new();
    if args.files.is_empty() {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        inputs.push(("-".to_owned(), read_text(buf, "standard input")?));
    } else {
        for f in &args.files {
            let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
            inputs.push((
                f.display().to_string(),
                read_text(bytes, &f.display().to_string())?,
            ));
        }
    }
    if args.mask {
        for (_, text) in &inputs {
            print!("{}", mask(text, &scanner.scan(text)));
        }
        return Ok(());
    }
    if inputs.len() == 1 {
        let findings = scanner.scan(&inputs[0].1);
        println!("{}", serde_json::json!({ "findings": findings }));
    } else {
        let files: Vec<_> = inputs
            .iter()
            .map(|(name, text)| serde_json::json!({ "file": name, "findings": scanner.scan(text) }))
            .collect();
        println!("{}", serde_json::json!({ "files": files }));
    }
    Ok(())
}
