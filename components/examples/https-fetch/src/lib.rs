//! Fetches one `https://` URL and prints its body, as `curl -f` does: the name through
//! `ukc:dns/resolver`, the page over `ukc:tls/client`, whose driver checks the server's
//! certificate against the CA certificates of the kv device `tls-ca` (attached at deploy
//! time: `--kv:tls-ca=DIR` on unix, `--block:tls-ca=TAR` on hvt). A status other than
//! 2xx, a certificate that does not check out, or a body cut short fails the run with one
//! line saying why.

wit_bindgen::generate!({
    inline: "
        package ukc-example:https-fetch;
        world https-fetch {
            include ukc:app/app@0.1.0;
            import ukc:console/console@0.1.0;
            import ukc:poll/poll@0.1.0;
            import ukc:args/args@0.1.0;
            import ukc:clock/monotonic@0.1.0;
            import ukc:dns/resolver@0.1.0;
            import ukc:tls/client@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

#[cfg(any(fuzzing, test))]
pub mod fuzzing;
mod response;
mod url;

use response::Response;
use ukc::args::args;
use ukc::clock::monotonic;
use ukc::console::console;
use ukc::dns::resolver;
use ukc::poll::poll;
use ukc::tcpip::types::Endpoint;
use ukc::tls::client::{self, Error, Session};
use url::Url;

/// Plaintext asked for per read.
const READ_SIZE: u32 = 64 * 1024;

struct HttpsFetch;

impl exports::ukc::app::main::Guest for HttpsFetch {
    fn run() -> Result<(), String> {
        let url = args::get("url").unwrap_or_default();
        if url.is_empty() {
            return Err("give the page to fetch with --url=https://NAME[:PORT][/PATH]".into());
        }
        let url = Url::parse(&url)?;
        let seconds = args::get("timeout-s").and_then(|s| s.parse::<u64>().ok()).filter(|&s| s > 0);
        let seconds = seconds.ok_or("--timeout-s must be a whole number of seconds, at least 1")?;
        let deadline = monotonic::now().saturating_add(seconds.saturating_mul(1_000_000_000));
        let address = match url.ipv4() {
            Some(address) => address,
            None => resolve(&url.host)?,
        };
        let server = Endpoint { address, port: url.port };
        let session = client::connect(server, &url.host, &["http/1.1".to_string()])
            .map_err(|e| format!("{}: {}", url.host, describe(&e)))?;
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: ukc-https-fetch\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            url.path,
            url.host_header()
        );
        send(&session, request.as_bytes(), deadline).map_err(|e| format!("{}: {e}", url.host))?;
        receive(&session, deadline).map_err(|e| format!("{}: {e}", url.host))?;
        let _ = session.shutdown();
        Ok(())
    }
}

/// The first IPv4 address of `name`.
fn resolve(name: &str) -> Result<(u8, u8, u8, u8), String> {
    match resolver::resolve_ipv4(name) {
        Ok(addresses) => addresses.first().copied().ok_or_else(|| format!("{name} has no IPv4 address")),
        Err(resolver::Error::NoServer) => {
            Err("no DNS server: give one with --dns-server=ADDRESS (or get one from DHCP)".into())
        }
        Err(resolver::Error::NotFound(_)) => Err(format!("{name}: not found (NXDOMAIN)")),
        Err(resolver::Error::NoAddress(_)) => Err(format!("{name} has no IPv4 address")),
        Err(
            resolver::Error::InvalidName(text)
            | resolver::Error::Timeout(text)
            | resolver::Error::Server(text)
            | resolver::Error::Network(text),
        ) => Err(format!("cannot resolve {name}: {text}")),
    }
}

/// Writes all of `data`, waiting while the session cannot take more.
fn send(session: &Session, mut data: &[u8], deadline: u64) -> Result<(), String> {
    while !data.is_empty() {
        match session.write(data) {
            Ok(taken) => data = &data[taken as usize..],
            Err(Error::WouldBlock) => wait(deadline)?,
            Err(e) => return Err(describe(&e)),
        }
    }
    Ok(())
}

/// Reads the response, printing its body as it comes once the status says success.
fn receive(session: &Session, deadline: u64) -> Result<(), String> {
    let mut response = Response::new();
    let mut print = |bytes: &[u8]| console::write(bytes);
    loop {
        let data = match session.read(READ_SIZE) {
            Ok(data) => data,
            Err(Error::WouldBlock) => {
                wait(deadline)?;
                continue;
            }
            Err(e) => return Err(describe(&e)),
        };
        if data.is_empty() {
            return response.finish();
        }
        let mut rest = data.as_slice();
        while !rest.is_empty() {
            let checked = response.status().is_some();
            rest = &rest[response.feed(rest, &mut print)?..];
            if let Some(status) = response.status().filter(|_| !checked)
                && !(200..300).contains(&status.code)
            {
                return Err(format!("the server answered {} {}", status.code, status.reason));
            }
        }
        if response.is_done() {
            return Ok(());
        }
    }
}

/// Waits for the network, or fails once the deadline has passed.
fn wait(deadline: u64) -> Result<(), String> {
    if monotonic::now() >= deadline {
        return Err("timed out (raise --timeout-s)".into());
    }
    poll::yield_(deadline);
    Ok(())
}

fn describe(error: &Error) -> String {
    match error {
        Error::WouldBlock => "would block".into(),
        Error::BadTrust(text) => format!("cannot check servers: {text}"),
        Error::InvalidName(text) => text.clone(),
        Error::Handshake(text) => format!("TLS handshake failed: {text}"),
        Error::Closed(text) => format!("the connection closed: {text}"),
        Error::Network(text) => text.clone(),
    }
}

// Only the wasm build exports the functions: their names are not valid symbols for a host
// linker, and host builds exist to run the unit tests and the fuzz target.
#[cfg(target_arch = "wasm32")]
export!(HttpsFetch);
