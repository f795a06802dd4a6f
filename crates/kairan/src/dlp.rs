//! `kairan dlp scan`: the personal-data detector from the console, for operators checking a
//! file (text, CSV, Word, Excel, PowerPoint or PDF) before it is shared and for scripts. Prints findings (kind, byte offsets, score), never
//! the matched values, so the output itself can be kept in a ticket.

use anyhow::{Context, Result};
use clap::Args;
use kairan_dlp::{ScanConfig, Scanner, mask};
use std::io::Read;
use std::path::PathBuf;

#[derive(Args)]
pub struct ScanArgs {
    /// Files to scan: txt and csv (UTF-8, UTF-16 with BOM, or CP932), docx, xlsx, pptx and
    /// pdf; the type comes from the name's extension. Reads text from standard input when no
    /// file is given.
    files: Vec<PathBuf>,
    /// Print the (extracted) text with every finding masked instead of the findings.
    #[arg(long)]
    mask: bool,
}

/// The text of one input, read the way uploads are read; `true` when it was cut at the
/// extraction limit.
fn read_text(bytes: &[u8], name: &str) -> Result<(String, bool)> {
    use kairan_dlp::DocKind;
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let kind = match ext.as_str() {
        "docx" => DocKind::Docx,
        "xlsx" => DocKind::Xlsx,
        "pptx" => DocKind::Pptx,
        "pdf" => DocKind::Pdf,
        "csv" => DocKind::Csv,
        _ => DocKind::Text,
    };
    let out = kairan_dlp::extract(kind, bytes, &kairan_dlp::Limits::default())
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    Ok((out.text, out.truncated))
}

pub fn scan(args: ScanArgs) -> Result<()> {
    let scanner = Scanner::new(&ScanConfig::default());
    let mut inputs = Vec::new();
    if args.files.is_empty() {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        inputs.push(("-".to_owned(), read_text(&buf, "standard input")?));
    } else {
        for f in &args.files {
            let name = f.display().to_string();
            let bytes = std::fs::read(f).with_context(|| format!("reading {name}"))?;
            let text = read_text(&bytes, &name)?;
            inputs.push((name, text));
        }
    }
    if args.mask {
        for (_, (text, _)) in &inputs {
            print!("{}", mask(text, &scanner.scan(text)));
        }
        return Ok(());
    }
    // Offsets are into the text as read (for documents, the extracted text).
    let report = |name: &str, text: &str, truncated: bool| {
        let mut v = serde_json::json!({ "findings": scanner.scan(text) });
        if name != "-" {
            v["file"] = name.into();
        }
        if truncated {
            v["truncated"] = true.into();
        }
        v
    };
    if let [(name, (text, truncated))] = inputs.as_slice() {
        println!("{}", report(name, text, *truncated));
    } else {
        let files: Vec<_> = inputs
            .iter()
            .map(|(name, (text, truncated))| report(name, text, *truncated))
            .collect();
        println!("{}", serde_json::json!({ "files": files }));
    }
    Ok(())
}
