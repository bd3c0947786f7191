//! Attachments are PDF, checked by their content (never by the name an agency gave them).

/// Every PDF starts with this header (`%PDF-1.7`, `%PDF-2.0`).
const PDF_MAGIC: &[u8] = b"%PDF-";
/// And ends with this marker, possibly followed by a line break or a little padding.
const PDF_END: &[u8] = b"%%EOF";
/// How far from the end the end marker may be (writers add white space, some a few bytes
/// of junk; PDF readers look in the last kilobyte too).
const END_WINDOW: usize = 1024;

/// Whether `content` looks like a whole PDF file: the `%PDF-` header with a version digit,
/// a `startxref` (the trailer's pointer to the cross-reference table) and `%%EOF` within the
/// last kilobyte. A truncated upload or a file of another kind renamed to `.pdf` fails.
pub fn looks_like_pdf(content: &[u8]) -> bool {
    let Some(rest) = content.strip_prefix(PDF_MAGIC) else {
        return false;
    };
    if !rest.first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let tail = &content[content.len().saturating_sub(END_WINDOW)..];
    contains(tail, PDF_END) && contains(tail, b"startxref")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// A small valid one-page PDF showing `text` (printable ASCII; other characters become `?`),
/// with a correct cross-reference table: for demo data and tests.
pub fn minimal_pdf(text: &str) -> Vec<u8> {
    let safe: String = text
        .chars()
        .map(|c| match c {
            '(' | ')' | '\\' => '?',
            ' '..='~' => c,
            _ => '?',
        })
        .collect();
    let stream = format!("BT /F1 18 Tf 72 720 Td ({safe}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", index + 1).as_bytes());
    }
    let xref_at = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pdf_passes() {
        let pdf = minimal_pdf("Vedtak (kopi) - ÆØÅ");
        assert!(looks_like_pdf(&pdf));
        assert!(pdf.starts_with(b"%PDF-1.4"));
    }

    #[test]
    fn other_content_fails() {
        let pdf = minimal_pdf("x");
        assert!(!looks_like_pdf(b""));
        assert!(!looks_like_pdf(b"%PDF-"));
        assert!(!looks_like_pdf(b"<html><body>%PDF-1.4</body></html>"));
        assert!(!looks_like_pdf(b"PK\x03\x04 a zip file renamed to .pdf"));
        assert!(
            !looks_like_pdf(b"%PDF-x\nstartxref\n1\n%%EOF"),
            "version digit"
        );
        // Truncated: the end is missing.
        assert!(!looks_like_pdf(&pdf[..pdf.len() / 2]));
        // A header glued in front of something else.
        let mut fake = b"%PDF-1.7\n".to_vec();
        fake.extend(std::iter::repeat_n(b'A', 4096));
        assert!(!looks_like_pdf(&fake));
        // The end marker far from the end.
        let mut padded = pdf.clone();
        padded.extend(std::iter::repeat_n(b' ', 2048));
        assert!(!looks_like_pdf(&padded));
    }
}
