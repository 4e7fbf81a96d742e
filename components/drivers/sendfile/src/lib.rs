//! The `sendfile` driver: `ukc:sendfile` where the host does not provide it (hvt, wasi),
//! over the kv store and the TCP stack the application uses: a call reads up to
//! [`CHUNK`] bytes of the value and writes them behind the head in one `write`. What the
//! connection does not take is read again by the next call, which starts where this one
//! stopped; nothing is kept between calls.

wit_bindgen::generate!({
    inline: "
        package ukc-driver:sendfile;
        world sendfile {
            import ukc:kv/ro@0.1.0;
            import ukc:tcpip/tcp@0.1.0;
            export ukc:sendfile/sendfile@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use exports::ukc::sendfile::sendfile::{Error, Guest};
use ukc::kv::ro::Store;
use ukc::tcpip::tcp::Connection;

/// Most bytes of the value one call reads: a TCP segment's worth at most, so that a
/// connection with little room does not make the driver read much that it drops.
const CHUNK: u64 = 64 * 1024;

struct Sendfile;

impl Guest for Sendfile {
    fn send_value(
        connection: &Connection,
        head: Vec<u8>,
        store: &Store,
        key: String,
        offset: u64,
        len: u64,
    ) -> Result<u64, Error> {
        let mut bytes = head;
        if len > 0 {
            let chunk = store.get_partial(&key, offset, len.min(CHUNK)).map_err(Error::Kv)?;
            if bytes.is_empty() {
                bytes = chunk;
            } else {
                bytes.extend_from_slice(&chunk);
            }
        }
        if bytes.is_empty() {
            return Ok(0);
        }
        connection.write(&bytes).map(u64::from).map_err(Error::Tcp)
    }
}

export!(Sendfile);
