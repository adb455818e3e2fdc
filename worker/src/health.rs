//! `/healthz` and `/readyz` for ECS (and load balancer) health checks.
//!
//! `/healthz` answers 200 while the process serves requests; `/readyz` answers 200 only after
//! start-up checks passed and until shutdown begins, 503 otherwise. A minimal HTTP/1.1 responder:
//! the checks send a GET and read the status line.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }

    pub fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

fn response(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Reads a request's head (up to the blank line, 8 KiB, or 5 s): answering before the whole
/// request arrived would reset the connection under the client.
async fn read_head(stream: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 8192 {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Serves the health endpoints on `addr` until `stop` is cancelled.
pub async fn serve(listener: TcpListener, ready: Readiness, stop: CancellationToken) {
    loop {
        let (mut stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(s) => s,
                Err(_) => continue,
            },
            _ = stop.cancelled() => return,
        };
        let ready = ready.clone();
        tokio::spawn(async move {
            let request = read_head(&mut stream).await;
            let path = request.split_whitespace().nth(1).unwrap_or("");
            let reply = match path {
                "/healthz" => response("200 OK", "ok\n"),
                "/readyz" if ready.get() => response("200 OK", "ready\n"),
                "/readyz" => response("503 Service Unavailable", "not ready\n"),
                _ => response("404 Not Found", "not found\n"),
            };
            let _ = stream.write_all(reply.as_bytes()).await;
        });
    }
}

/// A blocking GET of `http://host:port/path`: `Ok` on a 2xx status within `timeout`.
pub fn probe(url: &str, timeout: std::time::Duration) -> Result<(), String> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").ok_or("only http:// URLs")?;
    let (host, path) = rest.split_once('/').map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let addr = std::net::ToSocketAddrs::to_socket_addrs(host).map_err(|e| e.to_string())?.next().ok_or("no address")?;
    let mut s = std::net::TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
        .map_err(|e| e.to_string())?;
    // The status line, however the answer is split into reads.
    let (mut head, mut buf) = (Vec::new(), [0u8; 64]);
    while !head.contains(&b'\n') && head.len() < 512 {
        match s.read(&mut buf).map_err(|e| e.to_string())? {
            0 => break,
            n => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&head);
    match line.split_whitespace().nth(1) {
        Some(code) if code.starts_with('2') => Ok(()),
        Some(code) => Err(format!("status {code}")),
        None => Err("no HTTP answer".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(port: u16, path: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out.lines().next().unwrap_or("").to_string()
    }

    #[tokio::test]
    async fn ready_only_when_told() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (ready, stop) = (Readiness::default(), CancellationToken::new());
        tokio::spawn(serve(listener, ready.clone(), stop.clone()));
        assert_eq!(get(port, "/healthz").await, "HTTP/1.1 200 OK");
        assert_eq!(get(port, "/readyz").await, "HTTP/1.1 503 Service Unavailable");
        ready.set(true);
        assert_eq!(get(port, "/readyz").await, "HTTP/1.1 200 OK");
        assert_eq!(get(port, "/other").await, "HTTP/1.1 404 Not Found");
        let url = format!("http://127.0.0.1:{port}/readyz");
        let probed = tokio::task::spawn_blocking(move || probe(&url, std::time::Duration::from_secs(3)));
        assert_eq!(probed.await.unwrap(), Ok(()));
        ready.set(false);
        let url = format!("http://127.0.0.1:{port}/readyz");
        let probed = tokio::task::spawn_blocking(move || probe(&url, std::time::Duration::from_secs(3)));
        assert_eq!(probed.await.unwrap(), Err("status 503".into()));
        stop.cancel();
    }
}
