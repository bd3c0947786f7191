//! Opening a letter: by its recipient (read from now on, the opening receipt and the audit
//! event the first time) or by a helper acting for them (left unread, the helper's first
//! opening kept and shown to the recipient).

use time::OffsetDateTime;

use super::super::audit::citizen_event_about;
use super::super::sql::{Columns, Conn, Val};
use super::super::{stored_instant, Database, StoreError};
use super::{attachment_info_from_row, sensitive_for, summary_from_row};
use crate::access::{Access, Actor, Loa, ReadPost, ReadSensitivePost};
use crate::audit::AuditKind;
use crate::post::{
    BodyKind, HelperOpening, Letter, LetterId, LetterSummary, LetterView, PostError, ReceiptKind,
};

impl Database {
    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), person.id = %read.subject(), letter.id = %letter)
    )]
    /// Opens a letter: the whole letter, recorded as read; the first opening also records
    /// the opening receipt (if asked for) and an audit event `post.opened`. A letter that
    /// needs `high` without a `sensitive` proof gives [`LetterView::NeedsStepUp`] and records
    /// nothing.
    pub async fn open_letter(
        &self,
        read: &Access<ReadPost>,
        sensitive: Option<&Access<ReadSensitivePost>>,
        letter: LetterId,
        now: OffsetDateTime,
    ) -> Result<LetterView, PostError> {
        let now = stored_instant(now);
        let person = read.subject();
        let may_read_sensitive = sensitive_for(read, sensitive);
        let mut conn = Conn::acquire(&self.pool).await?;
        let row = Self::letter_row(&mut conn.ex(), person, letter, now).await?;
        drop(conn);
        let mut summary = summary_from_row(Columns::Named(&row), may_read_sensitive)?;
        if summary.locked {
            return Ok(LetterView::NeedsStepUp {
                summary,
                required: Loa::High,
            });
        }
        let opened_at = row.opt_time("opened_at", "letters.opened_at")?;
        let about = row.text("safe_title", "letters.safe_title")?;
        let opened_at = if read.basis().is_for_someone_else() {
            self.record_helper_opening(read, letter, about, now).await?;
            opened_at
        } else {
            // The agency's message id, when it asked for an opening receipt.
            let receipt = if row.bool("wants_opening_receipt", "letters.wants_opening_receipt")? {
                Some(row.text("agency_message_id", "letters.agency_message_id")?)
            } else {
                None
            };
            let opening = Opening {
                receipt,
                about,
                opened_at,
            };
            self.record_opening(read, opening, &mut summary, letter, now)
                .await?
        };
        let mut conn = Conn::acquire(&self.pool).await?;
        let mut ex = conn.ex();
        let attachments = ex
            .fetch_all(
                "SELECT position, filename, size FROM letter_attachments WHERE letter_id = $1 \
                 ORDER BY position",
                &[Val::Uuid(letter.as_uuid())],
            )
            .await?
            .iter()
            .map(attachment_info_from_row)
            .collect::<Result<_, _>>()?;
        let opened_by = ex
            .fetch_all(
                "SELECT o.opened_at, p.given_name, p.family_name FROM letter_openings o \
                 JOIN persons p ON p.id = o.helper_id WHERE o.letter_id = $1 \
                 ORDER BY o.opened_at, o.helper_id",
                &[Val::Uuid(letter.as_uuid())],
            )
            .await?
            .iter()
            .map(|row| {
                Ok(HelperOpening {
                    name: crate::person::join_names(
                        row.str("given_name", "persons.given_name")?,
                        row.str("family_name", "persons.family_name")?,
                    ),
                    at: row.time("opened_at", "letter_openings.opened_at")?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(LetterView::Open(Box::new(Letter {
            summary,
            body_kind: BodyKind::from_code(row.str("body_kind", "letters.body_kind")?).ok_or(
                StoreError::Corrupt {
                    what: "letters.body_kind",
                },
            )?,
            body_html: row.text("body_html", "letters.body_html")?,
            attachments,
            created_at: row.time("created_at", "letters.created_at")?,
            delivered_at: row.time("delivered_at", "letters.delivered_at")?,
            opened_at,
            opened_by,
        })))
    }

    /// The recipient opened the letter: read from now on; the first time, the opening
    /// receipt (if the agency asked for one) and the audit event. The first opening's time.
    async fn record_opening(
        &self,
        read: &Access<ReadPost>,
        opening: Opening,
        summary: &mut LetterSummary,
        letter: LetterId,
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, PostError> {
        let Opening {
            receipt,
            about,
            mut opened_at,
        } = opening;
        let person = read.subject();
        if summary.unread || opened_at.is_none() {
            let mut tx = self.begin_tx().await?;
            let first = tx
                .ex()
                .execute(
                    "UPDATE letters SET opened_at = $3, remind_at = NULL WHERE id = $1 \
                     AND recipient_id = $2 AND opened_at IS NULL",
                    &[
                        Val::Uuid(letter.as_uuid()),
                        Val::Uuid(person.as_uuid()),
                        Val::Time(now),
                    ],
                )
                .await?
                > 0;
            let mut ex = tx.ex();
            let sql = "UPDATE letters SET unread = FALSE WHERE id = $1 AND recipient_id = $2";
            ex.execute(
                sql,
                &[Val::Uuid(letter.as_uuid()), Val::Uuid(person.as_uuid())],
            )
            .await?;
            if first {
                if let Some(message_id) = &receipt {
                    Self::insert_receipt(
                        &mut ex,
                        &summary.agency,
                        message_id,
                        Some(letter),
                        ReceiptKind::Opened,
                        None,
                        now,
                    )
                    .await?;
                }
                tx.insert_audit_event(&citizen_event_about(
                    read,
                    AuditKind::PostOpened,
                    about,
                    now,
                ))
                .await?;
                opened_at = Some(now);
                tracing::info!("letter opened for the first time");
            }
            tx.commit().await?;
            summary.unread = false;
        }
        Ok(opened_at)
    }

    /// A helper opened the letter for its recipient: it stays unread for them (no receipt:
    /// the recipient has not opened it), and the helper's first opening is kept, with an
    /// event in the recipient's activity log naming the helper.
    async fn record_helper_opening(
        &self,
        read: &Access<ReadPost>,
        letter: LetterId,
        about: String,
        now: OffsetDateTime,
    ) -> Result<(), PostError> {
        let Actor::Citizen { person: helper, .. } = read.actor() else {
            return Ok(());
        };
        let mut tx = self.begin_tx().await?;
        let first = tx
            .ex()
            .execute(
                "INSERT INTO letter_openings (letter_id, helper_id, opened_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (letter_id, helper_id) DO NOTHING",
                &[
                    Val::Uuid(letter.as_uuid()),
                    Val::Uuid(helper.as_uuid()),
                    Val::Time(now),
                ],
            )
            .await?
            > 0;
        if first {
            tx.insert_audit_event(&citizen_event_about(
                read,
                AuditKind::PostOpened,
                about,
                now,
            ))
            .await?;
            tx.commit().await?;
            tracing::info!("letter opened by a helper for the first time");
        }
        Ok(())
    }
}

/// What the recipient's opening records: the agency's message id when it asked for an opening
/// receipt, the letter's non-sensitive title for the activity log, and an earlier opening.
struct Opening {
    receipt: Option<String>,
    about: String,
    opened_at: Option<OffsetDateTime>,
}
