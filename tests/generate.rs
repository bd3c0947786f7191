#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The data generator (`Database::generate_data`, behind `borgerportal generate-data`): a
//! small generated database is what the real mailbox queries read, on SQLite and on
//! PostgreSQL (a fresh database on the server in `BORGERPORTAL_TEST_POSTGRES_URL`, which
//! must be set, as for `tests/storage.rs`).

use borgerportal::post::UNREAD_COUNT_LIMIT;
use borgerportal::{
    Access, Actor, AgencyAccess, AgencyGrants, AgencyId, Database, DeliverPost, FolderRef,
    GeneratePlan, Loa, MailboxView, NewLetter, PersonId, Policy, ReadPost,
};
use borgerportal::{BodyKind, DeliveryStatus};
use sqlx::Connection as _;
use time::macros::datetime;
use time::Duration;

fn read_post(person: PersonId) -> Access<ReadPost> {
    let actor = Actor::Citizen {
        person,
        loa: Loa::Substantial,
    };
    Policy::authorize::<ReadPost>(&actor, person).unwrap()
}

fn deliver_access() -> AgencyAccess<DeliverPost> {
    let actor = Actor::Agency {
        agency: AgencyId::parse("nav").unwrap(),
        grants: AgencyGrants::DELIVER_POST,
    };
    Policy::authorize_agency::<DeliverPost>(&actor).unwrap()
}

async fn count(url: &str, sql: &str) -> i64 {
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&mut conn)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_generated_database_is_what_the_mailbox_reads_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("gen.db").display());
    generated_database_is_what_the_mailbox_reads(&url).await;
}

#[tokio::test]
async fn a_generated_database_is_what_the_mailbox_reads_on_postgres() {
    let server = std::env::var("BORGERPORTAL_TEST_POSTGRES_URL")
        .expect("BORGERPORTAL_TEST_POSTGRES_URL names the PostgreSQL server for the tests");
    let name = format!("bp_gen_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    let url = format!("{base}/{name}");
    let outcome = tokio::spawn({
        let url = url.clone();
        async move { generated_database_is_what_the_mailbox_reads(&url).await }
    })
    .await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}

async fn generated_database_is_what_the_mailbox_reads(url: &str) {
    let url = url.to_owned();
    let sqlite = url.starts_with("sqlite:");
    let db = Database::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let now = datetime!(2026-11-24 12:00 UTC);
    let plan = GeneratePlan {
        persons: 300,
        letters: 6_000,
        named: vec![10, 200, 1_000],
        seed: 7,
        now,
    };
    let mut progress = Vec::new();
    let report = db
        .generate_data(&plan, |done| progress.push(done))
        .await
        .unwrap();
    assert_eq!(report.persons, 300);
    assert_eq!(report.letters, 6_000);
    assert_eq!(progress.last(), Some(&6_000));
    assert!(report.attachments > 0, "some letters have a PDF");
    assert_eq!(db.count_persons().await.unwrap(), 300);
    assert_eq!(count(&url, "SELECT COUNT(*) FROM letters").await, 6_000);
    assert_eq!(
        count(&url, "SELECT COUNT(*) FROM letter_attachments").await,
        i64::try_from(report.attachments).unwrap()
    );
    // Every digital letter has its search entry and every letter its receipt.
    let search_entries = if sqlite {
        "SELECT COUNT(*) FROM letters_fts"
    } else {
        "SELECT COUNT(*) FROM letters WHERE search <> ''::tsvector AND outcome = 'delivered'"
    };
    assert_eq!(
        count(&url, search_entries).await,
        count(
            &url,
            "SELECT COUNT(*) FROM letters WHERE outcome = 'delivered'"
        )
        .await
    );
    assert_eq!(
        count(&url, "SELECT COUNT(*) FROM post_receipts").await,
        6_000
    );
    assert!(
        count(
            &url,
            "SELECT COUNT(*) FROM letters WHERE folder = 'archive'"
        )
        .await
            > 0
    );
    let future = if sqlite {
        "SELECT COUNT(*) FROM letters WHERE shown_at > '2026-11-24T12:00:00.000000Z'"
    } else {
        "SELECT COUNT(*) FROM letters WHERE shown_at > '2026-11-24T12:00:00Z'"
    };
    assert_eq!(count(&url, future).await, 0);

    assert_eq!(report.named.len(), 3);
    for (named, expected) in report.named.iter().zip([10, 200, 1_000]) {
        assert_eq!(named.letters, expected);
        let person = db
            .find_person_by_national_id(&named.national_id)
            .await
            .unwrap()
            .expect("the named person is registered");
        assert_eq!(person.id, named.person);
        let me = read_post(person.id);
        // The whole inbox, page by page through the keyset cursor.
        let mut seen = 0;
        let mut after = None;
        loop {
            let page = db
                .list_letters(
                    &me,
                    None,
                    MailboxView::Folder(FolderRef::Inbox),
                    after,
                    100,
                    now,
                )
                .await
                .unwrap();
            seen += page.letters.len();
            if page.next.is_none() {
                break;
            }
            after = page.next;
        }
        assert_eq!(
            seen, expected as usize,
            "inbox of the {expected}-letter person"
        );
        assert_eq!(
            db.unread_count(&me, now).await.unwrap(),
            u64::from(named.unread).min(UNREAD_COUNT_LIMIT)
        );
        assert!(named.unread > 0 && named.unread < named.letters);
    }

    // Search finds the big mailbox's letters by a sender's name and a title's word, and only
    // that person's.
    let big = &report.named[2];
    let me = read_post(big.person);
    let first = db
        .list_letters(
            &me,
            None,
            MailboxView::Folder(FolderRef::Inbox),
            None,
            20,
            now,
        )
        .await
        .unwrap();
    let sample = &first.letters[0];
    let word = sample
        .sender_name
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let found = db
        .search_letters(&me, None, &word, None, 50, now)
        .await
        .unwrap();
    assert!(!found.letters.is_empty(), "search for {word:?}");
    assert!(found.letters.iter().all(|l| l.sender_name.contains(&word)));
    let small = read_post(report.named[0].person);
    let theirs = db
        .search_letters(&small, None, &word, None, 50, now)
        .await
        .unwrap();
    assert!(theirs.letters.len() <= 10);

    // The portal goes on delivering on top of it (fresh doc numbers, same schema).
    let letter = NewLetter {
        recipient: big.national_id.clone(),
        message_id: "after-generate-1".into(),
        sender_name: "NAV".into(),
        title: "Nytt brev".into(),
        safe_title: "Brev fra NAV".into(),
        body_kind: BodyKind::Text,
        body: "Hei".into(),
        attachments: Vec::new(),
        required_loa: Loa::Substantial,
        effective_at: None,
        wants_opening_receipt: false,
        is_decision: false,
        created_at: now,
        notification: Default::default(),
    };
    let receipt = db
        .deliver_letter(&deliver_access(), letter, now + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(receipt.status, DeliveryStatus::Delivered);
    assert_eq!(
        db.unread_count(&me, now + Duration::minutes(2))
            .await
            .unwrap(),
        (u64::from(big.unread) + 1).min(UNREAD_COUNT_LIMIT)
    );
    db.close().await;
}

#[tokio::test]
async fn an_impossible_plan_is_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("gen.db").display());
    let db = Database::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let plan = GeneratePlan {
        persons: 10,
        letters: 5,
        named: vec![10],
        seed: 1,
        now: datetime!(2026-11-24 12:00 UTC),
    };
    assert!(db.generate_data(&plan, |_| {}).await.is_err());
    assert_eq!(db.count_persons().await.unwrap(), 0);
}
