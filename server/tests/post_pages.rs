//! The mailbox pages end to end, in-process: a real server, the demo letters, and a client that
//! plays a browser. Reading, attachments and their headers, the step-up for a `high` letter,
//! another citizen's letter, and the forms (move, unread, trash, restore, folders, search).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;

use reqwest::{header, StatusCode};

const TORBJORN: &str = "torbjørn";

async fn post(server: &TestServer, browser: &Browser, path: &str, form: &[(&str, &str)]) -> Reply {
    server.form(browser, path, form).await
}

/// A server with the demo persons and their letters, and Ingrid logged in at `loa`.
async fn with_letters(loa: &str) -> (TestServer, Browser) {
    let server = start().await;
    borgerportal::seed_demo_data(&server.db).await.unwrap();
    let added = borgerportal::seed_demo_post(&server.db, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert!(added > 0);
    let browser = Browser::new();
    server.login(&browser, INGRID, loa).await;
    (server, browser)
}

fn letter_with(html: &str, words: &str) -> String {
    letters(html)
        .into_iter()
        .find(|(_, line)| line.contains(words))
        .unwrap_or_else(|| panic!("a letter with {words:?} in {html}"))
        .0
}

#[tokio::test]
async fn the_inbox_lists_letters_newest_first_with_unread_marked_in_words() {
    let (server, browser) = with_letters("substantial").await;
    // Nothing personal is kept by a cache (Back after logout must not show it); a page that
    // differs by session varies by the cookie.
    for path in ["/post", "/", "/activity", "/contact"] {
        let reply = server.get(&browser, path).await;
        assert_eq!(reply.headers()[header::CACHE_CONTROL], "no-store", "{path}");
    }
    let anonymous = server.get(&Browser::new(), "/").await;
    assert!(!anonymous.headers().contains_key(header::CACHE_CONTROL));
    assert_eq!(anonymous.headers()[header::VARY], "cookie");
    let inbox = server.page(&browser, "/post").await;
    let lines = letters(&inbox);
    assert_eq!(lines.len(), 4, "{inbox}");
    assert!(
        lines.iter().all(|(_, line)| line.contains("Ulest")),
        "{lines:?}"
    );
    // Newest first: the NAV letter (3 days old) before the tax letter (12 days).
    let nav = lines
        .iter()
        .position(|(_, l)| l.contains("Brev fra NAV"))
        .unwrap();
    let tax = lines
        .iter()
        .position(|(_, l)| l.contains("Skattemeldingen"))
        .unwrap();
    assert!(nav < tax);
    // At `substantial`, the `high` letter shows only its non-sensitive title.
    assert!(!inbox.contains("dagpenger"), "{inbox}");
    // The header counts the unread letters.
    assert!(
        inbox.replace("<!>", "").contains("Post (4 uleste)"),
        "{inbox}"
    );
}

#[tokio::test]
async fn opening_a_letter_marks_it_read_and_serves_its_pdf_safely() {
    let (server, browser) = with_letters("substantial").await;
    let inbox = server.page(&browser, "/post").await;
    let id = letter_with(&inbox, "Skattemeldingen");
    let page = server.page(&browser, &format!("/post/letter/{id}")).await;
    assert!(page.contains("<strong>30. april</strong>"), "{page}");
    // The page's title is the letter's.
    let title = page
        .split("<title>")
        .nth(1)
        .unwrap()
        .split("</title>")
        .next()
        .unwrap();
    assert!(title.starts_with("Skattemeldingen"), "{title}");
    assert!(title.ends_with(" – Borgerportal"), "{title}");
    assert!(page.contains("skattemelding-2024.pdf"));
    let inbox = server.page(&browser, "/post").await;
    let line = letters(&inbox)
        .into_iter()
        .find(|(i, _)| *i == id)
        .unwrap()
        .1;
    assert!(!line.contains("Ulest"), "{line}");
    assert!(inbox.replace("<!>", "").contains("Post (3 uleste)"));

    let pdf = server
        .get(&browser, &format!("/post/letter/{id}/attachment/0"))
        .await;
    assert_eq!(pdf.status(), StatusCode::OK);
    let h = pdf.headers();
    assert_eq!(h[header::CONTENT_TYPE], "application/pdf");
    assert!(h[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("inline; filename=\"skattemelding-2024.pdf\""));
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.starts_with("sandbox"), "{csp}");
    assert!(pdf.body.starts_with("%PDF-"));
    let download = server
        .get(
            &browser,
            &format!("/post/letter/{id}/attachment/0?download=1"),
        )
        .await;
    assert!(download.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    let missing = server
        .get(&browser, &format!("/post/letter/{id}/attachment/7"))
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // The activity log names the letter by its non-sensitive title, never its title.
    let activity = server.page(&browser, "/activity").await;
    let opened = activity
        .split("<tr>")
        .find(|row| row.contains("Brev åpnet"))
        .unwrap_or_else(|| panic!("an opening in {activity}"));
    assert!(
        opened.contains("data-label=\"Gjelder\">Brev fra Skatteetaten<"),
        "{opened}"
    );
    assert!(!activity.contains("Skattemeldingen"), "{activity}");
    // The agency that delivered it, by name.
    let delivered = activity
        .split("<tr>")
        .find(|row| row.contains("Brev fra Skatteetaten") && !row.contains("Brev åpnet"))
        .unwrap_or_else(|| panic!("a delivery in {activity}"));
    assert!(delivered.contains(">Skatteetaten<"), "{delivered}");
}

#[tokio::test]
async fn a_high_letter_asks_for_a_step_up_and_shows_nothing_else() {
    let (server, browser) = with_letters("substantial").await;
    let inbox = server.page(&browser, "/post").await;
    let id = letter_with(&inbox, "Brev fra NAV");
    let page = server.page(&browser, &format!("/post/letter/{id}")).await;
    assert!(page.contains("Brev fra NAV"));
    assert!(!page.contains("dagpenger"), "{page}");
    // The page's title is the letter's non-sensitive title.
    assert!(
        page.contains("<title>Brev fra NAV – Borgerportal</title>"),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "/auth/login/testid-no?loa=high&amp;return_to=/post/letter/{id}"
        )),
        "{page}"
    );
    let pdf = server
        .get(&browser, &format!("/post/letter/{id}/attachment/0"))
        .await;
    assert_eq!(pdf.status(), StatusCode::SEE_OTHER);
    assert!(location(&pdf).starts_with("/auth/login/testid-no?loa=high"));

    // At `high` the letter opens.
    let high = Browser::new();
    server.login(&high, INGRID, "high").await;
    let page = server.page(&high, &format!("/post/letter/{id}")).await;
    assert!(page.contains("Vedtak om dagpenger"), "{page}");
    assert!(page.contains("innvilget dagpenger"));
}

#[tokio::test]
async fn another_citizen_gets_the_same_not_found_as_for_no_letter() {
    let (server, browser) = with_letters("substantial").await;
    let id = letter_with(&server.page(&browser, "/post").await, "Skattemeldingen");
    let torbjorn = Browser::new();
    server.login(&torbjorn, TORBJORN, "high").await;
    let theirs = server.page(&torbjorn, &format!("/post/letter/{id}")).await;
    let none = server
        .page(
            &torbjorn,
            "/post/letter/01a20d94-24b2-7177-8cfd-10441c44ec5e",
        )
        .await;
    // Torbjørn writes nynorsk: his pages are in nynorsk after login.
    assert!(theirs.contains("Vi fann ikkje brevet"));
    assert!(!theirs.contains("Skattemeldingen"));
    assert!(none.contains("Vi fann ikkje brevet"));
    let theirs = server
        .get(&torbjorn, &format!("/post/letter/{id}/attachment/0"))
        .await;
    let none = server
        .get(
            &torbjorn,
            "/post/letter/01a20d94-24b2-7177-8cfd-10441c44ec5e/attachment/0",
        )
        .await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    assert_eq!(none.status(), theirs.status());
    // Changing it is refused the same way.
    let moved = post(&server, &torbjorn, &format!("/post/letter/{id}/trash"), &[]).await;
    assert_eq!(moved.status(), StatusCode::NOT_FOUND);
    let mine = server.page(&browser, "/post").await;
    assert!(
        letters(&mine).iter().any(|(i, _)| *i == id),
        "still in Ingrid's inbox"
    );
}

#[tokio::test]
async fn move_mark_unread_delete_restore_folders_and_search() {
    let (server, browser) = with_letters("substantial").await;
    let inbox = server.page(&browser, "/post").await;
    let id = letter_with(&inbox, "Skattemeldingen");
    server.page(&browser, &format!("/post/letter/{id}")).await;

    // Moved: the archive says so, with an undo that moves it back where it was.
    let moved = post(
        &server,
        &browser,
        &format!("/post/letter/{id}/move"),
        &[("to", "archive"), ("from", "inbox")],
    )
    .await;
    assert_eq!(
        location(&moved),
        format!("/post?view=archive&done=moved&letter={id}&from=inbox")
    );
    let archive = server.page(&browser, &location(&moved)).await;
    assert_eq!(letters(&archive).len(), 1);
    let notice = archive
        .split("role=\"status\"")
        .nth(1)
        .unwrap_or_else(|| panic!("{archive}"));
    assert!(notice.contains("Brevet er flyttet hit."), "{notice}");
    assert!(
        notice.contains(&format!("action=\"/post/letter/{id}/move\""))
            && notice.contains("name=\"to\" value=\"inbox\"")
            && notice.contains("name=\"from\" value=\"archive\""),
        "{notice}"
    );
    let undone = post(
        &server,
        &browser,
        &format!("/post/letter/{id}/move"),
        &[("to", "inbox"), ("from", "archive")],
    )
    .await;
    assert_eq!(
        location(&undone),
        format!("/post?view=inbox&done=moved&letter={id}&from=archive")
    );
    assert!(letters(&server.page(&browser, "/post").await)
        .iter()
        .any(|(i, _)| *i == id));
    // A `from` that is no folder leaves the undo out.
    let moved = post(
        &server,
        &browser,
        &format!("/post/letter/{id}/move"),
        &[("to", "archive"), ("from", "javascript:alert(1)")],
    )
    .await;
    assert_eq!(
        location(&moved),
        format!("/post?view=archive&done=moved&letter={id}")
    );
    let archive = server.page(&browser, &location(&moved)).await;
    assert!(archive.contains("Brevet er flyttet hit."));
    assert!(
        !archive.contains("Angre"),
        "no undo without where it came from"
    );
    assert!(!letters(&server.page(&browser, "/post").await)
        .iter()
        .any(|(i, _)| *i == id));

    let unread = post(&server, &browser, &format!("/post/letter/{id}/unread"), &[]).await;
    assert_eq!(location(&unread), "/post?done=unread");
    assert!(server
        .page(&browser, &location(&unread))
        .await
        .contains("Brevet er merket som ulest."));
    let archive = server.page(&browser, "/post?view=archive").await;
    assert!(letters(&archive)[0].1.contains("Ulest"));

    // Deleted: the mailbox says so, with an undo that takes it out of the trash again.
    let trashed = post(&server, &browser, &format!("/post/letter/{id}/trash"), &[]).await;
    assert_eq!(
        location(&trashed),
        format!("/post?done=trashed&letter={id}")
    );
    let told = server.page(&browser, &location(&trashed)).await;
    assert!(told.contains("Brevet er lagt i papirkurven."), "{told}");
    assert!(told.contains(&format!("action=\"/post/letter/{id}/restore\"")));
    assert!(letters(&server.page(&browser, "/post?view=archive").await).is_empty());
    let undone = post(
        &server,
        &browser,
        &format!("/post/letter/{id}/restore"),
        &[("back", "mailbox")],
    )
    .await;
    assert_eq!(location(&undone), "/post?done=restored");
    assert!(server
        .page(&browser, "/post?done=restored")
        .await
        .contains("Brevet er lagt tilbake."));
    assert_eq!(
        letters(&server.page(&browser, "/post?view=archive").await).len(),
        1
    );
    post(&server, &browser, &format!("/post/letter/{id}/trash"), &[]).await;
    assert!(letters(&server.page(&browser, "/post?view=archive").await).is_empty());
    assert_eq!(
        letters(&server.page(&browser, "/post?view=trash").await).len(),
        1
    );
    let restored = post(
        &server,
        &browser,
        &format!("/post/letter/{id}/restore"),
        &[],
    )
    .await;
    assert_eq!(location(&restored), format!("/post/letter/{id}"));
    assert_eq!(
        letters(&server.page(&browser, "/post?view=archive").await).len(),
        1
    );

    // Search by a word of the body, and by the sender.
    let found = server.page(&browser, "/post?q=eiendomsskatt").await;
    assert_eq!(letters(&found).len(), 1, "{found}");
    assert!(found.contains("Søkeresultat"));
    let found = server.page(&browser, "/post?q=Skatteetaten").await;
    assert_eq!(letters(&found).len(), 1, "{found}");

    // Folders: create, the same name again is refused and shown, delete.
    let created = post(&server, &browser, "/post/folders", &[("name", "Skatt")]).await;
    assert_eq!(location(&created), "/post/folders");
    let again = post(&server, &browser, "/post/folders", &[("name", "Skatt")]).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again.body.contains("allerede en mappe med det navnet"),
        "{}",
        again.body
    );
    let page = server.page(&browser, "/post/folders").await;
    let folder = page
        .split("action=\"/post/folders/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let into = post(
        &server,
        &browser,
        &format!("/post/letter/{id}/move"),
        &[("to", &folder)],
    )
    .await;
    assert_eq!(
        location(&into),
        format!("/post?view={folder}&done=moved&letter={id}")
    );
    let refused = post(
        &server,
        &browser,
        &format!("/post/folders/{folder}/delete"),
        &[],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Mappen er ikke tom"));
    post(
        &server,
        &browser,
        &format!("/post/letter/{id}/move"),
        &[("to", "inbox")],
    )
    .await;
    let deleted = post(
        &server,
        &browser,
        &format!("/post/folders/{folder}/delete"),
        &[],
    )
    .await;
    assert_eq!(location(&deleted), "/post/folders");
    assert!(server
        .page(&browser, "/post/folders")
        .await
        .contains("ingen egne mapper"));
}

/// A generated person with `letters` letters in their inbox (the benchmark's data
/// generator), logged in through the test eID by their national id.
async fn person_with_letters(letters: u32) -> (TestServer, Browser) {
    let server = start().await;
    let plan = borgerportal::storage::GeneratePlan {
        persons: 2,
        letters: u64::from(letters),
        named: vec![letters],
        seed: 11,
        now: time::OffsetDateTime::now_utc(),
    };
    let report = server.db.generate_data(&plan, |_| {}).await.unwrap();
    let national_id = report.named[0].national_id.expose().to_owned();
    let browser = Browser::new();
    server.login_number(&browser, &national_id).await;
    (server, browser)
}

/// The older-page link of a mailbox page, if there is one.
fn older_link(html: &str) -> Option<String> {
    let pager = html.split("class=\"pager\"").nth(1)?;
    let href = pager.split("href=\"").nth(1)?.split('"').next()?;
    Some(unescape(href))
}

#[tokio::test]
async fn the_mailbox_pages_through_its_letters_and_shrugs_off_a_bad_address() {
    let (server, browser) = person_with_letters(29).await;

    // 29 letters: 20 on the first page and a link to the 9 older ones.
    let first = server.page(&browser, "/post").await;
    let first_lines = letters(&first);
    assert_eq!(first_lines.len(), 20, "{first}");
    let older = older_link(&first).expect("a link to older letters");
    assert!(older.starts_with("/post?after="), "{older}");
    let second = server.page(&browser, &older).await;
    let second_lines = letters(&second);
    assert_eq!(second_lines.len(), 9, "{second}");
    assert!(older_link(&second).is_none(), "{second}");
    assert!(second_lines
        .iter()
        .all(|(id, _)| !first_lines.iter().any(|(first_id, _)| first_id == id)));

    // A trailing slash, and an address the mailbox cannot make sense of, show the first page
    // of the inbox.
    for odd in [
        "/post/",
        "/post?after=not-a-cursor",
        "/post?view=inbox&view=trash",
        "/post?view=%FF",
    ] {
        let page = server.page(&browser, odd).await;
        assert_eq!(letters(&page), first_lines, "{odd}");
    }
}

#[tokio::test]
async fn the_header_marks_the_link_to_the_page_being_shown() {
    let (server, browser) = with_letters("substantial").await;
    let current = |html: &str, href: &str| {
        html.contains(&format!("<a href=\"{href}\" aria-current=\"page\""))
    };
    let inbox = server.page(&browser, "/post").await;
    assert!(current(&inbox, "/post"), "{inbox}");
    assert!(!current(&inbox, "/contact"), "{inbox}");
    let id = letter_with(&inbox, "Skattemeldingen");
    let letter = server.page(&browser, &format!("/post/letter/{id}")).await;
    assert!(current(&letter, "/post"), "{letter}");
    let contact = server.page(&browser, "/contact").await;
    assert!(current(&contact, "/contact"), "{contact}");
    assert!(!current(&contact, "/post"), "{contact}");
}

#[tokio::test]
async fn the_activity_log_pages_through_its_events() {
    let (server, browser) = with_letters("substantial").await;
    let inbox = server.page(&browser, "/post").await;
    let id = letter_with(&inbox, "Skattemeldingen");
    for n in 0..24 {
        let to = if n % 2 == 0 { "archive" } else { "inbox" };
        let moved = post(
            &server,
            &browser,
            &format!("/post/letter/{id}/move"),
            &[("to", to)],
        )
        .await;
        assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    }

    // 29 events (the four demo letters' deliveries, the login, 24 moves): 20 on the first
    // page, newest first, then 9.
    let rows = |html: &str| html.matches("<tr>").count() - 1;
    let first = server.page(&browser, "/activity").await;
    assert_eq!(rows(&first), 20, "{first}");
    let older = first
        .split("href=\"/activity?before=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|cursor| format!("/activity?before={}", unescape(cursor)))
        .expect("a link to older events");
    let second = server.page(&browser, &older).await;
    assert_eq!(rows(&second), 9, "{second}");
    assert!(
        second.contains("Logget inn"),
        "the login is among the oldest: {second}"
    );
    assert!(!first.contains("Logget inn"), "{first}");

    // The history of contact changes has none of them.
    let contact = server.page(&browser, "/activity?only=contact").await;
    assert!(!contact.contains("<table class=\"activity\""), "{contact}");
}
