//! Reading a PDF with lopdf, and appending an incremental update to its bytes (ISO 32000-1,
//! 7.5.6): changed and new objects, a cross-reference section of the same kind as the file's
//! last one (table or stream) and a trailer whose `/Prev` points at that last section.
//!
//! lopdf parses and serializes single objects ([`lopdf::Writer::write_object`]); the framing,
//! the offsets and the cross-reference section are written here, so the signature step knows
//! exactly where its placeholders are.

use crate::Error;
use lopdf::xref::XrefType;
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use std::collections::BTreeMap;

/// Parses `bytes` and refuses what cannot carry an incremental update: not a PDF, encrypted,
/// unparseable, or with damaged cross-reference data.
pub(crate) fn load(bytes: &[u8]) -> Result<Document, Error> {
    let head = &bytes[..bytes.len().min(1024)];
    if !head.windows(5).any(|window| window == b"%PDF-") {
        return Err(Error::NotPdf);
    }
    let document = Document::load_mem(bytes).map_err(|error| match error {
        lopdf::Error::Decryption(_)
        | lopdf::Error::InvalidPassword
        | lopdf::Error::AlreadyEncrypted => Error::Encrypted,
        other => Error::Unreadable(other.to_string()),
    })?;
    if document.trailer.has(b"Encrypt")
        || document.encryption_state.is_some()
        || document.is_encrypted()
    {
        return Err(Error::Encrypted);
    }
    // Any repair (a rebuilt table or a corrected offset) means the file's own cross-reference
    // chain is not one an update can point back into.
    if document.xref_recovery.is_some() || document.xref_start == 0 {
        return Err(Error::Damaged);
    }
    Ok(document)
}

/// The object a dictionary entry holds, following one indirect reference.
pub(crate) fn deref<'a>(document: &'a Document, object: &'a Object) -> Result<&'a Object, Error> {
    match object {
        Object::Reference(id) => Ok(document.get_object(*id)?),
        other => Ok(other),
    }
}

/// The catalog's id, from the trailer's `/Root`.
pub(crate) fn catalog_id(document: &Document) -> Result<ObjectId, Error> {
    Ok(document.trailer.get(b"Root")?.as_reference()?)
}

/// One incremental update being appended to a buffer that holds the previous revision.
pub(crate) struct Update {
    /// Where each object written in this update starts, by object number (with generation).
    offsets: BTreeMap<u32, (u16, usize)>,
    /// The first object number no revision uses yet.
    next_id: u32,
    /// The previous revision's cross-reference section (its `startxref`).
    prev_xref: usize,
    /// Whether the previous revision used a cross-reference stream (this one then does too).
    xref_stream: bool,
    /// `/Root`, `/Info` and `/ID`, carried over from the previous trailer.
    trailer: Dictionary,
}

impl Update {
    /// Starts an update after `out`, which holds exactly the bytes `document` was read from.
    pub(crate) fn begin(document: &Document, out: &mut Vec<u8>) -> Self {
        if out.last() != Some(&b'\n') {
            out.push(b'\n');
        }
        let size = document
            .trailer
            .get(b"Size")
            .and_then(Object::as_i64)
            .ok()
            .and_then(|size| u32::try_from(size).ok())
            .unwrap_or(0);
        let mut trailer = Dictionary::new();
        for key in [&b"Root"[..], b"Info", b"ID"] {
            if let Ok(value) = document.trailer.get(key) {
                trailer.set(key, value.clone());
            }
        }
        Update {
            offsets: BTreeMap::new(),
            next_id: size.max(document.max_id.saturating_add(1)),
            prev_xref: document.xref_start,
            xref_stream: matches!(
                document.reference_table.cross_reference_type,
                XrefType::CrossReferenceStream
            ),
            trailer,
        }
    }

    /// A new object number, for an object this update will write.
    pub(crate) fn new_id(&mut self) -> ObjectId {
        let id = self.next_id;
        self.next_id += 1;
        (id, 0)
    }

    /// Writes `object` as indirect object `id` (new, or replacing an earlier revision's).
    pub(crate) fn write(
        &mut self,
        out: &mut Vec<u8>,
        id: ObjectId,
        object: &Object,
    ) -> Result<(), Error> {
        self.start_object(out, id);
        lopdf::Writer::write_object(out, object).map_err(|error| Error::Pdf(error.to_string()))?;
        out.extend_from_slice(b"\nendobj\n");
        Ok(())
    }

    /// Starts indirect object `id` (`N G obj`); the caller writes its body and then `endobj`.
    pub(crate) fn start_object(&mut self, out: &mut Vec<u8>, id: ObjectId) {
        self.offsets.insert(id.0, (id.1, out.len()));
        out.extend_from_slice(format!("{} {} obj\n", id.0, id.1).as_bytes());
    }

    /// Writes the cross-reference section and the trailer, ending the update.
    pub(crate) fn finish(mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        if self.xref_stream {
            let id = self.new_id();
            let xref_offset = out.len();
            self.offsets.insert(id.0, (0, xref_offset));
            let (index, rows) = self.sections();
            let mut data = Vec::with_capacity(self.offsets.len() * 7);
            for row in rows {
                let (generation, offset) = row;
                let offset =
                    u32::try_from(offset).map_err(|_| Error::Pdf("file over 4 GiB".to_owned()))?;
                data.push(1);
                data.extend_from_slice(&offset.to_be_bytes());
                data.extend_from_slice(&generation.to_be_bytes());
            }
            let mut dict = self.trailer_dictionary();
            dict.set("Type", Object::Name(b"XRef".to_vec()));
            dict.set("W", Object::Array(vec![1.into(), 4.into(), 2.into()]));
            dict.set(
                "Index",
                Object::Array(index.into_iter().map(Object::Integer).collect()),
            );
            self.write(out, id, &Object::Stream(Stream::new(dict, data)))?;
            out.extend_from_slice(format!("startxref\n{xref_offset}\n%%EOF\n").as_bytes());
        } else {
            let xref_offset = out.len();
            out.extend_from_slice(b"xref\n");
            let mut remaining = self.offsets.iter().peekable();
            while let Some((&first, _)) = remaining.peek() {
                let mut run = Vec::new();
                while let Some((&id, &entry)) = remaining.peek() {
                    if id != first + run.len() as u32 {
                        break;
                    }
                    run.push(entry);
                    remaining.next();
                }
                out.extend_from_slice(format!("{first} {}\n", run.len()).as_bytes());
                for (generation, offset) in run {
                    out.extend_from_slice(format!("{offset:010} {generation:05} n\r\n").as_bytes());
                }
            }
            out.extend_from_slice(b"trailer\n");
            lopdf::Writer::write_object(out, &Object::Dictionary(self.trailer_dictionary()))
                .map_err(|error| Error::Pdf(error.to_string()))?;
            out.extend_from_slice(format!("\nstartxref\n{xref_offset}\n%%EOF\n").as_bytes());
        }
        Ok(())
    }

    /// The trailer entries both kinds of section carry.
    fn trailer_dictionary(&self) -> Dictionary {
        let mut dict = self.trailer.clone();
        dict.set("Size", i64::from(self.next_id));
        dict.set("Prev", self.prev_xref as i64);
        dict
    }

    /// The cross-reference stream's `/Index` (first number and count of each run of
    /// consecutive object numbers) and its rows in that order.
    fn sections(&self) -> (Vec<i64>, Vec<(u16, usize)>) {
        let mut index: Vec<i64> = Vec::new();
        let mut rows = Vec::with_capacity(self.offsets.len());
        let mut previous: Option<u32> = None;
        for (&id, &entry) in &self.offsets {
            match (previous, index.len()) {
                (Some(last), len) if last + 1 == id && len >= 2 => index[len - 1] += 1,
                _ => index.extend([i64::from(id), 1]),
            }
            previous = Some(id);
            rows.push(entry);
        }
        (index, rows)
    }
}

/// A PDF text string: PDFDocEncoding (as ASCII) when the text is ASCII, else UTF-16BE with a
/// byte order mark.
pub(crate) fn text_string(text: &str) -> Object {
    if text.is_ascii() {
        Object::string_literal(text)
    } else {
        let mut bytes = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String(bytes, lopdf::StringFormat::Hexadecimal)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn text_strings() {
        assert_eq!(text_string("abc"), Object::string_literal("abc"));
        let Object::String(bytes, _) = text_string("æ") else {
            panic!("not a string")
        };
        assert_eq!(bytes, vec![0xFE, 0xFF, 0x00, 0xE6]);
    }
}
