//! Rate limits per client address: for the login endpoints, so nobody can flood the eID
//! provider or the pending-login table through us, and for the back-channel logout endpoint,
//! which checks a signed token on every call (the provider's keys are kept,
//! `auth::oidc::Provider::logout_signing_keys`). `governor`'s keyed limiter (GCRA) holds one
//! small cell per address; idle addresses are forgotten by a periodic `retain_recent`.

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse as _, Response},
};
use governor::{clock::Clock as _, DefaultKeyedRateLimiter, Quota};
use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
    time::Duration,
};

use app::routes::error::Message;

use crate::AppState;

/// A per-address limiter.
#[derive(Clone)]
pub struct AddressRateLimit {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl AddressRateLimit {
    /// `per_minute` requests per address per minute, with bursts of the same size.
    pub fn per_minute(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: Arc::new(DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))),
        }
    }

    /// Is one more request from `ip` allowed now?
    pub fn allow(&self, ip: IpAddr) -> bool {
        self.check(ip).is_ok()
    }

    /// One more request from `ip` now, or how long until the next is allowed.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// Forget addresses whose cells are back to full (call now and then).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}

/// The client's address: the TCP peer. (Behind a proxy, the proxy must keep client addresses
/// apart, e.g. with PROXY protocol; forwarded headers are not trusted here.)
fn client_ip(request: &Request) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Middleware for the back-channel logout endpoint: over the limit, 429 with `Retry-After` (the
/// whole seconds until the next call is allowed) and no body: the caller is the provider's
/// server, not a person.
pub async fn limit_backchannel_logouts(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Err(wait) = state.backchannel_rate_limit.check(client_ip(&request)) else {
        return next.run(request).await;
    };
    tracing::warn!("back-channel logout rate limit reached for a client address");
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = StatusCode::TOO_MANY_REQUESTS.into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Middleware for the login routes: 429 with a translated page when over the limit.
pub async fn limit_logins(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if state.login_rate_limit.allow(client_ip(&request)) {
        return next.run(request).await;
    }
    tracing::warn!("login rate limit reached for a client address");
    let (parts, _body) = request.into_parts();
    let status = StatusCode::TOO_MANY_REQUESTS;
    let mut response = state
        .pages
        .message(parts, status, Message::TooManyRequests)
        .await;
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_allowance() {
        let limit = AddressRateLimit::per_minute(3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!((0..3).all(|_| limit.allow(a)));
        assert!(!limit.allow(a), "the fourth in a minute is refused");
        assert!(limit.allow(b), "another address is not affected");
        let wait = limit.check(a).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(20),
            "the next of three a minute comes within 20 s: {wait:?}"
        );
    }
}
