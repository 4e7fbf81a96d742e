//! The network unikernels against real Linux peers (curl, wrk, TCP clients), each test in
//! its own network namespace, using addresses inside it only.

use ukc_tests::netns::Netns;
use ukc_tests::web::{Background, check_site, conduit_clients, load, make_site};
use ukc_tests::*;

#[test]
fn static_website_on_the_unix_socket_stack() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    let files = make_site(&root);
    let website = compose(&component("static-website"), "unix", dir.path(), "web.wasm", &[]);
    let netns = Netns::loopback("web-unix");
    let kv = format!("--kv:storage={}", path_str(&root));
    let server =
        Background::start(netns.command(path_str(&bin("ukc-unix")), &[path_str(&website), &kv, "--", "--port=8080"]));
    netns.wait_for_port("127.0.0.1", 8080);
    check_site(&netns, "http://127.0.0.1:8080", &root, &files, dir.path());
    load(&netns, "http://127.0.0.1:8080/index.html", 3);
    let log = server.stop();
    assert!(log.contains("static-website: serving on port 8080"), "{log}");
}

#[test]
fn conduit_server_serves_many_clients_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server_wasm = compose(&component("conduit-server"), "unix", dir.path(), "conduit.wasm", &[]);
    let netns = Netns::loopback("conduit");
    let server = Background::start(netns.command(path_str(&bin("ukc-unix")), &[path_str(&server_wasm), "--port=7000"]));
    netns.wait_for_port("127.0.0.1", 7000);
    conduit_clients(&netns, "127.0.0.1", 7000);
    let log = server.stop();
    assert!(log.contains("conduit-server: listening on port 7000"), "{log}");
}
