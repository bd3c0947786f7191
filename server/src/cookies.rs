//! Reading cookies from a request, and the cookies of a kind of session.

use axum::http::{header, HeaderMap, HeaderValue};
use time::Duration;

/// The value of the cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// The cookies of one kind of session (citizens', staff's): the session cookie, `__Host-` over
/// https, and the cookie that ties a pending login to the browser that started it, scoped to
/// the callback and `__Secure-` over https (`__Host-` would need `Path=/`).
#[derive(Debug, Clone)]
pub struct SessionCookies {
    secure: bool,
    /// The session cookie's name over https and over plain http.
    session: [&'static str; 2],
    /// The pending login's cookie's name over https and over plain http.
    login: [&'static str; 2],
    /// Where the login's cookie is sent: the callback.
    callback: &'static str,
}

impl SessionCookies {
    /// `session` and `login` as `[https name, http name]`.
    pub const fn new(
        secure: bool,
        session: [&'static str; 2],
        login: [&'static str; 2],
        callback: &'static str,
    ) -> SessionCookies {
        SessionCookies {
            secure,
            session,
            login,
            callback,
        }
    }

    /// Whether the cookies are `Secure` (the portal is served over https).
    pub fn secure(&self) -> bool {
        self.secure
    }

    fn pick(&self, names: [&'static str; 2]) -> &'static str {
        names[usize::from(!self.secure)]
    }

    /// The session cookie's name.
    pub fn session_name(&self) -> &'static str {
        self.pick(self.session)
    }

    /// The session cookie holding `value` (`max_age` `None`: for the browser's session;
    /// `Some(ZERO)` clears it).
    pub fn session_cookie(&self, value: &str, max_age: Option<Duration>) -> Option<HeaderValue> {
        let secure = if self.secure { "; Secure" } else { "" };
        let max_age = max_age
            .map(|d| format!("; Max-Age={}", d.whole_seconds().max(0)))
            .unwrap_or_default();
        HeaderValue::from_str(&format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{max_age}",
            self.session_name()
        ))
        .ok()
    }

    /// The session cookie's value on this request, if any.
    pub fn session_value<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        cookie(headers, self.session_name())
    }

    /// The cookie binding the pending login `state` to this browser, for `max_age` (`ZERO`
    /// clears it).
    pub fn login_cookie(&self, state: &str, max_age: Duration) -> Option<HeaderValue> {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{}={state}; Path={}; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            self.pick(self.login),
            self.callback,
            max_age.whole_seconds().max(0)
        ))
        .ok()
    }

    /// Did this browser start the login with this `state`? Without this check an attacker could
    /// hand a victim the callback of the attacker's own login (login CSRF).
    pub fn started_here(&self, headers: &HeaderMap, state: &str) -> bool {
        use sha2::{Digest, Sha256};
        cookie(headers, self.pick(self.login)).is_some_and(|cookie| {
            // Equal-length digests: no early exit on the state's bytes.
            Sha256::digest(cookie.as_bytes()) == Sha256::digest(state.as_bytes())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn finds_a_cookie_among_several_headers() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; b=2"));
        headers.append(header::COOKIE, HeaderValue::from_static("c=3"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "c"), Some("3"));
        assert_eq!(cookie(&headers, "d"), None);
    }

    #[test]
    fn session_cookies_are_host_bound_over_https_and_the_login_cookie_stays_at_its_callback() {
        let https = SessionCookies::new(true, ["__Host-s", "s"], ["__Secure-l", "l"], "/cb");
        let cookie = https.session_cookie("v", None).unwrap();
        assert_eq!(cookie, "__Host-s=v; Path=/; HttpOnly; SameSite=Lax; Secure");
        let login = https.login_cookie("st", Duration::minutes(10)).unwrap();
        assert_eq!(
            login,
            "__Secure-l=st; Path=/cb; HttpOnly; SameSite=Lax; Max-Age=600; Secure"
        );
        let http = SessionCookies::new(false, ["__Host-s", "s"], ["__Secure-l", "l"], "/cb");
        assert_eq!(
            http.session_cookie("", Some(Duration::ZERO)).unwrap(),
            "s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        );
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("l=st; s=v"));
        assert!(http.started_here(&headers, "st"));
        assert!(!http.started_here(&headers, "other"));
        assert!(
            !https.started_here(&headers, "st"),
            "the https name is another cookie"
        );
        assert_eq!(http.session_value(&headers), Some("v"));
    }
}
