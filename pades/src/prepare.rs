//! The first incremental update: the front page(s) placed first in the page tree, and the
//! signers' evidence as embedded files.

use crate::footer;
use crate::pdf::{self, deref, text_string, Update};
use crate::winansi::Font;
use crate::{Error, FrontPage};
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

/// A file to embed in the sealed PDF (a signer's evidence).
#[derive(Clone, Debug)]
pub struct Attachment {
    /// The file name, e.g. `signer-1-kari-nordmann.xml`; unique within the PDF (a clash gets
    /// ` (2)`, ` (3)`, … appended).
    pub name: String,
    /// What the file is, shown by PDF readers, e.g. "Signaturbevis for Kari Nordmann".
    pub description: String,
    /// Its media type, e.g. `application/xml` (the embedded file's `/Subtype`).
    pub mime_type: String,
    /// The file's bytes.
    pub data: Vec<u8>,
}

/// Room reserved after the prepared document so that [`crate::Seal::sign`] can append its
/// update without reallocating (the signature's `/Contents` and a few small objects).
const SIGNING_ROOM: usize = 96 * 1024;

/// Whether `original` can be sealed later: what [`prepare`] refuses (not a PDF, encrypted,
/// unreadable, damaged cross-reference data, no pages) is refused here, by preparing it once
/// with an empty front page and throwing the result away. For checking an agency's document
/// when the job is created, so that a job every signer signed cannot fail to seal.
pub fn check_sealable(original: &[u8]) -> Result<(), Error> {
    prepare(original, &FrontPage::default(), &[]).map(drop)
}

/// Adds `front` as the first page(s) and `attachments` as embedded files to `original`, as an
/// incremental update: `original` is a byte-exact prefix of the result.
///
/// The update holds two Helvetica fonts (`/WinAnsiEncoding`); with a
/// [`FrontPage::page_footer`], every page of `original` rewritten with that line at its
/// visual bottom (see the crate's README); the front pages (A4, each with
/// its own `/MediaBox`, `/CropBox`, `/Rotate 0` and resources, so nothing inherited from the
/// agency's page tree changes them), the page tree root with the front pages first in
/// `/Kids`, one `/EmbeddedFile` stream and `/Filespec` (`/AFRelationship /Data`) per
/// attachment, a new `/EmbeddedFiles` name tree (the document's earlier entries kept) and the
/// catalog with `/Names` and `/AF` pointing at them.
///
/// Memory: `original` is borrowed; the result is one new buffer (a copy of `original` plus
/// the update, allocated with room for [`crate::Seal::sign`]'s update too); lopdf's parsed
/// model of `original` lives while the update is built.
///
/// Errors: [`Error::NotPdf`], [`Error::Encrypted`], [`Error::Unreadable`],
/// [`Error::Damaged`], [`Error::NoPages`].
pub fn prepare(
    original: &[u8],
    front: &FrontPage,
    attachments: &[Attachment],
) -> Result<Vec<u8>, Error> {
    let document = pdf::load(original)?;
    if document.get_pages().is_empty() {
        return Err(Error::NoPages);
    }
    let catalog_id = pdf::catalog_id(&document)?;
    let mut catalog = document.get_dictionary(catalog_id)?.clone();
    let pages_id = catalog
        .get(b"Pages")
        .and_then(Object::as_reference)
        .map_err(|_| Error::NoPages)?;
    let mut pages = document.get_dictionary(pages_id)?.clone();
    let kids = deref(&document, pages.get(b"Kids")?)?.as_array()?.clone();
    let count = deref(&document, pages.get(b"Count")?)?.as_i64()?;

    let attached: usize = attachments.iter().map(|a| a.data.len()).sum();
    let mut out = Vec::with_capacity(original.len() + attached + SIGNING_ROOM);
    out.extend_from_slice(original);
    let mut update = Update::begin(&document, &mut out);

    // The fonts and the front pages.
    let mut fonts = Dictionary::new();
    let mut regular = None;
    for font in [Font::Regular, Font::Bold] {
        let id = update.new_id();
        let mut dict = Dictionary::new();
        dict.set("Type", Object::Name(b"Font".to_vec()));
        dict.set("Subtype", Object::Name(b"Type1".to_vec()));
        dict.set("BaseFont", Object::Name(font.base_font().to_vec()));
        dict.set("Encoding", Object::Name(b"WinAnsiEncoding".to_vec()));
        update.write(&mut out, id, &Object::Dictionary(dict))?;
        fonts.set(font.resource(), Object::Reference(id));
        if font == Font::Regular {
            regular = Some(id);
        }
    }
    if let (Some(text), Some(font)) = (&front.page_footer, regular) {
        if !text.trim().is_empty() {
            let agency_pages: Vec<ObjectId> = document.get_pages().values().copied().collect();
            footer::add_footers(&document, &mut update, &mut out, &agency_pages, text, font)?;
        }
    }
    let mut resources = Dictionary::new();
    resources.set("Font", Object::Dictionary(fonts));
    resources.set(
        "ProcSet",
        Object::Array(vec![
            Object::Name(b"PDF".to_vec()),
            Object::Name(b"Text".to_vec()),
        ]),
    );
    let page_box = Object::Array(vec![
        0.into(),
        0.into(),
        Object::Real(crate::front_page::PAGE_WIDTH),
        Object::Real(crate::front_page::PAGE_HEIGHT),
    ]);
    let mut front_pages = Vec::new();
    for content in front.content_streams() {
        let content_id = update.new_id();
        let mut stream = Stream::new(Dictionary::new(), content);
        stream.compress()?;
        update.write(&mut out, content_id, &Object::Stream(stream))?;
        let page_id = update.new_id();
        let mut page = Dictionary::new();
        page.set("Type", Object::Name(b"Page".to_vec()));
        page.set("Parent", Object::Reference(pages_id));
        page.set("MediaBox", page_box.clone());
        page.set("CropBox", page_box.clone());
        page.set("Rotate", 0);
        page.set("Resources", Object::Dictionary(resources.clone()));
        page.set("Contents", Object::Reference(content_id));
        update.write(&mut out, page_id, &Object::Dictionary(page))?;
        front_pages.push(Object::Reference(page_id));
    }
    let added = front_pages.len() as i64;
    front_pages.extend(kids);
    pages.set("Kids", Object::Array(front_pages));
    pages.set("Count", count + added);
    update.write(&mut out, pages_id, &Object::Dictionary(pages))?;

    // The embedded files.
    if !attachments.is_empty() {
        let mut entries = existing_embedded_files(&document, &catalog)?;
        let mut associated = match catalog.get(b"AF") {
            Ok(af) => deref(&document, af)?.as_array()?.clone(),
            Err(_) => Vec::new(),
        };
        for attachment in attachments {
            let (key, name) = unique_name(&entries, &attachment.name);
            let filespec = embed(&mut update, &mut out, attachment, &name)?;
            entries.push((key, Object::Reference(filespec)));
            associated.push(Object::Reference(filespec));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let tree_id = update.new_id();
        let mut tree = Dictionary::new();
        tree.set(
            "Names",
            Object::Array(
                entries
                    .into_iter()
                    .flat_map(|(key, value)| {
                        [Object::String(key, lopdf::StringFormat::Literal), value]
                    })
                    .collect(),
            ),
        );
        update.write(&mut out, tree_id, &Object::Dictionary(tree))?;
        let mut names = match catalog.get(b"Names") {
            Ok(names) => deref(&document, names)?.as_dict()?.clone(),
            Err(_) => Dictionary::new(),
        };
        names.set("EmbeddedFiles", Object::Reference(tree_id));
        catalog.set("Names", Object::Dictionary(names));
        catalog.set("AF", Object::Array(associated));
    }
    update.write(&mut out, catalog_id, &Object::Dictionary(catalog))?;
    update.finish(&mut out)?;
    Ok(out)
}

/// Writes one attachment's `/EmbeddedFile` stream and `/Filespec` (file name `name`); returns
/// the filespec's id.
fn embed(
    update: &mut Update,
    out: &mut Vec<u8>,
    attachment: &Attachment,
    name: &str,
) -> Result<ObjectId, Error> {
    let file_id = update.new_id();
    let mut params = Dictionary::new();
    params.set("Size", attachment.data.len() as i64);
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"EmbeddedFile".to_vec()));
    dict.set(
        "Subtype",
        Object::Name(attachment.mime_type.as_bytes().to_vec()),
    );
    dict.set("Params", Object::Dictionary(params));
    let mut stream = Stream::new(dict, attachment.data.clone());
    stream.compress()?;
    update.write(out, file_id, &Object::Stream(stream))?;

    let spec_id = update.new_id();
    let ascii_name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut files = Dictionary::new();
    files.set("F", Object::Reference(file_id));
    files.set("UF", Object::Reference(file_id));
    let mut spec = Dictionary::new();
    spec.set("Type", Object::Name(b"Filespec".to_vec()));
    spec.set("F", Object::string_literal(ascii_name));
    spec.set("UF", text_string(name));
    spec.set("Desc", text_string(&attachment.description));
    spec.set("AFRelationship", Object::Name(b"Data".to_vec()));
    spec.set("EF", Object::Dictionary(files));
    update.write(out, spec_id, &Object::Dictionary(spec))?;
    Ok(spec_id)
}

/// The document's own `/EmbeddedFiles` entries (key, value), from every leaf of the tree.
fn existing_embedded_files(
    document: &Document,
    catalog: &Dictionary,
) -> Result<Vec<(Vec<u8>, Object)>, Error> {
    let mut entries = Vec::new();
    let Ok(names) = catalog.get(b"Names") else {
        return Ok(entries);
    };
    let Ok(root) = deref(document, names)?.as_dict()?.get(b"EmbeddedFiles") else {
        return Ok(entries);
    };
    let mut pending = vec![(root.clone(), 0)];
    while let Some((node, depth)) = pending.pop() {
        if depth > 32 {
            return Err(Error::Unreadable(
                "embedded files name tree too deep".to_owned(),
            ));
        }
        let node = deref(document, &node)?.as_dict()?;
        if let Ok(kids) = node.get(b"Kids") {
            for kid in deref(document, kids)?.as_array()? {
                pending.push((kid.clone(), depth + 1));
            }
        }
        if let Ok(pairs) = node.get(b"Names") {
            for pair in deref(document, pairs)?.as_array()?.chunks_exact(2) {
                if let Object::String(key, _) = deref(document, &pair[0])? {
                    entries.push((key.clone(), pair[1].clone()));
                }
            }
        }
    }
    Ok(entries)
}

/// `name`, made unique among the name tree's `entries` (` (2)`, ` (3)`, … appended), and
/// its name tree key (the name as a PDF text string).
fn unique_name(entries: &[(Vec<u8>, Object)], name: &str) -> (Vec<u8>, String) {
    let key = |name: &str| match text_string(name) {
        Object::String(bytes, _) => bytes,
        _ => name.as_bytes().to_vec(),
    };
    let mut candidate = name.to_owned();
    let mut n = 2;
    while entries
        .iter()
        .any(|(existing, _)| *existing == key(&candidate))
    {
        candidate = format!("{name} ({n})");
        n += 1;
    }
    (key(&candidate), candidate)
}
