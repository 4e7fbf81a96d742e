//! An HTTP/1.1 response read as it arrives: the head, then the body as the head frames it
//! (`Content-Length`, chunked, or until the server closes), handed on piece by piece so
//! that a large body is never held whole.

/// Bytes of head or of one chunk-size or trailer line, at most.
const MAX_HEAD: usize = 64 * 1024;
const MAX_LINE: usize = 4096;

/// The status line's figures.
#[derive(Debug, PartialEq, Eq)]
pub struct Status {
    pub code: u16,
    pub reason: String,
}

/// A response being read.
pub struct Response {
    head: Vec<u8>,
    status: Option<Status>,
    body: Body,
}

enum Body {
    /// The head is still coming.
    Waiting,
    /// This many bytes of body to come.
    Length(u64),
    Chunked(Chunk),
    UntilClose,
    Done,
}

enum Chunk {
    /// A chunk-size line, so far.
    Size(Vec<u8>),
    /// This many bytes of the chunk's data to come.
    Data(u64),
    /// The line end after a chunk's data; how much of it came.
    DataEnd(usize),
    /// A trailer line (or the final empty line), so far.
    Trailer(Vec<u8>),
}

impl Response {
    pub fn new() -> Response {
        Response { head: Vec::new(), status: None, body: Body::Waiting }
    }

    /// The status, once the head has come.
    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }

    /// Whether the whole body has come (a body that lasts until the close never has).
    pub fn is_done(&self) -> bool {
        matches!(self.body, Body::Done)
    }

    /// Takes in bytes from the connection and hands body bytes to `body`. Returns how much
    /// of `input` it used: all of it, but for the end of the head, where it stops so that
    /// the caller can look at the status before any of the body goes on.
    pub fn feed(&mut self, input: &[u8], body: &mut dyn FnMut(&[u8])) -> Result<usize, String> {
        if let Body::Waiting = self.body {
            return self.feed_head(input);
        }
        let mut rest = input;
        while !rest.is_empty() {
            rest = match &mut self.body {
                Body::Waiting => unreachable!("the head came first"),
                Body::Done => return Err("the server sent more than the response's length".into()),
                Body::UntilClose => {
                    body(rest);
                    &[]
                }
                Body::Length(left) => {
                    let n = rest.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                    body(&rest[..n]);
                    *left -= n as u64;
                    if *left == 0 {
                        self.body = Body::Done;
                    }
                    &rest[n..]
                }
                Body::Chunked(chunk) => {
                    let (used, done) = chunk.feed(rest, body)?;
                    if done {
                        self.body = Body::Done;
                    }
                    &rest[used..]
                }
            };
        }
        Ok(input.len())
    }

    /// What the connection's end means: fine once the body is whole or runs until it.
    pub fn finish(&self) -> Result<(), String> {
        match &self.body {
            Body::Done | Body::UntilClose => Ok(()),
            Body::Waiting => Err("the server closed the connection before a whole response head".into()),
            Body::Length(left) => Err(format!("the server closed the connection {left} bytes before the body's end")),
            Body::Chunked(_) => Err("the server closed the connection inside the chunked body".into()),
        }
    }

    fn feed_head(&mut self, input: &[u8]) -> Result<usize, String> {
        // The head ends at the first blank line; look where it may straddle the input.
        let seen = self.head.len().saturating_sub(3);
        let take = input.len().min(MAX_HEAD + 4 - self.head.len().min(MAX_HEAD));
        self.head.extend_from_slice(&input[..take]);
        let Some(end) = self.head[seen..].windows(4).position(|w| w == b"\r\n\r\n").map(|at| seen + at + 4) else {
            if self.head.len() > MAX_HEAD {
                return Err(format!("the response head is longer than {MAX_HEAD} bytes"));
            }
            return Ok(take);
        };
        let used = take - (self.head.len() - end);
        self.head.truncate(end);
        let text = std::str::from_utf8(&self.head).map_err(|_| "the response head is not text".to_string())?;
        let (status, body) = parse_head(text)?;
        self.status = Some(status);
        self.body = body;
        Ok(used)
    }
}

fn parse_head(text: &str) -> Result<(Status, Body), String> {
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut words = status_line.splitn(3, ' ');
    let (version, code) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
    let code = code.parse::<u16>().ok().filter(|c| (100..600).contains(c));
    let Some(code) = code.filter(|_| version.starts_with("HTTP/1.")) else {
        return Err(format!("the server did not answer HTTP/1.x: '{status_line}'"));
    };
    let status = Status { code, reason: words.next().unwrap_or_default().to_string() };
    let (mut length, mut chunked) = (None, false);
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or_else(|| format!("a malformed header line: '{line}'"))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
            let n = value.parse::<u64>().ok().filter(|_| digits);
            let n = n.ok_or_else(|| format!("a malformed Content-Length: '{value}'"))?;
            if length.is_some_and(|l| l != n) {
                return Err("the response has two different Content-Length headers".into());
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.rsplit(',').next().is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        }
    }
    let body = if code < 200 {
        return Err(format!("the server answered {code} and no final response (an interim response)"));
    } else if code == 204 || code == 304 {
        Body::Done
    } else if chunked {
        Body::Chunked(Chunk::Size(Vec::new()))
    } else {
        match length {
            Some(0) => Body::Done,
            Some(n) => Body::Length(n),
            None => Body::UntilClose,
        }
    };
    Ok((status, body))
}

impl Chunk {
    /// Moves along the chunked framing; returns how much of `input` it used and whether
    /// the body has ended.
    fn feed(&mut self, input: &[u8], body: &mut dyn FnMut(&[u8])) -> Result<(usize, bool), String> {
        match self {
            Chunk::Size(line) | Chunk::Trailer(line) => {
                let Some(at) = input.iter().position(|&b| b == b'\n') else {
                    line.extend_from_slice(input);
                    return if line.len() > MAX_LINE {
                        Err("a chunk line is too long".into())
                    } else {
                        Ok((input.len(), false))
                    };
                };
                line.extend_from_slice(&input[..at]);
                let text = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)).into_owned();
                let done = match self {
                    Chunk::Size(_) => {
                        let hex = text.split(';').next().unwrap_or_default().trim();
                        let size =
                            u64::from_str_radix(hex, 16).ok().filter(|_| hex.bytes().all(|b| b.is_ascii_hexdigit()));
                        let size = size.ok_or_else(|| format!("a malformed chunk size: '{text}'"))?;
                        *self = if size == 0 { Chunk::Trailer(Vec::new()) } else { Chunk::Data(size) };
                        false
                    }
                    // The empty line after the last chunk's trailers ends the body.
                    _ if text.is_empty() => true,
                    _ => {
                        *self = Chunk::Trailer(Vec::new());
                        false
                    }
                };
                Ok((at + 1, done))
            }
            Chunk::Data(left) => {
                let n = input.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                body(&input[..n]);
                *left -= n as u64;
                if *left == 0 {
                    *self = Chunk::DataEnd(0);
                }
                Ok((n, false))
            }
            Chunk::DataEnd(seen) => {
                let mut used = 0;
                for &b in input {
                    let want = if *seen == 0 { b'\r' } else { b'\n' };
                    if b != want {
                        return Err("a chunk's data does not end where its size says".into());
                    }
                    used += 1;
                    *seen += 1;
                    if *seen == 2 {
                        *self = Chunk::Size(Vec::new());
                        break;
                    }
                }
                Ok((used, false))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Response, Status};

    /// Feeds `wire` in pieces of `step` bytes; the status, the body and how it ended.
    fn read(wire: &[u8], step: usize) -> (Option<Status>, Vec<u8>, Result<(), String>) {
        let mut response = Response::new();
        let mut body = Vec::new();
        for piece in wire.chunks(step) {
            let mut rest = piece;
            while !rest.is_empty() {
                match response.feed(rest, &mut |b| body.extend_from_slice(b)) {
                    Ok(used) => rest = &rest[used..],
                    Err(e) => return (response.status, body, Err(e)),
                }
            }
        }
        let end = response.finish();
        (response.status, body, end)
    }

    #[test]
    fn bodies_come_whole_however_the_bytes_are_cut() {
        let cases: [(&[u8], &[u8]); 4] = [
            (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", b"hello"),
            (b"HTTP/1.0 200 ok\r\nServer: x\r\n\r\nuntil the close", b"until the close"),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n!\r\n0\r\nT: 1\r\n\r\n",
                b"hello!",
            ),
            (b"HTTP/1.1 204 No Content\r\n\r\n", b""),
        ];
        for (wire, want) in cases {
            for step in [1, 2, 7, wire.len()] {
                let (status, body, end) = read(wire, step);
                assert_eq!(
                    (status.map(|s| s.code), body.as_slice(), end),
                    (Some(if want.is_empty() { 204 } else { 200 }), want, Ok(()))
                );
            }
        }
    }

    #[test]
    fn broken_responses_say_what_broke() {
        let cases: [(&[u8], &str); 9] = [
            (b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello", "4 bytes before"),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "inside the chunked"),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\n", "chunk size"),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", "does not end"),
            (b"SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.x"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "two different"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello", "malformed Content-Length"),
            (b"HTTP/1.1 200 OK\r\nContent-", "before a whole response head"),
        ];
        for (wire, why) in cases {
            let (_, _, end) = read(wire, 3);
            let error = end.unwrap_err();
            assert!(error.contains(why), "{error}");
        }
        let mut huge = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        huge.resize(70_000, b'a');
        assert!(read(&huge, 4096).2.unwrap_err().contains("longer than"));
    }

    #[test]
    fn the_head_is_handed_back_before_the_body() {
        let mut response = Response::new();
        let wire = b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop";
        let used = response.feed(wire, &mut |_| panic!("no body before the status is seen")).unwrap();
        assert_eq!(&wire[used..], b"nop");
        assert_eq!(response.status(), Some(&Status { code: 404, reason: "Not Found".into() }));
    }
}
