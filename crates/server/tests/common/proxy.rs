//! A TCP proxy between a device and the hub that misbehaves on request: it cuts a
//! response after N bytes, answers 502 itself, sends a request to the hub twice, or
//! holds it a while.
//! One request per connection (it asks the hub to close after each).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Pass it on.
    Pass,
    /// Pass it on; cut the response after this many bytes.
    Cut(usize),
    /// Answer 502 without reaching the hub.
    BadGateway,
    /// Send it to the hub twice; the device gets the second response.
    Twice,
    /// Pass it on after this many milliseconds.
    Delay(u64),
}

pub struct FaultProxy {
    pub base: String,
    faults: Arc<Mutex<VecDeque<Fault>>>,
    /// Partitioned: every request gets 502 until healed.
    down: Arc<std::sync::atomic::AtomicBool>,
    /// Requests seen, by their first line.
    pub seen: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let faults: Arc<Mutex<VecDeque<Fault>>> = Arc::default();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let down: Arc<std::sync::atomic::AtomicBool> = Arc::default();
        let (f, s, d) = (faults.clone(), seen.clone(), down.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { return };
                let (f, s, d) = (f.clone(), s.clone(), d.clone());
                tokio::spawn(async move {
                    let _ = handle(client, upstream, f, s, d).await;
                });
            }
        });
        FaultProxy { base, faults, down, seen, task }
    }

    /// Cut the device off from the hub (`true`) or heal the partition.
    pub fn partition(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }

    /// Faults queued and not yet done.
    pub fn pending(&self) -> usize {
        self.faults.lock().unwrap().len()
    }

    /// Do `fault` to the next request (faults queue up; then requests pass).
    pub fn next(&self, fault: Fault) {
        self.faults.lock().unwrap().push_back(fault);
    }
}

/// Read one request: its head (with `connection: close` put in) and its body.
pub async fn read_request(client: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let lines: Vec<&str> =
        head.trim_end().split("\r\n").filter(|l| !l.to_ascii_lowercase().starts_with("connection:")).collect();
    let mut out = format!("{}\r\nconnection: close\r\n\r\n", lines.join("\r\n")).into_bytes();
    out.extend_from_slice(&buf[head_end..head_end + length]);
    Ok(out)
}

/// Send `request` to the hub and read its whole response.
async fn exchange(upstream: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut hub = TcpStream::connect(upstream).await?;
    hub.write_all(request).await?;
    let mut response = Vec::new();
    hub.read_to_end(&mut response).await?;
    Ok(response)
}

async fn handle(
    mut client: TcpStream,
    upstream: SocketAddr,
    faults: Arc<Mutex<VecDeque<Fault>>>,
    seen: Arc<Mutex<Vec<String>>>,
    down: Arc<std::sync::atomic::AtomicBool>,
) -> std::io::Result<()> {
    let request = read_request(&mut client).await?;
    let first = String::from_utf8_lossy(&request).lines().next().unwrap_or_default().to_string();
    seen.lock().unwrap().push(first);
    let fault = match down.load(std::sync::atomic::Ordering::SeqCst) {
        true => Fault::BadGateway,
        false => faults.lock().unwrap().pop_front().unwrap_or(Fault::Pass),
    };
    let response = match fault {
        Fault::BadGateway => {
            b"HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ncontent-length: 3\r\nconnection: close\r\n\r\nbad"
                .to_vec()
        }
        Fault::Twice => {
            exchange(upstream, &request).await?;
            exchange(upstream, &request).await?
        }
        Fault::Pass => exchange(upstream, &request).await?,
        Fault::Delay(ms) => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            exchange(upstream, &request).await?
        }
        Fault::Cut(n) => {
            let r = exchange(upstream, &request).await?;
            r[..n.min(r.len())].to_vec()
        }
    };
    client.write_all(&response).await?;
    client.shutdown().await
}
