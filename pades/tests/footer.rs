//! The signers on every page: `FrontPage::page_footer` printed at the visual bottom of every
//! page of the agency's document, also on pages that inherit their boxes and resources, are
//! rotated, have an offset media box, several content streams, or content that leaves its
//! graphics state changed. Checked with poppler (`pdftotext`, with `-bbox` for the position
//! as shown), qpdf, and pyHanko on the sealed file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use lopdf::{dictionary, Document, Object, Stream};
use std::path::Path;
use std::process::Command;
use support::{front_page, pyhanko_validate, run, text, Tools};

/// Long enough to be cut with "…" on an upright A4 page.
const FOOTER: &str = "Signert av Kari Nordmann, født 01.02.1980, Ærlend Øvrebø Åsheim og Renée \
                      Sæther — forseglet av Borgerportal 12.03.2026. Signaturbevisene ligger \
                      vedlagt i filen, og seglet dekker hele dokumentet med alle sider og vedlegg.";

/// An agency PDF with five pages that each place the footer differently:
/// 1. everything inherited from the root `/Pages` (A4, resources), content that scales the
///    page and sets a colour without restoring them (`q 3 0 0 3 0 0 cm 1 0 0 rg` and no `Q`);
/// 2. `/Rotate 90` on the page;
/// 3. an offset `/MediaBox [100 200 695 1042]` and a smaller `/CropBox`, two content streams;
/// 4. `/Rotate 180` inherited from an intermediate `/Pages` node, resources given indirectly;
/// 5. `/Rotate 270`, a landscape media box, and a font already named `BPFooter`.
fn agency_pdf() -> Vec<u8> {
    let mut doc = Document::with_version("1.4");
    let root_id = doc.new_object_id();
    let middle_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Times-Roman",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let content = |doc: &mut Document, text: &str| {
        doc.add_object(Stream::new(dictionary! {}, text.as_bytes().to_vec()))
    };
    let c1 = content(
        &mut doc,
        "q 3 0 0 3 0 0 cm 1 0 0 rg BT /F1 10 Tf 20 200 Td (Side 1: skalert) Tj ET",
    );
    let page1 =
        doc.add_object(dictionary! { "Type" => "Page", "Parent" => root_id, "Contents" => c1 });
    let c2 = content(&mut doc, "BT /F1 14 Tf 72 700 Td (Side 2: rotert 90) Tj ET");
    let page2 = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => root_id, "Contents" => c2, "Rotate" => 90,
    });
    let c3a = content(&mut doc, "BT /F1 14 Tf 172 900 Td (Side 3: forskj");
    let c3b = content(&mut doc, "ovet) Tj ET");
    let page3 = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => root_id,
        "Contents" => vec![c3a.into(), c3b.into()],
        "MediaBox" => vec![100.into(), 200.into(), 695.into(), 1042.into()],
        "CropBox" => vec![110.into(), 210.into(), 685.into(), 1032.into()],
    });
    let c4 = content(
        &mut doc,
        "BT /F1 14 Tf 72 700 Td (Side 4: rotert 180) Tj ET",
    );
    let page4 = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => middle_id, "Contents" => c4, "Resources" => resources_id,
    });
    let c5 = content(
        &mut doc,
        "BT /BPFooter 14 Tf 72 500 Td (Side 5: rotert 270) Tj ET",
    );
    let page5 = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => root_id, "Contents" => c5, "Rotate" => 270,
        "MediaBox" => vec![0.into(), 0.into(), 842.into(), 595.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "BPFooter" => font_id } },
    });
    doc.objects.insert(
        middle_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Parent" => root_id, "Kids" => vec![page4.into()], "Count" => 1,
            "Rotate" => 180,
        }),
    );
    doc.objects.insert(
        root_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page1.into(), page2.into(), page3.into(), middle_id.into(), page5.into()],
            "Count" => 5,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Resources" => resources_id,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => root_id });
    doc.trailer.set("Root", catalog_id);
    doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

/// `pdftotext` of page `page`, as text.
fn page_text(path: &Path, page: usize) -> String {
    let output = run(Command::new("pdftotext")
        .args([
            "-f",
            &page.to_string(),
            "-l",
            &page.to_string(),
            "-enc",
            "UTF-8",
        ])
        .arg(path)
        .arg("-"));
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The page size (unturned) and the box of the first word `word` on page `page` (`pdftotext
/// -bbox`: coordinates as the page is shown, y down).
fn word_box(path: &Path, page: usize, word: &str) -> ((f32, f32), [f32; 4]) {
    let output = run(Command::new("pdftotext")
        .args(["-bbox", "-f", &page.to_string(), "-l", &page.to_string()])
        .arg(path)
        .arg("-"));
    let html = String::from_utf8_lossy(&output.stdout).into_owned();
    let attribute = |tag: &str, name: &str| -> f32 {
        let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        tag[start..].split('"').next().unwrap().parse().unwrap()
    };
    let page_tag = html.split("<page ").nth(1).unwrap();
    let size = (attribute(page_tag, "width"), attribute(page_tag, "height"));
    let word_tag = html
        .split("<word ")
        .find(|tag| tag.contains(&format!(">{word}</word>")))
        .unwrap_or_else(|| panic!("no {word:?} on page {page}:\n{html}"));
    let bounds = ["xMin", "yMin", "xMax", "yMax"].map(|name| attribute(word_tag, name));
    (size, bounds)
}

#[tokio::test]
async fn every_agency_page_carries_the_footer_at_its_visual_bottom() {
    let tools = Tools::find();
    let dir = tempfile::tempdir().unwrap();
    let pki = pades::testpki::TestPki::ensure(&dir.path().join("pki")).unwrap();
    let original = agency_pdf();
    let mut front = front_page(2);
    front.page_footer = Some(FOOTER.to_owned());
    let prepared = pades::prepare(&original, &front, &support::attachments(2)).unwrap();
    assert!(prepared.starts_with(&original));
    let tsa = pki.tsa().unwrap();
    let sealed = pki
        .seal()
        .unwrap()
        .sign(
            prepared.clone(),
            Some(&tsa),
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    assert!(sealed.starts_with(&original));
    let path = dir.path().join("sealed.pdf");
    std::fs::write(&path, &sealed).unwrap();
    if let Some(keep) = std::env::var_os("PADES_KEEP") {
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::write(Path::new(&keep).join("footer.pdf"), &sealed).unwrap();
    }

    // Page 1 is the front page: no footer there. Pages 2-6 are the agency's 1-5.
    assert!(!page_text(&path, 1).contains("Signert av Kari"));
    for (page, label, turned) in [
        (2, "Side 1", false),
        (3, "Side 2", true),
        (4, "Side 3", false),
        (5, "Side 4", false),
        (6, "Side 5", true),
    ] {
        let said = page_text(&path, page);
        eprintln!("page {page}: {said}");
        assert!(said.contains(label), "page {page}: {said}");
        assert!(
            said.contains("Signert av Kari Nordmann, født 01.02.1980, Ærlend Øvrebø Åsheim"),
            "page {page}: {said}"
        );
        // Shown upright at the bottom: within 30 pt of the lower edge, starting near the
        // left edge, whatever the page's rotation, boxes or content did.
        let ((width, height), [x_min, y_min, _, y_max]) = word_box(&path, page, "Signert");
        // poppler gives the words' boxes as the page is shown, but the page's size unturned.
        let (width, height) = if turned {
            (height, width)
        } else {
            (width, height)
        };
        eprintln!("page {page}: {width}x{height}, \"Signert\" at x {x_min}, y {y_min}-{y_max}");
        assert!(
            y_max <= height && y_min >= height - 30.0,
            "page {page}: footer at y {y_min}-{y_max} of {height}"
        );
        assert!(
            x_min < 60.0 && y_max - y_min < 12.0,
            "page {page}: footer at x {x_min}, {} pt high",
            y_max - y_min
        );
    }
    // Too long for an upright A4 page: cut with "…".
    assert!(page_text(&path, 2).contains('…'));

    let output = run(Command::new("qpdf").arg("--check").arg(&path));
    assert_eq!(
        output.status.code(),
        Some(0),
        "qpdf --check: {}",
        text(&output)
    );
    let output = pyhanko_validate(&tools, &pki.root_certificate, &path);
    let said = text(&output);
    assert!(output.status.success() && said.contains(":VALID"), "{said}");
}

/// Without a footer the agency's pages are not touched: the update rewrites none of them.
#[test]
fn no_footer_leaves_the_agency_pages_alone() {
    let original = agency_pdf();
    let prepared = pades::prepare(&original, &front_page(1), &[]).unwrap();
    let update = String::from_utf8_lossy(&prepared[original.len()..]).into_owned();
    assert!(!update.contains("BPFooter"), "{update}");
    let update_objects = update.matches(" 0 obj").count();
    // Two fonts, one front page (content and page), the page tree root, the catalog.
    assert_eq!(update_objects, 6, "{update}");
}
