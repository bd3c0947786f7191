//! The one-line footer printed at the bottom of every page of the agency's document (the
//! signers on each page), written in [`crate::prepare`]'s update.
//!
//! Each page is rewritten as its own resolved copy: the inherited `/Resources`, `/MediaBox`,
//! `/CropBox` and `/Rotate` are looked up through the page tree and written on the page, the
//! font is added to its `/Font` resources under a fresh name, and `/Contents` becomes
//! `[q-stream, the page's own streams…, footer stream]`: the footer stream starts with `Q`,
//! so whatever state the agency's content leaves (matrix, colour, clipping) is undone before
//! the footer is drawn. The footer is placed at the visual bottom of the visible box (the
//! crop box within the media box), turned with the page's `/Rotate`.

use crate::pdf::{deref, Update};
use crate::winansi::{self, Font};
use crate::Error;
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use std::collections::HashMap;

/// The footer's font size, in points.
const SIZE: f32 = 7.0;
/// From the visual bottom edge to the footer's baseline, in points.
const BOTTOM: f32 = 14.0;
/// Space kept free at the left and right of the footer, in points.
const SIDE: f32 = 28.0;
/// The resource name the footer's font gets (with a number appended on a clash).
const FONT_NAME: &str = "BPFooter";
/// How far up the page tree an inherited attribute is looked for.
const MAX_DEPTH: usize = 64;

/// Adds the footer `text` to each of `pages` (the agency's page ids): writes a shared
/// `q` stream, one footer stream per distinct page geometry, and each page's resolved copy.
/// `font` is the Helvetica (`/WinAnsiEncoding`) font object the update already wrote.
pub(crate) fn add_footers(
    document: &Document,
    update: &mut Update,
    out: &mut Vec<u8>,
    pages: &[ObjectId],
    text: &str,
    font: ObjectId,
) -> Result<(), Error> {
    let encoded = winansi::encode(text);
    let save_id = update.new_id();
    update.write(
        out,
        save_id,
        &Object::Stream(Stream::new(Dictionary::new(), b"q\n".to_vec())),
    )?;
    let mut streams: HashMap<Vec<u8>, ObjectId> = HashMap::new();
    for &page_id in pages {
        let mut page = document.get_dictionary(page_id)?.clone();
        let media_box = inherited(document, &page, b"MediaBox")?
            .map(|object| rectangle(document, &object))
            .transpose()?
            // ISO 32000-1 makes /MediaBox required; US Letter is what readers assume.
            .unwrap_or([0.0, 0.0, 612.0, 792.0]);
        let crop_box = inherited(document, &page, b"CropBox")?
            .map(|object| rectangle(document, &object))
            .transpose()?;
        let rotate = match inherited(document, &page, b"Rotate")? {
            Some(object) => deref(document, &object)?.as_i64().unwrap_or(0),
            None => 0,
        };
        let mut resources = match inherited(document, &page, b"Resources")? {
            Some(object) => deref(document, &object)?.as_dict()?.clone(),
            None => Dictionary::new(),
        };
        let mut fonts = match resources.get(b"Font") {
            Ok(object) => deref(document, object)?.as_dict()?.clone(),
            Err(_) => Dictionary::new(),
        };
        let name = fresh_name(&fonts);
        fonts.set(name.as_bytes(), Object::Reference(font));
        resources.set("Font", Object::Dictionary(fonts));

        let visible = intersect(media_box, crop_box.unwrap_or(media_box));
        let content = footer_content(&encoded, &name, visible, rotate);
        let footer_id = match streams.get(&content) {
            Some(id) => *id,
            None => {
                let id = update.new_id();
                update.write(
                    out,
                    id,
                    &Object::Stream(Stream::new(Dictionary::new(), content.clone())),
                )?;
                streams.insert(content, id);
                id
            }
        };

        let mut contents = vec![Object::Reference(save_id)];
        match page.get(b"Contents") {
            Ok(object @ Object::Reference(id)) => match document.get_object(*id)? {
                Object::Array(items) => contents.extend(items.iter().cloned()),
                _ => contents.push(object.clone()),
            },
            Ok(Object::Array(items)) => contents.extend(items.iter().cloned()),
            Ok(other) => contents.push(other.clone()),
            Err(_) => {}
        }
        contents.push(Object::Reference(footer_id));

        page.set("Contents", Object::Array(contents));
        page.set("Resources", Object::Dictionary(resources));
        page.set("MediaBox", numbers(&media_box));
        if let Some(crop_box) = crop_box {
            page.set("CropBox", numbers(&crop_box));
        }
        if rotate != 0 {
            page.set("Rotate", rotate);
        }
        update.write(out, page_id, &Object::Dictionary(page))?;
    }
    Ok(())
}

/// The value of `key` on `page` or, when the page has none, on the nearest ancestor in the
/// page tree that has it (ISO 32000-1 7.7.3.4).
fn inherited(document: &Document, page: &Dictionary, key: &[u8]) -> Result<Option<Object>, Error> {
    let mut node = page.clone();
    for _ in 0..MAX_DEPTH {
        if let Ok(value) = node.get(key) {
            return Ok(Some(value.clone()));
        }
        match node.get(b"Parent") {
            Ok(Object::Reference(parent)) => node = document.get_dictionary(*parent)?.clone(),
            _ => return Ok(None),
        }
    }
    Err(Error::Unreadable("page tree too deep".to_owned()))
}

/// A rectangle `[llx lly urx ury]`, normalized so that the first corner is the lower left.
fn rectangle(document: &Document, object: &Object) -> Result<[f32; 4], Error> {
    let items = deref(document, object)?.as_array()?;
    if items.len() != 4 {
        return Err(Error::Unreadable(
            "a page box is not a rectangle".to_owned(),
        ));
    }
    let mut values = [0.0f32; 4];
    for (value, item) in values.iter_mut().zip(items) {
        *value = deref(document, item)?.as_float()?;
    }
    let [a, b, c, d] = values;
    Ok([a.min(c), b.min(d), a.max(c), b.max(d)])
}

/// The part of the media box the crop box shows (the media box if they do not overlap).
fn intersect(media: [f32; 4], crop: [f32; 4]) -> [f32; 4] {
    let visible = [
        media[0].max(crop[0]),
        media[1].max(crop[1]),
        media[2].min(crop[2]),
        media[3].min(crop[3]),
    ];
    if visible[0] < visible[2] && visible[1] < visible[3] {
        visible
    } else {
        media
    }
}

fn numbers(rectangle: &[f32; 4]) -> Object {
    Object::Array(rectangle.iter().map(|&value| Object::Real(value)).collect())
}

/// `FONT_NAME`, or `FONT_NAME` with the first number that the page's fonts do not use.
fn fresh_name(fonts: &Dictionary) -> String {
    let mut name = FONT_NAME.to_owned();
    let mut n = 2;
    while fonts.has(name.as_bytes()) {
        name = format!("{FONT_NAME}{n}");
        n += 1;
    }
    name
}

/// The footer stream for a page whose visible box is `visible` and which is shown turned by
/// `rotate` degrees clockwise: `Q` (ending the `q` that precedes the page's own content),
/// then the text, truncated with "…" to the width, at the visual bottom.
fn footer_content(encoded: &[u8], font_name: &str, visible: [f32; 4], rotate: i64) -> Vec<u8> {
    let [x0, y0, x1, y1] = visible;
    let rotate = rotate.rem_euclid(360);
    // The visual width, and the text matrix: its x axis runs left to right as the page is
    // shown, its y axis up as shown, and its origin sits `SIDE` in from the visual left and
    // `BOTTOM` up from the visual bottom.
    let (width, matrix) = match rotate {
        90 => (y1 - y0, [0.0, 1.0, -1.0, 0.0, x1 - BOTTOM, y0 + SIDE]),
        180 => (x1 - x0, [-1.0, 0.0, 0.0, -1.0, x1 - SIDE, y1 - BOTTOM]),
        270 => (y1 - y0, [0.0, -1.0, 1.0, 0.0, x0 + BOTTOM, y1 - SIDE]),
        _ => (x1 - x0, [1.0, 0.0, 0.0, 1.0, x0 + SIDE, y0 + BOTTOM]),
    };
    let text = truncate(encoded, (width - 2.0 * SIDE).max(SIZE));
    let [a, b, c, d, e, f] = matrix;
    let mut content = format!(
        "\nQ\nq BT 0.3 0.3 0.3 rg /{font_name} {SIZE} Tf {a} {b} {c} {d} {e:.2} {f:.2} Tm "
    )
    .into_bytes();
    content.extend_from_slice(&winansi::literal(&text));
    content.extend_from_slice(b" Tj ET Q\n");
    content
}

/// `encoded` (WinAnsi) as it fits `max_width` at the footer's size: whole, or cut with "…"
/// (WinAnsi 0x85) appended.
fn truncate(encoded: &[u8], max_width: f32) -> Vec<u8> {
    if winansi::width(Font::Regular, encoded, SIZE) <= max_width {
        return encoded.to_vec();
    }
    let mut text = encoded.to_vec();
    loop {
        text.pop();
        while text.last() == Some(&b' ') {
            text.pop();
        }
        let mut candidate = text.clone();
        candidate.push(0x85);
        if text.is_empty() || winansi::width(Font::Regular, &candidate, SIZE) <= max_width {
            return candidate;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_footers_are_cut_with_an_ellipsis() {
        let text = winansi::encode(&"Signert av Kari Nordmann og Ærlend Øvrebø Åsheim ".repeat(8));
        let cut = truncate(&text, 500.0);
        assert_eq!(cut.last(), Some(&0x85));
        assert!(winansi::width(Font::Regular, &cut, SIZE) <= 500.0);
        assert!(cut.len() < text.len());
        let short = winansi::encode("Signert av Kari");
        assert_eq!(truncate(&short, 500.0), short);
    }

    #[test]
    fn the_footer_sits_at_the_visual_bottom() {
        let text = winansi::encode("x");
        let page = [100.0, 200.0, 695.0, 1042.0];
        let upright = String::from_utf8(footer_content(&text, "F", page, 0)).unwrap_or_default();
        assert!(upright.contains("1 0 0 1 128.00 214.00 Tm"), "{upright}");
        let turned = String::from_utf8(footer_content(&text, "F", page, 90)).unwrap_or_default();
        assert!(turned.contains("0 1 -1 0 681.00 228.00 Tm"), "{turned}");
        let back = String::from_utf8(footer_content(&text, "F", page, -90)).unwrap_or_default();
        assert!(back.contains("0 -1 1 0 114.00 1014.00 Tm"), "{back}");
        assert!(upright.starts_with("\nQ\nq BT"));
    }

    #[test]
    fn the_font_name_is_fresh() {
        let mut fonts = Dictionary::new();
        assert_eq!(fresh_name(&fonts), "BPFooter");
        fonts.set("BPFooter", 1);
        fonts.set("BPFooter2", 1);
        assert_eq!(fresh_name(&fonts), "BPFooter3");
    }
}
