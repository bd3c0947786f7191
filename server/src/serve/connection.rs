//! One client connection as a worker serves it: counted while open, and closed when the
//! client takes too long to send a request's head or leaves the connection idle too long.
//!
//! Why not hyper's `header_read_timeout`: hyper starts that timer as soon as a keep-alive
//! connection goes idle (hyper 1.12, `proto/h1/conn.rs`), so it bounds the idle time and the
//! head together, and an idle connection could be kept no longer than a head may take. A load
//! balancer wants the opposite: keep-alive longer than its own idle timeout (often 60 s),
//! while a head must come within seconds. So the connection keeps both clocks itself:
//!
//! - its requests tell it when one is in flight (`Tracked`, around the app) and when one was
//!   answered;
//! - with none in flight, a read that would wait is given a deadline: the head timeout from
//!   the first byte of the next request (or from the connection's opening, for its first),
//!   else the idle timeout from the last answer or write;
//! - past the deadline the read fails (`TimedOut`) and hyper closes the connection.
//!
//! While a request is in flight nothing is timed here: reading its body and answering are the
//! handler's business. Over HTTP/2 (cleartext with prior knowledge only, from a proxy) the
//! control frames a client sends between requests count as a request's first bytes, so an
//! idle HTTP/2 connection is closed after the head timeout.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use axum::serve::IncomingStream;
use axum::Router;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::{Instant, Sleep};

use super::{ConnectionLimits, Handoffs};

/// What a connection's requests tell its clocks.
#[derive(Default)]
pub(super) struct Activity {
    /// Requests whose answer has not been made yet.
    in_flight: AtomicUsize,
    /// Requests answered so far (a change starts the idle clock).
    answered: AtomicU64,
}

/// Held while a request is in flight.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: &Arc<Activity>) -> InFlight {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.answered.fetch_add(1, Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A worker's connection: counted as open until it is dropped, and timed as above.
pub(super) struct Counted {
    stream: TcpStream,
    open: Arc<AtomicUsize>,
    /// Told when a connection closes (the acceptor may be waiting for room).
    closed: Arc<Notify>,
    limits: ConnectionLimits,
    activity: Arc<Activity>,
    /// `activity.answered` when last looked at.
    seen_answered: u64,
    /// When the next request's head began (the connection's opening for the first).
    head_since: Option<Instant>,
    /// The last answer or write: the idle clock's start.
    idle_since: Instant,
    timer: Option<Pin<Box<Sleep>>>,
}

impl Counted {
    pub(super) fn new(
        stream: TcpStream,
        open: Arc<AtomicUsize>,
        closed: Arc<Notify>,
        limits: ConnectionLimits,
    ) -> Counted {
        let now = Instant::now();
        Counted {
            stream,
            open,
            closed,
            limits,
            activity: Arc::default(),
            seen_answered: 0,
            head_since: Some(now),
            idle_since: now,
            timer: None,
        }
    }

    /// Called when a read would wait: `Err` once the head or idle deadline has passed.
    fn check_deadline(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if self.activity.in_flight.load(Ordering::Relaxed) > 0 {
            return Ok(());
        }
        let (deadline, what) = match self.head_since {
            Some(since) => (since + self.limits.head_timeout, "request head"),
            None => (self.idle_since + self.limits.idle_timeout, "idle"),
        };
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                tracing::debug!(what, "a client connection timed out; closed");
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{what} timeout"),
                ))
            }
            Poll::Pending => Ok(()),
        }
    }

    /// A request was answered since the last look: the idle clock starts, no head yet.
    fn note_answers(&mut self) {
        let answered = self.activity.answered.load(Ordering::Relaxed);
        if answered != self.seen_answered {
            self.seen_answered = answered;
            self.idle_since = Instant::now();
            self.head_since = None;
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
        self.closed.notify_one();
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.note_answers();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let idle = this.activity.in_flight.load(Ordering::Relaxed) == 0;
                if idle && this.head_since.is_none() && buf.filled().len() > before {
                    this.head_since = Some(Instant::now());
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => match this.check_deadline(cx) {
                Ok(()) => Poll::Pending,
                Err(error) => Poll::Ready(Err(error)),
            },
            ready => ready,
        }
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            this.idle_since = Instant::now();
        }
        written
    }

    /// Headers and body in one system call (hyper writes both with `writev` when it can).
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            this.idle_since = Instant::now();
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Makes each connection's service: the app, with the client's address as
/// [`ConnectInfo`] (as `into_make_service_with_connect_info` would) and its requests tracked.
#[derive(Clone)]
pub(super) struct MakeTracked(pub(super) Router);

impl<'a> tower::Service<IncomingStream<'a, Handoffs>> for MakeTracked {
    type Response = Tracked;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Tracked, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, incoming: IncomingStream<'a, Handoffs>) -> Self::Future {
        std::future::ready(Ok(Tracked {
            app: self.0.clone(),
            peer: *incoming.remote_addr(),
            activity: incoming.io().activity.clone(),
        }))
    }
}

/// One connection's service: counts its requests in flight.
#[derive(Clone)]
pub(super) struct Tracked {
    app: Router,
    peer: SocketAddr,
    activity: Arc<Activity>,
}

impl tower::Service<Request> for Tracked {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let in_flight = InFlight::new(&self.activity);
        let answer = tower::Service::call(&mut self.app, request);
        Box::pin(async move {
            let response = answer.await;
            drop(in_flight);
            response
        })
    }
}
