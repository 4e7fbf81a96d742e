//! HTTP/1.1 requests with bodies, parsed with httparse, and the responses the service
//! sends. A request's head may take 16 KiB and its body [`MAX_BODY`]; a body must come
//! with a `Content-Length` (a notes client knows its note's length).

/// Largest request head accepted.
const MAX_HEAD: usize = 16 * 1024;
/// Most headers accepted in a request.
const MAX_HEADERS: usize = 64;
/// Largest note, and so the largest request body.
pub const MAX_BODY: usize = 64 * 1024;

/// A request: its method, its path (without the query), its body.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub body: Vec<u8>,
    /// Whether the connection stays open after the response.
    pub keep_alive: bool,
}

/// The outcome of parsing the bytes received so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// More bytes are needed.
    Incomplete,
    /// A whole request, and how many bytes of the input it took.
    Request { request: Request, consumed: usize },
    /// The bytes are no request this service takes: answer with this response and close.
    Invalid(Vec<u8>),
}

/// Parses the first request in `input`.
pub fn parse(input: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let head = match request.parse(input) {
        Ok(httparse::Status::Complete(head)) => head,
        Ok(httparse::Status::Partial) if input.len() <= MAX_HEAD => return Parsed::Incomplete,
        Ok(httparse::Status::Partial) | Err(httparse::Error::TooManyHeaders) => {
            return Parsed::Invalid(response(431, "Request Header Fields Too Large", b"", false));
        }
        Err(_) => return Parsed::Invalid(response(400, "Bad Request", b"", false)),
    };
    let header = |name: &str| {
        request.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| String::from_utf8_lossy(h.value))
    };
    // Two lengths could frame the body two ways: refused, as RFC 9112 asks.
    if request.headers.iter().filter(|h| h.name.eq_ignore_ascii_case("content-length")).count() > 1 {
        return Parsed::Invalid(response(400, "Bad Request", b"one Content-Length, please\n", false));
    }
    if header("transfer-encoding").is_some() {
        return Parsed::Invalid(response(411, "Length Required", b"send the note with a Content-Length\n", false));
    }
    if head > MAX_HEAD {
        return Parsed::Invalid(response(431, "Request Header Fields Too Large", b"", false));
    }
    // Digits only (RFC 9112): `+5` parses as a number but is no length.
    let length = header("content-length").map(|v| {
        let v = v.trim();
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) { None } else { v.parse::<usize>().ok() }
    });
    let length = match length {
        None => 0,
        Some(Some(length)) if length <= MAX_BODY => length,
        Some(Some(_)) => {
            return Parsed::Invalid(response(413, "Content Too Large", b"a note takes at most 64 KiB\n", false));
        }
        Some(None) => return Parsed::Invalid(response(400, "Bad Request", b"", false)),
    };
    let connection = header("connection").map(|v| v.to_ascii_lowercase()).unwrap_or_default();
    let keep_alive = match request.version {
        Some(1) => !connection.contains("close"),
        _ => connection.contains("keep-alive"),
    };
    let (Some(method), Some(target)) = (request.method, request.path) else {
        return Parsed::Invalid(response(400, "Bad Request", b"", false));
    };
    let Some(body) = input.get(head..head + length) else { return Parsed::Incomplete };
    let path = target.split('?').next().unwrap_or_default().to_string();
    let request = Request { method: method.to_string(), path, body: body.to_vec(), keep_alive };
    Parsed::Request { request, consumed: head + length }
}

/// A whole response with `body` (plain text), keeping the connection open or not.
pub fn response(status: u16, reason: &str, body: &[u8], keep_alive: bool) -> Vec<u8> {
    with_headers(status, reason, &[], body, keep_alive)
}

/// A whole response with extra `headers`.
pub fn with_headers(status: u16, reason: &str, headers: &[(&str, &str)], body: &[u8], keep_alive: bool) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\n", body.len());
    if !body.is_empty() {
        head.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(if keep_alive { "Connection: keep-alive\r\n\r\n" } else { "Connection: close\r\n\r\n" });
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_with_and_without_bodies_pipelined() {
        let input = b"PUT /notes/a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /notes/a?x=1 HTTP/1.1\r\nConnection: close\r\n\r\n";
        let Parsed::Request { request, consumed } = parse(input) else { panic!("a request") };
        assert_eq!(
            (request.method.as_str(), request.path.as_str(), &request.body[..]),
            ("PUT", "/notes/a", &b"hello"[..])
        );
        assert!(request.keep_alive);
        let Parsed::Request { request, .. } = parse(&input[consumed..]) else { panic!("a second request") };
        assert_eq!((request.path.as_str(), request.keep_alive), ("/notes/a", false));
        for cut in 1..consumed {
            assert_eq!(parse(&input[..cut]), Parsed::Incomplete, "cut at {cut}");
        }
    }

    #[test]
    fn bodies_too_large_chunked_or_malformed_are_refused() {
        let status = |input: &[u8]| match parse(input) {
            Parsed::Invalid(response) => String::from_utf8_lossy(&response[9..12]).into_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(status(b"PUT /notes/a HTTP/1.1\r\nContent-Length: 65537\r\n\r\n"), "413");
        assert_eq!(status(b"PUT /notes/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), "411");
        assert_eq!(status(b"PUT /notes/a HTTP/1.1\r\nContent-Length: x\r\n\r\n"), "400");
        assert_eq!(status(b"PUT /notes/a HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 1\r\n\r\nab"), "400");
        assert_eq!(status(b"PUT /notes/a HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello"), "400");
        let long_head = [&b"GET /notes HTTP/1.1\r\nX: "[..], &[b'y'; MAX_HEAD], b"\r\n\r\n"].concat();
        assert_eq!(status(&long_head), "431", "a head over 16 KiB, even arriving whole");
        assert_eq!(status(b"\x00\x01 nonsense\r\n\r\n"), "400");
        assert_eq!(status(&[b'a'; MAX_HEAD + 1]), "431");
    }
}
