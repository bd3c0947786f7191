//! One module per page, and [`Page`]: which path shows which page.

pub mod accessibility;
pub mod act_for;
pub mod activity;
pub mod authority;
pub mod contact;
pub mod error;
pub mod home;
pub mod login;
pub mod not_found;
pub mod post;
mod post_done;
pub mod privacy;
pub mod signing;
pub mod staff;

use crate::error::AppError;

/// Every page of the app. The one place that says which path shows which page: the server
/// routes [`Page::routes`], decides with [`Page::of`] which page a request is for (and so
/// what to read for it), and the shell renders that page.
///
/// Pages are rendered on the server only and never navigated to in the browser (islands), so
/// no client-side router is involved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Page {
    /// `/`
    Home,
    /// `/accessibility`: the accessibility statement.
    Accessibility,
    /// `/privacy`
    Privacy,
    /// `/login`: choose an eID.
    Login,
    /// `/login/failed`: a login did not complete.
    LoginFailed,
    /// `/logged-out`
    LoggedOut,
    /// `/activity`: a page of the citizen's activity log.
    Activity,
    /// `/contact` and its sub-pages: the contact entry, or one of its forms.
    Contact(ContactForm),
    /// `/authority` and its forms: authority given, held and asked for.
    Authority(AuthorityForm),
    /// `/authority/{id}/change`: change or extend a delegation one gave.
    AuthorityChange(String),
    /// `/act-for`: whom a person who holds authority acts for.
    ActFor,
    /// `/post`: a page of a folder, the trash or a search.
    Mailbox,
    /// `/post/folders`: the citizen's own folders.
    Folders,
    /// `/post/letter/{id}`: a letter (opening it records it as read).
    Letter(String),
    /// `/signing`: the documents to sign.
    Signing,
    /// `/signing/{id}`: one signing job.
    SigningJob(String),
    /// `/staff`: the borgerservice staff's desk (its own header, no citizen's session).
    Staff,
    /// Any other path.
    NotFound,
}

/// A page with what the server read for it: the variant says which page, and its value is the
/// only data that page can be given (`server/src/pages.rs` makes it by matching on [`Page`],
/// the shell shows it by matching on this), so a page and its data cannot be mismatched.
/// `Err` is why the page cannot show its data (not logged in, step up, unavailable).
// Made once per request and moved into the render: boxing the big variants (the contact
// entry) would only add an allocation to every page.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum PageData {
    /// `None` for a visitor (the brochure), else the citizen's overview.
    Home(home::HomeData),
    Accessibility,
    Privacy,
    Login,
    LoginFailed,
    LoggedOut,
    Activity(Result<activity::ActivityPage, AppError>),
    Contact(ContactForm, Result<contact::ContactView, AppError>),
    Authority(AuthorityForm, authority::AuthorityData),
    /// The delegation's id from the address, and the giver's authority.
    AuthorityChange(String, authority::AuthorityData),
    ActFor(act_for::ActForData),
    Mailbox(Result<post::MailboxData, AppError>),
    Folders(Result<post::FoldersData, AppError>),
    /// The letter's id from the address, and the letter (`None`: not there, or not theirs).
    Letter(String, Result<Option<post::LetterData>, AppError>),
    Signing(Result<Vec<signing::SigningLine>, AppError>),
    /// The job's id from the address, and the job (`None`: not there, or not theirs yet).
    SigningJob(String, Result<Option<signing::SigningJobData>, AppError>),
    /// The staff desk: the municipalities, and the logged-in member of staff.
    Staff(staff::StaffDesk),
    NotFound,
    /// A page shown instead of the one asked for (the server sets its status).
    Message(error::Message),
}

/// The contact pages: the overview and each of its forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactForm {
    /// `/contact`
    Overview,
    /// `/contact/email`
    Email,
    /// `/contact/mobile`
    Mobile,
    /// `/contact/verify/email`
    VerifyEmail,
    /// `/contact/verify/mobile`
    VerifyMobile,
    /// `/contact/reservation`
    Reservation,
    /// `/contact/mailbox`
    Mailbox,
    /// `/contact/language`
    Language,
    /// `/contact/check`: "is this still right?" after a login.
    Check,
}

/// The authority pages: the overview and its two forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthorityForm {
    /// `/authority`
    Overview,
    /// `/authority/grant`
    Grant,
    /// `/authority/request`
    Request,
}

/// The pages at fixed paths.
const FIXED: [(&str, Page); 24] = [
    ("/", Page::Home),
    ("/accessibility", Page::Accessibility),
    ("/privacy", Page::Privacy),
    ("/login", Page::Login),
    ("/login/failed", Page::LoginFailed),
    ("/logged-out", Page::LoggedOut),
    ("/activity", Page::Activity),
    ("/contact", Page::Contact(ContactForm::Overview)),
    ("/contact/email", Page::Contact(ContactForm::Email)),
    ("/contact/mobile", Page::Contact(ContactForm::Mobile)),
    (
        "/contact/verify/email",
        Page::Contact(ContactForm::VerifyEmail),
    ),
    (
        "/contact/verify/mobile",
        Page::Contact(ContactForm::VerifyMobile),
    ),
    (
        "/contact/reservation",
        Page::Contact(ContactForm::Reservation),
    ),
    ("/contact/mailbox", Page::Contact(ContactForm::Mailbox)),
    ("/contact/language", Page::Contact(ContactForm::Language)),
    ("/contact/check", Page::Contact(ContactForm::Check)),
    ("/post", Page::Mailbox),
    ("/post/folders", Page::Folders),
    ("/authority", Page::Authority(AuthorityForm::Overview)),
    ("/authority/grant", Page::Authority(AuthorityForm::Grant)),
    (
        "/authority/request",
        Page::Authority(AuthorityForm::Request),
    ),
    ("/act-for", Page::ActFor),
    ("/signing", Page::Signing),
    ("/staff", Page::Staff),
];

/// Where a letter's id follows.
const LETTER: &str = "/post/letter/";
/// Where a signing job's id follows.
const SIGNING_JOB: &str = "/signing/";
/// A delegation's change page: its id between these.
const AUTHORITY: &str = "/authority/";
const CHANGE: &str = "/change";

impl Page {
    /// The paths of every page, in axum's syntax, for the server to route to the renderer.
    /// Any other path (also one of these with a trailing slash) reaches the renderer through
    /// the server's fallback, where [`Page::of`] decides.
    pub fn routes() -> impl Iterator<Item = &'static str> {
        FIXED.iter().map(|(path, _)| *path).chain([
            "/post/letter/{id}",
            "/authority/{id}/change",
            "/signing/{id}",
        ])
    }

    /// The page at `path`. One trailing slash is ignored (`/post/` is the mailbox); anything
    /// that is not exactly a page's path is [`Page::NotFound`], so a mistyped address never
    /// reads (or opens) anything.
    pub fn of(path: &str) -> Page {
        let path = path
            .strip_suffix('/')
            .filter(|path| !path.is_empty())
            .unwrap_or(path);
        if let Some((_, page)) = FIXED.iter().find(|(fixed, _)| *fixed == path) {
            return page.clone();
        }
        let one_segment = |id: &&str| !id.is_empty() && !id.contains('/');
        if let Some(id) = path
            .strip_prefix(AUTHORITY)
            .and_then(|rest| rest.strip_suffix(CHANGE))
            .filter(one_segment)
        {
            return Page::AuthorityChange(id.to_owned());
        }
        if let Some(id) = path.strip_prefix(SIGNING_JOB).filter(one_segment) {
            return Page::SigningJob(id.to_owned());
        }
        path.strip_prefix(LETTER)
            .filter(one_segment)
            .map_or(Page::NotFound, |id| Page::Letter(id.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::{AuthorityForm, ContactForm, Page};

    #[test]
    fn each_path_is_its_page_and_nothing_else_is() {
        assert_eq!(Page::of("/"), Page::Home);
        assert_eq!(Page::of("/post"), Page::Mailbox);
        assert_eq!(Page::of("/post/folders"), Page::Folders);
        assert_eq!(Page::of("/activity"), Page::Activity);
        assert_eq!(Page::of("/login/failed"), Page::LoginFailed);
        assert_eq!(Page::of("/contact"), Page::Contact(ContactForm::Overview));
        assert_eq!(
            Page::of("/contact/verify/mobile"),
            Page::Contact(ContactForm::VerifyMobile)
        );
        assert_eq!(Page::of("/post/letter/abc"), Page::Letter("abc".to_owned()));
        assert_eq!(Page::of("/signing"), Page::Signing);
        assert_eq!(Page::of("/staff"), Page::Staff);
        assert_eq!(Page::of("/signing/abc"), Page::SigningJob("abc".to_owned()));
        assert_eq!(
            Page::of("/authority/abc/change"),
            Page::AuthorityChange("abc".to_owned())
        );
        assert_eq!(
            Page::of("/authority/grant"),
            Page::Authority(AuthorityForm::Grant)
        );
        for other in [
            "",
            "/post//",
            "/post/letter",
            "/post/letter/",
            "/post/letter//",
            "/post/letter/a/b",
            "/postbox",
            "/contact/verify",
            "/authority//change",
            "/authority/a/b/change",
            "/authority/a/revoke",
            "/signing/a/sign",
            "/signing//",
            "/staff/x",
            "/POST",
        ] {
            assert_eq!(Page::of(other), Page::NotFound, "{other}");
        }
    }

    #[test]
    fn a_trailing_slash_is_the_same_page() {
        assert_eq!(Page::of("/post/"), Page::Mailbox);
        assert_eq!(Page::of("/activity/"), Page::Activity);
        assert_eq!(
            Page::of("/post/letter/abc/"),
            Page::Letter("abc".to_owned())
        );
    }

    #[test]
    fn every_route_is_a_page() {
        let routes: Vec<_> = Page::routes().collect();
        assert_eq!(routes.len(), 27);
        for route in routes {
            let path = route.replace("{id}", "x");
            assert_ne!(Page::of(&path), Page::NotFound, "{route}");
        }
    }
}
