//! The generator's letters: a pool of realistic contents in each language, how many letters
//! each person gets, and their rows.

use rand::rngs::StdRng;
use rand::Rng as _;
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::super::sql::encode::encode_timestamp;
use super::super::sql::Val;
use super::super::StoreError;
use super::{Content, GenPerson, GenerateError, GeneratePlan, Sink, ROWS_PER_INSERT};
use crate::access::Loa;
use crate::identity::{Country, NationalId};
use crate::post::{pdf, search_config, BodyKind, NewAttachment, NewLetter, NotificationRequest};

/// (agency, sender name, title template, body template, html?) per country. `{n}`, `{kr}`,
/// `{month}`, `{year}` are filled in.
type Template = (&'static str, &'static str, &'static str, &'static str, bool);

pub(super) const NORWEGIAN_TEMPLATES: [Template; 10] = [
    ("skatteetaten", "Skatteetaten", "Skattemeldingen for {year} er klar",
     "<p>Skattemeldingen din for {year} er klar. Se over at opplysningene stemmer, og lever innen <strong>30. april</strong>.</p><p>Saksnummer {n}.</p>", true),
    ("skatteetaten", "Skatteetaten", "Skatteoppgjøret for {year}",
     "<p>Skatteoppgjøret ditt for {year} er ferdig. Du får tilbake {kr} kroner i {month}.</p>", true),
    ("nav", "NAV", "Vedtak om dagpenger",
     "<h2>Vedtak</h2><p>Du har fått innvilget dagpenger fra 1. {month} {year}. Begrunnelsen står i vedlegget.</p><p>Du kan klage innen seks uker. Saksnummer {n}.</p>", true),
    ("nav", "NAV", "Utbetaling av foreldrepenger",
     "<p>Vi har utbetalt {kr} kroner i foreldrepenger for {month}.</p>", true),
    ("oslo-kommune", "Oslo kommune", "Påminnelse: eiendomsskatt",
     "Hei,\n\nandre termin for eiendomsskatt på {kr} kroner forfaller 15. {month}.\n\nFakturanummer {n}.\n\nOslo kommune", false),
    ("bergen-kommune", "Bergen kommune", "Svar på søknad om barnehageplass",
     "<p>Barnet ditt har fått plass i barnehagen fra {month} {year}. Svar innen tre uker.</p>", true),
    ("helsenorge", "Helsenorge", "Innkalling til time",
     "Du har fått time hos fastlegen i {month}. Referanse {n}.", false),
    ("lanekassen", "Lånekassen", "Nedbetalingsplan for studielånet",
     "<p>Neste termin på {kr} kroner forfaller i {month}. Låneavtale {n}.</p>", true),
    ("statens-vegvesen", "Statens vegvesen", "Frist for EU-kontroll",
     "Kjøretøyet ditt må EU-kontrolleres innen utgangen av {month} {year}. Kjennemerke EL {n}.", false),
    ("politiet", "Politiet", "Passet ditt er klart",
     "<p>Passet ditt er klart for henting. Ta med kvittering {n}.</p>", true),
];

pub(super) const DANISH_TEMPLATES: [Template; 8] = [
    ("skattestyrelsen", "Skattestyrelsen", "Din årsopgørelse for {year}",
     "<p>Din årsopgørelse for {year} er klar. Du får {kr} kroner tilbage i {month}.</p>", true),
    ("skattestyrelsen", "Skattestyrelsen", "Forskudsopgørelse {year}",
     "<p>Se din forskudsopgørelse for {year} og ret den, hvis noget er forkert. Sag {n}.</p>", true),
    ("udbetaling-danmark", "Udbetaling Danmark", "Afgørelse om boligstøtte",
     "<h2>Afgørelse</h2><p>Du får boligstøtte på {kr} kroner fra 1. {month}. Begrundelsen står i bilaget.</p>", true),
    ("udbetaling-danmark", "Udbetaling Danmark", "Udbetaling af børnecheck",
     "<p>Vi udbetaler {kr} kroner i børne- og ungeydelse i {month}.</p>", true),
    ("kobenhavns-kommune", "Københavns Kommune", "Husk at forny dit sundhedskort",
     "Dit sundhedskort udløber i {month} {year}. Du kan bestille et nyt på borger.dk. Reference {n}.", false),
    ("aarhus-kommune", "Aarhus Kommune", "Svar på ansøgning om pladsanvisning",
     "<p>Dit barn har fået plads fra {month} {year}. Sag {n}.</p>", true),
    ("sundhedsstyrelsen", "Sundhedsstyrelsen", "Invitation til vaccination",
     "Du inviteres til vaccination i {month}. Booking-kode {n}.", false),
    ("motorstyrelsen", "Motorstyrelsen", "Opkrævning af vægtafgift",
     "<p>Vægtafgiften på {kr} kroner skal betales inden udgangen af {month}.</p>", true),
];

pub(super) const NORWEGIAN_MONTHS: [&str; 12] = [
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
];
pub(super) const DANISH_MONTHS: [&str; 12] = [
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
];

/// Letters per country's content pool.
pub(super) const POOL_SIZE: usize = 1_500;

/// The content pool of a country: [`POOL_SIZE`] letters through the domain's checks.
pub(super) fn content_pool(
    rng: &mut StdRng,
    country: Country,
    someone: &NationalId,
    now: OffsetDateTime,
) -> Result<Vec<Content>, GenerateError> {
    let (templates, months, safe): (&[Template], &[&str; 12], &str) = match country {
        Country::Norway => (&NORWEGIAN_TEMPLATES, &NORWEGIAN_MONTHS, "Brev fra"),
        Country::Denmark => (&DANISH_TEMPLATES, &DANISH_MONTHS, "Brev fra"),
    };
    let mut pool = Vec::with_capacity(POOL_SIZE);
    for index in 0..POOL_SIZE {
        let (agency, sender, title, body, html) = templates[index % templates.len()];
        let fill = |text: &str, rng: &mut StdRng| {
            text.replace("{n}", &rng.gen_range(100_000..999_999).to_string())
                .replace("{kr}", &format!("{}", rng.gen_range(200..60_000)))
                .replace("{month}", months[rng.gen_range(0..12)])
                .replace("{year}", &rng.gen_range(2019..=2026).to_string())
        };
        let title = fill(title, rng);
        let body = fill(body, rng);
        let high = rng.gen_range(0..20) == 0;
        let decision = title.contains("Vedtak") || title.contains("Afgørelse");
        let attachment = (rng.gen_range(0..12) == 0).then(|| NewAttachment {
            filename: format!("{agency}-{index}.pdf"),
            content: pdf::minimal_pdf(&title),
        });
        let letter = NewLetter {
            recipient: someone.clone(),
            message_id: format!("pool-{index}"),
            sender_name: sender.to_owned(),
            title,
            safe_title: format!("{safe} {sender}"),
            body_kind: if html { BodyKind::Html } else { BodyKind::Text },
            body,
            attachments: attachment.into_iter().collect(),
            required_loa: if high { Loa::High } else { Loa::Substantial },
            effective_at: None,
            wants_opening_receipt: decision,
            is_decision: decision,
            created_at: now,
            notification: NotificationRequest::default(),
        };
        let valid = letter.validate(now)?;
        let pdf = valid.attachments.first().map(|a| {
            let hash: [u8; 32] = Sha256::digest(&a.content).into();
            (a.filename.clone(), a.content.clone(), hash)
        });
        pool.push(Content {
            agency,
            sender: valid.sender_name,
            title: valid.title,
            safe_title: valid.safe_title,
            body_kind: valid.body_kind,
            body: valid.body,
            body_html: valid.body_html,
            search_text: valid.search_text,
            pdf,
            high,
            decision,
        });
    }
    Ok(pool)
}

/// Each letter's recipient (an index into the persons), in delivery order: the named persons
/// get exactly their counts, the others a skewed share of the rest (a few get many, most a
/// few dozen), all shuffled together so that one person's letters are spread over time.
pub(super) fn spread_letters(rng: &mut StdRng, plan: &GeneratePlan, persons: usize) -> Vec<u32> {
    let named = plan.named.len();
    let named_total: u64 = plan.named.iter().map(|n| u64::from(*n)).sum();
    let rest = plan.letters - named_total;
    let others = persons - named;
    let weights: Vec<f64> = (0..others)
        .map(|_| {
            let u: f64 = rng.gen_range(0.05..1.0);
            u * u * u
        })
        .collect();
    let sum: f64 = weights.iter().sum();
    let mut counts: Vec<u64> = weights
        .iter()
        .map(|w| (rest as f64 * w / sum).floor() as u64)
        .collect();
    let mut missing = rest - counts.iter().sum::<u64>();
    while missing > 0 {
        let at = rng.gen_range(0..others);
        counts[at] += 1;
        missing -= 1;
    }
    let mut recipients = Vec::with_capacity(plan.letters as usize);
    for (index, count) in plan.named.iter().enumerate() {
        recipients.extend(std::iter::repeat_n(index as u32, *count as usize));
    }
    for (index, count) in counts.iter().enumerate() {
        recipients.extend(std::iter::repeat_n((named + index) as u32, *count as usize));
    }
    // Fisher–Yates.
    for i in (1..recipients.len()).rev() {
        let j = rng.gen_range(0..=i);
        recipients.swap(i, j);
    }
    recipients
}

pub(super) struct LetterInput<'a> {
    pub(super) doc: i64,
    pub(super) person: &'a GenPerson,
    pub(super) content: &'a Content,
    pub(super) delivered_at: OffsetDateTime,
    pub(super) now: OffsetDateTime,
    pub(super) named: bool,
}

pub(super) struct LetterRow<'a> {
    pub(super) doc: i64,
    pub(super) id: String,
    pub(super) person: &'a GenPerson,
    pub(super) content: &'a Content,
    pub(super) message_id: String,
    pub(super) digital: bool,
    pub(super) effective_at: String,
    pub(super) shown_at: String,
    pub(super) delivered_at: String,
    pub(super) created_at: String,
    pub(super) folder: Option<&'static str>,
    pub(super) unread: bool,
    pub(super) opened_at: Option<String>,
    pub(super) trashed_at: Option<String>,
}

pub(super) fn letter_row<'a>(rng: &mut StdRng, input: LetterInput<'a>) -> LetterRow<'a> {
    let LetterInput {
        doc,
        person,
        content,
        delivered_at,
        now,
        named,
    } = input;
    let effective_at = if rng.gen_range(0..20) == 0 {
        (delivered_at + Duration::hours(rng.gen_range(1..72))).min(now - Duration::minutes(10))
    } else {
        delivered_at
    }
    .max(delivered_at);
    let shown_at = effective_at;
    let age = now - shown_at;
    let read = if named {
        rng.gen_range(0..10) != 0
    } else if age > Duration::days(30) {
        rng.gen_range(0..100) < 88
    } else {
        rng.gen_range(0..100) < 45
    };
    let opened_at = read.then(|| {
        (shown_at + Duration::minutes(rng.gen_range(1..20_000))).min(now - Duration::minutes(1))
    });
    let digital = person.digital;
    let folder = if !digital {
        None
    } else if !named && read && rng.gen_range(0..5) == 0 {
        Some("archive")
    } else {
        Some("inbox")
    };
    let trashed_at = (digital && !named && rng.gen_range(0..300) == 0 && age > Duration::days(1))
        .then(|| now - Duration::minutes(rng.gen_range(1..(age.whole_minutes().min(40_000)))));
    let ts = |at: OffsetDateTime| encode_timestamp(at).unwrap_or_default();
    let millis = delivered_at.unix_timestamp_nanos() / 1_000_000;
    let id = Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        u64::try_from(millis / 1000).unwrap_or(0),
        u32::try_from((millis % 1000) * 1_000_000).unwrap_or(0),
    ));
    LetterRow {
        doc,
        id: id.hyphenated().to_string(),
        person,
        content,
        message_id: format!("gen-{doc:010}"),
        digital,
        effective_at: ts(effective_at),
        shown_at: ts(shown_at),
        delivered_at: ts(delivered_at),
        created_at: ts(delivered_at - Duration::minutes(rng.gen_range(1..600))),
        folder,
        unread: digital && !read,
        opened_at: opened_at.filter(|_| digital).map(ts),
        trashed_at: trashed_at.map(ts),
    }
}

#[derive(Default)]
pub(super) struct Written {
    pub(super) paper: u64,
    pub(super) attachments: u64,
}

pub(super) async fn write_letters(
    conn: &mut Sink,
    rows: &[LetterRow<'_>],
) -> Result<Written, StoreError> {
    let sqlite = conn.is_sqlite();
    let mut written = Written::default();
    // SQLite: doc first; PostgreSQL: no doc, and the search vector exactly as a delivery
    // computes it (post/mod.rs), from the recipient's language and the letter's texts.
    let (head, row) = if sqlite {
        (
            "INSERT INTO letters (doc, id, agency_id, agency_message_id, recipient_national_id, \
             recipient_id, outcome, sender_name, title, safe_title, body_kind, body, body_html, \
             required_loa, effective_at, shown_at, wants_opening_receipt, is_decision, \
             attachment_count, created_at, delivered_at, folder, unread, opened_at, trashed_at)",
            "({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, {11}, {12}, {13}, {14}, \
             {15}, {16}, {17}, {18}, {19}, {20}, {21}, {22}, {23}, {24})",
        )
    } else {
        (
            "INSERT INTO letters (id, agency_id, agency_message_id, recipient_national_id, \
             recipient_id, outcome, sender_name, title, safe_title, body_kind, body, body_html, \
             required_loa, effective_at, shown_at, wants_opening_receipt, is_decision, \
             attachment_count, created_at, delivered_at, folder, unread, opened_at, trashed_at, \
             search)",
            "({0}::uuid, {1}, {2}, {3}, {4}::uuid, {5}, {6}, {7}, {8}, {9}, {10}, {11}, {12}, \
             {13}::timestamptz, {14}::timestamptz, {15}, {16}, {17}::int4, {18}::timestamptz, \
             {19}::timestamptz, {20}, {21}, {22}::timestamptz, {23}::timestamptz, \
             setweight(to_tsvector({24}::regconfig, {6}), 'A') \
             || setweight(to_tsvector({24}::regconfig, {7}), 'B') \
             || setweight(to_tsvector({24}::regconfig, {25}), 'C') \
             || to_tsvector('simple', {6} || ' ' || {7} || ' ' || {25}))",
        )
    };
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut values = Vec::with_capacity(chunk.len() * 26);
        for row in chunk {
            let c = row.content;
            if sqlite {
                values.push(Val::Int(row.doc));
            }
            values.extend([
                Val::Text(&row.id),
                Val::Text(c.agency),
                Val::Text(&row.message_id),
                Val::Text(row.person.national_id.expose()),
                Val::Text(&row.person.id_text),
                Val::Text(if row.digital {
                    "delivered"
                } else {
                    "returned_to_paper"
                }),
                Val::Text(&c.sender),
                Val::Text(&c.title),
                Val::Text(&c.safe_title),
                Val::Text(c.body_kind.code()),
                Val::Text(&c.body),
                Val::Text(&c.body_html),
                Val::Text(if c.high {
                    Loa::High.as_str()
                } else {
                    Loa::Substantial.as_str()
                }),
                Val::Text(&row.effective_at),
                Val::Text(&row.shown_at),
                Val::Bool(c.decision),
                Val::Bool(c.decision),
                Val::Int(i64::from(c.pdf.is_some())),
                Val::Text(&row.created_at),
                Val::Text(&row.delivered_at),
                Val::OptText(row.folder),
                Val::Bool(row.unread),
                Val::OptText(row.opened_at.as_deref()),
                Val::OptText(row.trashed_at.as_deref()),
            ]);
            if !sqlite {
                values.extend([
                    Val::Text(search_config(row.person.language)),
                    Val::Text(&c.search_text),
                ]);
            }
        }
        conn.insert(head, row, chunk.len(), &values).await?;

        // SQLite's search entries, as a delivery writes them (digital letters only).
        let digital: Vec<&LetterRow<'_>> = chunk.iter().filter(|row| row.digital).collect();
        if sqlite && !digital.is_empty() {
            let mut values = Vec::with_capacity(digital.len() * 5);
            for row in &digital {
                values.extend([
                    Val::Int(row.doc),
                    Val::Text(&row.person.owner),
                    Val::Text(&row.content.sender),
                    Val::Text(&row.content.title),
                    Val::Text(&row.content.search_text),
                ]);
            }
            conn.insert(
                "INSERT INTO letters_fts (rowid, owner, sender, title, body)",
                "({0}, {1}, {2}, {3}, {4})",
                digital.len(),
                &values,
            )
            .await?;
        }

        let mut values = Vec::with_capacity(chunk.len() * 5);
        for row in chunk {
            values.extend([
                Val::Text(row.content.agency),
                Val::Text(&row.message_id),
                Val::Text(&row.id),
                Val::Text(if row.digital {
                    "delivered"
                } else {
                    "returned_to_paper"
                }),
                Val::Text(&row.delivered_at),
            ]);
        }
        conn.insert(
            "INSERT INTO post_receipts (agency_id, agency_message_id, letter_id, kind, at)",
            if sqlite {
                "({0}, {1}, {2}, {3}, {4})"
            } else {
                "({0}, {1}, {2}::uuid, {3}, {4}::timestamptz)"
            },
            chunk.len(),
            &values,
        )
        .await?;

        let mut values = Vec::new();
        let mut count = 0;
        for row in chunk {
            if let Some((filename, content, hash)) = &row.content.pdf {
                values.extend([
                    Val::Text(&row.id),
                    Val::Text(filename),
                    Val::Int(i64::try_from(content.len()).unwrap_or(i64::MAX)),
                    Val::Bytes(&hash[..]),
                    Val::Bytes(content),
                ]);
                count += 1;
            }
        }
        conn.insert(
            "INSERT INTO letter_attachments (letter_id, position, filename, size, sha256, content)",
            if sqlite {
                "({0}, 0, {1}, {2}, {3}, {4})"
            } else {
                "({0}::uuid, 0, {1}, {2}, {3}, {4})"
            },
            count,
            &values,
        )
        .await?;
        written.attachments += count as u64;

        let mut values = Vec::new();
        let mut count = 0;
        for row in chunk.iter().filter(|row| !row.digital) {
            values.extend([Val::Text(&row.id), Val::Text(&row.delivered_at)]);
            count += 1;
        }
        conn.insert(
            "INSERT INTO print_queue (letter_id, queued_at, acknowledged_at)",
            if sqlite {
                "({0}, {1}, {1})"
            } else {
                "({0}::uuid, {1}::timestamptz, {1}::timestamptz)"
            },
            count,
            &values,
        )
        .await?;
        written.paper += count as u64;
    }
    Ok(written)
}
