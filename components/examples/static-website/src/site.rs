//! The site: maps request paths to values of the kv store and builds responses.

use crate::http::{Output, Request};
use crate::say;
use crate::ukc::clock::wall;
use crate::ukc::kv::ro::{Error, Store};
use crate::ukc::tcpip::types::Endpoint;

/// The files being served.
pub struct Site {
    store: Store,
    verbose: bool,
}

impl Site {
    pub fn new(store: Store, verbose: bool) -> Site {
        Site { store, verbose }
    }

    /// Queues the response to `request` on `output`.
    pub fn respond(&self, request: &Request, peer: &Endpoint, output: &mut Output) {
        let head_only = request.method == "HEAD";
        let status = if request.method != "GET" && !head_only {
            let body = b"method not allowed\n".to_vec();
            let allow = [("Allow", "GET, HEAD")];
            output.push_head(self.head(405, "Method Not Allowed", "text/plain", body.len() as u64, request, &allow));
            output.push_head(body);
            405
        } else if let Some((key, size)) = self.find(&request.path) {
            let head = self.head(200, "OK", content_type(&key), size, request, &[]);
            if head_only {
                output.push_head(head);
            } else {
                output.push_value(head, key, size);
            }
            200
        } else {
            let body = format!("{} not found\n", request.path).into_bytes();
            output.push_head(self.head(404, "Not Found", "text/plain; charset=utf-8", body.len() as u64, request, &[]));
            if !head_only {
                output.push_head(body);
            }
            404
        };
        if self.verbose {
            let (a, b, c, d) = peer.address;
            say(&format!("static-website: {a}.{b}.{c}.{d} {} {} -> {status}", request.method, request.path));
        }
    }

    /// The key of the value a path names (the value itself, or `index.html` inside a
    /// dictionary) and the value's size: one store call, which tells a value from a
    /// dictionary too. The value itself goes out with the response (see `Output`).
    fn find(&self, path: &str) -> Option<(String, u64)> {
        if path.split('/').any(|segment| segment == "..") {
            return None;
        }
        let key = path.trim_end_matches('/');
        match self.store.size(key) {
            Err(Error::DictionaryExpected(_)) => {
                let index = format!("{key}/index.html");
                self.store.size(&index).ok().map(|size| (index, size))
            }
            size => size.ok().map(|size| (key.to_string(), size)),
        }
    }

    /// The store the site's files are in.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Up to `len` bytes of the value `key` from `offset`; `None` if the store fails.
    pub fn read_chunk(&self, key: &str, offset: u64, len: u64) -> Option<Vec<u8>> {
        let data = self.store.get_partial(key, offset, len).ok()?;
        (!data.is_empty() || len == 0).then_some(data)
    }

    fn head(
        &self,
        code: u16,
        reason: &str,
        content_type: &str,
        length: u64,
        request: &Request,
        extra: &[(&str, &str)],
    ) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {code} {reason}\r\nServer: ukc-static-website\r\nDate: {}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n",
            http_date(wall::now() / 1_000_000_000)
        );
        for (name, value) in extra {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(if request.keep_alive { "Connection: keep-alive\r\n\r\n" } else { "Connection: close\r\n\r\n" });
        head.into_bytes()
    }
}

/// The media type for a file name's extension.
fn content_type(key: &str) -> &'static str {
    let extension = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "txt" | "md" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// RFC 9110's IMF-fixdate for `seconds` since the epoch: `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(seconds: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = seconds / 86400;
    let (year, month, day) = civil_from_days(days as i64);
    let time = seconds % 86400;
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        time / 3600,
        time / 60 % 60,
        time % 60
    )
}

/// Year, month (1-12) and day (1-31) of a day count since 1970-01-01 (Howard Hinnant's
/// algorithm for the proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_709_251_200), "Fri, 01 Mar 2024 00:00:00 GMT");
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("/index.HTML"), "text/html; charset=utf-8");
        assert_eq!(content_type("/a/b.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("/blob"), "application/octet-stream");
    }
}
