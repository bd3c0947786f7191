//! Sealing throughput, measured (never asserted): a 1 MB, 10-page agency PDF with two signers,
//! prepared and sealed PAdES B-T with a timestamp from a real TSA on loopback (`openssl ts
//! -reply` behind a small HTTP server, the tests' `support/tsa.rs`). Run by `cargo xtask
//! bench-seal` (release build); prints a Markdown report.
//!
//! 1. The cost split, one document at a time: `prepare` (parse, front page, the signers' line
//!    on each of the 10 pages, embedded files, the incremental update written), SHA-256 of the prepared file (what the seal hashes,
//!    measured apart), the seal without a timestamp (its update written, hashed, ECDSA P-256,
//!    the CMS written in), and the timestamp's round trip.
//! 2. Throughput: `BENCH_SEAL_CONCURRENCY` seals in flight (default: 2 per core) for
//!    `BENCH_SEAL_SECONDS` (default 10), each `prepare` on the blocking pool and `sign` with the
//!    TSA, as the portal's worker does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lopdf::{dictionary, Document, Object, Stream};
use pades::{HttpTimestamper, Timestamper};
use sha2::{Digest, Sha256};

/// A timestamper that adds up the time its calls take.
struct Timed {
    inner: HttpTimestamper,
    nanos: AtomicU64,
    calls: AtomicU64,
}

#[async_trait::async_trait]
impl Timestamper for Timed {
    async fn timestamp(&self, digest: &[u8; 32]) -> Result<Vec<u8>, pades::Error> {
        let started = Instant::now();
        let token = self.inner.timestamp(digest).await;
        self.nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
        token
    }
}

/// An agency's PDF of `pages` pages and about `megabytes` MB (text and comment filler in
/// each page's uncompressed content stream), with a classic cross-reference table.
fn agency_pdf(pages: usize, megabytes: usize) -> Vec<u8> {
    let mut doc = Document::with_version("1.4");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let per_page = megabytes * 1024 * 1024 / pages;
    let filler = format!("% {}\n", "0123456789abcdef".repeat(63));
    let mut kids = Vec::new();
    for n in 1..=pages {
        let mut content =
            format!("BT /F1 14 Tf 72 760 Td (Side {n} av {pages}) Tj ET\n").into_bytes();
        while content.len() < per_page {
            content.extend_from_slice(filler.as_bytes());
        }
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        kids.push(Object::Reference(doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
        })));
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => pages as i64,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let seconds = env_number("BENCH_SEAL_SECONDS", 10);
    let concurrency = env_number("BENCH_SEAL_CONCURRENCY", 2 * cores as u64) as usize;
    let dir = tempfile::tempdir().unwrap();
    let pki = pades::testpki::TestPki::ensure(&dir.path().join("pki")).unwrap();
    let tsa = support::tsa::LoopbackTsa::start(&pki, &dir.path().join("tsa"));
    let seal = Arc::new(pki.seal().unwrap());
    let timed = Arc::new(Timed {
        inner: HttpTimestamper::new(tsa.url()).unwrap(),
        nanos: AtomicU64::new(0),
        calls: AtomicU64::new(0),
    });
    let original = Arc::new(agency_pdf(10, 1));
    // As the portal seals: the signers' line at the foot of every page too.
    let front = Arc::new(pades::FrontPage {
        page_footer: Some(
            "Signert av Kari Nordmann, Renée Sæther – forseglet av Borgerportal".into(),
        ),
        ..support::front_page(2)
    });
    let attachments = Arc::new(support::attachments(2));

    // 1. The split, one at a time (after a warm-up).
    let rounds = 30;
    let (mut prepare, mut hash, mut seal_only, mut stamp, mut total) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut sealed_len = 0;
    for round in 0..rounds + 3 {
        let t0 = Instant::now();
        let prepared = pades::prepare(&original, &front, &attachments).unwrap();
        let t1 = Instant::now();
        let _digest: [u8; 32] = Sha256::digest(&prepared).into();
        let t2 = Instant::now();
        let bb = seal
            .sign(prepared.clone(), None, time::OffsetDateTime::now_utc())
            .await
            .unwrap();
        let t3 = Instant::now();
        let before = timed.nanos.load(Ordering::Relaxed);
        let t4 = Instant::now();
        let bt = seal
            .sign(
                prepared,
                Some(timed.as_ref() as &dyn Timestamper),
                time::OffsetDateTime::now_utc(),
            )
            .await
            .unwrap();
        let t5 = Instant::now();
        let stamped = Duration::from_nanos(timed.nanos.load(Ordering::Relaxed) - before);
        drop(bb);
        sealed_len = bt.len();
        if round >= 3 {
            prepare.push(ms(t1 - t0));
            hash.push(ms(t2 - t1));
            seal_only.push(ms(t3 - t2));
            stamp.push(ms(stamped));
            total.push(ms(t1 - t0) + ms(t5 - t4));
        }
    }

    // 2. Throughput, with the loopback TSA (the figure), then with the test PKI's TSA in the
    // process (what the portal's own work allows when the TSA is not the bound).
    let (count, elapsed) = throughput(
        &seal,
        Arc::clone(&timed) as Arc<dyn Timestamper>,
        &original,
        &front,
        &attachments,
        concurrency,
        seconds,
    )
    .await;
    let per_second = count as f64 / elapsed.as_secs_f64();
    let in_process = Arc::new(pki.tsa().unwrap());
    let (own_count, own_elapsed) = throughput(
        &seal,
        in_process as Arc<dyn Timestamper>,
        &original,
        &front,
        &attachments,
        concurrency,
        seconds,
    )
    .await;
    let own_per_second = own_count as f64 / own_elapsed.as_secs_f64();

    println!(
        "input: {} bytes, 10 pages, 2 signers (front page + 2 embedded evidence files); sealed: {} bytes, PAdES B-T",
        original.len(),
        sealed_len
    );
    println!("cores: {cores}; concurrency: {concurrency}; {seconds} s\n");
    println!("| step (median of {rounds}, one at a time) | ms |");
    println!("|---|---:|");
    println!(
        "| prepare: parse, front page, embedded files, update written | {:.2} |",
        median(prepare)
    );
    println!(
        "| SHA-256 of the prepared file (measured apart) | {:.2} |",
        median(hash)
    );
    println!(
        "| seal without timestamp: update written, hashed, ECDSA P-256, CMS written | {:.2} |",
        median(seal_only)
    );
    println!(
        "| timestamp round trip (loopback `openssl ts -reply`) | {:.2} |",
        median(stamp)
    );
    println!(
        "| one document, prepare + B-T seal | {:.2} |",
        median(total)
    );
    println!();
    println!(
        "throughput: {count} documents in {:.1} s = **{per_second:.1} documents/s** (target 50: {})",
        elapsed.as_secs_f64(),
        if per_second >= 50.0 { "PASS" } else { "MISS" }
    );
    println!(
        "with the test TSA in the process instead (the TSA not the bound): {own_count} documents \
         in {:.1} s = {own_per_second:.1} documents/s",
        own_elapsed.as_secs_f64()
    );
}

/// Documents sealed per second with `concurrency` in flight for `seconds`, each `prepare` on
/// the blocking pool and `sign` with `timestamper`.
async fn throughput(
    seal: &Arc<pades::Seal>,
    timestamper: Arc<dyn Timestamper>,
    original: &Arc<Vec<u8>>,
    front: &Arc<pades::FrontPage>,
    attachments: &Arc<Vec<pades::Attachment>>,
    concurrency: usize,
    seconds: u64,
) -> (u64, Duration) {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (seal, timestamper, original, front, attachments, done) = (
            Arc::clone(seal),
            Arc::clone(&timestamper),
            Arc::clone(original),
            Arc::clone(front),
            Arc::clone(attachments),
            Arc::clone(&done),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let (original, front, attachments) = (
                    Arc::clone(&original),
                    Arc::clone(&front),
                    Arc::clone(&attachments),
                );
                let prepared = tokio::task::spawn_blocking(move || {
                    pades::prepare(&original, &front, &attachments)
                })
                .await
                .unwrap()
                .unwrap();
                let sealed = seal
                    .sign(
                        prepared,
                        Some(timestamper.as_ref()),
                        time::OffsetDateTime::now_utc(),
                    )
                    .await
                    .unwrap();
                assert!(sealed.len() > 1024 * 1024);
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    (done.load(Ordering::Relaxed), started.elapsed())
}
