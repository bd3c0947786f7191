//! Demo letters for the demo persons: a few agencies, some with a small PDF, one that needs
//! `high`. The server calls [`seed_demo_post`] after [`seed_demo_data`](crate::seed_demo_data)
//! when demo data is switched on.

use time::{Duration, OffsetDateTime};

use crate::access::Loa;
use crate::agency::AgencyId;
use crate::demo::demo_persons;
use crate::identity::Country;
use crate::post::{pdf, BodyKind, NewAttachment, NewLetter, PostError};
use crate::storage::Database;

/// (agency, sender name, title, non-sensitive title, body kind, body, PDF name, needs high,
/// decision, days ago).
type DemoLetter = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    BodyKind,
    &'static str,
    Option<&'static str>,
    bool,
    bool,
    i64,
);

const NORWEGIAN_LETTERS: [DemoLetter; 4] = [
    (
        "skatteetaten",
        "Skatteetaten",
        "Skattemeldingen for 2024 er klar",
        "Brev fra Skatteetaten",
        BodyKind::Html,
        "<p>Skattemeldingen din for 2024 er klar. Se over at opplysningene stemmer, og \
         lever innen <strong>30. april</strong>.</p><p>Med vennlig hilsen<br>Skatteetaten</p>",
        Some("skattemelding-2024.pdf"),
        false,
        false,
        12,
    ),
    (
        "nav",
        "NAV",
        "Vedtak om dagpenger",
        "Brev fra NAV",
        BodyKind::Html,
        "<h2>Vedtak</h2><p>Du har fått innvilget dagpenger fra 1. mars. Begrunnelsen står i \
         vedlegget.</p><p>Du kan klage innen seks uker.</p>",
        Some("vedtak-dagpenger.pdf"),
        true,
        true,
        3,
    ),
    (
        "oslo-kommune",
        "Oslo kommune",
        "Påminnelse: eiendomsskatt",
        "Brev fra Oslo kommune",
        BodyKind::Text,
        "Hei,\n\nandre termin for eiendomsskatt forfaller 15. mai.\n\nOslo kommune",
        None,
        false,
        false,
        1,
    ),
    (
        "helsenorge",
        "Helsenorge",
        "Innkalling til time",
        "Brev fra Helsenorge",
        BodyKind::Text,
        "Du har fått time hos fastlegen tirsdag kl. 09.30.",
        None,
        false,
        false,
        0,
    ),
];

const DANISH_LETTERS: [DemoLetter; 3] = [
    (
        "skattestyrelsen",
        "Skattestyrelsen",
        "Din årsopgørelse for 2024",
        "Brev fra Skattestyrelsen",
        BodyKind::Html,
        "<p>Din årsopgørelse for 2024 er klar. Du får penge tilbage.</p>",
        Some("aarsopgoerelse-2024.pdf"),
        false,
        false,
        10,
    ),
    (
        "udbetaling-danmark",
        "Udbetaling Danmark",
        "Afgørelse om boligstøtte",
        "Brev fra Udbetaling Danmark",
        BodyKind::Html,
        "<h2>Afgørelse</h2><p>Du får boligstøtte fra 1. juni. Begrundelsen står i bilaget.</p>",
        Some("afgoerelse-boligstoette.pdf"),
        true,
        true,
        4,
    ),
    (
        "kobenhavns-kommune",
        "Københavns Kommune",
        "Husk at forny dit sundhedskort",
        "Brev fra Københavns Kommune",
        BodyKind::Text,
        "Dit sundhedskort udløber snart. Du kan bestille et nyt på borger.dk.",
        None,
        false,
        false,
        1,
    ),
];

/// The agencies the demo letters come from, as (id, name): they are not configured agencies
/// (none can call the API), so the pages learn their names here.
pub fn demo_agencies() -> Vec<(&'static str, &'static str)> {
    let mut agencies: Vec<(&'static str, &'static str)> = NORWEGIAN_LETTERS
        .iter()
        .chain(DANISH_LETTERS.iter())
        .map(|letter| (letter.0, letter.1))
        .collect();
    agencies.sort_unstable();
    agencies.dedup_by_key(|(id, _)| *id);
    agencies
}

/// Delivers the demo letters that are missing to every demo person the register has, and
/// returns how many it added. Safe at every start: each letter has a fixed message id, so a
/// second run (or a second instance) finds them delivered and adds nothing.
///
/// The demo persons have no contact entry, which would send their post to paper; demo
/// letters go to the mailbox regardless (a crate-private switch, not reachable by agencies).
#[tracing::instrument(skip_all)]
pub async fn seed_demo_post(db: &Database, now: OffsetDateTime) -> Result<usize, PostError> {
    let mut added = 0;
    for (index, person) in demo_persons().into_iter().enumerate() {
        if db
            .find_person_by_national_id(&person.national_id)
            .await?
            .is_none()
        {
            continue;
        }
        let letters: &[DemoLetter] = match person.national_id.country() {
            Country::Norway => &NORWEGIAN_LETTERS,
            Country::Denmark => &DANISH_LETTERS,
        };
        for (number, letter) in letters.iter().enumerate() {
            let (agency, sender, title, safe_title, kind, body, pdf_name, high, decision, days) =
                *letter;
            let Ok(agency) = AgencyId::parse(agency) else {
                continue;
            };
            let written =
                now - Duration::days(days) - Duration::minutes(i64::try_from(number).unwrap_or(0));
            let new_letter = NewLetter {
                recipient: person.national_id.clone(),
                message_id: format!("demo-{index}-{number}"),
                sender_name: sender.to_owned(),
                title: title.to_owned(),
                safe_title: safe_title.to_owned(),
                body_kind: kind,
                body: body.to_owned(),
                attachments: pdf_name
                    .map(|name| NewAttachment {
                        filename: name.to_owned(),
                        content: pdf::minimal_pdf(title),
                    })
                    .into_iter()
                    .collect(),
                required_loa: if high { Loa::High } else { Loa::Substantial },
                effective_at: None,
                wants_opening_receipt: decision,
                is_decision: decision,
                created_at: written,
                notification: crate::post::NotificationRequest::default(),
            };
            let valid = new_letter.validate(now)?;
            let receipt = db.deliver_valid(&agency, valid, written, true).await?;
            if !receipt.replayed {
                added += 1;
            }
        }
    }
    tracing::info!(added, "demo letters seeded");
    Ok(added)
}
