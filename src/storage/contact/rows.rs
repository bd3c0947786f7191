//! The contact register's statements: `contact_info` joined to its person, the codes waiting
//! to be typed in (`contact_verifications`) and when codes were sent (`contact_code_sends`).

use time::OffsetDateTime;
use uuid::Uuid;

use crate::contact::{
    ContactInfo, ContactMethod, ContactStatus, ContactValue, EmailAddress, Mailbox, MobileNumber,
    MAX_CODE_ATTEMPTS,
};
use crate::identity::NationalId;
use crate::person::{Language, PersonId};
use crate::storage::sql::{Dialect, Ex, Row, Val};
use crate::storage::StoreError;

/// A `contact_info` row joined to its person; the contact columns are `None` when the person
/// has no row yet.
pub(in crate::storage) struct ContactParts {
    pub person: PersonId,
    pub national_id: String,
    pub language: String,
    pub status: Option<String>,
    pub email: Option<String>,
    pub email_updated_at: Option<OffsetDateTime>,
    pub email_verified_at: Option<OffsetDateTime>,
    pub mobile: Option<String>,
    pub mobile_updated_at: Option<OffsetDateTime>,
    pub mobile_verified_at: Option<OffsetDateTime>,
    pub reserved: Option<bool>,
    pub reservation_changed_at: Option<OffsetDateTime>,
    pub mailbox: Option<String>,
    pub mailbox_provider: Option<String>,
}

impl ContactParts {
    /// The stored entry as a [`ContactInfo`] (changes waiting for a code not yet filled in).
    pub(in crate::storage) fn into_contact_info(self) -> Result<ContactInfo, StoreError> {
        let country = NationalId::parse(&self.national_id)
            .map(|id| id.country())
            .map_err(|_| StoreError::Corrupt {
                what: "person.national_id",
            })?;
        let language = Language::from_code(&self.language).ok_or(StoreError::Corrupt {
            what: "person.language",
        })?;
        let Some(status) = self.status else {
            return Ok(ContactInfo::not_registered(self.person, country, language));
        };
        let status = ContactStatus::from_code(&status).ok_or(StoreError::Corrupt {
            what: "contact_info.status",
        })?;
        let email = contact_value(
            self.email,
            self.email_updated_at,
            self.email_verified_at,
            |value| EmailAddress::parse(value).ok(),
            "contact_info.email",
        )?;
        let mobile = contact_value(
            self.mobile,
            self.mobile_updated_at,
            self.mobile_verified_at,
            |value| MobileNumber::from_e164(value).ok(),
            "contact_info.mobile",
        )?;
        let mailbox = match (self.mailbox.as_deref(), self.mailbox_provider) {
            (Some("portal"), _) => Mailbox::Portal,
            (Some("external"), Some(provider)) => {
                Mailbox::external(&provider).map_err(|_| StoreError::Corrupt {
                    what: "contact_info.mailbox_provider",
                })?
            }
            _ => {
                return Err(StoreError::Corrupt {
                    what: "contact_info.mailbox",
                })
            }
        };
        Ok(ContactInfo {
            person: self.person,
            country,
            status,
            email,
            mobile,
            pending_email: None,
            pending_mobile: None,
            reserved: self.reserved.unwrap_or(false),
            reservation_changed_at: self.reservation_changed_at,
            mailbox,
            language,
        })
    }
}

fn contact_value<T>(
    value: Option<String>,
    updated_at: Option<OffsetDateTime>,
    verified_at: Option<OffsetDateTime>,
    parse: impl Fn(&str) -> Option<T>,
    what: &'static str,
) -> Result<Option<ContactValue<T>>, StoreError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let value = parse(&value).ok_or(StoreError::Corrupt { what })?;
    let updated_at = updated_at.ok_or(StoreError::Corrupt { what })?;
    Ok(Some(ContactValue {
        value,
        updated_at,
        verified_at,
    }))
}

/// How a [`ContactInfo`] is written back: the mailbox as a code and a provider.
pub(in crate::storage) fn mailbox_columns(mailbox: &Mailbox) -> (&'static str, Option<&str>) {
    match mailbox {
        Mailbox::Portal => ("portal", None),
        Mailbox::External { provider } => ("external", Some(provider.as_str())),
    }
}

/// A `contact_verifications` row.
pub(in crate::storage) struct StoredVerification {
    pub id: Uuid,
    pub method: ContactMethod,
    pub new_value: String,
    pub code_salt: Vec<u8>,
    pub code_hash: Vec<u8>,
    pub attempts: u32,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl StoredVerification {
    pub(in crate::storage) fn attempts_left(&self) -> u32 {
        MAX_CODE_ATTEMPTS.saturating_sub(self.attempts)
    }
}

// ---------------------------------------------------------------------------------------------
// Contact entries

/// The columns a [`ContactParts`] is read from (`p` the person, `c` the entry).
macro_rules! contact_columns {
    () => {
        "p.id AS person_id, p.national_id, p.language, c.status, c.email, c.email_updated_at, \
         c.email_verified_at, c.mobile, c.mobile_updated_at, c.mobile_verified_at, c.reserved, \
         c.reservation_changed_at, c.mailbox, c.mailbox_provider"
    };
}

/// The person's contact entry (a person without one has its contact columns NULL).
pub(in crate::storage) async fn find(
    ex: &mut Ex<'_>,
    person: PersonId,
) -> Result<Option<ContactParts>, StoreError> {
    let row = ex
        .fetch_optional(
            concat!(
                "SELECT ",
                contact_columns!(),
                " FROM persons p LEFT JOIN contact_info c ON c.person_id = p.id WHERE p.id = $1"
            ),
            &[Val::Uuid(person.as_uuid())],
        )
        .await?;
    row.as_ref().map(parts_from_row).transpose()
}

/// The entries of every person whose national id is in the list (one parameter: a JSON array
/// on SQLite, a `text[]` on PostgreSQL), on the national id's unique index.
const BY_NATIONAL_IDS: Dialect = Dialect {
    sqlite: concat!(
        "SELECT ",
        contact_columns!(),
        " FROM persons p LEFT JOIN contact_info c ON c.person_id = p.id \
         WHERE p.national_id IN (SELECT value FROM json_each($1))"
    ),
    postgres: concat!(
        "SELECT ",
        contact_columns!(),
        " FROM persons p LEFT JOIN contact_info c ON c.person_id = p.id \
         WHERE p.national_id = ANY($1)"
    ),
};

/// The entries of every person whose national id (normalised digits) is in `national_ids`, in
/// one query. Ids no person has are simply not in the answer.
pub(in crate::storage) async fn find_by_national_ids(
    ex: &mut Ex<'_>,
    national_ids: &[&str],
) -> Result<Vec<ContactParts>, StoreError> {
    if national_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = ex.dialect(&BY_NATIONAL_IDS);
    ex.fetch_all(sql, &[Val::TextList(national_ids)])
        .await?
        .iter()
        .map(parts_from_row)
        .collect()
}

/// The entry, read to be changed: on PostgreSQL the row is locked for the transaction; on
/// SQLite the transaction is `BEGIN IMMEDIATE` and holds the write lock already.
const LOCK: Dialect = Dialect {
    sqlite: concat!(
        "SELECT ",
        contact_columns!(),
        " FROM contact_info c JOIN persons p ON p.id = c.person_id WHERE c.person_id = $1"
    ),
    postgres: concat!(
        "SELECT ",
        contact_columns!(),
        " FROM contact_info c JOIN persons p ON p.id = c.person_id WHERE c.person_id = $1 \
         FOR UPDATE OF c"
    ),
};

/// Makes sure the person has a row (a concurrent insert of the same row waits for the other
/// transaction, then does nothing), then reads it locked: changes to one person's entry run
/// one at a time, whichever instance they come from.
pub(in crate::storage) async fn lock(
    ex: &mut Ex<'_>,
    person: PersonId,
    now: OffsetDateTime,
) -> Result<Option<ContactParts>, StoreError> {
    // `WHERE` on the SELECT also keeps SQLite from reading `ON CONFLICT` as a join's `ON`.
    ex.execute(
        "INSERT INTO contact_info (person_id, status, reserved, mailbox, created_at, updated_at) \
         SELECT id, 'not_registered', FALSE, 'portal', $2, $2 FROM persons WHERE id = $1 \
         ON CONFLICT (person_id) DO NOTHING",
        &[Val::Uuid(person.as_uuid()), Val::Time(now)],
    )
    .await?;
    let sql = ex.dialect(&LOCK);
    let row = ex
        .fetch_optional(sql, &[Val::Uuid(person.as_uuid())])
        .await?;
    row.as_ref().map(parts_from_row).transpose()
}

pub(in crate::storage) async fn write(
    ex: &mut Ex<'_>,
    info: &ContactInfo,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let (mailbox, provider) = mailbox_columns(&info.mailbox);
    let email = info.email.as_ref();
    let mobile = info.mobile.as_ref();
    ex.execute(
        "UPDATE contact_info SET status = $2, email = $3, email_updated_at = $4, \
         email_verified_at = $5, mobile = $6, mobile_updated_at = $7, mobile_verified_at = $8, \
         reserved = $9, reservation_changed_at = $10, mailbox = $11, mailbox_provider = $12, \
         updated_at = $13 WHERE person_id = $1",
        &[
            Val::Uuid(info.person.as_uuid()),
            Val::Text(info.status.code()),
            Val::OptText(email.map(|email| email.value.as_str())),
            Val::OptTime(email.map(|email| email.updated_at)),
            Val::OptTime(email.and_then(|email| email.verified_at)),
            Val::OptText(mobile.map(|mobile| mobile.value.as_str())),
            Val::OptTime(mobile.map(|mobile| mobile.updated_at)),
            Val::OptTime(mobile.and_then(|mobile| mobile.verified_at)),
            Val::Bool(info.reserved),
            Val::OptTime(info.reservation_changed_at),
            Val::Text(mailbox),
            Val::OptText(provider),
            Val::Time(now),
        ],
    )
    .await
    .map(drop)
}

pub(in crate::storage) async fn write_language(
    ex: &mut Ex<'_>,
    person: PersonId,
    language: Language,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE persons SET language = $2, updated_at = $3 WHERE id = $1",
        &[
            Val::Uuid(person.as_uuid()),
            Val::Text(language.code()),
            Val::Time(now),
        ],
    )
    .await
    .map(drop)
}

fn parts_from_row(row: &Row) -> Result<ContactParts, StoreError> {
    const WHAT: &str = "contact_info";
    Ok(ContactParts {
        person: PersonId::from_uuid(row.uuid("person_id", "contact_info.person_id")?),
        national_id: row.text("national_id", WHAT)?,
        language: row.text("language", WHAT)?,
        status: row.opt_text("status", WHAT)?,
        email: row.opt_text("email", WHAT)?,
        email_updated_at: row.opt_time("email_updated_at", "contact_info.email_updated_at")?,
        email_verified_at: row.opt_time("email_verified_at", "contact_info.email_verified_at")?,
        mobile: row.opt_text("mobile", WHAT)?,
        mobile_updated_at: row.opt_time("mobile_updated_at", "contact_info.mobile_updated_at")?,
        mobile_verified_at: row
            .opt_time("mobile_verified_at", "contact_info.mobile_verified_at")?,
        reserved: row.opt_bool("reserved", WHAT)?,
        reservation_changed_at: row.opt_time(
            "reservation_changed_at",
            "contact_info.reservation_changed_at",
        )?,
        mailbox: row.opt_text("mailbox", WHAT)?,
        mailbox_provider: row.opt_text("mailbox_provider", WHAT)?,
    })
}

// ---------------------------------------------------------------------------------------------
// Verification codes

/// The person's codes waiting to be typed in.
pub(in crate::storage) async fn verifications(
    ex: &mut Ex<'_>,
    person: PersonId,
) -> Result<Vec<StoredVerification>, StoreError> {
    ex.fetch_all(
        "SELECT id, method, new_value, code_salt, code_hash, attempts, created_at, expires_at \
         FROM contact_verifications WHERE person_id = $1 ORDER BY method",
        &[Val::Uuid(person.as_uuid())],
    )
    .await?
    .iter()
    .map(verification_from_row)
    .collect()
}

pub(in crate::storage) async fn put_verification(
    ex: &mut Ex<'_>,
    person: PersonId,
    verification: &StoredVerification,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO contact_verifications (id, person_id, method, new_value, code_salt, \
         code_hash, attempts, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (person_id, method) DO UPDATE SET id = excluded.id, \
         new_value = excluded.new_value, code_salt = excluded.code_salt, \
         code_hash = excluded.code_hash, attempts = excluded.attempts, \
         created_at = excluded.created_at, expires_at = excluded.expires_at",
        &[
            Val::Uuid(verification.id),
            Val::Uuid(person.as_uuid()),
            Val::Text(verification.method.code()),
            Val::Text(&verification.new_value),
            Val::Bytes(&verification.code_salt),
            Val::Bytes(&verification.code_hash),
            Val::Int(i64::from(verification.attempts)),
            Val::Time(verification.created_at),
            Val::Time(verification.expires_at),
        ],
    )
    .await
    .map(drop)
}

pub(in crate::storage) async fn set_verification_attempts(
    ex: &mut Ex<'_>,
    id: Uuid,
    attempts: u32,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE contact_verifications SET attempts = $2 WHERE id = $1",
        &[Val::Uuid(id), Val::Int(i64::from(attempts))],
    )
    .await
    .map(drop)
}

pub(in crate::storage) async fn delete_verification(
    ex: &mut Ex<'_>,
    person: PersonId,
    method: ContactMethod,
) -> Result<(), StoreError> {
    ex.execute(
        "DELETE FROM contact_verifications WHERE person_id = $1 AND method = $2",
        &[Val::Uuid(person.as_uuid()), Val::Text(method.code())],
    )
    .await
    .map(drop)
}

pub(in crate::storage) async fn delete_expired_verifications(
    ex: &mut Ex<'_>,
    before: OffsetDateTime,
) -> Result<u64, StoreError> {
    ex.execute(
        "DELETE FROM contact_verifications WHERE expires_at <= $1",
        &[Val::Time(before)],
    )
    .await
}

/// When codes went to this method after `since`, oldest first.
pub(in crate::storage) async fn recent_code_sends(
    ex: &mut Ex<'_>,
    person: PersonId,
    method: ContactMethod,
    since: OffsetDateTime,
) -> Result<Vec<OffsetDateTime>, StoreError> {
    ex.fetch_all(
        "SELECT sent_at FROM contact_code_sends \
         WHERE person_id = $1 AND method = $2 AND sent_at > $3 ORDER BY sent_at",
        &[
            Val::Uuid(person.as_uuid()),
            Val::Text(method.code()),
            Val::Time(since),
        ],
    )
    .await?
    .iter()
    .map(|row| row.time("sent_at", "contact_code_send.sent_at"))
    .collect()
}

/// Records a send at `at` and forgets those at or before `forget_before`.
pub(in crate::storage) async fn record_code_send(
    ex: &mut Ex<'_>,
    person: PersonId,
    method: ContactMethod,
    at: OffsetDateTime,
    forget_before: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "DELETE FROM contact_code_sends WHERE person_id = $1 AND method = $2 AND sent_at <= $3",
        &[
            Val::Uuid(person.as_uuid()),
            Val::Text(method.code()),
            Val::Time(forget_before),
        ],
    )
    .await?;
    ex.execute(
        "INSERT INTO contact_code_sends (person_id, method, sent_at) VALUES ($1, $2, $3) \
         ON CONFLICT (person_id, method, sent_at) DO NOTHING",
        &[
            Val::Uuid(person.as_uuid()),
            Val::Text(method.code()),
            Val::Time(at),
        ],
    )
    .await
    .map(drop)
}

fn verification_from_row(row: &Row) -> Result<StoredVerification, StoreError> {
    const WHAT: &str = "contact_verification";
    let attempts = row.int("attempts", "contact_verification.attempts")?;
    Ok(StoredVerification {
        id: row.uuid("id", "contact_verification.id")?,
        method: ContactMethod::from_code(row.str("method", "contact_verification.method")?).ok_or(
            StoreError::Corrupt {
                what: "contact_verification.method",
            },
        )?,
        new_value: row.text("new_value", WHAT)?,
        code_salt: row.bytes("code_salt", WHAT)?,
        code_hash: row.bytes("code_hash", WHAT)?,
        attempts: u32::try_from(attempts).map_err(|_| StoreError::Corrupt {
            what: "contact_verification.attempts",
        })?,
        created_at: row.time("created_at", "contact_verification.created_at")?,
        expires_at: row.time("expires_at", "contact_verification.expires_at")?,
    })
}
