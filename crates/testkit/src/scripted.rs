//! A FHIR server that answers from a script: for the failures a real server will not give on
//! demand (429 with Retry-After, 503, a 400 with an OperationOutcome).

use serde_json::Value;

/// A request as read: its line, its headers (names in lower case), its body.
pub type RawRequest = (String, Vec<(String, String)>, Vec<u8>);

/// One HTTP/1.1 request off a connection: its request line, its headers (names in lower case)
/// and its body (by Content-Length).
pub fn read_request(stream: &std::net::TcpStream) -> Option<RawRequest> {
    use std::io::{BufRead, BufReader, Read};
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let length = headers.iter().find(|(k, _)| k == "content-length").map_or(0, |(_, v)| v.parse().unwrap_or(0));
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some((line.trim_end().to_string(), headers, body))
}

/// A reply of the scripted FHIR server to one POST.
#[derive(Clone)]
pub enum Reply {
    Status(u16, Vec<(&'static str, &'static str)>, &'static str),
    /// A transaction-response with `201 Created` for every entry.
    Accept,
    /// A transaction-response with `200 OK` for every entry: each PUT updated what was there.
    Updated,
    /// [`Reply::Accept`], its head at once and its body a byte every 200 ms (a server crawling
    /// past the client's timeout).
    Trickle,
    /// No answer at all: the connection is held open for a minute.
    Hang,
}

/// One request the scripted server saw.
#[derive(Clone, Debug)]
pub struct Request {
    pub at: std::time::Instant,
    /// `POST /path HTTP/1.1`
    pub line: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

pub type Requests = std::sync::Arc<std::sync::Mutex<Vec<Request>>>;

/// A FHIR server on 127.0.0.1 that serves `/metadata` as R4 and answers POSTs with `script` in
/// order, then accepts. Returns the base URL and every request it saw.
pub fn scripted(script: Vec<Reply>) -> (String, Requests) {
    scripted_with(script, Vec::new())
}

/// As [`scripted`], and a `GET` whose path (with its query) starts with one of `reads`' keys is
/// answered 200 with its bodies in turn (the last one again once all were served; an empty body
/// is a 404); any other `GET` but `/metadata` is 404.
pub fn scripted_with(script: Vec<Reply>, reads: Vec<(String, Vec<String>)>) -> (String, Requests) {
    use serde_json::json;
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests: Requests = Default::default();
    let seen = requests.clone();
    std::thread::spawn(move || {
        let mut script = script.into_iter();
        let mut reads: Vec<(String, std::collections::VecDeque<String>)> =
            reads.into_iter().map(|(k, v)| (k, v.into())).collect();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some((line, headers, body)) = read_request(&stream) else { continue };
            seen.lock().unwrap().push(Request {
                at: std::time::Instant::now(),
                line: line.clone(),
                headers,
                body: body.clone(),
            });
            let (status, extra, text) = if let Some(path) = line.strip_prefix("GET ") {
                let path = path.split_whitespace().next().unwrap_or("");
                if path.ends_with("/metadata") {
                    let cs = json!({"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1", "status": "active"});
                    (200, vec![], cs.to_string())
                } else if let Some((_, bodies)) = reads.iter_mut().find(|(k, _)| path.starts_with(k.as_str())) {
                    let body = if bodies.len() > 1 { bodies.pop_front() } else { bodies.front().cloned() };
                    match body.unwrap_or_default() {
                        b if b.is_empty() => {
                            (404, vec![], r#"{"resourceType":"OperationOutcome","issue":[]}"#.to_string())
                        }
                        b => (200, vec![], b),
                    }
                } else {
                    let oo = json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]});
                    (404, vec![], oo.to_string())
                }
            } else {
                match script.next().unwrap_or(Reply::Accept) {
                    Reply::Status(s, h, b) => (s, h, b.to_string()),
                    Reply::Hang => {
                        std::thread::spawn(move || {
                            std::thread::sleep(std::time::Duration::from_secs(60));
                            drop(stream);
                        });
                        continue;
                    }
                    Reply::Trickle => {
                        let req: Value = serde_json::from_slice(&body).unwrap();
                        let n = req["entry"].as_array().map_or(0, Vec::len);
                        let entries = vec![json!({"response": {"status": "201 Created"}}); n];
                        let text = json!({"resourceType": "Bundle", "type": "transaction-response", "entry": entries})
                            .to_string();
                        std::thread::spawn(move || {
                            let head = format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                text.len()
                            );
                            let _ = stream.write_all(head.as_bytes());
                            for b in text.bytes() {
                                std::thread::sleep(std::time::Duration::from_millis(200));
                                if stream.write_all(&[b]).is_err() {
                                    return;
                                }
                            }
                        });
                        continue;
                    }
                    reply @ (Reply::Accept | Reply::Updated) => {
                        let req: Value = serde_json::from_slice(&body).unwrap();
                        let n = req["entry"].as_array().map_or(0, Vec::len);
                        let status = if matches!(reply, Reply::Accept) { "201 Created" } else { "200 OK" };
                        let entries = vec![json!({"response": {"status": status}}); n];
                        (
                            200,
                            vec![],
                            json!({"resourceType": "Bundle", "type": "transaction-response", "entry": entries})
                                .to_string(),
                        )
                    }
                }
            };
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n",
                text.len()
            );
            for (k, v) in extra {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            let _ = stream.write_all(format!("{head}\r\n{text}").as_bytes());
        }
    });
    (base, requests)
}
