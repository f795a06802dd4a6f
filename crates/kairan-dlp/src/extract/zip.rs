//! A small zip reader, enough for Office Open XML packages.
//!
//! It reads the central directory (the authoritative list of entries), then each wanted
//! entry's local header only to find where its data starts. Supported: methods 0 (stored)
//! and 8 (deflate), zip64 sizes and offsets, data prepended before the archive.
//! Refused: multi-disk archives, other methods, and encrypted entries. CRCs are not
//! checked: the text is scanned, not trusted.

use std::borrow::Cow;

use super::inflate::{self, Budget, Wrapper};
use super::{ExtractError, Limits};

const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD64_LOCATOR_SIG: u32 = 0x0706_4b50;
const EOCD64_SIG: u32 = 0x0606_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const LOCAL_SIG: u32 = 0x0403_4b50;
const EOCD_LEN: usize = 22;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: usize = 30;

/// General-purpose flag bit 0: the entry is encrypted.
const FLAG_ENCRYPTED: u16 = 1;

fn malformed(why: &'static str) -> ExtractError {
    ExtractError::Malformed(why)
}

// Offsets come from the file and may be near `usize::MAX`: all arithmetic on them is
// checked (an overflow would panic in debug and fuzzing builds).

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    let b = d.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    let b = d.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(d: &[u8], at: usize) -> Option<u64> {
    let b = d.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Some(u64::from_le_bytes(a))
}

fn usize_of(v: u64) -> Result<usize, ExtractError> {
    usize::try_from(v).map_err(|_| malformed("zip: offset out of range"))
}

/// One central-directory entry.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) name: String,
    flags: u16,
    method: u16,
    compressed: u64,
    uncompressed: u64,
    /// Offset of the local header, already corrected for prepended data.
    local: u64,
}

impl Entry {
    pub(crate) fn encrypted(&self) -> bool {
        self.flags & FLAG_ENCRYPTED != 0
    }
}

pub(crate) struct Archive<'a> {
    data: &'a [u8],
    pub(crate) entries: Vec<Entry>,
}

/// Position of the end-of-central-directory record: the last signature within the
/// largest possible comment length from the end.
fn find_eocd(data: &[u8]) -> Option<usize> {
    let last = data.len().checked_sub(EOCD_LEN)?;
    let first = last.saturating_sub(u16::MAX as usize);
    (first..=last)
        .rev()
        .find(|&at| u32_at(data, at) == Some(EOCD_SIG))
}

/// Where the central directory is, as the end record(s) describe it.
struct Directory {
    entries: u64,
    size: u64,
    /// Offset as stated (wrong when data was prepended to the archive).
    offset: u64,
    /// Where the directory must end: at the zip64 end record if there is one, else at the
    /// classic end record.
    end: usize,
}

/// Reads the end record, and the zip64 end record when the classic one says so.
fn directory(data: &[u8], eocd: usize) -> Result<Directory, ExtractError> {
    let field = |at: usize| u16_at(data, eocd + at).ok_or(malformed("zip: short end record"));
    let disk = field(4)?;
    let cd_disk = field(6)?;
    let total = field(10)?;
    let size = u32_at(data, eocd + 12).ok_or(malformed("zip: short end record"))?;
    let offset = u32_at(data, eocd + 16).ok_or(malformed("zip: short end record"))?;
    if disk != 0 || cd_disk != 0 {
        return Err(malformed("zip: multi-disk archive"));
    }
    let needs64 = total == u16::MAX || size == u32::MAX || offset == u32::MAX;
    let locator = eocd.checked_sub(20);
    match locator {
        Some(loc) if needs64 && u32_at(data, loc) == Some(EOCD64_LOCATOR_SIG) => {
            let stated = usize_of(u64_at(data, loc + 8).ok_or(malformed("zip64: short locator"))?)?;
            // With data prepended the stated offset is off; the record (56 bytes without
            // its rarely used extensible part) normally sits just before the locator.
            let rec = [Some(stated), loc.checked_sub(56)]
                .into_iter()
                .flatten()
                .find(|&r| u32_at(data, r) == Some(EOCD64_SIG))
                .ok_or(malformed("zip64: bad end record"))?;
            // `rec` points at a valid signature, so it is inside the file: no overflow.
            let get =
                |at: usize| u64_at(data, rec + at).ok_or(malformed("zip64: short end record"));
            Ok(Directory {
                entries: get(32)?,
                size: get(40)?,
                offset: get(48)?,
                end: rec,
            })
        }
        _ => Ok(Directory {
            entries: u64::from(total),
            size: u64::from(size),
            offset: u64::from(offset),
            end: eocd,
        }),
    }
}

/// Reads sizes and offset from a zip64 extended-information extra field, for the fields
/// whose 32-bit value is saturated (they appear in this fixed order).
fn apply_zip64(extra: &[u8], uncompressed: &mut u64, compressed: &mut u64, local: &mut u64) {
    let mut at = 0;
    while let (Some(id), Some(len)) = (u16_at(extra, at), u16_at(extra, at + 2)) {
        let body_at = at + 4;
        let len = usize::from(len);
        if id == 0x0001 {
            let mut p = body_at;
            for field in [uncompressed, compressed, local] {
                if *field == u64::from(u32::MAX) && p + 8 <= body_at + len {
                    if let Some(v) = u64_at(extra, p) {
                        *field = v;
                    }
                    p += 8;
                }
            }
            return;
        }
        at = body_at + len;
    }
}

impl<'a> Archive<'a> {
    /// Reads the central directory.
    pub(crate) fn parse(data: &'a [u8], limits: &Limits) -> Result<Archive<'a>, ExtractError> {
        let eocd = find_eocd(data).ok_or(malformed("zip: no end of central directory"))?;
        let dir = directory(data, eocd)?;
        let total = dir.entries;
        if total > limits.max_entries as u64 {
            return Err(ExtractError::Bomb);
        }
        let size = usize_of(dir.size)?;
        // Data prepended to the archive (a self-extractor stub, a mail header) shifts every
        // offset; the directory ends where the end record starts, which tells by how much.
        let mut cd = usize_of(dir.offset)?;
        let mut shift = 0u64;
        if u32_at(data, cd) != Some(CENTRAL_SIG) && total > 0 {
            let guess = dir
                .end
                .checked_sub(size)
                .ok_or(malformed("zip: bad directory"))?;
            if u32_at(data, guess) != Some(CENTRAL_SIG) {
                return Err(malformed("zip: bad directory offset"));
            }
            shift = (guess as u64).wrapping_sub(cd as u64);
            cd = guess;
        }
        // Never trust the count for allocation: each entry takes at least 46 bytes.
        let mut entries = Vec::with_capacity(usize_of(total)?.min(data.len() / CENTRAL_LEN));
        let mut at = cd;
        for _ in 0..total {
            if u32_at(data, at) != Some(CENTRAL_SIG) {
                return Err(malformed("zip: truncated directory"));
            }
            let short = || malformed("zip: truncated directory");
            let flags = u16_at(data, at + 8).ok_or_else(short)?;
            let method = u16_at(data, at + 10).ok_or_else(short)?;
            let mut compressed = u64::from(u32_at(data, at + 20).ok_or_else(short)?);
            let mut uncompressed = u64::from(u32_at(data, at + 24).ok_or_else(short)?);
            let name_len = usize::from(u16_at(data, at + 28).ok_or_else(short)?);
            let extra_len = usize::from(u16_at(data, at + 30).ok_or_else(short)?);
            let comment_len = usize::from(u16_at(data, at + 32).ok_or_else(short)?);
            let mut local = u64::from(u32_at(data, at + 42).ok_or_else(short)?);
            let name_at = at + CENTRAL_LEN;
            let name = data.get(name_at..name_at + name_len).ok_or_else(short)?;
            let extra = data
                .get(name_at + name_len..name_at + name_len + extra_len)
                .ok_or_else(short)?;
            apply_zip64(extra, &mut uncompressed, &mut compressed, &mut local);
            entries.push(Entry {
                // OOXML part names are ASCII; anything else is only compared, never trusted.
                name: String::from_utf8_lossy(name).into_owned(),
                flags,
                method,
                compressed,
                uncompressed,
                local: local.wrapping_add(shift),
            });
            at = name_at + name_len + extra_len + comment_len;
        }
        Ok(Archive { data, entries })
    }

    /// The first entry with exactly this name.
    pub(crate) fn find(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// True when any entry is encrypted: the package cannot be inspected completely.
    pub(crate) fn any_encrypted(&self) -> bool {
        self.entries.iter().any(Entry::encrypted)
    }

    /// The uncompressed bytes of `entry`, charged to `budget`.
    pub(crate) fn read(
        &self,
        entry: &Entry,
        budget: &mut Budget,
    ) -> Result<Cow<'a, [u8]>, ExtractError> {
        if entry.encrypted() {
            return Err(ExtractError::Encrypted);
        }
        let at = usize_of(entry.local)?;
        if u32_at(self.data, at) != Some(LOCAL_SIG) {
            return Err(malformed("zip: bad local header"));
        }
        // From here `at` is known to be inside the file.
        let short = || malformed("zip: truncated entry");
        let name_len = usize::from(u16_at(self.data, at + 26).ok_or_else(short)?);
        let extra_len = usize::from(u16_at(self.data, at + 28).ok_or_else(short)?);
        let start = at + LOCAL_LEN + name_len + extra_len;
        let end = start
            .checked_add(usize_of(entry.compressed)?)
            .ok_or_else(short)?;
        let raw = self.data.get(start..end).ok_or_else(short)?;
        // The declared size is only used to refuse early, never to allocate.
        if entry.uncompressed > budget.cap_for(raw.len()) && entry.method != 0 {
            return Err(ExtractError::Bomb);
        }
        match entry.method {
            0 => {
                budget.charge(raw.len() as u64)?;
                Ok(Cow::Borrowed(raw))
            }
            8 => {
                let out = inflate::inflate(raw, Wrapper::Raw, budget)?;
                if !out.complete {
                    return Err(malformed("zip: bad deflate data"));
                }
                Ok(Cow::Owned(out.data))
            }
            _ => Err(malformed("zip method")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_bytes_are_not_a_zip() {
        let junk: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 256) as u8).collect();
        assert!(matches!(
            Archive::parse(&junk, &Limits::default()),
            Err(ExtractError::Malformed(_))
        ));
    }

    #[test]
    fn an_empty_archive_has_no_entries() {
        let mut eocd = vec![0u8; EOCD_LEN];
        eocd[..4].copy_from_slice(&EOCD_SIG.to_le_bytes());
        let a = Archive::parse(&eocd, &Limits::default()).unwrap();
        assert!(a.entries.is_empty());
    }

    /// One stored entry `a.xml` = "hello" with every size and offset in zip64 fields.
    fn zip64_archive() -> Vec<u8> {
        let mut z = Vec::new();
        let le16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
        let le32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
        let le64 = |v: &mut Vec<u8>, x: u64| v.extend_from_slice(&x.to_le_bytes());
        // Local header.
        le32(&mut z, LOCAL_SIG);
        for x in [45, 0, 0, 0, 0] {
            le16(&mut z, x);
        }
        le32(&mut z, 0x3610_a686); // crc32("hello")
        le32(&mut z, u32::MAX);
        le32(&mut z, u32::MAX);
        le16(&mut z, 5);
        le16(&mut z, 20);
        z.extend_from_slice(b"a.xml");
        le16(&mut z, 1);
        le16(&mut z, 16);
        le64(&mut z, 5);
        le64(&mut z, 5);
        z.extend_from_slice(b"hello");
        // Central directory.
        let cd = z.len() as u64;
        le32(&mut z, CENTRAL_SIG);
        for x in [45, 45, 0, 0, 0, 0] {
            le16(&mut z, x);
        }
        le32(&mut z, 0x3610_a686);
        le32(&mut z, u32::MAX);
        le32(&mut z, u32::MAX);
        for x in [5, 28, 0, 0, 0] {
            le16(&mut z, x);
        }
        le32(&mut z, 0);
        le32(&mut z, u32::MAX);
        z.extend_from_slice(b"a.xml");
        le16(&mut z, 1);
        le16(&mut z, 24);
        le64(&mut z, 5);
        le64(&mut z, 5);
        le64(&mut z, 0);
        let cd_size = z.len() as u64 - cd;
        // Zip64 end record and locator.
        let rec = z.len() as u64;
        le32(&mut z, EOCD64_SIG);
        le64(&mut z, 44);
        le16(&mut z, 45);
        le16(&mut z, 45);
        le32(&mut z, 0);
        le32(&mut z, 0);
        le64(&mut z, 1);
        le64(&mut z, 1);
        le64(&mut z, cd_size);
        le64(&mut z, cd);
        le32(&mut z, EOCD64_LOCATOR_SIG);
        le32(&mut z, 0);
        le64(&mut z, rec);
        le32(&mut z, 1);
        // Classic end record, saturated.
        le32(&mut z, EOCD_SIG);
        for x in [0, 0, u16::MAX, u16::MAX] {
            le16(&mut z, x);
        }
        le32(&mut z, u32::MAX);
        le32(&mut z, u32::MAX);
        le16(&mut z, 0);
        z
    }

    #[test]
    fn zip64_sizes_and_offsets_are_read() {
        let z = zip64_archive();
        let a = Archive::parse(&z, &Limits::default()).unwrap();
        assert_eq!(a.entries.len(), 1);
        let e = a.find("a.xml").unwrap();
        let mut budget = Budget::new(&Limits::default());
        assert_eq!(&*a.read(e, &mut budget).unwrap(), b"hello");
    }

    #[test]
    fn prepended_data_shifts_zip64_offsets_too() {
        let z = [&[b'#'; 100][..], &zip64_archive()].concat();
        let a = Archive::parse(&z, &Limits::default()).unwrap();
        let mut budget = Budget::new(&Limits::default());
        assert_eq!(&*a.read(&a.entries[0], &mut budget).unwrap(), b"hello");
    }

    #[test]
    fn a_directory_pointing_outside_the_file_is_malformed() {
        let mut eocd = vec![0u8; EOCD_LEN];
        eocd[..4].copy_from_slice(&EOCD_SIG.to_le_bytes());
        eocd[10] = 1; // one entry
        eocd[12] = 46; // directory size
        eocd[16] = 0xFF; // offset
        assert!(matches!(
            Archive::parse(&eocd, &Limits::default()),
            Err(ExtractError::Malformed(_))
        ));
    }
}
