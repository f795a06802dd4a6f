//! Text extraction from uploaded documents, so that files can be scanned for personal data
//! with the same [`Scanner`](crate::Scanner) as chat messages.
//!
//! Like the rest of the crate this module is pure: bytes in, text out, no I/O. The caller
//! (the server) decides the [`DocKind`] from magic bytes and the file name; this module only
//! reads the structure it is told to expect:
//!
//! - plain text and CSV in UTF-8, UTF-16 (with BOM) or CP932 / Shift_JIS,
//! - Office Open XML (`.docx`, `.xlsx`, `.pptx`) through a small zip reader of our own and
//!   a hand-written XML scanner,
//! - PDF through a minimal object scanner and content-stream interpreter of our own.
//!
//! Uploaded files are hostile input, so every reader is bounded by [`Limits`]: the size of
//! the text kept, the bytes inflated in total and per compressed byte, the number of zip
//! entries or PDF objects (and of the values PDF objects hold), and the nesting depth of
//! PDF arrays and dictionaries. No input
//! may panic or loop forever; structures that cannot be read give
//! [`ExtractError::Malformed`] rather than a silently partial result, so that the server
//! can refuse what it could not inspect.

mod inflate;
mod ooxml;
mod pdf;
mod sink;
mod text;
mod xml;
mod zip;

use sink::Sink;

/// What kind of document; the server decides it from magic bytes + name before calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// Plain text: UTF-8 (BOM stripped), UTF-16 with a BOM, otherwise CP932.
    Text,
    /// Comma-separated values in the same encodings; cells come out tab-separated.
    Csv,
    /// Word (Office Open XML).
    Docx,
    /// Excel (Office Open XML).
    Xlsx,
    /// PowerPoint (Office Open XML).
    Pptx,
    /// PDF (text operators only; no OCR).
    Pdf,
}

/// Resource limits for one extraction. The defaults suit a chat upload of up to a few
/// hundred MB; every limit is checked before the memory it guards is allocated.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most bytes of extracted text kept (UTF-8); beyond it extraction stops and
    /// `truncated` is set.
    pub max_text_bytes: usize,
    /// Most bytes inflated in total from all zip entries / PDF streams together
    /// (decompression-bomb guard). PDF form XObjects and content streams shared by pages
    /// are kept decoded, so each is inflated and counted once. PDF content interpreted
    /// (uncompressed content too, and shared content or form XObjects once per use, each
    /// counted before a page's parts are joined) is bounded by the same figure and by
    /// 16 × the file size + 16 MiB; a form or page content that showed no text is not run
    /// again with the same resources.
    pub max_inflated_bytes: u64,
    /// Most entries in a zip directory / objects in a PDF. The values PDF objects hold
    /// (array items, dictionary values, objects in object streams, each counting one) are
    /// limited to 100 × this + one per 16 bytes of file, which bounds their memory.
    pub max_entries: usize,
    /// Largest allowed ratio of inflated size to compressed size for one entry/stream
    /// (bomb guard). The ratio is only enforced past the first 64 KiB of output, so tiny
    /// but very compressible parts (an empty sheet) are not mistaken for bombs.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_text_bytes: 16 << 20,
            max_inflated_bytes: 256 << 20,
            max_entries: 10_000,
            // Office XML compresses about 10:1 to 30:1; Apache POI refuses beyond 100:1.
            max_ratio: 200,
        }
    }
}

/// The text of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    /// Text in reading order as far as the format allows: paragraphs and rows end with
    /// `\n`, spreadsheet cells are separated by `\t`.
    pub text: String,
    /// True when the text was cut at [`Limits::max_text_bytes`].
    pub truncated: bool,
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtractError {
    /// Structure could not be read (bad zip, required XML part missing, bad PDF…);
    /// carries a short static reason.
    Malformed(&'static str),
    /// A decompression bomb or an attempt to exhaust resources: inflated bytes, the
    /// inflation ratio, or the number of zip entries / PDF objects over the limits.
    Bomb,
    /// Encrypted / password-protected (PDF `/Encrypt`, encrypted zip entries, or an
    /// encrypted Office package, which is an OLE file rather than a zip).
    Encrypted,
}

impl std::fmt::Display for ExtractError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExtractError::Malformed(why) => write!(f, "malformed document: {why}"),
            ExtractError::Bomb => f.write_str("document exceeds the decompression limits"),
            ExtractError::Encrypted => f.write_str("document is encrypted"),
        }
    }
}

impl std::error::Error for ExtractError {}

/// Extracts the text of a document of the given kind.
///
/// ```
/// use kairan_dlp::extract::{extract, DocKind, Limits};
///
/// let csv = "氏名,電話\n山田,\"090-1234-5678\"\n";
/// let out = extract(DocKind::Csv, csv.as_bytes(), &Limits::default()).unwrap();
/// assert_eq!(out.text, "氏名\t電話\n山田\t090-1234-5678\n");
/// assert!(!out.truncated);
/// ```
pub fn extract(kind: DocKind, bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let mut sink = Sink::new(limits.max_text_bytes);
    match kind {
        DocKind::Text => text::extract_text(bytes, &mut sink),
        DocKind::Csv => text::extract_csv(bytes, &mut sink),
        DocKind::Docx | DocKind::Xlsx | DocKind::Pptx => {
            ooxml::extract(kind, bytes, limits, &mut sink)?
        }
        DocKind::Pdf => pdf::extract(bytes, limits, &mut sink)?,
    }
    Ok(sink.finish())
}

/// The entry names of a zip archive (central directory), for the server's type sniffing
/// (it checks `[Content_Types].xml`, `word/document.xml`, and refuses `vbaProject.bin`,
/// `activeX/…`, `embeddings/oleObject…`).
///
/// Errors with [`ExtractError::Malformed`] on a malformed directory and with
/// [`ExtractError::Bomb`] when it lists more than [`Limits::max_entries`] entries.
pub fn zip_entry_names(bytes: &[u8], limits: &Limits) -> Result<Vec<String>, ExtractError> {
    let archive = zip::Archive::parse(bytes, limits)?;
    Ok(archive.entries.into_iter().map(|e| e.name).collect())
}
