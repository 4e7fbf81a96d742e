//! The tls driver: `tls-echo` serves TLS 1.3 and 1.2 with ALPN to `openssl s_client`, which
//! checks the chain against the test's own CA, on ukc-unix (the host's sockets) and on
//! ukc-hvt in KVM (the tcpip driver over a tap, the identity in a GNU tar image); a client
//! with another CA refuses it and the server goes on serving; a key that does not match
//! its certificate, an expired certificate, or no identity at all, is one clear error
//! before serving.

use std::path::{Path, PathBuf};
use std::time::Duration;
use ukc_tests::netns::Netns;
use ukc_tests::pki::{self, Validity};
use ukc_tests::web::Background;
use ukc_tests::*;

/// A CA, and a server certificate it signed for localhost, 127.0.0.1 and 10.0.0.2 (valid
/// now, or in January 2020 only), in `dir/tls` as the tls device wants them (`cert.pem`,
/// `key.pem`); returns the CA's file.
fn identity_valid(dir: &Path, validity: Validity) -> PathBuf {
    let tls = dir.join("tls");
    std::fs::create_dir_all(&tls).unwrap();
    let ca = pki::ca(dir, "ca");
    let (cert, key) = pki::certificate(dir, "ca", "server", "DNS:localhost,IP:127.0.0.1,IP:10.0.0.2", validity);
    std::fs::copy(cert, tls.join("cert.pem")).unwrap();
    std::fs::copy(key, tls.join("key.pem")).unwrap();
    ca
}

/// [`identity_valid`] now.
fn identity(dir: &Path) -> PathBuf {
    identity_valid(dir, Validity::Now)
}

/// A CA the server's certificate does not come from, `dir/other-ca.pem`.
fn other_ca(dir: &Path) -> PathBuf {
    pki::ca(dir, "other-ca")
}

/// `openssl s_client` at `address`:8443 with `ca`, sending `line` and printing what comes
/// back and what it agreed (s_client ends when its input does; the pause lets the echo
/// come back first).
fn s_client(netns: &Netns, address: &str, ca: &Path, version: &str, line: &str) -> Run {
    let script = format!(
        "(echo {line}; sleep 1) | openssl s_client -connect {address}:8443 -CAfile '{}' -verify_return_error {version} -alpn http/1.1",
        path_str(ca)
    );
    run_with_input(&mut netns.command("bash", &["-c", &script]), b"", Duration::from_secs(20))
}

fn check_sessions(netns: &Netns, address: &str, ca: &Path, dir: &Path) {
    for (version, agreed) in [("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")] {
        let line = format!("hello-over-{}", &version[1..]);
        let session = s_client(netns, address, ca, version, &line);
        let out = session.stdout_text();
        assert!(out.contains(&format!("Protocol  : {agreed}")) || out.contains(&format!("New, {agreed}")), "{out}");
        assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
        assert!(out.contains("ALPN protocol: http/1.1"), "{out}");
        assert!(out.lines().any(|l| l == line), "the line comes back: {out}");
    }
    // A client that trusts another CA refuses the server; the server serves on.
    let refused = s_client(netns, address, &other_ca(dir), "-tls1_3", "never-echoed");
    let text = format!("{}{}", refused.stdout_text(), refused.stderr);
    assert!(text.contains("unable to get local issuer certificate"), "{text}");
    assert!(!refused.stdout_text().lines().any(|l| l == "never-echoed"));
    let again = s_client(netns, address, ca, "-tls1_3", "still-serving");
    assert!(again.stdout_text().lines().any(|l| l == "still-serving"), "{}", again.stdout_text());
}

#[test]
fn tls_echo_serves_tls_1_3_and_1_2_on_unix() {
    let dir = tempfile::tempdir().unwrap();
    let ca = identity(dir.path());
    let echo = compose(&component("tls-echo"), "unix", dir.path(), "tls-echo.unix.wasm", &[]);
    let netns = Netns::loopback("tls-unix");
    let kv = format!("--kv:tls={}", path_str(&dir.path().join("tls")));
    let server = Background::start(netns.command(
        path_str(&bin("ukc-unix")),
        &[path_str(&echo), &kv, "--listen-address=127.0.0.1", "--", "--alpn=http/1.1"],
    ));
    netns.wait_for_port_within("127.0.0.1", 8443, Duration::from_secs(20));
    check_sessions(&netns, "127.0.0.1", &ca, dir.path());
    let log = server.stop();
    assert!(log.contains("tls-echo: session with TLSv1_3, http/1.1"), "{log}");
    assert!(log.contains("tls-echo: session with TLSv1_2, http/1.1"), "{log}");
    assert!(log.contains("received fatal alert: UnknownCA"), "{log}");
}

#[test]
fn tls_echo_serves_tls_on_hvt_in_kvm_with_its_identity_on_a_tar_image() {
    let dir = tempfile::tempdir().unwrap();
    let ca = identity(dir.path());
    let image = dir.path().join("tls.tar");
    run("tar", &["-cf", path_str(&image), "-C", path_str(&dir.path().join("tls")), "."]).ok();
    let echo = compose(&component("tls-echo"), "hvt", dir.path(), "tls-echo.hvt.wasm", &[]);
    let netns = Netns::with_tap("tls-hvt");
    let block = format!("--block:tls={}", path_str(&image));
    let args = [
        "--isolation=kvm",
        "--net:service=tap0",
        &block,
        "--",
        path_str(&echo),
        "--ipv4=10.0.0.2/24",
        "--alpn=http/1.1",
    ];
    let server = Background::start(netns.command(path_str(&bin("ukc-hvt")), &args));
    netns.wait_for_port_within("10.0.0.2", 8443, Duration::from_secs(20));
    check_sessions(&netns, "10.0.0.2", &ca, dir.path());
    let log = server.stop();
    assert!(log.contains("tls-echo: session with TLSv1_2, http/1.1"), "{log}");
}

#[test]
fn a_bad_or_missing_identity_is_one_error_before_serving() {
    let dir = tempfile::tempdir().unwrap();
    identity(dir.path());
    let echo = compose(&component("tls-echo"), "unix", dir.path(), "tls-echo.unix.wasm", &[]);
    // The key of another certificate.
    run(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            path_str(&dir.path().join("tls/key.pem")),
        ],
    )
    .ok();
    let kv = format!("--kv:tls={}", path_str(&dir.path().join("tls")));
    let failed = ukc_unix(&[path_str(&echo), &kv, "--listen-address=127.0.0.1"]);
    assert_eq!(failed.status, Some(1), "{}", failed.stderr);
    assert!(
        failed.stderr.contains("bad identity: identity store 'tls': the key does not serve the certificate"),
        "{}",
        failed.stderr
    );
    std::fs::write(dir.path().join("tls/cert.pem"), "not a certificate\n").unwrap();
    let failed = ukc_unix(&[path_str(&echo), &kv, "--listen-address=127.0.0.1"]);
    assert!(failed.stderr.contains("cert.pem holds no certificate"), "{}", failed.stderr);
    // A certificate no client would take: expired.
    let expired = tempfile::tempdir().unwrap();
    identity_valid(expired.path(), Validity::January2020);
    let kv = format!("--kv:tls={}", path_str(&expired.path().join("tls")));
    let failed = ukc_unix(&[path_str(&echo), &kv, "--listen-address=127.0.0.1"]);
    assert_eq!(failed.status, Some(1), "{}", failed.stderr);
    assert!(failed.stderr.contains("cert.pem expired on 2020-02-01 00:00:00 UTC; renew it"), "{}", failed.stderr);
    let missing = ukc_unix(&[path_str(&echo)]);
    assert_eq!(missing.status, Some(1));
    assert!(missing.stderr.contains("'tls'"), "the host names the missing device: {}", missing.stderr);
}

/// A site of a 1 KiB page and a 1.5 MB file (streamed in chunks), in `dir/site`.
fn site(dir: &Path) -> PathBuf {
    let site = dir.join("site");
    std::fs::create_dir_all(site.join("img")).unwrap();
    let bytes =
        |len: usize, seed: u32| -> Vec<u8> { (0..len).map(|i| ((i as u32).wrapping_mul(seed) >> 7) as u8).collect() };
    std::fs::write(site.join("index.html"), bytes(1024, 2_654_435_761)).unwrap();
    std::fs::write(site.join("img/big.bin"), bytes(1_500_000, 40_503)).unwrap();
    site
}

/// `curl` over HTTPS with `ca`, for `path` at `address`, limited to one TLS version; what
/// it downloaded and what it said.
fn curl(netns: &Netns, address: &str, ca: &Path, version: &[&str], path: &str, out: &Path) -> Run {
    let resolve = format!("localhost:8443:{address}");
    let url = format!("https://localhost:8443/{path}");
    let mut args =
        vec!["-sS", "-v", "--max-time", "20", "--cacert", path_str(ca), "--resolve", &resolve, "-o", path_str(out)];
    args.extend_from_slice(version);
    args.push(&url);
    run_with_input(&mut netns.command("curl", &args), b"", Duration::from_secs(30))
}

fn check_https(netns: &Netns, address: &str, ca: &Path, dir: &Path, site: &Path) {
    for (version, agreed) in [(&["--tlsv1.3"][..], "TLSv1.3"), (&["--tlsv1.2", "--tls-max", "1.2"][..], "TLSv1.2")] {
        for path in ["index.html", "img/big.bin"] {
            let out = dir.join("download");
            let fetched = curl(netns, address, ca, version, path, &out);
            assert_eq!(fetched.status, Some(0), "{}", fetched.stderr);
            assert!(fetched.stderr.contains(&format!("SSL connection using {agreed}")), "{}", fetched.stderr);
            assert!(fetched.stderr.contains("ALPN: server accepted http/1.1"), "{}", fetched.stderr);
            assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(site.join(path)).unwrap(), "{path} over {agreed}");
        }
    }
    let other = other_ca(dir);
    let refused = curl(netns, address, &other, &[], "index.html", &dir.join("refused"));
    assert_eq!(refused.status, Some(60), "curl refuses a certificate it cannot verify: {}", refused.stderr);
    let again = curl(netns, address, ca, &[], "index.html", &dir.join("again"));
    assert_eq!(again.status, Some(0), "still serving: {}", again.stderr);
}

#[test]
fn static_website_tls_serves_https_on_unix_and_on_hvt_in_kvm() {
    let dir = tempfile::tempdir().unwrap();
    let ca = identity(dir.path());
    let site = site(dir.path());

    let on_unix = compose(&component("static-website-tls"), "unix", dir.path(), "web.unix.wasm", &[]);
    let netns = Netns::loopback("https-unix");
    let (storage, tls) =
        (format!("--kv:storage={}", path_str(&site)), format!("--kv:tls={}", path_str(&dir.path().join("tls"))));
    let server = Background::start(
        netns.command(path_str(&bin("ukc-unix")), &[path_str(&on_unix), &storage, &tls, "--listen-address=127.0.0.1"]),
    );
    netns.wait_for_port_within("127.0.0.1", 8443, Duration::from_secs(20));
    check_https(&netns, "127.0.0.1", &ca, dir.path(), &site);
    let log = server.stop();
    assert!(log.contains("static-website-tls: serving HTTPS on port 8443"), "{log}");
    drop(netns);

    let (site_tar, tls_tar) = (dir.path().join("site.tar"), dir.path().join("tls.tar"));
    run("tar", &["-cf", path_str(&site_tar), "-C", path_str(&site), "."]).ok();
    run("tar", &["-cf", path_str(&tls_tar), "-C", path_str(&dir.path().join("tls")), "."]).ok();
    let on_hvt = compose(&component("static-website-tls"), "hvt", dir.path(), "web.hvt.wasm", &[]);
    let netns = Netns::with_tap("https-hvt");
    let (storage, tls) =
        (format!("--block:storage={}", path_str(&site_tar)), format!("--block:tls={}", path_str(&tls_tar)));
    let args = ["--isolation=kvm", "--net:service=tap0", &storage, &tls, "--", path_str(&on_hvt), "--ipv4=10.0.0.2/24"];
    let server = Background::start(netns.command(path_str(&bin("ukc-hvt")), &args));
    netns.wait_for_port_within("10.0.0.2", 8443, Duration::from_secs(20));
    check_https(&netns, "10.0.0.2", &ca, dir.path(), &site);
    server.stop();
}
