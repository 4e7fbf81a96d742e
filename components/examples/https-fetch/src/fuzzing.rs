//! The response reader, for `fuzz/` (built with `--cfg fuzzing`, as cargo-fuzz does, and
//! for the test suite's smoke of it): whatever a server sends, cut wherever the network
//! cuts it.

use crate::response::Response;

/// Reads `input` as a response: its first byte says where the network cuts the rest (a
/// piece of 1 to 256 bytes), as `receive` feeds what each read returns. Nothing panics;
/// only the head's end stops a piece short; a body framed by `Content-Length` ends with
/// exactly that many bytes.
pub fn response(input: &[u8]) {
    let Some((&cut, wire)) = input.split_first() else { return };
    let step = usize::from(cut) + 1;
    let mut response = Response::new();
    let mut body = 0u64;
    for piece in wire.chunks(step) {
        let mut rest = piece;
        while !rest.is_empty() {
            match response.feed(rest, &mut |b| body += b.len() as u64) {
                Ok(used) => {
                    assert!(used <= rest.len(), "used {used} of {}", rest.len());
                    // Only the head's end stops short, and then the status is known.
                    assert!(used == rest.len() || response.status().is_some());
                    if used == 0 && response.status().is_some() && !response.is_done() {
                        unreachable!("a body that takes no bytes never ends");
                    }
                    rest = &rest[used..];
                }
                Err(_) => return,
            }
            if response.is_done() {
                if let Some(length) = content_length(wire) {
                    assert_eq!(body, length, "a Content-Length body ends at its length");
                }
                return;
            }
        }
    }
    let _ = response.finish();
}

/// The one `Content-Length` of a response that is not chunked, as the reader takes it.
fn content_length(wire: &[u8]) -> Option<u64> {
    let head = std::str::from_utf8(&wire[..wire.windows(4).position(|w| w == b"\r\n\r\n")?]).ok()?;
    let code: u16 = head.split(' ').nth(1)?.parse().ok()?;
    let header = |name: &str| {
        head.split("\r\n").skip(1).filter_map(|l| l.split_once(':')).find(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    if code == 204 || code == 304 || header("transfer-encoding").is_some() {
        return None;
    }
    header("content-length")?.1.trim().parse().ok()
}

/// The smoke the test suite runs of what the fuzz target runs.
#[cfg(test)]
mod tests {
    #[test]
    fn real_cut_and_hostile_responses_read_or_fail_cleanly() {
        let real: [&[u8]; 3] = [
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            b"HTTP/1.0 404 Not Found\r\n\r\nnothing here",
        ];
        for wire in real {
            for cut in 0..=wire.len() {
                for step in [0u8, 1, 6, 255] {
                    let mut input = vec![step];
                    input.extend_from_slice(&wire[..cut]);
                    super::response(&input);
                }
            }
        }
        for hostile in [
            &b"\x00HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nx"[..],
            b"\x03HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nabc",
            b"\x01HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;\xff\r\nx\r\n0\r\n\xff\r\n\r\n",
            b"\x07HTTP/1.1 99999 x\r\n\r\n",
            b"\x02\r\n\r\n",
            b"",
        ] {
            super::response(hostile);
        }
    }
}
