//! Synthetic volume for benchmarks: persons with contact entries and millions of letters,
//! written through the same schema (the migrations) as the portal's own writes, so that the
//! server runs on the result unchanged (`borgerportal generate-data`, docs/benchmarks.md).
//!
//! What it writes, per person: a `persons` row (a synthetic Norwegian fødselsnummer, with
//! the month plus 80, or a Danish CPR number, made and checked by [`NationalId`]), and
//! usually a `contact_info` row (active, a few reserved or deleted, e-mail and mobile of
//! varying age). Per letter: the `letters` row as
//! [`PostOffice::deliver_letter`](super::PostOffice) writes it (digital for active,
//! unreserved persons; paper with a print-queue row otherwise), its search entry (SQLite's
//! `letters_fts` with the same owner token, sender, title and search text as a delivery;
//! PostgreSQL's `search` vector), its attachment (about one letter in twelve has a small
//! PDF), and its receipt. Not written: audit events and notifications (the mailbox never
//! reads them).
//!
//! The content is real: every letter's title, body, sanitized HTML and search text come from a
//! pool of letters passed through [`NewLetter::validate`], as a delivery's are. Letters are
//! spread over five years in delivery order (so one person's letters lie scattered through
//! the table, as they would), with shown times in the past, most older letters read, a fifth
//! of the read ones archived, a few in the trash, one in twenty needing `high`.
//!
//! Named persons come first: Norwegian, active, not reserved, with exactly the asked number
//! of letters, all in the inbox (none archived or trashed, about one in ten unread), for the
//! inbox benchmark at 10, 1,000 and 10,000 letters.
//!
//! Speed: one connection taken out of the pool and closed afterwards (so its settings never
//! reach the pool), multi-row inserts (64 rows a statement), 50,000 letters per transaction;
//! on SQLite `synchronous = OFF` and a 1 GiB page cache on that connection while generating
//! (a benchmark's file: a crash means generating again), on PostgreSQL
//! `synchronous_commit = off` for the session and `ANALYZE` at the end. On PostgreSQL the
//! search vector is computed in the insert exactly as a delivery computes it.

use std::collections::HashSet;
use std::time::{Duration as StdDuration, Instant};

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use sha2::{Digest as _, Sha256};
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;
use sqlx::Connection as _;
use time::{Date, Duration, Month, OffsetDateTime};
use uuid::Uuid;

use super::sql::encode::encode_timestamp;
use super::sql::{Ex, Val};
use super::{stored_instant, Database, Pool, StoreError};
use crate::access::Loa;
use crate::contact::{EmailAddress, MobileNumber};
use crate::identity::{Country, NationalId};
use crate::person::{Language, PersonId};
use crate::post::{
    pdf, search_config, BodyKind, NewAttachment, NewLetter, NotificationRequest, PostError,
};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GeneratePlan {
    /// Persons in all, named ones included.
    pub persons: u32,
    /// Letters in all, the named persons' included.
    pub letters: u64,
    /// One named person per entry, with exactly that many letters (in the inbox).
    pub named: Vec<u32>,
    /// The random generator's seed: the same plan and seed give the same content.
    pub seed: u64,
    /// "Now": every letter is shown before it.
    pub now: OffsetDateTime,
}

/// A named person: who, and how many letters they got.
#[derive(Debug, Clone)]
pub struct NamedPerson {
    /// The person's national id (synthetic).
    pub national_id: NationalId,
    /// The person's id in the register.
    pub person: PersonId,
    /// How many letters (all in the inbox).
    pub letters: u32,
    /// How many of them are unread.
    pub unread: u32,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct GenerateReport {
    /// Persons added.
    pub persons: u64,
    /// Letters added (digital and paper).
    pub letters: u64,
    /// Of which on paper (print queue).
    pub paper: u64,
    /// Attachments added.
    pub attachments: u64,
    /// The named persons, in the plan's order.
    pub named: Vec<NamedPerson>,
    /// Up to 1,000 other persons who get digital post (for a delivery benchmark's
    /// recipients), spread over the register.
    pub sample: Vec<NationalId>,
    /// How long it took.
    pub elapsed: StdDuration,
}

/// Why generating failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The plan cannot be met.
    #[error("impossible plan: {0}")]
    Plan(&'static str),
    /// A letter of the content pool was refused (a bug in the pool).
    #[error("a generated letter was refused: {0}")]
    Letter(#[from] PostError),
    /// The database refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Letters per transaction.
const LETTERS_PER_TRANSACTION: usize = 50_000;
/// Rows per multi-row `INSERT`.
const ROWS_PER_INSERT: usize = 64;
/// How far back delivery times go.
const HISTORY_DAYS: i64 = 5 * 365;

impl Database {
    /// Fills the database as the plan says (see the module docs); `progress` is called after
    /// each transaction with the letters written so far.
    pub async fn generate_data(
        &self,
        plan: &GeneratePlan,
        mut progress: impl FnMut(u64),
    ) -> Result<GenerateReport, GenerateError> {
        let started = Instant::now();
        let named_total: u64 = plan.named.iter().map(|n| u64::from(*n)).sum();
        if named_total > plan.letters {
            return Err(GenerateError::Plan(
                "the named persons' letters exceed the total",
            ));
        }
        if u64::from(plan.persons) <= plan.named.len() as u64 {
            return Err(GenerateError::Plan(
                "there must be more persons than named ones",
            ));
        }
        let mut conn = match &self.pool {
            Pool::Sqlite(pool) => Sink::Sqlite(
                pool.acquire()
                    .await
                    .map_err(StoreError::from_query)?
                    .detach(),
            ),
            Pool::Postgres(pool) => Sink::Postgres(
                pool.acquire()
                    .await
                    .map_err(StoreError::from_query)?
                    .detach(),
            ),
        };
        let result = generate_on(&mut conn, plan, &mut progress).await;
        let closed = conn.close().await;
        let mut report = result?;
        closed?;
        report.elapsed = started.elapsed();
        Ok(report)
    }
}

/// A person as generated.
struct GenPerson {
    id: PersonId,
    national_id: NationalId,
    given_name: &'static str,
    family_name: &'static str,
    language: Language,
    /// Digital post (active, not reserved): else paper.
    digital: bool,
    /// The search owner token (`p` + the id's hex).
    owner: String,
    id_text: String,
}

/// One letter's content, validated once and used for many letters.
struct Content {
    agency: &'static str,
    sender: String,
    title: String,
    safe_title: String,
    body_kind: BodyKind,
    body: String,
    body_html: String,
    search_text: String,
    pdf: Option<(String, Vec<u8>, [u8; 32])>,
    high: bool,
    decision: bool,
}

/// The generator's own connection, taken out of the pool (closed afterwards, so that its
/// settings never reach the pool).
enum Sink {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Sink {
    fn is_sqlite(&self) -> bool {
        matches!(self, Sink::Sqlite(_))
    }

    fn ex(&mut self) -> Ex<'_> {
        match self {
            Sink::Sqlite(conn) => Ex::Sqlite(conn),
            Sink::Postgres(conn) => Ex::Postgres(conn),
        }
    }

    async fn exec(&mut self, sql: &str) -> Result<(), StoreError> {
        self.ex().execute(sql, &[]).await.map(drop)
    }

    /// The one text column of every row of `sql`.
    async fn texts(&mut self, sql: &str) -> Result<Vec<String>, StoreError> {
        self.ex()
            .fetch_all(sql, &[])
            .await?
            .iter()
            .map(|row| row.text("value", "a generated value"))
            .collect()
    }

    /// A multi-row `INSERT`: `head`, then `VALUES` with one group per row from `row` (the
    /// backend's template, `{k}` for the row's k-th value; ids and times are bound as text
    /// and cast on PostgreSQL), the rows' values in order.
    async fn insert(
        &mut self,
        head: &str,
        row: &str,
        rows: usize,
        values: &[Val<'_>],
    ) -> Result<(), StoreError> {
        if rows == 0 {
            return Ok(());
        }
        let per_row = values.len() / rows;
        let rows: Vec<Vec<Val<'_>>> = values.chunks(per_row).map(<[Val<'_>]>::to_vec).collect();
        self.ex()
            .insert_rows_returning(head, row, &rows, "")
            .await
            .map(drop)
    }

    async fn close(self) -> Result<(), StoreError> {
        match self {
            Sink::Sqlite(conn) => conn.close().await,
            Sink::Postgres(conn) => conn.close().await,
        }
        .map_err(StoreError::from_query)
    }
}

async fn generate_on(
    conn: &mut Sink,
    plan: &GeneratePlan,
    progress: &mut impl FnMut(u64),
) -> Result<GenerateReport, GenerateError> {
    if conn.is_sqlite() {
        conn.exec("PRAGMA synchronous = OFF").await?;
        conn.exec("PRAGMA cache_size = -1048576").await?;
        conn.exec("PRAGMA temp_store = MEMORY").await?;
    } else {
        conn.exec("SET synchronous_commit = off").await?;
    }
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let now = stored_instant(plan.now);

    // Taken: the register's numbers, and the demo persons' (seeded at a later start).
    let mut taken: HashSet<String> = conn
        .texts("SELECT national_id AS value FROM persons")
        .await?
        .into_iter()
        .collect();
    taken.extend(
        crate::demo::demo_persons()
            .into_iter()
            .map(|person| person.national_id.expose().to_owned()),
    );
    let mut persons = make_persons(&mut rng, plan, taken)?;
    write_persons(conn, &mut rng, &mut persons, plan.named.len(), now).await?;

    let pools = [
        content_pool(&mut rng, Country::Norway, &persons[0].national_id, now)?,
        content_pool(&mut rng, Country::Denmark, &persons[0].national_id, now)?,
    ];
    let recipients = spread_letters(&mut rng, plan, persons.len());
    let mut report = GenerateReport {
        persons: persons.len() as u64,
        letters: 0,
        paper: 0,
        attachments: 0,
        named: Vec::new(),
        sample: Vec::new(),
        elapsed: StdDuration::ZERO,
    };
    let others = &persons[plan.named.len()..];
    let step = (others.len() / 1_000).max(1);
    report.sample = others
        .iter()
        .step_by(step)
        .filter(|person| person.digital)
        .take(1_000)
        .map(|person| person.national_id.clone())
        .collect();
    let mut named_unread = vec![0u32; plan.named.len()];
    let first_doc: i64 = if conn.is_sqlite() {
        conn.texts("SELECT CAST(COALESCE(MAX(doc), 0) AS TEXT) AS value FROM letters")
            .await?
            .first()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    } else {
        0 // no doc numbers on PostgreSQL
    };
    let start = now - Duration::days(HISTORY_DAYS);
    let span = (now - Duration::hours(1) - start).whole_microseconds();
    let total = recipients.len().max(1) as i128;
    for (chunk_index, chunk) in recipients.chunks(LETTERS_PER_TRANSACTION).enumerate() {
        let base = chunk_index * LETTERS_PER_TRANSACTION;
        let mut rows = Vec::with_capacity(chunk.len());
        for (offset, &recipient) in chunk.iter().enumerate() {
            let position = base + offset;
            let person = &persons[recipient as usize];
            let named = (recipient as usize) < plan.named.len();
            let at_micros = span * position as i128 / total;
            let delivered_at = start
                + Duration::microseconds(i64::try_from(at_micros).unwrap_or(0))
                + Duration::microseconds(rng.gen_range(0..1_000_000));
            let delivered_at = stored_instant(delivered_at.min(now - Duration::minutes(30)));
            let country = person.national_id.country();
            let pool = match country {
                Country::Norway => &pools[0],
                Country::Denmark => &pools[1],
            };
            let content = &pool[rng.gen_range(0..pool.len())];
            let row = letter_row(
                &mut rng,
                LetterInput {
                    doc: first_doc + 1 + position as i64,
                    person,
                    content,
                    delivered_at,
                    now,
                    named,
                },
            );
            if named && row.unread {
                if let Some(count) = named_unread.get_mut(recipient as usize) {
                    *count += 1;
                }
            }
            rows.push(row);
        }
        conn.exec("BEGIN").await?;
        let written = write_letters(conn, &rows).await?;
        conn.exec("COMMIT").await?;
        report.letters += rows.len() as u64;
        report.paper += written.paper;
        report.attachments += written.attachments;
        progress(report.letters);
    }
    if conn.is_sqlite() {
        conn.exec("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    } else {
        conn.exec("ANALYZE").await?;
    }
    report.named = plan
        .named
        .iter()
        .zip(&persons)
        .zip(named_unread)
        .map(|((letters, person), unread)| NamedPerson {
            national_id: person.national_id.clone(),
            person: person.id,
            letters: *letters,
            unread,
        })
        .collect();
    Ok(report)
}

const NORWEGIAN_GIVEN: [&str; 24] = [
    "Ola", "Kari", "Nora", "Emma", "Jakob", "Emil", "Sofie", "Lukas", "Ingrid", "Henrik", "Sara",
    "Magnus", "Ida", "Filip", "Maja", "Oskar", "Thea", "Aksel", "Hedda", "Sander", "Åse", "Bjørn",
    "Ragnhild", "Øystein",
];
const NORWEGIAN_FAMILY: [&str; 20] = [
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Johnsen",
    "Pettersen",
    "Eriksen",
    "Berg",
    "Haugen",
    "Hagen",
    "Johannessen",
    "Andreassen",
    "Jacobsen",
    "Dahl",
];
const DANISH_GIVEN: [&str; 20] = [
    "Mette", "Lars", "Anne", "Jens", "Kirsten", "Peter", "Hanne", "Michael", "Susanne", "Søren",
    "Freja", "William", "Ida", "Noah", "Clara", "Oscar", "Alma", "Karl", "Ella", "Mads",
];
const DANISH_FAMILY: [&str; 16] = [
    "Nielsen",
    "Jensen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Petersen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Thomsen",
    "Poulsen",
];

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.gen_range(0..items.len())]
}

fn random_birth_date(rng: &mut StdRng) -> Date {
    let year = rng.gen_range(1935..=2007);
    let month = Month::try_from(rng.gen_range(1u8..=12)).unwrap_or(Month::January);
    let day = rng.gen_range(1u8..=28);
    Date::from_calendar_date(year, month, day).unwrap_or(Date::MIN)
}

/// A synthetic Norwegian fødselsnummer or a Danish CPR number not yet taken.
fn new_national_id(
    rng: &mut StdRng,
    country: Country,
    taken: &mut HashSet<String>,
) -> Result<NationalId, GenerateError> {
    for _ in 0..10_000 {
        let birth = random_birth_date(rng);
        let made = match country {
            Country::Norway => {
                let individual = if birth.year() >= 2000 {
                    rng.gen_range(500..=999)
                } else {
                    rng.gen_range(0..=499)
                };
                NationalId::new_synthetic_norwegian(birth, individual).ok()
            }
            Country::Denmark => {
                let serial: u16 = if birth.year() >= 2000 {
                    rng.gen_range(4000..=4999)
                } else {
                    rng.gen_range(0..=3999)
                };
                let text = format!(
                    "{:02}{:02}{:02}{:04}",
                    birth.day(),
                    u8::from(birth.month()),
                    birth.year().rem_euclid(100),
                    serial
                );
                NationalId::parse_danish(&text)
                    .ok()
                    .filter(|id| id.birth_date() == birth)
            }
        };
        if let Some(id) = made {
            if taken.insert(id.expose().to_owned()) {
                return Ok(id);
            }
        }
    }
    Err(GenerateError::Plan("ran out of national ids"))
}

fn make_persons(
    rng: &mut StdRng,
    plan: &GeneratePlan,
    mut taken: HashSet<String>,
) -> Result<Vec<GenPerson>, GenerateError> {
    let mut persons = Vec::with_capacity(plan.persons as usize);
    for index in 0..plan.persons as usize {
        let named = index < plan.named.len();
        let country = if named || rng.gen_bool(0.7) {
            Country::Norway
        } else {
            Country::Denmark
        };
        let national_id = new_national_id(rng, country, &mut taken)?;
        let (given_name, family_name) = match country {
            Country::Norway => (pick(rng, &NORWEGIAN_GIVEN), pick(rng, &NORWEGIAN_FAMILY)),
            Country::Denmark => (pick(rng, &DANISH_GIVEN), pick(rng, &DANISH_FAMILY)),
        };
        let language = match (country, rng.gen_range(0..100)) {
            (_, 0..=2) if !named => Language::En,
            (Country::Norway, 3..=12) if !named => Language::Nn,
            (Country::Norway, _) => Language::Nb,
            (Country::Denmark, _) => Language::Da,
        };
        let id = PersonId::new();
        persons.push(GenPerson {
            owner: format!("p{}", id.as_uuid().simple()),
            id_text: id.as_uuid().hyphenated().to_string(),
            id,
            national_id,
            given_name,
            family_name,
            language,
            digital: true,
        });
    }
    Ok(persons)
}

fn ts(at: OffsetDateTime) -> Result<String, StoreError> {
    encode_timestamp(at)
}

async fn write_persons(
    conn: &mut Sink,
    rng: &mut StdRng,
    persons: &mut [GenPerson],
    named: usize,
    now: OffsetDateTime,
) -> Result<(), GenerateError> {
    let row = if conn.is_sqlite() {
        "({0}, {1}, {2}, {3}, {4}, {5}, {6}, {6})"
    } else {
        "({0}::uuid, {1}, {2}, {3}, {4}::date, {5}, {6}::timestamptz, {6}::timestamptz)"
    };
    conn.exec("BEGIN").await?;
    for chunk in persons.chunks(ROWS_PER_INSERT) {
        let mut texts = Vec::with_capacity(chunk.len());
        for person in chunk {
            let created = ts(now - Duration::days(rng.gen_range(30..HISTORY_DAYS + 400)))?;
            let birth = person.national_id.birth_date();
            let birth = format!(
                "{:04}-{:02}-{:02}",
                birth.year(),
                u8::from(birth.month()),
                birth.day()
            );
            texts.push((birth, created));
        }
        let mut values = Vec::with_capacity(chunk.len() * 7);
        for (person, (birth, created)) in chunk.iter().zip(&texts) {
            values.extend([
                Val::Text(&person.id_text),
                Val::Text(person.national_id.expose()),
                Val::Text(person.given_name),
                Val::Text(person.family_name),
                Val::Text(birth),
                Val::Text(person.language.code()),
                Val::Text(created),
            ]);
        }
        conn.insert(
            "INSERT INTO persons (id, national_id, given_name, family_name, birth_date, \
             language, created_at, updated_at)",
            row,
            chunk.len(),
            &values,
        )
        .await?;
    }
    conn.exec("COMMIT").await?;

    // Contact entries: most active with e-mail and mobile of varying age, a few reserved,
    // deleted or never registered (no row).
    let mut rows = Vec::new();
    for (index, person) in persons.iter_mut().enumerate() {
        let roll = rng.gen_range(0..1000);
        if index >= named && roll < 10 {
            person.digital = false; // not registered: no contact row, paper
            continue;
        }
        let (status, reserved) = match roll {
            _ if index < named => ("active", false),
            10..=14 => ("deleted", false),
            15..=34 => ("active", true),
            _ => ("active", false),
        };
        person.digital = status == "active" && !reserved;
        let updated = now - Duration::days(rng.gen_range(1..900));
        let verified = updated + Duration::minutes(rng.gen_range(1..30));
        let domain = match person.national_id.country() {
            Country::Norway => "eksempel.no",
            Country::Denmark => "eksempel.dk",
        };
        let email = rng.gen_bool(0.8).then(|| {
            EmailAddress::parse(&format!(
                "{}.{}{}@{domain}",
                person.given_name.to_lowercase(),
                person.family_name.to_lowercase(),
                index
            ))
            .ok()
        });
        let mobile = rng.gen_bool(0.85).then(|| {
            let (prefix, country) = match person.national_id.country() {
                Country::Norway => ("+479", Country::Norway),
                Country::Denmark => ("+452", Country::Denmark),
            };
            MobileNumber::parse(
                &format!("{prefix}{:07}", rng.gen_range(0..10_000_000)),
                country,
            )
            .ok()
        });
        rows.push(ContactRow {
            person: person.id_text.clone(),
            status,
            email: email.flatten().map(|e| e.as_str().to_owned()),
            mobile: mobile.flatten().map(|m| m.as_str().to_owned()),
            reserved,
            updated: ts(updated)?,
            verified: ts(verified)?,
        });
    }
    let row = if conn.is_sqlite() {
        "({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, 'portal', NULL, {10}, {10})"
    } else {
        "({0}::uuid, {1}, {2}, {3}::timestamptz, {4}::timestamptz, {5}, {6}::timestamptz, \
         {7}::timestamptz, {8}, {9}::timestamptz, 'portal', NULL, {10}::timestamptz, \
         {10}::timestamptz)"
    };
    conn.exec("BEGIN").await?;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut values = Vec::with_capacity(chunk.len() * 11);
        for c in chunk {
            let email_at = c.email.is_some();
            let mobile_at = c.mobile.is_some();
            values.extend([
                Val::Text(&c.person),
                Val::Text(c.status),
                Val::OptText(c.email.as_deref()),
                Val::OptText(email_at.then_some(c.updated.as_str())),
                Val::OptText(email_at.then_some(c.verified.as_str())),
                Val::OptText(c.mobile.as_deref()),
                Val::OptText(mobile_at.then_some(c.updated.as_str())),
                Val::OptText(mobile_at.then_some(c.verified.as_str())),
                Val::Bool(c.reserved),
                Val::OptText(c.reserved.then_some(c.updated.as_str())),
                Val::Text(&c.updated),
            ]);
        }
        conn.insert(
            "INSERT INTO contact_info (person_id, status, email, email_updated_at, \
             email_verified_at, mobile, mobile_updated_at, mobile_verified_at, reserved, \
             reservation_changed_at, mailbox, mailbox_provider, created_at, updated_at)",
            row,
            chunk.len(),
            &values,
        )
        .await?;
    }
    conn.exec("COMMIT").await?;
    Ok(())
}

struct ContactRow {
    person: String,
    status: &'static str,
    email: Option<String>,
    mobile: Option<String>,
    reserved: bool,
    updated: String,
    verified: String,
}

/// (agency, sender name, title template, body template, html?) per country. `{n}`, `{kr}`,
/// `{month}`, `{year}` are filled in.
type Template = (&'static str, &'static str, &'static str, &'static str, bool);

const NORWEGIAN_TEMPLATES: [Template; 10] = [
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

const DANISH_TEMPLATES: [Template; 8] = [
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

const NORWEGIAN_MONTHS: [&str; 12] = [
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
const DANISH_MONTHS: [&str; 12] = [
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
const POOL_SIZE: usize = 1_500;

/// The content pool of a country: [`POOL_SIZE`] letters through the domain's checks.
fn content_pool(
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
fn spread_letters(rng: &mut StdRng, plan: &GeneratePlan, persons: usize) -> Vec<u32> {
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

struct LetterInput<'a> {
    doc: i64,
    person: &'a GenPerson,
    content: &'a Content,
    delivered_at: OffsetDateTime,
    now: OffsetDateTime,
    named: bool,
}

struct LetterRow<'a> {
    doc: i64,
    id: String,
    person: &'a GenPerson,
    content: &'a Content,
    message_id: String,
    digital: bool,
    effective_at: String,
    shown_at: String,
    delivered_at: String,
    created_at: String,
    folder: Option<&'static str>,
    unread: bool,
    opened_at: Option<String>,
    trashed_at: Option<String>,
}

fn letter_row<'a>(rng: &mut StdRng, input: LetterInput<'a>) -> LetterRow<'a> {
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
struct Written {
    paper: u64,
    attachments: u64,
}

async fn write_letters(conn: &mut Sink, rows: &[LetterRow<'_>]) -> Result<Written, StoreError> {
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
