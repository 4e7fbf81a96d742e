//! The tls-client driver with the dns-resolver driver: `https-fetch` gets pages by name
//! from real HTTPS servers in the test's namespace (`openssl s_server`, TLS 1.3, a body
//! that ends when the connection does; Python's `http.server` behind `ssl`, TLS 1.2,
//! `Content-Length`), the name answered by dnsmasq, on ukc-unix and on ukc-hvt in KVM.
//! Downloads are byte-identical; a certificate from another CA, for another name or
//! expired, a 404, a refused connection and a missing trust store are each one clear line.

use std::path::{Path, PathBuf};
use std::time::Duration;
use ukc_tests::netns::Netns;
use ukc_tests::pki::{self, Validity};
use ukc_tests::web::Background;
use ukc_tests::*;

/// The names the servers' certificates are for.
const NAMES: &str = "DNS:www.example.test";

/// A trust store directory holding `ca` as `ca.pem`.
fn trust(dir: &Path, name: &str, ca: &Path) -> PathBuf {
    let store = dir.join(name);
    std::fs::create_dir_all(&store).unwrap();
    std::fs::copy(ca, store.join("ca.pem")).unwrap();
    store
}

/// A site of a page and a 1.5 MB file.
fn site(dir: &Path) -> PathBuf {
    let site = dir.join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("index.html"), "<p>fetched by name</p>\n").unwrap();
    let big: Vec<u8> = (0..1_500_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(site.join("big.bin"), big).unwrap();
    site
}

/// `openssl s_server -WWW` serving `site` on `address:port` (TLS 1.3; HTTP/1.0, the body
/// ending with the connection).
fn s_server(netns: &Netns, site: &Path, address: &str, port: u16, cert: &Path, key: &Path) -> Background {
    let accept = format!("{address}:{port}");
    let mut cmd = netns.command(
        "openssl",
        &["s_server", "-quiet", "-WWW", "-accept", &accept, "-cert", path_str(cert), "-key", path_str(key)],
    );
    cmd.current_dir(site);
    let server = Background::start(cmd);
    netns.wait_for_port(address, port);
    server
}

/// Python's `http.server` behind `ssl`, at most TLS 1.2, serving `site` on `address:port`
/// (`Content-Length` bodies, a real 404).
fn python_server(netns: &Netns, site: &Path, address: &str, port: u16, cert: &Path, key: &Path) -> Background {
    const SERVER: &str = "import http.server, ssl, sys
site, address, port, cert, key = sys.argv[1:]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.maximum_version = ssl.TLSVersion.TLSv1_2
context.load_cert_chain(cert, key)
handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=site)
server = http.server.ThreadingHTTPServer((address, int(port)), handler)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
";
    let port_text = port.to_string();
    let args = ["-c", SERVER, path_str(site), address, &port_text, path_str(cert), path_str(key)];
    let server = Background::start(netns.command("python3", &args));
    netns.wait_for_port(address, port);
    server
}

/// dnsmasq on `listen` answering `www.example.test` and `other.example.test` with
/// `address`; with `leases`, also leasing addresses that name it as the DNS server.
fn dnsmasq(netns: &Netns, listen: &str, address: &str, leases: Option<&Path>) -> Background {
    let records =
        [format!("--host-record=www.example.test,{address}"), format!("--host-record=other.example.test,{address}")];
    ukc_tests::dnsmasq::start(netns, listen, &records, leases)
}

/// Runs `host words...` in `netns` with the tests' cache.
fn fetch(netns: &Netns, host: &str, words: &[&str]) -> Run {
    let mut cmd = netns.command(path_str(&bin(host)), words);
    cmd.env("UKC_CACHE_DIR", test_cache());
    run_with_input(&mut cmd, b"", Duration::from_secs(90))
}

/// Asserts that `run` failed with `why` on its one line of error.
fn fails_with(run: &Run, why: &str) {
    assert_eq!(run.status, Some(1), "stdout: {}\nstderr: {}", run.stdout_text(), run.stderr);
    assert!(run.stderr.contains(why), "expected '{why}' in: {}", run.stderr);
}

#[test]
fn https_fetch_gets_pages_by_name_on_unix() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca_pem = pki::ca(d, "ca");
    let (cert, key) = pki::certificate(d, "ca", "server", NAMES, Validity::Now);
    let (old_cert, old_key) = pki::certificate(d, "ca", "expired", NAMES, Validity::January2020);
    let site = site(d);
    let app = compose(&component("https-fetch"), "unix", d, "https-fetch.unix.wasm", &[]);
    let netns = Netns::loopback("fetch-unix");
    let _dns = dnsmasq(&netns, "127.0.0.1", "127.0.0.1", None);
    let _tls13 = s_server(&netns, &site, "127.0.0.1", 8443, &cert, &key);
    let _tls12 = python_server(&netns, &site, "127.0.0.1", 8444, &cert, &key);
    let _expired = s_server(&netns, &site, "127.0.0.1", 8445, &old_cert, &old_key);
    let store = format!("--kv:tls-ca={}", path_str(&trust(d, "trust", &ca_pem)));
    let get = |store: &str, url: &str| {
        let url = format!("--url={url}");
        fetch(&netns, "ukc-unix", &[path_str(&app), store, "--", "--dns-server=127.0.0.1", &url])
    };

    for port in [8443, 8444] {
        let big = get(&store, &format!("https://www.example.test:{port}/big.bin"));
        assert_eq!(big.status, Some(0), "{}", big.stderr);
        assert!(big.stdout == std::fs::read(site.join("big.bin")).unwrap(), "port {port}: other bytes");
        let page = get(&store, &format!("https://WWW.example.test:{port}/index.html"));
        assert_eq!(page.ok(), "<p>fetched by name</p>\n");
    }
    fails_with(&get(&store, "https://www.example.test:8444/nothere.html"), "the server answered 404");
    fails_with(
        &get(&store, "https://other.example.test:8443/"),
        "invalid peer certificate: certificate not valid for name \"other.example.test\"",
    );
    fails_with(&get(&store, "https://www.example.test:8445/"), "certificate expired");
    fails_with(&get(&store, "https://www.example.test:8446/"), "refused the connection");
    fails_with(&get(&store, "https://nothere.example.test:8443/"), "cannot resolve nothere.example.test");
    fails_with(&get(&store, "http://www.example.test/"), "only https:// URLs");
    let other = format!("--kv:tls-ca={}", path_str(&trust(d, "other", &pki::ca(d, "other-ca"))));
    fails_with(
        &get(&other, "https://www.example.test:8443/"),
        "TLS handshake failed: invalid peer certificate: UnknownIssuer",
    );
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let empty = format!("--kv:tls-ca={}", path_str(&empty));
    fails_with(&get(&empty, "https://www.example.test:8443/"), "trust store 'tls-ca': ca.pem is missing");
    std::fs::write(d.join("empty/ca.pem"), "no certificate here\n").unwrap();
    fails_with(&get(&empty, "https://www.example.test:8443/"), "ca.pem holds no certificate");
    let unattached = fetch(&netns, "ukc-unix", &[path_str(&app), "--", "--url=https://www.example.test:8443/"]);
    assert_eq!(unattached.status, Some(1));
    assert!(unattached.stderr.contains("'tls-ca'"), "the host names the missing device: {}", unattached.stderr);
}

#[test]
fn https_fetch_gets_a_page_by_name_on_hvt_in_kvm_static_and_by_dhcp() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca_pem = pki::ca(d, "ca");
    let (cert, key) = pki::certificate(d, "ca", "server", NAMES, Validity::Now);
    let site = site(d);
    let store = trust(d, "trust", &ca_pem);
    let image = d.join("trust.tar");
    run("tar", &["-cf", path_str(&image), "-C", path_str(&store), "."]).ok();
    let app = compose(&component("https-fetch"), "hvt", d, "https-fetch.hvt.wasm", &[]);
    let netns = Netns::with_tap("fetch-hvt");
    let _dns = dnsmasq(&netns, "10.0.0.1", "10.0.0.1", Some(&d.join("leases")));
    let _server = s_server(&netns, &site, "10.0.0.1", 8443, &cert, &key);
    let block = format!("--block:tls-ca={}", path_str(&image));
    let kvm = ["--isolation=kvm", "--net:service=tap0", block.as_str(), "--", path_str(&app)];
    let url = "--url=https://www.example.test:8443/big.bin";
    let big = fetch(&netns, "ukc-hvt", &[&kvm[..], &["--ipv4=10.0.0.2/24", "--dns-server=10.0.0.1", url]].concat());
    assert_eq!(big.status, Some(0), "{}", big.stderr);
    assert!(big.stdout == std::fs::read(site.join("big.bin")).unwrap(), "other bytes in KVM");
    // By DHCP: the tcpip driver's line about the lease comes first on the console.
    let page = fetch(&netns, "ukc-hvt", &[&kvm[..], &["--url=https://www.example.test:8443/index.html"]].concat());
    let text = page.ok();
    assert!(text.starts_with("tcpip: DHCP lease 10.0.0."), "{text}");
    assert!(text.ends_with("\n<p>fetched by name</p>\n"), "{text}");
}
