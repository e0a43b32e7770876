//! A TCP proxy in front of the emulator that misbehaves as networks do: for
//! the requests its rule picks, it forwards the request, lets the emulator
//! answer, then closes the client's connection without passing the answer
//! on (the client sees the connection close mid-answer: hyper's "incomplete
//! message"). The rule may also act before a request is forwarded, e.g.
//! make a change in the account, deterministically between two calls of
//! the tool.

#![allow(dead_code)] // Each test uses a different part of the proxy.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the proxy does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Forward,
    /// Forward it, then drop the connection instead of answering.
    LoseAnswer,
}

type Rule = Box<dyn FnMut(&str) -> Verdict + Send>;

/// A proxy serving on `127.0.0.1:<free port>` until dropped.
pub(crate) struct Proxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Proxy to `upstream`; `rule` sees each request's operation (what
    /// follows the last `.` of `X-Amz-Target`, or the STS `Action`).
    pub(crate) fn start(
        upstream: SocketAddr,
        rule: impl FnMut(&str) -> Verdict + Send + 'static,
    ) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener.set_nonblocking(true).expect("non-blocking accept");
        let addr = listener.local_addr().expect("proxy address");
        let stop = Arc::new(AtomicBool::new(false));
        let rule: Arc<Mutex<Rule>> = Arc::new(Mutex::new(Box::new(rule)));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let rule = rule.clone();
                            std::thread::spawn(move || serve(client, upstream, &rule));
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => break,
                    }
                }
            })
        };
        Proxy {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One client connection: requests in order, each forwarded on one
/// upstream connection (HTTP/1.1 keep-alive on both sides).
fn serve(client: TcpStream, upstream: SocketAddr, rule: &Mutex<Rule>) {
    client.set_nonblocking(false).ok();
    let mut from_client = BufReader::new(client.try_clone().expect("clone the client socket"));
    let mut to_client = client;
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    let mut from_server = BufReader::new(server.try_clone().expect("clone the server socket"));
    let mut to_server = server;
    loop {
        let Some((request, operation)) = read_message(&mut from_client) else {
            return;
        };
        let verdict = (rule.lock().expect("the rule"))(&operation);
        if to_server.write_all(&request).is_err() {
            return;
        }
        let Some((response, _)) = read_message(&mut from_server) else {
            return;
        };
        if verdict == Verdict::LoseAnswer {
            let _ = to_client.shutdown(std::net::Shutdown::Both);
            return;
        }
        if to_client.write_all(&response).is_err() {
            return;
        }
    }
}

/// One HTTP/1.1 message (head and a Content-Length body), as bytes, and the
/// operation it names, if it is a request that names one.
fn read_message(reader: &mut impl BufRead) -> Option<(Vec<u8>, String)> {
    let mut head = Vec::new();
    let mut length = 0usize;
    let mut operation = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.extend_from_slice(line.as_bytes());
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            let value = value.trim();
            match name.as_str() {
                "content-length" => length = value.parse().ok()?,
                "x-amz-target" => operation = value.rsplit('.').next()?.to_owned(),
                "transfer-encoding" => panic!("the proxy does not handle {value} bodies"),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    if operation.is_empty() {
        operation = url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == "Action")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
    }
    head.extend_from_slice(&body);
    Some((head, operation))
}
