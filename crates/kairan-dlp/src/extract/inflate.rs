//! Bounded inflate: the decompression-bomb guard shared by the zip and PDF readers.
//!
//! Sizes declared in zip headers or PDF dictionaries are attacker-controlled, so nothing is
//! allocated from them. Instead `miniz_oxide`'s low-level decompressor writes into a fixed
//! 32 KiB ring buffer (its "wrapping" mode) and we copy each slice out only after checking
//! it against the remaining budget: output can never exceed the limit by more than one
//! ring buffer's worth of work, and never by any allocation.

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::inflate_flags::{
    TINFL_FLAG_IGNORE_ADLER32, TINFL_FLAG_PARSE_ZLIB_HEADER,
};
use miniz_oxide::inflate::core::{DecompressorOxide, decompress};

use super::{ExtractError, Limits};

/// Output below this size is never treated as a bomb by the ratio test: a 200-byte part
/// that inflates to 60 KB is unusual but harmless.
const RATIO_FLOOR: u64 = 64 * 1024;

/// The deflate window; the ring buffer must be a power of two at least this large.
const RING: usize = 32 * 1024;

/// How much may still be inflated in this extraction.
pub(crate) struct Budget {
    remaining: u64,
    max_ratio: u64,
}

impl Budget {
    pub(crate) fn new(limits: &Limits) -> Budget {
        Budget {
            remaining: limits.max_inflated_bytes,
            max_ratio: limits.max_ratio,
        }
    }

    /// Most output allowed for one entry or stream of `compressed` bytes.
    pub(crate) fn cap_for(&self, compressed: usize) -> u64 {
        let by_ratio = (compressed as u64)
            .saturating_mul(self.max_ratio)
            .max(RATIO_FLOOR);
        by_ratio.min(self.remaining)
    }

    /// Takes `n` bytes from the budget, or fails with [`ExtractError::Bomb`].
    pub(crate) fn charge(&mut self, n: u64) -> Result<(), ExtractError> {
        self.remaining = self.remaining.checked_sub(n).ok_or(ExtractError::Bomb)?;
        Ok(())
    }
}

/// Framing of the deflate data.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wrapper {
    /// Bare deflate (zip entries).
    Raw,
    /// zlib header and Adler-32 trailer (PDF `/FlateDecode`). The checksum is not
    /// verified: many PDF writers get it wrong and the text is still good.
    Zlib,
}

/// Inflated data and whether the deflate stream reached its end.
pub(crate) struct Inflated {
    pub(crate) data: Vec<u8>,
    pub(crate) complete: bool,
}

/// Inflates `input`, charging the output to `budget`.
///
/// Fails with [`ExtractError::Bomb`] as soon as the output would pass the per-stream ratio
/// cap or the remaining total. Corrupt or truncated data is not an error here: what was
/// inflated so far is returned with `complete == false`, and the caller decides.
pub(crate) fn inflate(
    input: &[u8],
    wrapper: Wrapper,
    budget: &mut Budget,
) -> Result<Inflated, ExtractError> {
    let cap = budget.cap_for(input.len());
    let flags = match wrapper {
        Wrapper::Raw => 0,
        Wrapper::Zlib => TINFL_FLAG_PARSE_ZLIB_HEADER | TINFL_FLAG_IGNORE_ADLER32,
    };
    // Both buffers live on the heap: the decompressor state is about 11 KB and this may
    // run on a small async-task stack.
    let mut state = Box::<DecompressorOxide>::default();
    let mut ring = vec![0u8; RING];
    let mut data = Vec::new();
    let mut input = input;
    let mut at = 0usize;
    let complete = loop {
        let (status, read, written) = decompress(&mut state, input, &mut ring, at, flags);
        input = input.get(read..).unwrap_or(&[]);
        if data.len() as u64 + written as u64 > cap {
            return Err(ExtractError::Bomb);
        }
        data.extend_from_slice(ring.get(at..at + written).unwrap_or(&[]));
        at = (at + written) & (RING - 1);
        match status {
            TINFLStatus::Done => break true,
            // The ring is full: go round again. No progress at all would mean a stuck
            // decompressor; refuse to spin.
            TINFLStatus::HasMoreOutput if read > 0 || written > 0 => {}
            _ => break false,
        }
    };
    budget.charge(data.len() as u64)?;
    Ok(Inflated { data, complete })
}

/// True when `data` starts with a plausible zlib header (deflate, valid check bits).
pub(crate) fn has_zlib_header(data: &[u8]) -> bool {
    match data {
        [cmf, flg, ..] => cmf & 0x0F == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miniz_oxide::deflate::{compress_to_vec, compress_to_vec_zlib};

    fn limits(total: u64, ratio: u64) -> Limits {
        Limits {
            max_inflated_bytes: total,
            max_ratio: ratio,
            ..Limits::default()
        }
    }

    #[test]
    fn round_trips_through_the_ring_buffer() {
        let text: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let packed = compress_to_vec(&text, 6);
        let mut b = Budget::new(&limits(1 << 30, 1000));
        let out = inflate(&packed, Wrapper::Raw, &mut b).unwrap();
        assert!(out.complete);
        assert_eq!(out.data, text);
    }

    #[test]
    fn zlib_streams_are_read() {
        let packed = compress_to_vec_zlib(b"BT (Hello) Tj ET", 6);
        assert!(has_zlib_header(&packed));
        let mut b = Budget::new(&Limits::default());
        let out = inflate(&packed, Wrapper::Zlib, &mut b).unwrap();
        assert_eq!(out.data, b"BT (Hello) Tj ET");
    }

    #[test]
    fn the_ratio_cap_stops_a_bomb() {
        let packed = compress_to_vec(&vec![0u8; 4 << 20], 6);
        let mut b = Budget::new(&limits(1 << 30, 100));
        assert_eq!(
            inflate(&packed, Wrapper::Raw, &mut b).err(),
            Some(ExtractError::Bomb)
        );
    }

    #[test]
    fn the_total_budget_is_shared() {
        let packed = compress_to_vec(&vec![7u8; 100_000], 6);
        let mut b = Budget::new(&limits(150_000, 1_000_000));
        assert!(inflate(&packed, Wrapper::Raw, &mut b).is_ok());
        assert_eq!(
            inflate(&packed, Wrapper::Raw, &mut b).err(),
            Some(ExtractError::Bomb)
        );
    }

    #[test]
    fn truncated_data_is_reported_incomplete() {
        let text: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 253) as u8).collect();
        let packed = compress_to_vec(&text, 6);
        let mut b = Budget::new(&Limits::default());
        let out = inflate(&packed[..packed.len() / 2], Wrapper::Raw, &mut b).unwrap();
        assert!(!out.complete);
        assert!(text.starts_with(&out.data));
    }
}
