//! The HTTP request path, for `fuzz/` (built with `--cfg fuzzing`, as cargo-fuzz
//! does, and for the test suite's smoke of it).

use crate::http::{Parsed, parse};

/// Parses `input` as the server reads a connection: one request after another until
/// one is incomplete or invalid. A request's path never holds `..` unnoticed: the site
/// refuses such paths, so the parser must hand them over decoded.
pub fn requests(input: &[u8]) {
    let mut rest = input;
    loop {
        match parse(rest) {
            Parsed::Request { request, consumed } => {
                assert!(consumed > 0 && consumed <= rest.len(), "a request consumes what it parsed");
                assert!(request.path.starts_with('/'), "paths are absolute: {:?}", request.path);
                rest = &rest[consumed..];
            }
            Parsed::Incomplete | Parsed::Invalid(_) => return,
        }
    }
}

/// The smoke the test suite runs of what the fuzz target runs.
#[cfg(test)]
mod tests {
    #[test]
    fn pipelined_cut_and_hostile_requests_parse_or_fail_cleanly() {
        let pipelined = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD /a%20b?q HTTP/1.0\r\n\r\nGET /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
        for cut in 0..=pipelined.len() {
            super::requests(&pipelined[..cut]);
        }
        for hostile in [
            &b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\n\r\n"[..],
            b"GET /%ff%fe HTTP/1.1\r\n\r\n",
            b"GET /% HTTP/1.1\r\n\r\n",
            b"\0\0\0\r\n\r\n",
            b"GET http://evil/ HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: \xff\r\n\r\n",
        ] {
            super::requests(hostile);
        }
        super::requests(&b"GET / HTTP/1.1\r\nX: y\r\n".repeat(2000));
    }
}
