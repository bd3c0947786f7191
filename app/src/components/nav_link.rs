//! A link that says whether it leads to the page being shown.

use leptos::prelude::*;

/// A plain `<a>`, marked `aria-current="page"` when it leads to the page being shown (with
/// `exact`, only at that very path; otherwise also at the paths below it, as `/post` for a
/// letter at `/post/letter/…`). The root `/` is current only at `/`. A link with a query (a
/// pager's "older", a filtered view) is another view of a page, never the current one.
///
/// Pages are rendered on the server and never re-rendered in the browser (islands), so the
/// decision is made once from the request's path. The router's `<A>` would instead build a
/// memo per link that follows the location, which cost every page and was never used.
#[component]
pub fn NavLink(
    #[prop(into)] href: String,
    /// Current only at exactly this path.
    #[prop(optional)]
    exact: bool,
    children: Children,
) -> impl IntoView {
    let current = aria_current(&href, exact);
    view! {
        <a href=href aria-current=current>
            {children()}
        </a>
    }
}

/// `aria-current` for a link to `href` on the page being shown (see [`NavLink`]), for a link
/// that needs more than `NavLink` gives (a class).
pub fn aria_current(href: &str, exact: bool) -> Option<&'static str> {
    let here = crate::request::path();
    leads_to(href, &here, exact).then_some("page")
}

/// Does a link to `href` lead to the page at `path`?
fn leads_to(href: &str, path: &str, exact: bool) -> bool {
    if href.contains('?') {
        return false;
    }
    let target = href.split('#').next().unwrap_or("");
    let target = target
        .strip_suffix('/')
        .filter(|t| !t.is_empty())
        .unwrap_or(target);
    if exact || target == "/" {
        return path == target || path.strip_suffix('/') == Some(target);
    }
    path.strip_prefix(target)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::leads_to;

    #[test]
    fn a_link_leads_to_its_page_and_the_pages_below_it() {
        assert!(leads_to("/post", "/post", false));
        assert!(leads_to("/post", "/post/letter/1", false));
        assert!(!leads_to("/post", "/postbox", false));
        assert!(!leads_to("/post", "/", false));
        assert!(leads_to("/contact/", "/contact/email", false));
    }

    #[test]
    fn exact_links_and_the_root_lead_only_to_their_own_path() {
        assert!(leads_to("/", "/", false));
        assert!(!leads_to("/", "/post", false));
        assert!(leads_to("/contact", "/contact", true));
        assert!(!leads_to("/contact", "/contact/email", true));
    }

    #[test]
    fn a_link_with_a_query_is_another_view_never_the_current_page() {
        assert!(!leads_to("/activity?only=contact", "/activity", false));
        assert!(!leads_to("/activity?before=x", "/activity", true));
    }
}
