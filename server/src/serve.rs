//! Serving HTTP: one single-threaded runtime per worker thread ("thread per core"), fed by one
//! acceptor that hands each new connection to the worker with the fewest open connections.
//!
//! Why not tokio's multi-threaded runtime for the requests: its workers steal tasks from each
//! other, and every time one finds work it wakes another to look for more. With keep-alive
//! connections and short requests that meant a wake-up (a futex call and often an
//! inter-processor interrupt) per request or two, and each connection's task wandering between
//! the cores' caches. A worker here owns its connections from accept to close: its requests
//! never leave its thread (docs/benchmarks.md measures the difference).
//!
//! What that asks of the handlers: a request must not hold its thread for long, since the
//! other connections of that worker wait meanwhile (there is no stealing). The portal's
//! requests are short reads and writes; the one CPU-heavy step, decoding and checking a
//! delivered letter's attachments, runs on the blocking pool (`api::post`).
//!
//! The acceptor balances by open connections, not by a hash of the address (as
//! `SO_REUSEPORT` would): a load balancer keeps a few long-lived connections, and a hash could
//! put them all on one worker.
//!
//! Each connection is bounded (`connection`): a request's head must arrive within the head
//! timeout, an idle keep-alive connection is closed after the idle timeout, and at most
//! `max_connections` are open at once: at the limit the acceptor accepts nothing until one
//! closes, so new connections wait in the kernel's listen backlog (as nginx and Go's
//! `LimitListener` do) rather than being accepted only to be dropped.
//!
//! Shutting down ([`Workers::serve`] returns when `shutdown` fires): the acceptor stops, each
//! worker finishes the requests in flight and closes its connections. The worker threads and
//! their runtimes stay until [`Workers::join`]: database connections opened by a worker are
//! registered with its runtime's I/O driver and may still be used by the pool (the
//! notification worker's last batch), so the runtimes live until everything else has stopped.

use std::io;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch, Notify};

mod connection;

use connection::{Counted, MakeTracked};

/// What each client connection may take, and how many may be open (`[http]` in the
/// configuration, `config::HttpConfig`).
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// A request's head must arrive within this long of its first byte (of the connection's
    /// opening, for its first request).
    pub head_timeout: Duration,
    /// A connection with no request in flight is closed after this long without one.
    pub idle_timeout: Duration,
    /// Open connections, all workers together.
    pub max_connections: usize,
}

/// A connection handed to a worker.
type Handoff = (std::net::TcpStream, SocketAddr);

/// The worker threads, each running its own single-threaded runtime.
pub struct Workers {
    workers: Vec<Worker>,
    /// Tells the workers to finish their connections (`true`).
    stop: watch::Sender<bool>,
    /// Told whenever a connection closes.
    closed: Arc<Notify>,
    max_connections: usize,
}

/// One worker as the acceptor sees it.
struct Worker {
    connections: mpsc::UnboundedSender<Handoff>,
    /// Open connections (counted up by the acceptor, down when the connection is dropped).
    open: Arc<AtomicUsize>,
    /// Fires when the worker has closed its last connection after the stop.
    served: Option<oneshot::Receiver<()>>,
    /// Lets the thread end and drop its runtime.
    release: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Workers {
    /// Start `count` worker threads serving `app` within `limits` (no connections yet: see
    /// [`serve`](Workers::serve)).
    pub fn start(
        count: NonZeroUsize,
        app: Router,
        limits: ConnectionLimits,
    ) -> io::Result<Workers> {
        let (stop, stopped) = watch::channel(false);
        let closed = Arc::new(Notify::new());
        let mut workers = Vec::with_capacity(count.get());
        for n in 0..count.get() {
            let (connections, incoming) = mpsc::unbounded_channel();
            let open = Arc::new(AtomicUsize::new(0));
            let (served_tx, served) = oneshot::channel();
            let (release, released) = oneshot::channel();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let listener = Handoffs {
                incoming,
                open: open.clone(),
                closed: closed.clone(),
                limits,
            };
            let app = app.clone();
            let mut stopped = stopped.clone();
            let thread = std::thread::Builder::new()
                .name(format!("http-worker-{n}"))
                .spawn(move || {
                    runtime.block_on(async move {
                        let service = MakeTracked(app);
                        let until_stopped = async move {
                            let _ = stopped.wait_for(|stop| *stop).await;
                        };
                        if let Err(error) = axum::serve(listener, service)
                            .with_graceful_shutdown(until_stopped)
                            .await
                        {
                            tracing::error!(%error, "an HTTP worker stopped serving");
                        }
                        let _ = served_tx.send(());
                        // Keep the runtime (and the I/O its database connections use) until
                        // the process is done with them.
                        let _ = released.await;
                    });
                })?;
            workers.push(Worker {
                connections,
                open,
                served: Some(served),
                release: Some(release),
                thread: Some(thread),
            });
        }
        Ok(Workers {
            workers,
            stop,
            closed,
            max_connections: limits.max_connections,
        })
    }

    /// How many connections each worker has open now (in the workers' order).
    pub fn open_connections(&self) -> Vec<usize> {
        self.workers
            .iter()
            .map(|w| w.open.load(Ordering::Relaxed))
            .collect()
    }

    /// Accept connections on `listener` and hand each to the least busy worker, until
    /// `shutdown` fires; then let the workers finish what is in flight, and return when
    /// every connection is closed.
    pub async fn serve(
        &mut self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let accepted = async {
                self.room().await;
                listener.accept().await
            };
            tokio::select! {
                () = &mut shutdown => break,
                accepted = accepted => match accepted {
                    Ok((stream, peer)) => self.hand_over(stream, peer),
                    Err(error) => accept_failed(error).await,
                },
            }
        }
        drop(listener);
        let _ = self.stop.send(true);
        for worker in &mut self.workers {
            if let Some(served) = worker.served.take() {
                let _ = served.await;
            }
        }
    }

    /// Returns when fewer than `max_connections` are open (at once, unless at the limit).
    async fn room(&self) {
        loop {
            // Made before the count is read: a close in between leaves its permit here.
            let closed = self.closed.notified();
            let open: usize = self.open_connections().iter().sum();
            if open < self.max_connections {
                return;
            }
            closed.await;
        }
    }

    /// Give `stream` to the worker with the fewest open connections.
    fn hand_over(&self, stream: TcpStream, peer: SocketAddr) {
        let Some(worker) = self
            .workers
            .iter()
            .min_by_key(|w| w.open.load(Ordering::Relaxed))
        else {
            return;
        };
        // Out of this runtime's I/O driver; the worker registers it with its own.
        let stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(error) => {
                tracing::warn!(%error, "could not hand a connection to a worker");
                return;
            }
        };
        worker.open.fetch_add(1, Ordering::Relaxed);
        if worker.connections.send((stream, peer)).is_err() {
            // The worker is gone (it panicked); the connection is dropped and so closed.
            worker.open.fetch_sub(1, Ordering::Relaxed);
            tracing::error!("an HTTP worker is gone; a connection was refused");
        }
    }

    /// Let the worker threads end, dropping their runtimes, and wait for them.
    pub fn join(mut self) {
        for worker in &mut self.workers {
            if let Some(release) = worker.release.take() {
                let _ = release.send(());
            }
        }
        for worker in &mut self.workers {
            if let Some(thread) = worker.thread.take() {
                if thread.join().is_err() {
                    tracing::error!("an HTTP worker thread panicked");
                }
            }
        }
    }
}

/// What `accept` can fail with is mostly running out of file descriptors: wait a moment
/// rather than spin (as axum's own listener does).
async fn accept_failed(error: io::Error) {
    match error.kind() {
        io::ErrorKind::ConnectionAborted
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionRefused => {}
        _ => {
            tracing::error!(%error, "accepting a connection failed");
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
}

/// A worker's side of the hand-over: the connections the acceptor sends it, as an axum
/// [`Listener`](axum::serve::Listener).
struct Handoffs {
    incoming: mpsc::UnboundedReceiver<Handoff>,
    open: Arc<AtomicUsize>,
    closed: Arc<Notify>,
    limits: ConnectionLimits,
}

impl axum::serve::Listener for Handoffs {
    type Io = Counted;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Counted, SocketAddr) {
        loop {
            let Some((stream, peer)) = self.incoming.recv().await else {
                // The acceptor is gone: nothing more will come, and the graceful shutdown
                // ends the serving.
                return std::future::pending().await;
            };
            // In this worker's runtime, so the stream is registered with its I/O driver.
            // (Still non-blocking: tokio's `into_std` leaves it so, as `from_std` needs.)
            match TcpStream::from_std(stream) {
                Ok(stream) => {
                    // TCP_NODELAY: otherwise a small answer written in two parts (headers,
                    // body) waits for the client's delayed ACK, 40 ms (measured: CSS p50
                    // 43.9 ms → 6.9 ms).
                    if let Err(error) = stream.set_nodelay(true) {
                        tracing::debug!(%error, "could not set TCP_NODELAY");
                    }
                    let open = self.open.clone();
                    let connection = Counted::new(stream, open, self.closed.clone(), self.limits);
                    return (connection, peer);
                }
                Err(error) => {
                    self.open.fetch_sub(1, Ordering::Relaxed);
                    self.closed.notify_one();
                    tracing::warn!(%error, "a handed-over connection could not be used");
                }
            }
        }
    }

    /// The acceptor's listener has the address; nothing here asks a worker for it.
    fn local_addr(&self) -> io::Result<SocketAddr> {
        Err(io::Error::other(
            "connections are handed over by the acceptor",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::ConnectInfo;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Answers with the serving thread's name and the client's address as the worker saw it;
    /// `/slow` first waits a while.
    fn app() -> Router {
        async fn who(ConnectInfo(peer): ConnectInfo<SocketAddr>) -> String {
            let thread = std::thread::current();
            format!("{} {peer}", thread.name().unwrap_or("?"))
        }
        async fn slow(ConnectInfo(peer): ConnectInfo<SocketAddr>) -> String {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            who(ConnectInfo(peer)).await
        }
        Router::new().route("/", get(who)).route("/slow", get(slow))
    }

    /// One request on an open keep-alive connection; the answer's body.
    async fn get_on(stream: &mut TcpStream, path: &str) -> String {
        let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(
                n > 0,
                "the connection closed before the answer was complete"
            );
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|l| l.trim().parse().ok())
                    .unwrap();
                if body.len() >= length {
                    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                    return body[..length].to_owned();
                }
            }
        }
    }

    async fn serving(
        count: usize,
    ) -> (
        SocketAddr,
        watch::Sender<bool>,
        tokio::task::JoinHandle<Workers>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = crate::config::HttpConfig::default().limits();
        let mut workers = Workers::start(NonZeroUsize::new(count).unwrap(), app(), limits).unwrap();
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            workers.serve(listener, shutdown).await;
            workers
        });
        (addr, stop, task)
    }

    #[tokio::test]
    async fn each_new_connection_goes_to_the_worker_with_the_fewest_open() {
        let (addr, stop, task) = serving(2).await;
        // Opened one after the other, each answered before the next is opened.
        let mut connections = Vec::new();
        for _ in 0..4 {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let body = get_on(&mut stream, "/").await;
            let (thread, peer) = body.split_once(' ').unwrap();
            // The handler sees the client's address (the login rate limit needs it).
            assert_eq!(peer, stream.local_addr().unwrap().to_string());
            connections.push((thread.to_owned(), stream));
        }
        let mut threads: Vec<_> = connections.iter().map(|(t, _)| t.clone()).collect();
        threads.sort();
        assert_eq!(
            threads,
            [
                "http-worker-0",
                "http-worker-0",
                "http-worker-1",
                "http-worker-1"
            ]
        );
        // A connection stays with its worker.
        for (thread, stream) in &mut connections {
            let body = get_on(stream, "/").await;
            assert!(body.starts_with(thread.as_str()), "{body}");
        }
        // Worker 0's connections close: the next two new ones go there.
        connections.retain(|(thread, _)| thread != "http-worker-0");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        for _ in 0..2 {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let body = get_on(&mut stream, "/").await;
            assert!(body.starts_with("http-worker-0 "), "{body}");
            connections.push(("http-worker-0".to_owned(), stream));
        }
        // Idle connections are closed by the shutdown; none is left counted.
        stop.send(true).unwrap();
        let workers = task.await.unwrap();
        assert_eq!(workers.open_connections(), [0, 0]);
        workers.join();
    }

    #[tokio::test]
    async fn a_shutdown_finishes_the_requests_in_flight_and_takes_no_new_connections() {
        let (addr, stop, task) = serving(2).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let in_flight = tokio::spawn(async move { get_on(&mut stream, "/slow").await });
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        stop.send(true).unwrap();
        let body = in_flight.await.unwrap();
        assert!(body.starts_with("http-worker-"), "{body}");
        let workers = task.await.unwrap();
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "the listener is closed after the shutdown"
        );
        workers.join();
    }
}
