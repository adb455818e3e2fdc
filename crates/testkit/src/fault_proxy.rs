//! A FHIR server with bad days: a proxy on 127.0.0.1 in front of a real one that answers a
//! share of requests 429 (with `Retry-After: 1`) or 503 itself, and during an outage answers
//! every request 503 — all but `/metadata`, so a worker restarted meanwhile still starts (its
//! start-up check is not what is being tested). Or one that refuses (400) every transaction
//! holding a given text, as a server refuses a resource it finds invalid. Everything else goes
//! through unchanged.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::scripted::read_request;

pub struct FaultProxy {
    pub base: String,
    outage: Arc<AtomicBool>,
    /// Requests answered with a fault (429, 503, outage).
    pub faults: Arc<AtomicU64>,
}

/// xorshift64*: enough randomness for fault injection, the same for the same seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

impl FaultProxy {
    /// Proxies to `upstream` (`http://127.0.0.1:port`), faulting `percent` of the requests.
    pub fn start(upstream: &str, percent: u64, seed: u64) -> FaultProxy {
        FaultProxy::proxy(upstream, percent, seed, None)
    }

    /// Proxies to `upstream`, answering 400 (an OperationOutcome) to every POST whose body
    /// holds `needle`.
    pub fn refusing(upstream: &str, needle: &str) -> FaultProxy {
        FaultProxy::proxy(upstream, 0, 1, Some(needle.to_string()))
    }

    fn proxy(upstream: &str, percent: u64, seed: u64, refuse: Option<String>) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        let outage = Arc::new(AtomicBool::new(false));
        let faults = Arc::new(AtomicU64::new(0));
        let (down, count) = (outage.clone(), faults.clone());
        std::thread::spawn(move || {
            let mut rng = Rng::new(seed);
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let fault = if down.load(Ordering::SeqCst) {
                    Some(503)
                } else if rng.chance(percent) {
                    Some(if rng.chance(50) { 429 } else { 503 })
                } else {
                    None
                };
                let upstream = upstream.clone();
                let count = count.clone();
                let refuse = refuse.clone();
                std::thread::spawn(move || serve(stream, &upstream, fault, refuse.as_deref(), &count));
            }
        });
        FaultProxy { base, outage, faults }
    }

    /// Starts or ends an outage.
    pub fn outage(&self, on: bool) {
        self.outage.store(on, Ordering::SeqCst);
    }
}

fn serve(mut stream: TcpStream, upstream: &str, fault: Option<u16>, refuse: Option<&str>, faults: &AtomicU64) {
    let Some((line, headers, body)) = read_request(&stream) else { return };
    let metadata = line.split_whitespace().nth(1).is_some_and(|p| p.ends_with("/metadata"));
    let refused =
        refuse.is_some_and(|needle| line.starts_with("POST") && String::from_utf8_lossy(&body).contains(needle));
    let fault = if refused { Some(400) } else { fault };
    if let (Some(status), false) = (fault, metadata) {
        faults.fetch_add(1, Ordering::SeqCst);
        let text = if refused {
            r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}"#
        } else {
            r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"transient"}]}"#
        };
        let retry = if status == 429 { "Retry-After: 1\r\n" } else { "" };
        let _ = stream.write_all(
            format!(
                "HTTP/1.1 {status} Fault\r\nContent-Type: application/fhir+json\r\n{retry}Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            )
            .as_bytes(),
        );
        return;
    }
    let Ok(mut up) = TcpStream::connect(upstream) else { return };
    let mut head = format!("{line}\r\n");
    for (k, v) in &headers {
        if k != "connection" && k != "keep-alive" {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str("connection: close\r\n\r\n");
    if up.write_all(head.as_bytes()).and_then(|_| up.write_all(&body)).is_err() {
        return;
    }
    let mut answer = Vec::new();
    let _ = up.read_to_end(&mut answer);
    let _ = stream.write_all(&answer);
}
