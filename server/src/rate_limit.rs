//! Rate limits per client address for the login endpoints, so nobody can flood the eID
//! provider or the pending-login table through us. `governor`'s keyed limiter (GCRA) holds one
//! small cell per address; idle addresses are forgotten by a periodic `retain_recent`.

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::Response,
};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
};

use app::routes::error::Message;

use crate::AppState;

/// A per-address limiter.
#[derive(Clone)]
pub struct LoginRateLimit {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl LoginRateLimit {
    /// `per_minute` requests per address per minute, with bursts of the same size.
    pub fn per_minute(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: Arc::new(DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))),
        }
    }

    /// Is one more request from `ip` allowed now?
    pub fn allow(&self, ip: IpAddr) -> bool {
        self.limiter.check_key(&ip).is_ok()
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
        let limit = LoginRateLimit::per_minute(3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!((0..3).all(|_| limit.allow(a)));
        assert!(!limit.allow(a), "the fourth in a minute is refused");
        assert!(limit.allow(b), "another address is not affected");
    }
}
