//! HTTP/1.1 framing: requests parsed with httparse, responses queued and written as the
//! connection takes them. Nothing here knows what carries the bytes: a TCP connection
//! (static-website) or a TLS session (static-website-tls) is a [`Sink`].

use crate::site::Site;
use crate::ukc::kv::ro::Store;
use crate::ukc::tcpip::types::Endpoint;
use std::collections::VecDeque;

/// What a write to a connection did.
pub enum Sent {
    /// It took this many bytes.
    Took(u64),
    /// It takes nothing now; try after `yield`.
    WouldBlock,
    /// The connection failed.
    Failed,
}

/// Where responses go.
pub trait Sink {
    /// Writes what the connection takes of `data`.
    fn send(&self, data: &[u8]) -> Sent;

    /// Writes what the connection takes of `head`, then of up to `len` bytes of the value
    /// `key` in `store` from `offset`, without reading the value into this component
    /// (`ukc:sendfile`); how many bytes it took, `head`'s first. `None` where the value's
    /// bytes must pass through here (a TLS session encrypts them): the response then
    /// reads the value in chunks and sends them with [`Sink::send`].
    fn send_value(&self, _head: &[u8], _store: &Store, _key: &str, _offset: u64, _len: u64) -> Option<Sent> {
        None
    }
}

/// The connection or the store failed: the connection is dropped.
#[derive(Debug)]
pub struct Failed;

/// Largest request head accepted; browsers and curl send far less.
const MAX_HEAD: usize = 16 * 1024;
/// Most headers accepted in a request.
const MAX_HEADERS: usize = 64;
/// Bytes of a streamed value read from the store at a time.
const STREAM_CHUNK: u64 = 64 * 1024;

/// A request, reduced to what a static file server needs.
pub struct Request {
    pub method: String,
    /// The path, percent-decoded, without the query.
    pub path: String,
    /// Whether the connection stays open after the response.
    pub keep_alive: bool,
}

/// The outcome of parsing the bytes received so far.
pub enum Parsed {
    /// More bytes are needed.
    Incomplete,
    /// A whole request, and how many bytes of the input it used.
    Request { request: Request, consumed: usize },
    /// The bytes are not HTTP: answer with this response and close.
    Invalid(Vec<u8>),
}

/// Parses the first request in `input`.
pub fn parse(input: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let consumed = match request.parse(input) {
        Ok(httparse::Status::Complete(consumed)) => consumed,
        Ok(httparse::Status::Partial) if input.len() <= MAX_HEAD => return Parsed::Incomplete,
        Ok(httparse::Status::Partial) => return Parsed::Invalid(status_only(431, "Request Header Fields Too Large")),
        Err(httparse::Error::TooManyHeaders) => {
            return Parsed::Invalid(status_only(431, "Request Header Fields Too Large"));
        }
        Err(_) => return Parsed::Invalid(status_only(400, "Bad Request")),
    };
    let header = |name: &str| {
        request.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| String::from_utf8_lossy(h.value))
    };
    let connection = header("connection").map(|v| v.to_ascii_lowercase()).unwrap_or_default();
    let keep_alive = match request.version {
        Some(1) => !connection.contains("close"),
        _ => connection.contains("keep-alive"),
    };
    // Requests with bodies are not served; a body would be taken for the next request.
    let has_body = header("content-length").is_some_and(|v| v.trim() != "0") || header("transfer-encoding").is_some();
    let (Some(method), Some(target)) = (request.method, request.path) else {
        return Parsed::Invalid(status_only(400, "Bad Request"));
    };
    let Some(path) = decode_path(target) else { return Parsed::Invalid(status_only(400, "Bad Request")) };
    Parsed::Request {
        request: Request { method: method.to_string(), path, keep_alive: keep_alive && !has_body },
        consumed,
    }
}

/// Percent-decodes the path of a request target and drops its query; `None` for a
/// target that is not a path, or that does not decode to UTF-8.
fn decode_path(target: &str) -> Option<String> {
    let path = target.split(['?', '#']).next()?;
    if !path.starts_with('/') {
        return None;
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A complete response with no body, for errors found while parsing.
fn status_only(code: u16, reason: &str) -> Vec<u8> {
    format!("HTTP/1.1 {code} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").into_bytes()
}

/// One connection's HTTP: bytes received but not yet parsed, the response being sent, and
/// whether the connection closes once it is sent.
#[derive(Default)]
pub struct Exchange {
    pub input: Vec<u8>,
    pub output: Output,
    pub closing: bool,
}

impl Exchange {
    /// Answers the next complete request already received (HTTP/1.1 pipelining), once
    /// the response before it is sent: one response at a time bounds what a client that
    /// pipelines and never reads can make the server hold.
    pub fn answer_buffered(&mut self, site: &Site, peer: &Endpoint) -> bool {
        let mut answered = false;
        while !self.closing && self.output.is_empty() {
            match parse(&self.input) {
                Parsed::Incomplete => break,
                Parsed::Request { request, consumed } => {
                    self.input.drain(..consumed);
                    self.closing = !request.keep_alive;
                    site.respond(&request, peer, &mut self.output);
                }
                Parsed::Invalid(response) => {
                    self.input.clear();
                    self.closing = true;
                    self.output.push_head(response);
                }
            }
            answered = true;
        }
        answered
    }
}

/// Most bytes that queued pieces are joined into.
const JOIN_LIMIT: usize = 80 * 1024;

/// What remains to send on a connection, in order.
#[derive(Default)]
pub struct Output {
    parts: VecDeque<Part>,
}

enum Part {
    /// Bytes, of which the first `sent` have been written.
    Bytes { data: Vec<u8>, sent: usize },
    /// A response head still to send (what is left of it), then a value of the store
    /// still to send from `offset`, `remaining` bytes.
    Value { head: Vec<u8>, key: String, offset: u64, remaining: u64 },
}

impl Output {
    /// Queues bytes (a response head, or a small body). Bytes join those queued before
    /// them while none of those is sent, up to [`JOIN_LIMIT`], so that a head and its body
    /// leave in one write: one system call or one segment, where two cost twice.
    pub fn push_head(&mut self, data: Vec<u8>) {
        if data.is_empty() {
            return;
        }
        if let Some(Part::Bytes { data: queued, sent: 0 }) = self.parts.back_mut()
            && queued.len() + data.len() <= JOIN_LIMIT
        {
            queued.extend_from_slice(&data);
            return;
        }
        self.parts.push_back(Part::Bytes { data, sent: 0 });
    }

    /// Queues a response head and the value of the store it describes, `len` bytes: sent
    /// together as the connection takes them.
    pub fn push_value(&mut self, head: Vec<u8>, key: String, len: u64) {
        self.parts.push_back(Part::Value { head, key, offset: 0, remaining: len });
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Writes as much as the connection takes; `Ok(true)` if anything was written,
    /// `Err` when the connection or the store failed (the connection is then dropped).
    pub fn flush(&mut self, connection: &impl Sink, site: &Site) -> Result<bool, Failed> {
        let mut wrote = false;
        while let Some(part) = self.parts.front_mut() {
            let sent = match part {
                Part::Value { head, key, offset, remaining } => {
                    let Some(sent) = connection.send_value(head, site.store(), key, *offset, *remaining) else {
                        self.read_in(site)?;
                        continue;
                    };
                    if let Sent::Took(n) = sent {
                        let from_head = (n as usize).min(head.len());
                        head.drain(..from_head);
                        let from_value = n - from_head as u64;
                        // Nothing taken with bytes left: the value ended early (it shrank).
                        if n == 0 || from_value > *remaining {
                            return Err(Failed);
                        }
                        (*offset, *remaining) = (*offset + from_value, *remaining - from_value);
                        if head.is_empty() && *remaining == 0 {
                            self.parts.pop_front();
                        }
                    }
                    sent
                }
                Part::Bytes { data, sent } => {
                    let took = connection.send(&data[*sent..]);
                    if let Sent::Took(n) = took {
                        *sent += n as usize;
                        if *sent == data.len() {
                            self.parts.pop_front();
                        }
                    }
                    took
                }
            };
            match sent {
                Sent::Took(_) => wrote = true,
                Sent::WouldBlock => return Ok(wrote),
                Sent::Failed => return Err(Failed),
            }
        }
        Ok(wrote)
    }

    /// For a connection that cannot send values itself: the next chunk of the value the
    /// front part still has to send, behind what is left of its head, becomes bytes to
    /// send before it, or in its place when it was the last.
    fn read_in(&mut self, site: &Site) -> Result<(), Failed> {
        let Some(Part::Value { head, key, offset, remaining }) = self.parts.front_mut() else { return Ok(()) };
        let chunk = match *remaining {
            0 => Vec::new(),
            left => site.read_chunk(key, *offset, left.min(STREAM_CHUNK)).ok_or(Failed)?,
        };
        let read = (chunk.len() as u64).min(*remaining);
        (*offset, *remaining) = (*offset + read, *remaining - read);
        let mut data = std::mem::take(head);
        data.extend_from_slice(&chunk);
        if *remaining == 0 {
            self.parts.pop_front();
        }
        self.parts.push_front(Part::Bytes { data, sent: 0 });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str) -> Request {
        match parse(text.as_bytes()) {
            Parsed::Request { request, consumed } => {
                assert_eq!(consumed, text.len());
                request
            }
            _ => panic!("not a request: {text:?}"),
        }
    }

    #[test]
    fn parses_requests_and_keep_alive() {
        let r = request("GET /a%20b.html?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!((r.method.as_str(), r.path.as_str(), r.keep_alive), ("GET", "/a b.html", true));
        assert!(!request("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
        assert!(!request("GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(request("HEAD / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
    }

    #[test]
    fn incomplete_and_invalid() {
        assert!(matches!(parse(b"GET / HTTP/1.1\r\nHost"), Parsed::Incomplete));
        assert!(matches!(parse(b"\x00\x01garbage\r\n\r\n"), Parsed::Invalid(_)));
        assert!(matches!(parse(b"GET http://x/ HTTP/1.1\r\n\r\n"), Parsed::Invalid(_)));
        assert!(matches!(parse(b"GET /%zz HTTP/1.1\r\n\r\n"), Parsed::Invalid(_)));
        let huge = format!("GET / HTTP/1.1\r\nX: {}", "a".repeat(MAX_HEAD));
        assert!(matches!(parse(huge.as_bytes()), Parsed::Invalid(_)));
    }

    #[test]
    fn a_head_and_its_small_body_leave_together() {
        let lengths = |output: &Output| {
            output
                .parts
                .iter()
                .map(|p| if let Part::Bytes { data, .. } = p { data.len() } else { 0 })
                .collect::<Vec<_>>()
        };
        let mut output = Output::default();
        output.push_head(b"HTTP/1.1 200 OK\r\n\r\n".to_vec());
        output.push_head(vec![7; 1024]);
        assert_eq!(lengths(&output), [19 + 1024]);
        output.push_head(vec![8; JOIN_LIMIT]);
        assert_eq!(lengths(&output), [19 + 1024, JOIN_LIMIT], "past the limit, a part of its own");
        if let Some(Part::Bytes { sent, .. }) = output.parts.back_mut() {
            *sent = 1;
        }
        output.push_head(vec![9; 10]);
        assert_eq!(lengths(&output), [19 + 1024, JOIN_LIMIT, 10], "never joined to bytes partly sent");
    }
}
