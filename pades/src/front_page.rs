//! The front page: what it says (given by the caller, in the caller's language) and its
//! layout as PDF content streams, text only, in Helvetica (A4, wrapped, onto a second page
//! and more when the signers do not fit on one).

use crate::winansi::{self, Font};

/// A4 in points.
pub(crate) const PAGE_WIDTH: f32 = 595.28;
/// A4 in points.
pub(crate) const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 56.0;
/// Room kept at the bottom for the page number.
const FOOTER: f32 = 28.0;
const TEXT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const INDENT: f32 = 14.0;
const BLACK: [f32; 3] = [0.0, 0.0, 0.0];
const GREY: [f32; 3] = [0.3, 0.3, 0.3];
const RED: [f32; 3] = [0.75, 0.0, 0.0];

/// What the front page says. Every string is printed as given (the caller translates and
/// formats); letters outside Windows-1252 fall back as described in the crate's README.
#[derive(Clone, Debug, Default)]
pub struct FrontPage {
    /// The page's heading, e.g. "Signert dokument". Repeated on every front page.
    pub heading: String,
    /// A prominent line under the heading on every front page, e.g. "TEST — ikke et gyldig
    /// segl", when the seal is made with a test certificate.
    pub test_notice: Option<String>,
    /// The signed document's title.
    pub document_title: String,
    /// Who sent the document, e.g. "Avsender: Skatteetaten".
    pub sender: String,
    /// Free text after the sender, one paragraph each (e.g. how the seal can be checked).
    pub paragraphs: Vec<String>,
    /// The heading over the list of signers, e.g. "Signert av".
    pub signers_heading: String,
    /// Every signer, in the order to list them.
    pub signers: Vec<Signer>,
    /// One line printed small (Helvetica 7 pt, grey) at the bottom of **every page of the
    /// agency's document**, e.g. "Signert av Kari Nordmann og Ola Nordmann"; cut with "…"
    /// when it is wider than the page. `None` (or blank): no footer, the agency's pages are
    /// left as they are.
    pub page_footer: Option<String>,
}

/// One signer's entry on the front page; each field is one line (wrapped if long).
#[derive(Clone, Debug, Default)]
pub struct Signer {
    /// The name line exactly as the job asks, e.g. "Kari Nordmann" or "Kari Nordmann, født
    /// 01.02.1980".
    pub name: String,
    /// When the signer signed, e.g. "Signert 12.03.2026 kl. 14:02".
    pub signed_at: String,
    /// The login level, e.g. "Sikkerhetsnivå: høyt".
    pub level: String,
    /// The eID used, e.g. "Innlogget med BankID".
    pub eid: String,
    /// When signing for someone else, e.g. "På vegne av Eksempel AS, som daglig leder".
    pub on_behalf_of: Option<String>,
}

/// One line of text, placed.
struct Line {
    font: Font,
    size: f32,
    color: [f32; 3],
    indent: f32,
    /// Space above the line, beyond its own height, when it is not the first on a page.
    gap: f32,
    text: Vec<u8>,
}

impl Line {
    fn height(&self) -> f32 {
        self.size * 1.3
    }
}

/// `text` wrapped into lines of one style; the first line gets `gap` above it.
fn lines(text: &str, font: Font, size: f32, color: [f32; 3], indent: f32, gap: f32) -> Vec<Line> {
    let encoded = winansi::encode(text);
    winansi::wrap(font, &encoded, size, TEXT_WIDTH - indent)
        .into_iter()
        .enumerate()
        .map(|(i, text)| Line {
            font,
            size,
            color,
            indent,
            gap: if i == 0 { gap } else { 0.0 },
            text,
        })
        .collect()
}

/// One front page being filled.
struct Page {
    content: Vec<u8>,
    /// The baseline of the next line's top edge, from the bottom of the page.
    y: f32,
}

impl Page {
    fn new() -> Self {
        Page {
            content: Vec::new(),
            y: PAGE_HEIGHT - MARGIN,
        }
    }

    fn fits(&self, height: f32) -> bool {
        self.y - height >= MARGIN + FOOTER
    }

    fn put(&mut self, line: &Line) {
        self.y -= line.gap + line.height();
        let [r, g, b] = line.color;
        self.content.extend_from_slice(
            format!(
                "BT {r} {g} {b} rg /{} {} Tf 1 0 0 1 {:.2} {:.2} Tm ",
                line.font.resource(),
                line.size,
                MARGIN + line.indent,
                self.y + line.size * 0.25,
            )
            .as_bytes(),
        );
        self.content
            .extend_from_slice(&winansi::literal(&line.text));
        self.content.extend_from_slice(b" Tj ET\n");
    }

    /// A thin rule across the text width, `gap` below the last line.
    fn rule(&mut self, gap: f32) {
        self.y -= gap;
        self.content.extend_from_slice(
            format!(
                "q 0.6 G 0.5 w {MARGIN} {:.2} m {:.2} {:.2} l S Q\n",
                self.y,
                PAGE_WIDTH - MARGIN,
                self.y
            )
            .as_bytes(),
        );
    }
}

impl FrontPage {
    /// The front pages' content streams, one per page (more than one when the signers do not
    /// fit on the first).
    pub(crate) fn content_streams(&self) -> Vec<Vec<u8>> {
        let header: Vec<Line> = lines(&self.heading, Font::Bold, 18.0, BLACK, 0.0, 0.0);
        let notice: Vec<Line> = self
            .test_notice
            .iter()
            .flat_map(|text| lines(text, Font::Bold, 13.0, RED, 6.0, 10.0))
            .collect();
        let mut intro = lines(&self.document_title, Font::Bold, 14.0, BLACK, 0.0, 18.0);
        intro.extend(lines(&self.sender, Font::Regular, 11.0, BLACK, 0.0, 4.0));
        for paragraph in &self.paragraphs {
            intro.extend(lines(paragraph, Font::Regular, 10.0, GREY, 0.0, 8.0));
        }
        intro.extend(lines(
            &self.signers_heading,
            Font::Bold,
            12.0,
            BLACK,
            0.0,
            22.0,
        ));
        let blocks: Vec<Vec<Line>> = self.signers.iter().map(signer_lines).collect();

        let mut pages = Vec::new();
        let mut page = start_page(&header, &notice);
        for line in &intro {
            if !page.fits(line.gap + line.height()) {
                pages.push(page);
                page = start_page(&header, &notice);
            }
            page.put(line);
        }
        for block in &blocks {
            let height: f32 = block.iter().map(|l| l.gap + l.height()).sum();
            if !page.fits(height) {
                pages.push(page);
                page = start_page(&header, &notice);
            }
            for line in block {
                if !page.fits(line.gap + line.height()) {
                    pages.push(page);
                    page = start_page(&header, &notice);
                }
                page.put(line);
            }
        }
        pages.push(page);
        let count = pages.len();
        pages
            .into_iter()
            .enumerate()
            .map(|(i, mut page)| {
                if count > 1 {
                    let number = winansi::encode(&format!("{}/{count}", i + 1));
                    let width = winansi::width(Font::Regular, &number, 9.0);
                    page.content.extend_from_slice(
                        format!(
                            "BT 0.3 0.3 0.3 rg /F1 9 Tf 1 0 0 1 {:.2} {MARGIN} Tm ",
                            PAGE_WIDTH - MARGIN - width
                        )
                        .as_bytes(),
                    );
                    page.content.extend_from_slice(&winansi::literal(&number));
                    page.content.extend_from_slice(b" Tj ET\n");
                }
                page.content
            })
            .collect()
    }
}

/// A new page with the heading and the test notice (framed in red) at its top.
fn start_page(header: &[Line], notice: &[Line]) -> Page {
    let mut page = Page::new();
    for line in header {
        page.put(line);
    }
    if !notice.is_empty() {
        let top = page.y - notice[0].gap + 4.0;
        for line in notice {
            page.put(line);
        }
        let bottom = page.y - 4.0;
        page.content.extend_from_slice(
            format!(
                "q 0.75 0 0 RG 1.5 w {MARGIN} {bottom:.2} {TEXT_WIDTH} {:.2} re S Q\n",
                top - bottom
            )
            .as_bytes(),
        );
        page.y = bottom;
    }
    page.rule(8.0);
    page
}

fn signer_lines(signer: &Signer) -> Vec<Line> {
    let mut block = lines(&signer.name, Font::Bold, 11.0, BLACK, 0.0, 12.0);
    for detail in [&signer.signed_at, &signer.level, &signer.eid]
        .into_iter()
        .chain(signer.on_behalf_of.as_ref())
    {
        if !detail.is_empty() {
            block.extend(lines(detail, Font::Regular, 10.0, BLACK, INDENT, 1.0));
        }
    }
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(n: usize) -> Signer {
        Signer {
            name: format!("Signer {n} Ærlig Øvrebø Åsheim"),
            signed_at: "Signert 12.03.2026 kl. 14:02".into(),
            level: "Sikkerhetsnivå: høyt".into(),
            eid: "BankID".into(),
            on_behalf_of: n
                .is_multiple_of(2)
                .then(|| "På vegne av Eksempel AS".into()),
        }
    }

    #[test]
    fn few_signers_one_page_many_signers_more() {
        let mut front = FrontPage {
            heading: "Signert dokument".into(),
            test_notice: Some("TEST — ikke et gyldig segl".into()),
            document_title: "Avtale".into(),
            sender: "Avsender: Etaten".into(),
            signers_heading: "Signert av".into(),
            signers: (0..3).map(signer).collect(),
            ..FrontPage::default()
        };
        assert_eq!(front.content_streams().len(), 1);
        front.signers = (0..30).map(signer).collect();
        let pages = front.content_streams();
        assert!(pages.len() >= 2);
        // Every front page carries the heading, the test notice and its number.
        for (i, page) in pages.iter().enumerate() {
            let text = String::from_utf8_lossy(page);
            assert!(text.contains("(Signert dokument)"));
            assert!(text.contains("(TEST \\227 ikke et gyldig segl)"));
            assert!(text.contains(&format!("({}/{})", i + 1, pages.len())));
        }
    }
}
