//! The network unikernels against real Linux peers (curl, wrk, TCP clients), each test in
//! its own network namespace, using addresses inside it only.

use std::time::Duration;
use ukc_tests::netns::Netns;
use ukc_tests::web::{Background, check_site, load, make_site};
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
    // The clients run inside the namespace too: a small Python program with 40 sockets
    // open at once, each storing a key, then every client reading every other's key.
    let client = r#"
import socket
clients = [socket.create_connection(("127.0.0.1", 7000), timeout=10) for _ in range(40)]
files = [c.makefile("rw", newline="\n") for c in clients]
def ask(f, line):
    f.write(line + "\n"); f.flush(); return f.readline().strip()
for i, f in enumerate(files):
    assert ask(f, f"SET key{i} value {i}") == "OK"
assert ask(files[0], "CLIENTS") == "CLIENTS 40", ask(files[0], "CLIENTS")
for i, f in enumerate(files):
    j = (i + 1) % len(files)
    got = ask(f, f"GET key{j}")
    assert got == f"VALUE value {j}", got
assert ask(files[5], "COUNT") == "COUNT 40"
assert ask(files[5], "FLY") .startswith("ERR unknown command FLY")
for f in files:
    assert ask(f, "QUIT") == "BYE"
    assert f.readline() == ""
print("ok")
"#;
    let out = netns.run(&["python3", "-c", client], Duration::from_secs(60)).ok();
    assert_eq!(out, "ok\n");
    let log = server.stop();
    assert!(log.contains("conduit-server: listening on port 7000"), "{log}");
}
