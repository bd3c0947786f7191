//! Security headers on every response and the cross-site request check on every
//! state-changing request.
//!
//! Each request gets a fresh CSP nonce: the renderer puts it on the hydration and streaming
//! scripts, and the `Content-Security-Policy` header allows only scripts with that nonce (plus
//! same-origin modules and WebAssembly). No `unsafe-inline` scripts.

use app::shell::CspNonce;
use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rand::RngCore as _;
use std::sync::Arc;

/// What the security middleware needs to know about this deployment.
#[derive(Clone, Debug)]
pub struct SecurityPolicy {
    /// `scheme://host[:port]` that state-changing requests must come from.
    pub public_origin: Arc<str>,
    /// Send `Strict-Transport-Security` (only when served over https).
    pub hsts: bool,
    /// Other origins a form may lead to: the eID providers' logout pages (the logout form's
    /// redirect goes there, and browsers apply `form-action` to redirects). Filled in as the
    /// providers are discovered.
    pub form_targets: FormTargets,
}

/// The origins `form-action` allows besides `'self'`, shared with the login code.
#[derive(Clone, Debug, Default)]
pub struct FormTargets(Arc<std::sync::RwLock<Vec<String>>>);

impl FormTargets {
    /// Allow forms to lead to the origin of `url` (ignored when it has none).
    pub fn allow_origin_of(&self, url: &str) {
        let Ok(parsed) = url::Url::parse(url) else {
            return;
        };
        let origin = parsed.origin().ascii_serialization();
        if origin == "null" {
            return;
        }
        if let Ok(mut targets) = self.0.write() {
            if !targets.contains(&origin) {
                targets.push(origin);
            }
        }
    }

    fn sources(&self) -> String {
        self.0
            .read()
            .map(|targets| targets.iter().map(|t| format!(" {t}")).collect())
            .unwrap_or_default()
    }
}

/// A fresh 128-bit nonce, URL-safe base64.
fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The policy for pages: nothing from other origins, scripts only with this response's nonce.
pub fn content_security_policy(nonce: &str, form_targets: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         form-action 'self'{form_targets}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}

/// Is this a request that changes state and comes from another site? Browsers send
/// `Sec-Fetch-Site`; older ones only `Origin`. Requests with neither (curl, agencies' servers)
/// are not browser cross-site requests and are judged by their own authentication.
fn is_cross_site_write(method: &Method, headers: &HeaderMap, public_origin: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        // `none` is a user-typed navigation; `same-origin` is ours.
        return !(site == "same-origin" || site == "none");
    }
    match headers.get(header::ORIGIN) {
        Some(origin) => origin.as_bytes() != public_origin.as_bytes(),
        None => false,
    }
}

/// Middleware: refuse cross-site writes, give the renderer a nonce, set the headers.
pub async fn secure(
    State(policy): State<SecurityPolicy>,
    mut request: Request,
    next: Next,
) -> Response {
    if is_cross_site_write(request.method(), request.headers(), &policy.public_origin) {
        tracing::warn!(method = %request.method(), "refused a cross-site state-changing request");
        // Agencies' servers send neither header and pass; a browser page on another site
        // calling the API is refused, in the API's own format.
        let mut response = if crate::api::is_api_path(request.uri().path()) {
            crate::api::Problem::new(
                StatusCode::FORBIDDEN,
                "cross-site-request",
                "Forbidden",
                "Browsers may not call the agency API from another site.",
            )
            .into_response()
        } else {
            StatusCode::FORBIDDEN.into_response()
        };
        set_headers(response.headers_mut(), &new_nonce(), &policy);
        return response;
    }
    let nonce = new_nonce();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response: Response<Body> = next.run(request).await;
    set_headers(response.headers_mut(), &nonce, &policy);
    response
}

fn set_headers(headers: &mut HeaderMap, nonce: &str, policy: &SecurityPolicy) {
    let static_headers: [(&str, &str); 5] = [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
        ),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
    ];
    for (name, value) in static_headers {
        headers.insert(name, HeaderValue::from_static(value));
    }
    // A handler may set a stricter policy of its own (attachments will); keep it.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let csp = content_security_policy(nonce, &policy.form_targets.sources());
        if let Ok(value) = HeaderValue::from_str(&csp) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    if policy.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn logout_pages_of_providers_become_form_targets() {
        let targets = FormTargets::default();
        targets.allow_origin_of("https://login.idporten.no/logout?x=1");
        targets.allow_origin_of("https://login.idporten.no/other");
        targets.allow_origin_of("not a url");
        assert_eq!(targets.sources(), " https://login.idporten.no");
        let csp = content_security_policy("n", &targets.sources());
        assert!(csp.contains("form-action 'self' https://login.idporten.no;"));
    }

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    const ORIGIN: &str = "https://portal.example";

    #[test]
    fn reads_are_never_refused() {
        let h = headers(&[("sec-fetch-site", "cross-site")]);
        assert!(!is_cross_site_write(&Method::GET, &h, ORIGIN));
    }

    #[test]
    fn cross_site_posts_are_refused() {
        let h = headers(&[("sec-fetch-site", "cross-site")]);
        assert!(is_cross_site_write(&Method::POST, &h, ORIGIN));
        let h = headers(&[("sec-fetch-site", "same-site")]);
        assert!(is_cross_site_write(&Method::POST, &h, ORIGIN));
        let h = headers(&[("origin", "https://evil.example")]);
        assert!(is_cross_site_write(&Method::POST, &h, ORIGIN));
    }

    #[test]
    fn same_origin_posts_pass() {
        let h = headers(&[("sec-fetch-site", "same-origin")]);
        assert!(!is_cross_site_write(&Method::POST, &h, ORIGIN));
        let h = headers(&[("origin", "https://portal.example")]);
        assert!(!is_cross_site_write(&Method::POST, &h, ORIGIN));
    }

    #[test]
    fn nonces_are_fresh_and_in_the_policy() {
        let (a, b) = (new_nonce(), new_nonce());
        assert_ne!(a, b);
        assert!(a.len() >= 22);
        let csp = content_security_policy(&a, "");
        assert!(csp.contains(&format!("'nonce-{a}'")));
        assert!(csp.contains("form-action 'self';"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
