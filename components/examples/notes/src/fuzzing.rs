//! The notes service's request path, for `fuzz/` (built with `--cfg fuzzing`, as
//! cargo-fuzz does, and for the test suite's smoke of it).

use crate::http::{MAX_BODY, Parsed, parse};
use crate::notes::route;

/// Parses `input` as the server reads a connection, one request after another until one
/// is incomplete or invalid, and routes each.
pub fn requests(input: &[u8]) {
    let mut rest = input;
    loop {
        match parse(rest) {
            Parsed::Request { request, consumed } => {
                assert!(consumed > 0 && consumed <= rest.len(), "a request consumes what it parsed");
                assert!(request.body.len() <= MAX_BODY, "a body is bounded");
                let _ = route(&request.method, &request.path);
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
        let pipelined = b"PUT /notes/a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /notes HTTP/1.1\r\n\r\nDELETE /notes/a/b HTTP/1.0\r\n\r\n";
        for cut in 0..=pipelined.len() {
            super::requests(&pipelined[..cut]);
        }
        for hostile in [
            &b"PUT /notes/../x HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"[..],
            b"PUT /notes/a HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n",
            b"PUT /notes/a HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 1\r\n\r\nab",
            b"GET http://evil/notes HTTP/1.1\r\n\r\n",
            b"\0\0\0\r\n\r\n",
        ] {
            super::requests(hostile);
        }
    }
}
