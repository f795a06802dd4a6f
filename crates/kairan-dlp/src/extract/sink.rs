//! The bounded output buffer every extractor writes to.
//!
//! Content pushed past the limit is cut on a char boundary and marks the result as
//! truncated; layout (newlines, tabs, spaces) that does not fit is dropped silently, so a
//! document whose text fits exactly is not reported as truncated because of a final
//! paragraph break.

use super::Extracted;

/// The largest char boundary of `s` at or below `at` (what `str::floor_char_boundary`,
/// still unstable, does).
pub(crate) fn floor_char_boundary(s: &str, at: usize) -> usize {
    let mut cut = at.min(s.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

pub(crate) struct Sink {
    text: String,
    max: usize,
    truncated: bool,
}

impl Sink {
    pub(crate) fn new(max: usize) -> Sink {
        Sink {
            text: String::new(),
            max,
            truncated: false,
        }
    }

    /// True once content has been cut; extractors stop early then.
    pub(crate) fn is_full(&self) -> bool {
        self.truncated
    }

    /// Appends content, cutting it at the limit.
    pub(crate) fn push_str(&mut self, s: &str) {
        if self.truncated || s.is_empty() {
            return;
        }
        let room = self.max.saturating_sub(self.text.len());
        if s.len() <= room {
            self.text.push_str(s);
            return;
        }
        self.text
            .push_str(s.get(..floor_char_boundary(s, room)).unwrap_or(""));
        self.truncated = true;
    }

    /// Records that some content could not be kept although it was never pushed (a table
    /// too large to hold), so the caller knows the text is incomplete.
    pub(crate) fn mark_truncated(&mut self) {
        self.truncated = true;
    }

    /// Appends one char of content.
    pub(crate) fn push_char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.push_str(c.encode_utf8(&mut buf));
    }

    /// Appends layout if it fits; never marks the text truncated.
    fn push_layout(&mut self, c: char) {
        if !self.truncated && self.text.len() < self.max {
            self.text.push(c);
        }
    }

    fn last(&self) -> Option<char> {
        self.text.chars().next_back()
    }

    /// Ends the current line unless it is empty (avoids runs of blank lines).
    pub(crate) fn newline(&mut self) {
        if matches!(self.last(), Some(c) if c != '\n') {
            self.push_layout('\n');
        }
    }

    /// Separates two cells.
    pub(crate) fn tab(&mut self) {
        self.push_layout('\t');
    }

    /// Separates two words unless whitespace already does.
    pub(crate) fn space(&mut self) {
        if matches!(self.last(), Some(c) if !c.is_whitespace()) {
            self.push_layout(' ');
        }
    }

    /// True when nothing but layout was written since the last newline.
    pub(crate) fn at_line_start(&self) -> bool {
        matches!(self.last(), None | Some('\n'))
    }

    pub(crate) fn finish(self) -> Extracted {
        Extracted {
            text: self.text,
            truncated: self.truncated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_cut_on_a_char_boundary() {
        let mut s = Sink::new(5);
        s.push_str("ab");
        s.push_str("個人");
        let out = s.finish();
        assert_eq!(out.text, "ab個");
        assert!(out.truncated);
    }

    #[test]
    fn layout_at_the_limit_does_not_truncate() {
        let mut s = Sink::new(3);
        s.push_str("abc");
        s.newline();
        s.tab();
        let out = s.finish();
        assert_eq!(out.text, "abc");
        assert!(!out.truncated);
    }

    #[test]
    fn newline_and_space_do_not_repeat() {
        let mut s = Sink::new(100);
        s.newline();
        s.push_str("a");
        s.space();
        s.space();
        s.push_str("b");
        s.newline();
        s.newline();
        assert_eq!(s.finish().text, "a b\n");
    }
}
