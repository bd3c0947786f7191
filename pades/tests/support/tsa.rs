//! A timestamp authority on loopback: a small HTTP server that answers each POST by running
//! `openssl ts -reply` with the test PKI's TSA certificate and key. A real TSA, independent of
//! the crate's code.

use pades::testpki::TestPki;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct LoopbackTsa {
    port: u16,
}

impl LoopbackTsa {
    /// Starts the TSA with its configuration and state in `dir`; it serves until the test
    /// process ends.
    pub fn start(pki: &TestPki, dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("serial"), "01\n").unwrap();
        let config = format!(
            "[ tsa ]\n\
             default_tsa = tsa_config\n\
             [ tsa_config ]\n\
             serial = {serial}\n\
             crypto_device = builtin\n\
             signer_cert = {cert}\n\
             certs = {root}\n\
             signer_key = {key}\n\
             signer_digest = sha256\n\
             default_policy = 1.3.6.1.4.1.99999.1\n\
             digests = sha256, sha384, sha512\n\
             accuracy = secs:1\n\
             clock_precision_digits = 0\n\
             ordering = no\n\
             tsa_name = yes\n\
             ess_cert_id_chain = no\n\
             ess_cert_id_alg = sha256\n",
            serial = dir.join("serial").display(),
            cert = pki.tsa_certificate.display(),
            root = pki.root_certificate.display(),
            key = pki.tsa_key.display(),
        );
        let config_path = dir.join("tsa.cnf");
        std::fs::write(&config_path, config).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let dir = dir.to_owned();
        std::thread::spawn(move || {
            // One request at a time: `openssl ts` keeps its serial number in a file.
            for stream in listener.incoming().flatten() {
                if let Err(error) = answer(stream, &dir, &config_path) {
                    eprintln!("loopback TSA: {error}");
                }
            }
        });
        LoopbackTsa { port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/tsa", self.port)
    }
}

fn answer(stream: TcpStream, dir: &Path, config: &PathBuf) -> std::io::Result<()> {
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
    if !request_line.starts_with("POST ") || content_type != "application/timestamp-query" {
        return stream.write_all(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    }
    let query = dir.join("query.tsq");
    let reply = dir.join("reply.tsr");
    std::fs::write(&query, &body)?;
    let output = Command::new("openssl")
        .args(["ts", "-reply", "-config"])
        .arg(config)
        .arg("-queryfile")
        .arg(&query)
        .arg("-out")
        .arg(&reply)
        .output()?;
    if !output.status.success() {
        eprintln!(
            "loopback TSA: openssl ts -reply failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return stream.write_all(
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    }
    let reply = std::fs::read(&reply)?;
    stream.write_all(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            reply.len()
        )
        .as_bytes(),
    )?;
    stream.write_all(&reply)?;
    stream.flush()
}
