//! The delivery API's load generator (`POST /api/v1/letters`): a thread per connection in this
//! process, each on its own keep-alive connection, each call with a fresh agency JWT signed
//! beforehand by `borgerportal api-token`. For `bench-post`'s delivery runs and the PGO
//! training run.

use super::machine::{process_ticks, CpuSnapshot};
use super::portal::{tokens, AGENCIES};
use crate::site;
use crate::util::Result;
use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::Path,
    sync::atomic::{AtomicUsize, Ordering},
    sync::Mutex,
    time::{Duration, Instant},
};

/// One kind of delivery run.
pub struct DeliveryMode {
    pub name: &'static str,
    pub agencies: usize,
    pub connections_per_agency: usize,
    pub attachment: bool,
}

/// The delivery runs, in order.
pub const MODES: [DeliveryMode; 5] = [
    DeliveryMode {
        name: "small, 1 agency, 1 connection (one at a time)",
        agencies: 1,
        connections_per_agency: 1,
        attachment: false,
    },
    DeliveryMode {
        name: "small, 1 agency, 64 connections",
        agencies: 1,
        connections_per_agency: 64,
        attachment: false,
    },
    DeliveryMode {
        name: "small, 4 agencies × 16 connections",
        agencies: AGENCIES,
        connections_per_agency: 16,
        attachment: false,
    },
    DeliveryMode {
        name: "100 KB PDF, 1 agency, 16 connections",
        agencies: 1,
        connections_per_agency: 16,
        attachment: true,
    },
    DeliveryMode {
        name: "100 KB PDF, 4 agencies × 4 connections",
        agencies: AGENCIES,
        connections_per_agency: 4,
        attachment: true,
    },
];

impl DeliveryMode {
    /// Enough tokens per agency for a run of `seconds` at up to 6,000 letters/s (small) or
    /// 1,000/s (100 KB).
    fn token_budget(&self, seconds: u64) -> usize {
        let per_second = if self.attachment { 1_000 } else { 6_000 };
        (per_second * seconds as usize) / self.agencies + 200
    }

    /// The tokens for a run of `seconds`, a list per agency (`bench-1` …), signed by the
    /// portal's `api-token` with `config`.
    pub fn tokens(
        &self,
        built: &site::Built,
        config: &Path,
        seconds: u64,
    ) -> Result<Vec<Vec<String>>> {
        let budget = self.token_budget(seconds);
        (1..=self.agencies)
            .map(|agency| tokens(built, config, agency, budget))
            .collect()
    }
}

/// What one delivery run measured.
pub struct DeliveryRun {
    pub mode: &'static str,
    pub accepted: u64,
    pub other: Vec<(u16, u64)>,
    pub failed: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub others_cpu: Option<f64>,
    /// CPU the portal and the load generator (this process) used, in cores.
    pub server_cores: Option<f64>,
    pub client_cores: Option<f64>,
    pub tokens_ran_out: bool,
}

/// One run of the load generator.
pub struct DeliverLoad<'a> {
    pub host: &'a str,
    pub mode: &'a DeliveryMode,
    pub run: usize,
    pub tokens: Vec<Vec<String>>,
    pub recipients: &'a [String],
    pub attachment: Option<&'a str>,
    pub seconds: u64,
    pub server: Option<u32>,
}

/// What one call saw.
struct Shot {
    status: u16,
    micros: u64,
}

/// One thread per connection, each on its own keep-alive connection, each taking the next
/// token of its agency: a closed loop (a new call when the answer is in).
pub fn deliver_load(load: &DeliverLoad<'_>) -> Result<DeliveryRun> {
    let DeliverLoad {
        host,
        mode,
        run,
        tokens,
        recipients,
        attachment,
        seconds,
        server,
    } = load;
    let next: Vec<AtomicUsize> = tokens.iter().map(|_| AtomicUsize::new(0)).collect();
    let shots = Mutex::new(Vec::<Shot>::new());
    let failures = AtomicUsize::new(0);
    let ran_out = AtomicUsize::new(0);
    let first_error = Mutex::new(None::<String>);
    let deadline = Instant::now() + Duration::from_secs(*seconds);
    let before = CpuSnapshot::take(*server);
    let server_stat = server.map(|pid| format!("/proc/{pid}/stat"));
    let ticks = || {
        (
            server_stat
                .as_deref()
                .and_then(|path| process_ticks(path, false)),
            process_ticks("/proc/self/stat", false),
        )
    };
    let ticks_before = ticks();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for (agency, list) in tokens.iter().enumerate() {
            for _ in 0..mode.connections_per_agency {
                let next = &next[agency];
                let shots = &shots;
                let failures = &failures;
                let ran_out = &ran_out;
                let first_error = &first_error;
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    let mut connection: Option<Connection> = None;
                    while Instant::now() < deadline {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(token) = list.get(index) else {
                            ran_out.fetch_add(1, Ordering::Relaxed);
                            break;
                        };
                        let body = letter_json(
                            &format!("r{run}-a{}-{index}", agency + 1),
                            &recipients[(index * 7_919 + agency * 104_729) % recipients.len()],
                            *attachment,
                        );
                        let sent = Instant::now();
                        let answer = match connection.as_mut() {
                            Some(c) => c.post(host, "/api/v1/letters", token, &body),
                            None => Connection::open(host).and_then(|mut c| {
                                let answer = c.post(host, "/api/v1/letters", token, &body);
                                connection = Some(c);
                                answer
                            }),
                        };
                        match answer {
                            Ok(status) => mine.push(Shot {
                                status,
                                micros: sent.elapsed().as_micros() as u64,
                            }),
                            Err(error) => {
                                failures.fetch_add(1, Ordering::Relaxed);
                                connection = None;
                                if let Ok(mut first) = first_error.lock() {
                                    first.get_or_insert(error);
                                }
                            }
                        }
                    }
                    if let Ok(mut all) = shots.lock() {
                        all.extend(mine);
                    }
                });
            }
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let ticks_after = ticks();
    // Clock ticks are 1/100 s on Linux.
    let cores = |a: Option<u64>, b: Option<u64>| {
        a.zip(b)
            .map(|(a, b)| b.saturating_sub(a) as f64 / 100.0 / elapsed)
    };
    let server_cores = cores(ticks_before.0, ticks_after.0);
    let client_cores = cores(ticks_before.1, ticks_after.1);
    let others_cpu = before
        .zip(CpuSnapshot::take(*server))
        .map(|(b, a)| b.others_until(&a));
    let shots = shots.into_inner().map_err(|_| "a load thread panicked")?;
    let mut latencies: Vec<u64> = shots
        .iter()
        .filter(|s| s.status == 201)
        .map(|s| s.micros)
        .collect();
    latencies.sort_unstable();
    let accepted = latencies.len() as u64;
    let mut other: Vec<(u16, u64)> = Vec::new();
    for shot in shots.iter().filter(|s| s.status != 201) {
        match other.iter_mut().find(|(status, _)| *status == shot.status) {
            Some((_, n)) => *n += 1,
            None => other.push((shot.status, 1)),
        }
    }
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let at = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[at] as f64 / 1000.0
    };
    let result = DeliveryRun {
        mode: mode.name,
        accepted,
        other,
        failed: failures.load(Ordering::Relaxed) as u64,
        seconds: elapsed,
        per_second: accepted as f64 / elapsed,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        others_cpu,
        server_cores,
        client_cores,
        tokens_ran_out: ran_out.load(Ordering::Relaxed) > 0,
    };
    println!(
        "  {}: {:.0} letters/s accepted (201), p50 {:.2} ms, p99 {:.2} ms, {} in {:.1} s, \
         CPU: portal {}, load generator {}{}{}{}",
        result.mode,
        result.per_second,
        result.p50_ms,
        result.p99_ms,
        result.accepted,
        result.seconds,
        show_cores(result.server_cores),
        show_cores(result.client_cores),
        result
            .others_cpu
            .map(|o| format!(", others {:.0} % CPU", o * 100.0))
            .unwrap_or_default(),
        if result.other.is_empty() && result.failed == 0 {
            String::new()
        } else {
            format!(
                "; WARNING: other answers {:?}, {} failed calls{}",
                result.other,
                result.failed,
                first_error
                    .into_inner()
                    .ok()
                    .flatten()
                    .map(|e| format!(" (first: {e})"))
                    .unwrap_or_default()
            )
        },
        if result.tokens_ran_out {
            "; tokens ran out before the time was up"
        } else {
            ""
        }
    );
    Ok(result)
}

/// CPU use in cores, as the output and the report show it.
pub fn show_cores(cores: Option<f64>) -> String {
    cores
        .map(|c| format!("{c:.2} cores"))
        .unwrap_or_else(|| "?".into())
}

/// A letter as an agency's system sends it.
fn letter_json(message_id: &str, recipient: &str, attachment: Option<&str>) -> String {
    let attachments = match attachment {
        Some(pdf) => format!("[{{\"filename\": \"vedtak.pdf\", \"content_base64\": \"{pdf}\"}}]"),
        None => "[]".to_owned(),
    };
    format!(
        "{{\"recipient\": \"{recipient}\", \"message_id\": \"{message_id}\", \
         \"title\": \"Vedtak om bostøtte\", \"non_sensitive_title\": \"Brev fra Husbanken\", \
         \"body\": \"<h2>Vedtak</h2><p>Du har fått innvilget bostøtte fra 1. desember. \
         Begrunnelsen står i vedlegget. Du kan klage innen seks uker.</p>\
         <p>Med vennlig hilsen<br>Husbanken</p>\", \"body_kind\": \"html\", \
         \"opening_receipt\": true, \"is_decision\": true, \"attachments\": {attachments}}}"
    )
}

/// A PDF of about `size` bytes that passes the portal's content check.
pub fn pdf_of(size: usize) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    while pdf.len() + 64 < size {
        pdf.extend_from_slice(b"% filler line of a benchmark attachment, not a real page....\n");
    }
    pdf.extend_from_slice(b"startxref\n9\n%%EOF\n");
    pdf
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A keep-alive HTTP/1.1 connection for the load generator.
struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    fn open(host: &str) -> std::result::Result<Connection, String> {
        let stream = TcpStream::connect(host).map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|e| e.to_string())?;
        let writer = stream.try_clone().map_err(|e| e.to_string())?;
        Ok(Connection {
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// Sends the letter, reads the whole answer; its status.
    fn post(
        &mut self,
        host: &str,
        path: &str,
        token: &str,
        body: &str,
    ) -> std::result::Result<u16, String> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        self.writer
            .write_all(head.as_bytes())
            .and_then(|()| self.writer.write_all(body.as_bytes()))
            .map_err(|e| e.to_string())?;
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no status line: {line:?}"))?;
        let mut length = 0usize;
        let mut close = false;
        loop {
            line.clear();
            self.reader
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("connection")
                    && value.trim().eq_ignore_ascii_case("close")
                {
                    close = true;
                }
            }
        }
        let mut body = vec![0; length];
        self.reader
            .read_exact(&mut body)
            .map_err(|e| e.to_string())?;
        if close {
            return Err(format!(
                "the server closed the connection (status {status})"
            ));
        }
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet_with_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn the_filler_pdf_has_the_size_and_the_markers() {
        let pdf = pdf_of(100 * 1024);
        assert!(pdf.len() <= 100 * 1024 && pdf.len() > 99 * 1024);
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
    }
}
