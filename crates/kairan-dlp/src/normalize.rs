//! Character normalization (full-width forms, dashes, ideographic space) that keeps a
//! map from every normalized character back to its byte offset in the original text.
//!
//! Every input character maps to exactly one output character, so offsets stay exact
//! and findings can always be reported against the caller's original string.

/// The normalized view of an input text.
pub(crate) struct Normalized {
    /// One normalized character per input character.
    pub chars: Vec<char>,
    /// Byte offset in the original text of each character, followed by one extra entry
    /// holding the text length so that `offsets[end]` is valid for an exclusive end.
    pub offsets: Vec<usize>,
}

/// Maps one character to its canonical form, ignoring neighbours.
#[inline]
pub(crate) fn map_char(c: char) -> char {
    let u = c as u32;
    if u < 0x80 {
        return c;
    }
    match c {
        // Full-width ASCII block: digits, Latin letters and the punctuation we parse.
        '０'..='９'
        | 'Ａ'..='Ｚ'
        | 'ａ'..='ｚ'
        | '＠'
        | '．'
        | '，'
        | '／'
        | '：'
        | '＋'
        | '（'
        | '）'
        | '＿'
        | '＃'
        | '＄'
        | '％'
        | '＆'
        | '＝'
        | '～' => char::from_u32(u - 0xFEE0).unwrap_or(c),
        '\u{3000}' | '\u{00A0}' => ' ',
        '－' | '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' | '﹣' => '-',
        '￥' => '¥',
        // The circled "secret" sign is a common stamp for 秘 documents.
        '㊙' => '秘',
        _ => c,
    }
}

/// True for the prolonged-sound marks that act as a hyphen only between digits.
#[inline]
fn is_long_vowel_mark(c: char) -> bool {
    matches!(c, 'ー' | 'ｰ')
}

/// Normalizes `text`, see the module docs.
pub(crate) fn normalize(text: &str) -> Normalized {
    // Sized for the worst case (all ASCII) so the hot loop never reallocates.
    let mut chars = Vec::with_capacity(text.len());
    let mut offsets = Vec::with_capacity(text.len() + 1);
    let mut iter = text.char_indices().peekable();
    while let Some((off, c)) = iter.next() {
        let mut m = map_char(c);
        if is_long_vowel_mark(c) {
            // Inside katakana (パスポート, カード) the mark belongs to the word; only a mark
            // between two digits is a typed hyphen, e.g. ０９０ー１２３４ー５６７８.
            let prev_digit = chars.last().is_some_and(|p: &char| p.is_ascii_digit());
            let next_digit = iter
                .peek()
                .is_some_and(|&(_, n)| map_char(n).is_ascii_digit());
            if prev_digit && next_digit {
                m = '-';
            }
        }
        chars.push(m);
        offsets.push(off);
    }
    offsets.push(text.len());
    Normalized { chars, offsets }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize(s).chars.into_iter().collect()
    }

    #[test]
    fn full_width_digits_and_letters_become_ascii() {
        assert_eq!(norm("０９０ＡＢｃ＠"), "090ABc@");
    }

    #[test]
    fn dashes_become_hyphens() {
        assert_eq!(norm("1－2‐3−4—5"), "1-2-3-4-5");
    }

    #[test]
    fn long_vowel_mark_between_digits_is_a_hyphen() {
        assert_eq!(norm("０３ー１２３４"), "03-1234");
    }

    #[test]
    fn long_vowel_mark_inside_katakana_is_kept() {
        assert_eq!(norm("パスポート カード"), "パスポート カード");
        assert_eq!(norm("1ー"), "1ー");
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "a０b";
        let n = normalize(text);
        assert_eq!(n.offsets, vec![0, 1, 4, 5]);
    }
}
