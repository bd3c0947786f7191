//! What one client may take from the portal, through the real serving path (the acceptor and
//! its HTTP workers, `server::serve`) and a raw TCP client where HTTP clients would hide it:
//! how long a request's head may take, how long an idle keep-alive connection is kept, how
//! many connections are open at once, and the per-address limit on back-channel logout calls.
//! The timeouts are configured short (hundreds of milliseconds); the bounds checked are
//! generous, so a slow machine does not fail them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use borgerportal::storage::Database;
use reqwest::{header, Client, StatusCode};
use server::{config::Config, routes, serve::Workers, with_http_stack, AppState, Site};
use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroUsize,
    path::Path,
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Longer than any answer or close these tests wait for should take.
const PATIENCE: Duration = Duration::from_secs(10);

/// A minimal built site: `hash.txt` and the stylesheet it names. (Not `common`'s: that needs
/// the `dev` feature, and these tests do not.)
fn fake_site(root: &Path) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(root.join("hash.txt"), "js: aaaa\nwasm: bbbb\ncss: cccc\n").unwrap();
    std::fs::write(pkg.join("borgerportal.cccc.css"), "body{}").unwrap();
}

struct Portal {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

/// The portal with `toml` on top of the defaults, served by two HTTP workers.
async fn start(toml: &str) -> Portal {
    let dir = tempfile::tempdir().unwrap();
    let site_root = dir.path().join("site");
    fake_site(&site_root);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config::from_toml(&format!(
        "public_url = \"http://{addr}\"\ndata_dir = \"{}\"\n{toml}\n",
        dir.path().join("data").display()
    ))
    .unwrap();
    let db = Database::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("t.db").display()
    ))
    .await
    .unwrap();
    db.migrate().await.unwrap();
    let state = AppState::new(&config, Site::load(&site_root).unwrap(), db).unwrap();
    let app = with_http_stack(routes(&state), state);
    let mut workers =
        Workers::start(NonZeroUsize::new(2).unwrap(), app, config.http.limits()).unwrap();
    tokio::spawn(async move { workers.serve(listener, std::future::pending()).await });
    Portal { addr, _dir: dir }
}

/// Sends `GET /healthz` on `stream` and reads the whole answer; its status line.
async fn healthz(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: portal\r\n\r\n")
        .await
        .unwrap();
    answer(stream).await
}

/// Reads one answer (head and a `content-length` body); its status line.
async fn answer(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(
            n > 0,
            "the connection closed before the answer was complete"
        );
        received.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&received);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|l| l.trim().parse().ok())
                .unwrap_or(0);
            if body.len() >= length {
                return head.lines().next().unwrap().to_owned();
            }
        }
    }
}

/// Waits for the portal to close `stream` (end of file or a reset); how long it took.
async fn closed_after(stream: &mut TcpStream) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(PATIENCE, stream.read(&mut buf))
        .await
        .expect("the portal should have closed the connection");
    match read {
        Ok(0) => {}
        Ok(n) => panic!("expected the connection closed, got {n} bytes"),
        Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset),
    }
    start.elapsed()
}

#[tokio::test]
async fn a_client_that_does_not_send_its_request_head_in_time_is_disconnected() {
    let portal = start("[http]\nrequest_head_timeout_ms = 300\nidle_timeout_ms = 60000").await;
    // Half a head, and nothing at all: both closed after the head timeout.
    let mut half = TcpStream::connect(portal.addr).await.unwrap();
    let opened = Instant::now();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: por")
        .await
        .unwrap();
    let mut silent = TcpStream::connect(portal.addr).await.unwrap();
    closed_after(&mut half).await;
    closed_after(&mut silent).await;
    assert!(
        opened.elapsed() >= Duration::from_millis(250),
        "not before the head timeout: {:?}",
        opened.elapsed()
    );
    // A client that sends its head in time is answered.
    let mut prompt = TcpStream::connect(portal.addr).await.unwrap();
    assert_eq!(healthz(&mut prompt).await, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let portal = start("[http]\nrequest_head_timeout_ms = 300\nidle_timeout_ms = 1500").await;
    let mut stream = TcpStream::connect(portal.addr).await.unwrap();
    assert_eq!(healthz(&mut stream).await, "HTTP/1.1 200 OK");
    // Idle for twice the head timeout: still open, and the next request is answered (the head
    // timeout runs from a request's first byte, not from the last answer).
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(healthz(&mut stream).await, "HTTP/1.1 200 OK");
    let idle = closed_after(&mut stream).await;
    assert!(
        idle >= Duration::from_millis(1400),
        "closed after the idle timeout, not before: {idle:?}"
    );
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_until_one_closes() {
    let portal = start("[http]\nmax_connections = 2").await;
    let mut first = TcpStream::connect(portal.addr).await.unwrap();
    let mut second = TcpStream::connect(portal.addr).await.unwrap();
    assert_eq!(healthz(&mut first).await, "HTTP/1.1 200 OK");
    assert_eq!(healthz(&mut second).await, "HTTP/1.1 200 OK");
    // The third gets through the kernel's backlog but is not served while two are open.
    let mut third = TcpStream::connect(portal.addr).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: portal\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut buf)).await;
    assert!(early.is_err(), "not served beyond the limit: {early:?}");
    // One closes: the waiting connection is taken and answered.
    drop(first);
    let answered = tokio::time::timeout(PATIENCE, answer(&mut third))
        .await
        .expect("served once a connection closed");
    assert_eq!(answered, "HTTP/1.1 200 OK");
    // The ones being served are not affected.
    assert_eq!(healthz(&mut second).await, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn back_channel_logout_calls_are_limited_per_client_address() {
    let portal = start("backchannel_logout_rate_limit_per_minute = 3").await;
    let url = format!("http://{}/auth/backchannel-logout", portal.addr);
    let call = |client: &Client| {
        client
            .post(&url)
            .form(&[("logout_token", "not-a-jwt")])
            .send()
    };
    let here = Client::new();
    for _ in 0..3 {
        // Junk tokens are refused, but counted.
        assert_eq!(call(&here).await.unwrap().status(), StatusCode::BAD_REQUEST);
    }
    let refused = call(&here).await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    // Another address (Linux answers all of 127.0.0.0/8 on the loopback) has its own allowance.
    let elsewhere = Client::builder()
        .local_address(IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    assert_eq!(
        call(&elsewhere).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
}
