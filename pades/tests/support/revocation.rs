//! OCSP and CRL on loopback: a small HTTP server that answers `POST /ocsp` by running
//! `openssl ocsp` as a responder (`-index` a CA database written here from the test PKI's
//! certificates, `-rsigner`/`-rkey` the PKI's OCSP responder certificate) and `GET /root.crl`
//! with a CRL the test PKI's root made. Real answers, made outside the crate's code.

use pades::testpki::TestPki;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use x509_cert::der::DecodePem;
use x509_cert::Certificate;

/// What the server answers with, once the PKI is made.
struct State {
    dir: PathBuf,
    pki: TestPki,
    crl: Vec<u8>,
}

pub struct LoopbackRevocation {
    port: u16,
    state: Arc<Mutex<Option<State>>>,
    serving: Arc<AtomicBool>,
    /// How many requests were answered (OCSP and CRL).
    pub answered: Arc<AtomicUsize>,
}

impl LoopbackRevocation {
    /// Binds a loopback port (its URL is known before the PKI that points at it is made);
    /// requests get 503 until [`LoopbackRevocation::serve`].
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state: Arc<Mutex<Option<State>>> = Arc::new(Mutex::new(None));
        let serving = Arc::new(AtomicBool::new(true));
        let answered = Arc::new(AtomicUsize::new(0));
        let (thread_state, thread_serving, thread_answered) =
            (state.clone(), serving.clone(), answered.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if !thread_serving.load(Ordering::SeqCst) {
                    // Gone: the connection is closed without an answer.
                    drop(stream);
                    continue;
                }
                let state = thread_state.lock().unwrap();
                match answer(stream, state.as_ref()) {
                    Ok(()) => {
                        thread_answered.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(error) => eprintln!("loopback OCSP/CRL: {error}"),
                }
            }
        });
        LoopbackRevocation {
            port,
            state,
            serving,
            answered,
        }
    }

    /// The base URL for [`TestPki::ensure_with_revocation`].
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts answering for `pki`, with its state in `dir`: the OCSP index lists the seal and
    /// TSA certificates, good unless in `revoked` (paths of their PEM files); the CRL lists
    /// the `revoked` ones too.
    pub fn serve(&self, pki: &TestPki, dir: &Path, revoked: &[&Path]) {
        std::fs::create_dir_all(dir).unwrap();
        let revoked: Vec<Certificate> =
            revoked.iter().map(|path| first_certificate(path)).collect();
        let mut index = String::new();
        let mut serials: Vec<Vec<u8>> = Vec::new();
        for path in [&pki.seal_certificates, &pki.tsa_certificate] {
            let certificate = first_certificate(path);
            let serial = serial_hex(&certificate);
            if revoked.contains(&certificate) {
                index.push_str(&format!(
                    "R\t491231235959Z\t{}\t{serial}\tunknown\t/CN={serial}\n",
                    "200101000000Z,keyCompromise"
                ));
                serials.push(
                    certificate
                        .tbs_certificate
                        .serial_number
                        .as_bytes()
                        .to_vec(),
                );
            } else {
                index.push_str(&format!(
                    "V\t491231235959Z\t\t{serial}\tunknown\t/CN={serial}\n"
                ));
            }
        }
        std::fs::write(dir.join("index.txt"), index).unwrap();
        std::fs::write(dir.join("index.txt.attr"), "unique_subject = no\n").unwrap();
        let serial_refs: Vec<&[u8]> = serials.iter().map(Vec::as_slice).collect();
        let crl = pki.crl(&serial_refs).unwrap();
        *self.state.lock().unwrap() = Some(State {
            dir: dir.to_owned(),
            pki: pki.clone(),
            crl,
        });
    }

    /// From now on every connection is closed unanswered (a validator cannot fetch anything).
    pub fn stop(&self) {
        self.serving.store(false, Ordering::SeqCst);
    }
}

fn first_certificate(path: &Path) -> Certificate {
    let pem = std::fs::read(path).unwrap();
    Certificate::load_pem_chain(&pem)
        .ok()
        .and_then(|chain| chain.into_iter().next())
        .unwrap_or_else(|| Certificate::from_pem(&pem).unwrap())
}

/// The serial number as `openssl ca`'s index writes it: upper-case hex without leading zero
/// bytes.
fn serial_hex(certificate: &Certificate) -> String {
    let bytes = certificate.tbs_certificate.serial_number.as_bytes();
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(0);
    let hex: String = bytes[start..].iter().map(|b| format!("{b:02X}")).collect();
    if hex.is_empty() {
        "00".to_owned()
    } else {
        hex
    }
}

fn answer(stream: TcpStream, state: Option<&State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut length = 0usize;
    let mut content_type = String::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "content-type" => content_type = value.trim().to_owned(),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut stream = stream;
    let Some(state) = state else {
        return stream.write_all(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    };
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (kind, reply) = match (method, path) {
        ("POST", "/ocsp") if content_type == "application/ocsp-request" => {
            match ocsp(state, &body) {
                Some(reply) => ("application/ocsp-response", reply),
                None => {
                    return stream.write_all(
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\
                          Connection: close\r\n\r\n",
                    )
                }
            }
        }
        ("GET", "/root.crl") => ("application/pkix-crl", state.crl.clone()),
        _ => {
            return stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
        }
    };
    stream.write_all(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            reply.len()
        )
        .as_bytes(),
    )?;
    stream.write_all(&reply)?;
    stream.flush()
}

/// `openssl ocsp` as a responder for one request.
fn ocsp(state: &State, request: &[u8]) -> Option<Vec<u8>> {
    let revocation = state.pki.revocation.as_ref()?;
    let query = state.dir.join("request.der");
    let reply = state.dir.join("response.der");
    std::fs::write(&query, request).ok()?;
    let output = Command::new("openssl")
        .arg("ocsp")
        .arg("-index")
        .arg(state.dir.join("index.txt"))
        .arg("-CA")
        .arg(&state.pki.root_certificate)
        .arg("-rsigner")
        .arg(&revocation.ocsp_certificate)
        .arg("-rkey")
        .arg(&revocation.ocsp_key)
        .arg("-reqin")
        .arg(&query)
        .arg("-respout")
        .arg(&reply)
        .args(["-ndays", "1"])
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!(
            "loopback OCSP: openssl ocsp failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    std::fs::read(&reply).ok()
}
