//! Who may sign when, and how a job ends: pure functions of the signers' statuses.
//!
//! A signer is *active* once their turn has come: every signer with a lower order has signed
//! (the lowest order is active from the job's opening). Only an active, waiting signer may
//! sign or decline. When the last waiting signer of an order signs, the next order becomes
//! active; when the last signer of all signs, the job goes to sealing. A decline, a
//! cancellation or the deadline ends the job for everyone who has not signed.
//!
//! The storage transaction reads the job's signers (the job's row locked), asks one of these
//! functions, and writes the [`Changes`] with a status event for each: so two signers of one
//! order signing at the same moment are decided one after the other, and exactly one of them
//! sees the job complete.

use time::{Duration, OffsetDateTime};

use super::{JobState, OnBehalfOf, SignerId, SignerStatus, SigningError};
use crate::contact::ContactInfo;

/// One signer as the rules see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signer {
    /// Which.
    pub id: SignerId,
    /// 0 to 9.
    pub order: u8,
    /// Where they stand.
    pub status: SignerStatus,
    /// Whether their turn has come.
    pub active: bool,
}

/// Whether a signer can be reached digitally, from the contact register at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Yes (or they sign for someone else, which the register does not decide).
    Reachable,
    /// Reserved against digital communication.
    Reserved,
    /// Unknown to the register, deleted, or without usable contact information.
    ContactInformationMissing,
}

impl Reach {
    /// Whether a signer can be reached, from their contact entry (`None`: the register does
    /// not know them): a signer for themself must be active, unreserved and have fresh contact
    /// information (the rule for notifications); one signing for someone else is not checked.
    pub fn of(
        on_behalf_of: OnBehalfOf,
        entry: Option<&ContactInfo>,
        now: OffsetDateTime,
        staleness: Duration,
    ) -> Reach {
        match (on_behalf_of, entry) {
            (OnBehalfOf::Other, _) => Reach::Reachable,
            (OnBehalfOf::Myself, Some(info)) if info.reserved => Reach::Reserved,
            (OnBehalfOf::Myself, Some(info)) if info.can_be_notified(now, staleness) => {
                Reach::Reachable
            }
            (OnBehalfOf::Myself, _) => Reach::ContactInformationMissing,
        }
    }
}

/// What a decision changes: each listed signer's new status, the signers whose turn has now
/// come, and the job's new state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// New statuses.
    pub statuses: Vec<(SignerId, SignerStatus)>,
    /// Signers whose turn comes now.
    pub activate: Vec<SignerId>,
    /// The job's new state, if it changes.
    pub job: Option<JobState>,
}

/// The signers' statuses and turns at creation, in the order given, and the job's state. A
/// signer who cannot be reached digitally fails the job at once (the agency sees why in their
/// status; the others are not applicable and nobody is asked); otherwise the lowest order is
/// active.
pub fn at_creation(signers: &[(u8, Reach)]) -> (Vec<(SignerStatus, bool)>, JobState) {
    let unreachable = signers.iter().any(|(_, reach)| *reach != Reach::Reachable);
    if unreachable {
        let statuses = signers
            .iter()
            .map(|(_, reach)| match reach {
                Reach::Reserved => (SignerStatus::Reserved, false),
                Reach::ContactInformationMissing => {
                    (SignerStatus::ContactInformationMissing, false)
                }
                Reach::Reachable => (SignerStatus::NotApplicable, false),
            })
            .collect();
        return (statuses, JobState::Failed);
    }
    let first = signers.iter().map(|(order, _)| *order).min();
    let statuses = signers
        .iter()
        .map(|(order, _)| (SignerStatus::Waiting, Some(*order) == first))
        .collect();
    (statuses, JobState::InProgress)
}

/// The signer `who`, if their turn has come and they have neither signed nor declined.
fn turn_of(signers: &[Signer], who: SignerId) -> Result<Signer, SigningError> {
    let signer = signers
        .iter()
        .find(|s| s.id == who && s.active)
        .ok_or(SigningError::NotFound)?;
    if signer.status != SignerStatus::Waiting {
        return Err(SigningError::AlreadyDone);
    }
    Ok(*signer)
}

/// `who` signs a job in progress.
pub fn sign(state: JobState, signers: &[Signer], who: SignerId) -> Result<Changes, SigningError> {
    if state != JobState::InProgress {
        return Err(SigningError::JobEnded);
    }
    let signer = turn_of(signers, who)?;
    let mut changes = Changes {
        statuses: vec![(signer.id, SignerStatus::Signed)],
        ..Changes::default()
    };
    let still_waiting = || {
        signers
            .iter()
            .filter(|s| s.id != who && s.status == SignerStatus::Waiting)
    };
    if still_waiting().any(|s| s.order == signer.order) {
        return Ok(changes);
    }
    match still_waiting().map(|s| s.order).min() {
        Some(next) => {
            changes.activate = still_waiting()
                .filter(|s| s.order == next && !s.active)
                .map(|s| s.id)
                .collect();
        }
        None => changes.job = Some(JobState::Sealing),
    }
    Ok(changes)
}

/// `who` declines: the job fails, and everyone else who has not signed is not asked.
pub fn decline(
    state: JobState,
    signers: &[Signer],
    who: SignerId,
) -> Result<Changes, SigningError> {
    if state != JobState::InProgress {
        return Err(SigningError::JobEnded);
    }
    let signer = turn_of(signers, who)?;
    let mut statuses = vec![(signer.id, SignerStatus::Rejected)];
    statuses.extend(
        signers
            .iter()
            .filter(|s| s.id != who && s.status == SignerStatus::Waiting)
            .map(|s| (s.id, SignerStatus::NotApplicable)),
    );
    Ok(Changes {
        statuses,
        activate: Vec::new(),
        job: Some(JobState::Failed),
    })
}

/// The agency cancels: everyone who has not signed is cancelled and the job fails. A job that
/// has ended already cannot be cancelled (its signatures stand).
pub fn cancel(state: JobState, signers: &[Signer]) -> Result<Changes, SigningError> {
    if state != JobState::InProgress {
        return Err(SigningError::JobEnded);
    }
    Ok(Changes {
        statuses: signers
            .iter()
            .filter(|s| s.status == SignerStatus::Waiting)
            .map(|s| (s.id, SignerStatus::Cancelled))
            .collect(),
        activate: Vec::new(),
        job: Some(JobState::Failed),
    })
}

/// The deadline passed: active signers who have not signed expire, the ones whose turn never
/// came are not applicable, and the job fails.
pub fn expire(state: JobState, signers: &[Signer]) -> Result<Changes, SigningError> {
    if state != JobState::InProgress {
        return Err(SigningError::JobEnded);
    }
    Ok(Changes {
        statuses: signers
            .iter()
            .filter(|s| s.status == SignerStatus::Waiting)
            .map(|s| {
                let status = if s.active {
                    SignerStatus::Expired
                } else {
                    SignerStatus::NotApplicable
                };
                (s.id, status)
            })
            .collect(),
        activate: Vec::new(),
        job: Some(JobState::Failed),
    })
}

/// When the reminder before the deadline is due, planned from the length of the open period
/// (SIGNING.md): 5 days before for a month or more, 3 for two weeks or more, 2 for a week or
/// more, 1 for two days or more; none for a shorter period.
pub fn reminder_at(opens_at: OffsetDateTime, deadline: OffsetDateTime) -> Option<OffsetDateTime> {
    let open = deadline - opens_at;
    let before = if open >= Duration::days(30) {
        Duration::days(5)
    } else if open >= Duration::days(14) {
        Duration::days(3)
    } else if open >= Duration::days(7) {
        Duration::days(2)
    } else if open >= Duration::days(2) {
        Duration::days(1)
    } else {
        return None;
    };
    Some(deadline - before)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    /// Signers with these orders, as at creation.
    fn job(orders: &[u8]) -> Vec<Signer> {
        let reach: Vec<_> = orders.iter().map(|o| (*o, Reach::Reachable)).collect();
        let (statuses, state) = at_creation(&reach);
        assert_eq!(state, JobState::InProgress);
        orders
            .iter()
            .zip(statuses)
            .map(|(order, (status, active))| Signer {
                id: SignerId::new(),
                order: *order,
                status,
                active,
            })
            .collect()
    }

    fn apply(signers: &mut [Signer], changes: &Changes) {
        for (id, status) in &changes.statuses {
            signers.iter_mut().find(|s| s.id == *id).unwrap().status = *status;
        }
        for id in &changes.activate {
            signers.iter_mut().find(|s| s.id == *id).unwrap().active = true;
        }
    }

    #[test]
    fn orders_sign_in_turn_and_the_last_signature_seals() {
        let mut signers = job(&[1, 0, 0, 5]);
        let active: Vec<bool> = signers.iter().map(|s| s.active).collect();
        assert_eq!(active, [false, true, true, false]);
        // Not their turn yet: as if the job did not exist for them.
        let err = sign(JobState::InProgress, &signers, signers[0].id).unwrap_err();
        assert_eq!(err.code(), "signing.not_found");

        let first = sign(JobState::InProgress, &signers, signers[1].id).unwrap();
        assert_eq!(first.statuses, [(signers[1].id, SignerStatus::Signed)]);
        assert!(first.activate.is_empty(), "order 0 is not done yet");
        assert_eq!(first.job, None);
        apply(&mut signers, &first);
        let again = sign(JobState::InProgress, &signers, signers[1].id).unwrap_err();
        assert_eq!(again.code(), "signing.already_done");

        let second = sign(JobState::InProgress, &signers, signers[2].id).unwrap();
        assert_eq!(second.activate, [signers[0].id], "order 1 starts");
        apply(&mut signers, &second);
        let third = sign(JobState::InProgress, &signers, signers[0].id).unwrap();
        assert_eq!(
            third.activate,
            [signers[3].id],
            "gaps in orders are skipped"
        );
        apply(&mut signers, &third);
        let last = sign(JobState::InProgress, &signers, signers[3].id).unwrap();
        assert_eq!(last.job, Some(JobState::Sealing));
        assert!(last.activate.is_empty());
        // A job that is sealing takes no more signatures.
        let ended = sign(JobState::Sealing, &signers, signers[3].id).unwrap_err();
        assert_eq!(ended.code(), "signing.job_ended");
    }

    #[test]
    fn two_signers_of_one_order_complete_the_job_once_whatever_the_order() {
        for first in 0..2 {
            let mut signers = job(&[3, 3]);
            let a = sign(JobState::InProgress, &signers, signers[first].id).unwrap();
            assert_eq!(a.job, None);
            apply(&mut signers, &a);
            let b = sign(JobState::InProgress, &signers, signers[1 - first].id).unwrap();
            assert_eq!(b.job, Some(JobState::Sealing));
        }
    }

    #[test]
    fn a_decline_fails_the_job_and_nobody_later_is_asked() {
        let mut signers = job(&[0, 0, 1]);
        let signed = sign(JobState::InProgress, &signers, signers[0].id).unwrap();
        apply(&mut signers, &signed);
        let declined = decline(JobState::InProgress, &signers, signers[1].id).unwrap();
        assert_eq!(
            declined.statuses,
            [
                (signers[1].id, SignerStatus::Rejected),
                (signers[2].id, SignerStatus::NotApplicable)
            ]
        );
        assert!(declined.activate.is_empty());
        assert_eq!(declined.job, Some(JobState::Failed));
        assert_eq!(
            decline(JobState::Failed, &signers, signers[2].id)
                .unwrap_err()
                .code(),
            "signing.job_ended"
        );
        // Someone whose turn has not come cannot decline either.
        let fresh = job(&[0, 1]);
        assert_eq!(
            decline(JobState::InProgress, &fresh, fresh[1].id)
                .unwrap_err()
                .code(),
            "signing.not_found"
        );
    }

    #[test]
    fn cancel_and_expiry_end_the_job_for_everyone_who_has_not_signed() {
        let mut signers = job(&[0, 0, 1]);
        let signed = sign(JobState::InProgress, &signers, signers[0].id).unwrap();
        apply(&mut signers, &signed);
        let cancelled = cancel(JobState::InProgress, &signers).unwrap();
        assert_eq!(
            cancelled.statuses,
            [
                (signers[1].id, SignerStatus::Cancelled),
                (signers[2].id, SignerStatus::Cancelled)
            ]
        );
        assert_eq!(cancelled.job, Some(JobState::Failed));
        let expired = expire(JobState::InProgress, &signers).unwrap();
        assert_eq!(
            expired.statuses,
            [
                (signers[1].id, SignerStatus::Expired),
                (signers[2].id, SignerStatus::NotApplicable)
            ]
        );
        for ended in [JobState::Sealing, JobState::Completed, JobState::Failed] {
            assert!(cancel(ended, &signers).is_err());
            assert!(expire(ended, &signers).is_err());
        }
    }

    #[test]
    fn an_unreachable_signer_fails_the_job_at_creation() {
        let (statuses, state) = at_creation(&[
            (0, Reach::Reachable),
            (1, Reach::Reserved),
            (1, Reach::ContactInformationMissing),
        ]);
        assert_eq!(state, JobState::Failed);
        assert_eq!(
            statuses,
            [
                (SignerStatus::NotApplicable, false),
                (SignerStatus::Reserved, false),
                (SignerStatus::ContactInformationMissing, false)
            ]
        );
    }

    #[test]
    fn reminders_grow_with_the_open_period() {
        let opens = datetime!(2026-01-01 09:00 UTC);
        for (days, before) in [(90, 5), (30, 5), (20, 3), (14, 3), (7, 2), (3, 1), (2, 1)] {
            let deadline = opens + Duration::days(days);
            assert_eq!(
                reminder_at(opens, deadline),
                Some(deadline - Duration::days(before)),
                "{days} days"
            );
        }
        assert_eq!(reminder_at(opens, opens + Duration::hours(47)), None);
    }
}
