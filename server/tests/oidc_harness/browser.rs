//! The harness's browser: one cookie jar for every server on 127.0.0.1 (cookies do not keep
//! ports apart), and redirects followed one by one.

use reqwest::{header, redirect::Policy, Client, RequestBuilder, Response};
use std::{sync::Mutex, time::Duration};
use url::Url;

use super::location;

pub struct StoredCookie {
    pub name: String,
    pub value: String,
    pub path: String,
}

/// Plays the person's browser. Every server here is on 127.0.0.1, and cookies do not keep
/// ports apart, so one jar serves all (by name and path), as in a real browser.
pub struct Browser {
    pub client: Client,
    pub jar: Mutex<Vec<StoredCookie>>,
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            client: Client::builder()
                .redirect(Policy::none())
                .timeout(Duration::from_secs(15))
                .build()
                .unwrap(),
            jar: Mutex::new(Vec::new()),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar
            .lock()
            .unwrap()
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value.clone())
    }

    pub async fn send(&self, url: &str, request: RequestBuilder) -> Response {
        let parsed = Url::parse(url).unwrap();
        let path = parsed.path();
        let cookies: Vec<String> = self
            .jar
            .lock()
            .unwrap()
            .iter()
            .filter(|c| {
                path == c.path
                    || path.starts_with(&format!("{}/", c.path.trim_end_matches('/')))
                    || c.path == "/"
            })
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        let request = if cookies.is_empty() {
            request
        } else {
            request.header(header::COOKIE, cookies.join("; "))
        };
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        self.store(&response);
        response
    }

    pub fn store(&self, response: &Response) {
        let mut jar = self.jar.lock().unwrap();
        for value in response.headers().get_all(header::SET_COOKIE) {
            let value = value.to_str().unwrap();
            let mut parts = value.split(';').map(str::trim);
            let Some((name, cookie_value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let mut path = "/".to_owned();
            let mut removed = cookie_value.is_empty();
            for attribute in parts {
                let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
                match key.to_ascii_lowercase().as_str() {
                    "path" => path = val.to_owned(),
                    "max-age" if val.trim() == "0" || val.starts_with('-') => removed = true,
                    "expires" if val.contains("1970") => removed = true,
                    _ => {}
                }
            }
            jar.retain(|c| !(c.name == name && c.path == path));
            if !removed {
                jar.push(StoredCookie {
                    name: name.to_owned(),
                    value: cookie_value.to_owned(),
                    path,
                });
            }
        }
    }

    pub async fn get(&self, url: &str) -> Response {
        self.send(url, self.client.get(url)).await
    }

    pub async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Response {
        let mut request = self.client.post(url).form(form);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        self.send(url, request).await
    }

    /// Follow GET redirects from `url` until `stop` says to (that URL is returned, not
    /// requested). A page that is not a redirect before then is a failure.
    pub async fn follow(&self, url: &str, stop: impl Fn(&Url) -> bool) -> Url {
        let mut current = Url::parse(url).unwrap();
        for _ in 0..10 {
            if stop(&current) {
                return current;
            }
            let response = self.get(current.as_str()).await;
            if !response.status().is_redirection() {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                panic!("stopped at {current} with {status}: {body:.600}");
            }
            current = current.join(location(&response)).unwrap();
        }
        panic!("too many redirects, last {current}");
    }
}
