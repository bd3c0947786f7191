//! Text in the standard-14 fonts Helvetica and Helvetica-Bold with `/WinAnsiEncoding`
//! (Windows-1252): encoding, widths for wrapping, and escaping into a content stream.
//!
//! The standard fonts have no glyphs outside WinAnsi. A letter outside it is decomposed
//! (Unicode NFD) and its base letter used when that one is in WinAnsi (Sámi `č` → `c`);
//! anything else becomes `?`. Embedding a full font would lift this.

use unicode_normalization::UnicodeNormalization;

/// Which of the two fonts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Font {
    Regular,
    Bold,
}

impl Font {
    /// The resource name the front page's content streams use.
    pub(crate) fn resource(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
        }
    }

    /// The standard font's `/BaseFont`.
    pub(crate) fn base_font(self) -> &'static [u8] {
        match self {
            Font::Regular => b"Helvetica",
            Font::Bold => b"Helvetica-Bold",
        }
    }

    fn widths(self) -> &'static [u16; 224] {
        match self {
            Font::Regular => &HELVETICA,
            Font::Bold => &HELVETICA_BOLD,
        }
    }
}

/// One character in Windows-1252, if it has a code there.
fn encode_char(c: char) -> Option<u8> {
    let code = match c {
        ' '..='~' => c as u8,
        '\u{A0}'..='\u{FF}' => c as u32 as u8,
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8A,
        '‹' => 0x8B,
        'Œ' => 0x8C,
        'Ž' => 0x8E,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9A,
        '›' => 0x9B,
        'œ' => 0x9C,
        'ž' => 0x9E,
        'Ÿ' => 0x9F,
        '\t' | '\u{2002}'..='\u{200A}' | '\u{202F}' => b' ',
        '\u{2010}' | '\u{2011}' | '\u{2212}' => b'-',
        _ => return None,
    };
    Some(code)
}

/// `text` in Windows-1252: letters outside it by their base letter where that has a code,
/// else `?`. Control characters are dropped.
pub(crate) fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\t' {
            continue;
        }
        if let Some(code) = encode_char(c) {
            out.push(code);
            continue;
        }
        let base = c.to_string().nfd().next().and_then(encode_char);
        out.push(base.unwrap_or(b'?'));
    }
    out
}

/// The width of encoded text in points at `size`.
pub(crate) fn width(font: Font, encoded: &[u8], size: f32) -> f32 {
    let units: u32 = encoded
        .iter()
        .map(|&code| match code {
            32..=255 => u32::from(font.widths()[usize::from(code - 32)]),
            _ => 0,
        })
        .sum();
    units as f32 * size / 1000.0
}

/// Breaks encoded text into lines at most `max_width` points wide, at spaces; a word wider
/// than a line is cut where it has to be.
pub(crate) fn wrap(font: Font, encoded: &[u8], size: f32, max_width: f32) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    for word in encoded.split(|&c| c == b' ').filter(|w| !w.is_empty()) {
        let candidate_width = if line.is_empty() {
            width(font, word, size)
        } else {
            width(font, &line, size) + width(font, b" ", size) + width(font, word, size)
        };
        if candidate_width <= max_width {
            if !line.is_empty() {
                line.push(b' ');
            }
            line.extend_from_slice(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // The word alone: cut it while it is too wide.
        let mut rest = word;
        while width(font, rest, size) > max_width && rest.len() > 1 {
            let mut cut = 1;
            while cut < rest.len() && width(font, &rest[..=cut], size) <= max_width {
                cut += 1;
            }
            lines.push(rest[..cut].to_vec());
            rest = &rest[cut..];
        }
        line.extend_from_slice(rest);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Encoded text as a PDF literal string for a content stream: `(`, `)` and `\` escaped, bytes
/// outside printable ASCII as octal escapes.
pub(crate) fn literal(encoded: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded.len() + 2);
    out.push(b'(');
    for &byte in encoded {
        match byte {
            b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', byte]),
            b' '..=b'~' => out.push(byte),
            _ => out.extend_from_slice(format!("\\{byte:03o}").as_bytes()),
        }
    }
    out.push(b')');
    out
}

/// Helvetica advance widths (1/1000 em) for WinAnsi codes 32..=255 (Adobe core-14 AFM;
/// the Euro, 0x80, from the later AFMs); 0 = no glyph.
pub(crate) const HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
    0, 556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, 0, 222, 222,
    333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667, 278, 333, 556, 556, 556, 556,
    260, 556, 333, 737, 370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333, 556, 537, 278, 333,
    333, 365, 556, 834, 834, 834, 611, 667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667,
    278, 278, 278, 278, 722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667,
    611, 556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, 556, 556,
    556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
];
/// Helvetica-Bold advance widths (1/1000 em) for WinAnsi codes 32..=255 (Adobe core-14 AFM;
/// the Euro, 0x80, from the later AFMs); 0 = no glyph.
pub(crate) const HELVETICA_BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
    0, 556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, 0, 278, 278,
    500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667, 278, 333, 556, 556, 556, 556,
    280, 556, 333, 737, 370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333, 611, 556, 278, 333,
    333, 365, 556, 834, 834, 834, 611, 722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667,
    278, 278, 278, 278, 722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667,
    611, 556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, 611, 611,
    611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norwegian_letters_and_fallbacks() {
        assert_eq!(
            encode("æøåÆØÅé"),
            vec![0xE6, 0xF8, 0xE5, 0xC6, 0xD8, 0xC5, 0xE9]
        );
        assert_eq!(encode("Čáhcegáddi"), b"C\xE1hceg\xE1ddi".to_vec());
        assert_eq!(encode("ŋ€\u{7}"), vec![b'?', 0x80]);
    }

    #[test]
    fn widths_and_wrapping() {
        assert!((width(Font::Regular, b"A", 10.0) - 6.67).abs() < 0.001);
        let text = encode("Kari Nordmann signerte dokumentet med BankID på høyt nivå");
        let lines = wrap(Font::Regular, &text, 10.0, 100.0);
        assert!(lines.len() > 2);
        for line in &lines {
            assert!(width(Font::Regular, line, 10.0) <= 100.0);
        }
        assert_eq!(lines.join(&b' '), text);
        let long = vec![b'W'; 40];
        assert!(wrap(Font::Bold, &long, 10.0, 50.0).len() > 5);
    }

    #[test]
    fn literals_escape() {
        assert_eq!(literal(b"a(b)\\\xE6"), b"(a\\(b\\)\\\\\\346)".to_vec());
    }
}
