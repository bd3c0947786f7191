//! The signature fields the crate writes (the seal and document timestamps): an invisible
//! widget on page 1 with a signature dictionary whose `/ByteRange` and `/Contents` are
//! placeholders, appended as an incremental update; then the byte range filled in, hashed,
//! and the DER signature written into `/Contents`.

use crate::pdf::{self, deref, Update};
use crate::Error;
use lopdf::{Dictionary, Object};
use sha2::{Digest, Sha256};

/// Width kept for `/ByteRange [0 a b c]`: four numbers of up to 10 digits.
const BYTE_RANGE_WIDTH: usize = 40;

/// Where a signature dictionary's placeholders are in the file.
pub(crate) struct Placeholder {
    /// The first byte of the `/ByteRange` array's slot.
    byte_range_at: usize,
    /// The `<` of the `/Contents` hex string.
    contents_at: usize,
    /// The bytes `/Contents` holds (twice as many hex digits).
    reserved: usize,
}

/// Appends an update with a signature dictionary (`<< ` + `head` + `/ByteRange` and
/// `/Contents` placeholders for `reserved` bytes `>>`), a merged field and widget `/FT /Sig`
/// named `field_name` (made unique among the form's fields), invisible (`/Rect [0 0 0 0]`,
/// `/F 132` print and locked) on page 1, page 1 with the widget in `/Annots`, and the
/// catalog with the field in `/AcroForm /Fields` and `/SigFlags 3`.
pub(crate) fn append_signature_field(
    pdf: Vec<u8>,
    head: &[u8],
    field_name: &str,
    reserved: usize,
) -> Result<(Vec<u8>, Placeholder), Error> {
    let document = pdf::load(&pdf)?;
    let catalog_id = pdf::catalog_id(&document)?;
    let mut catalog = document.get_dictionary(catalog_id)?.clone();
    let page_id = *document.get_pages().get(&1).ok_or(Error::NoPages)?;
    let mut page = document.get_dictionary(page_id)?.clone();
    let mut annotations = match page.get(b"Annots") {
        Ok(annots) => deref(&document, annots)?.as_array()?.clone(),
        Err(_) => Vec::new(),
    };
    let mut form = match catalog.get(b"AcroForm") {
        Ok(form) => deref(&document, form)?.as_dict()?.clone(),
        Err(_) => Dictionary::new(),
    };
    let mut fields = match form.get(b"Fields") {
        Ok(fields) => deref(&document, fields)?.as_array()?.clone(),
        Err(_) => Vec::new(),
    };
    let mut names = Vec::new();
    for field in &fields {
        let Ok(field) = deref(&document, field) else {
            continue;
        };
        let Ok(dict) = field.as_dict() else {
            continue;
        };
        if let Ok(Object::String(name, _)) = dict.get(b"T") {
            names.push(name.clone());
        }
    }
    let mut name = field_name.to_owned();
    let mut n = 2;
    while names
        .iter()
        .any(|taken| taken.as_slice() == name.as_bytes())
    {
        name = format!("{field_name} {n}");
        n += 1;
    }

    let mut out = pdf;
    let mut update = Update::begin(&document, &mut out);
    let signature_id = update.new_id();
    let field_id = update.new_id();

    update.start_object(&mut out, signature_id);
    out.extend_from_slice(b"<< ");
    out.extend_from_slice(head);
    out.extend_from_slice(b"\n/ByteRange ");
    let byte_range_at = out.len();
    out.extend(std::iter::repeat_n(b' ', BYTE_RANGE_WIDTH));
    out.extend_from_slice(b"\n/Contents ");
    let contents_at = out.len();
    out.push(b'<');
    out.extend(std::iter::repeat_n(b'0', 2 * reserved));
    out.extend_from_slice(b">\n>>\nendobj\n");

    let mut widget = Dictionary::new();
    widget.set("Type", Object::Name(b"Annot".to_vec()));
    widget.set("Subtype", Object::Name(b"Widget".to_vec()));
    widget.set("FT", Object::Name(b"Sig".to_vec()));
    widget.set("T", Object::string_literal(name));
    widget.set("V", Object::Reference(signature_id));
    // Print and Locked; an empty rectangle: the signature is invisible.
    widget.set("F", 132);
    widget.set(
        "Rect",
        Object::Array(vec![0.into(), 0.into(), 0.into(), 0.into()]),
    );
    widget.set("P", Object::Reference(page_id));
    update.write(&mut out, field_id, &Object::Dictionary(widget))?;

    annotations.push(Object::Reference(field_id));
    page.set("Annots", Object::Array(annotations));
    update.write(&mut out, page_id, &Object::Dictionary(page))?;

    fields.push(Object::Reference(field_id));
    form.set("Fields", Object::Array(fields));
    // SignaturesExist and AppendOnly.
    form.set("SigFlags", 3);
    catalog.set("AcroForm", Object::Dictionary(form));
    update.write(&mut out, catalog_id, &Object::Dictionary(catalog))?;
    drop(document);
    update.finish(&mut out)?;
    Ok((
        out,
        Placeholder {
            byte_range_at,
            contents_at,
            reserved,
        },
    ))
}

/// Writes the `/ByteRange` (the whole file but the `/Contents` hex string, its `<` and `>`
/// included in the gap) and returns the SHA-256 of those ranges.
pub(crate) fn byte_range_digest(out: &mut [u8], placeholder: &Placeholder) -> [u8; 32] {
    let contents_end = placeholder.contents_at + 2 * placeholder.reserved + 2;
    let byte_range = format!(
        "[0 {} {contents_end} {}]",
        placeholder.contents_at,
        out.len() - contents_end
    );
    let slot = &mut out[placeholder.byte_range_at..placeholder.byte_range_at + BYTE_RANGE_WIDTH];
    slot.fill(b' ');
    slot[..byte_range.len()].copy_from_slice(byte_range.as_bytes());

    let mut hasher = Sha256::new();
    hasher.update(&out[..placeholder.contents_at]);
    hasher.update(&out[contents_end..]);
    hasher.finalize().into()
}

/// Writes `der` as hex into the reserved `/Contents` (the rest stays zeros), or
/// [`Error::SignatureTooLarge`].
pub(crate) fn fill_contents(
    out: &mut [u8],
    placeholder: &Placeholder,
    der: &[u8],
) -> Result<(), Error> {
    if der.len() > placeholder.reserved {
        return Err(Error::SignatureTooLarge {
            needed: der.len(),
            reserved: placeholder.reserved,
        });
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let hex = &mut out[placeholder.contents_at + 1..];
    for (i, byte) in der.iter().enumerate() {
        hex[2 * i] = HEX[usize::from(byte >> 4)];
        hex[2 * i + 1] = HEX[usize::from(byte & 0xF)];
    }
    Ok(())
}
