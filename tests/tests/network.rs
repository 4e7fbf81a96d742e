//! The network unikernels against real Linux peers (curl, wrk, TCP clients), each test in
//! its own network namespace, using addresses inside it only.

use ukc_tests::netns::Netns;
use ukc_tests::web::{Background, check_site, conduit_clients, hostile_web_clients, load, make_site};
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
    // The host holds a file open from its size to its sendfile, for one turn at most: a
    // file replaced (as editors and deploys do, by renaming) is served anew, whole.
    let replacement = root.join("docs/manual.pdf.new");
    let fetch = ["curl", "-sS", "--fail", "http://127.0.0.1:8080/docs/manual.pdf"];
    for text in ["second edition\n", "third, longer edition\n"] {
        std::fs::write(&replacement, text).unwrap();
        std::fs::rename(&replacement, root.join("docs/manual.pdf")).unwrap();
        assert_eq!(netns.run(&fetch, std::time::Duration::from_secs(20)).ok(), text);
    }
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

#[test]
fn unix_socket_policy_limits_where_a_unikernel_listens() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    make_site(&root);
    let website = compose(&component("static-website"), "unix", dir.path(), "web.wasm", &[]);
    let netns = Netns::loopback("policy");
    netns.exec_ok(&["ip", "addr", "add", "10.9.0.1/32", "dev", "lo"]);
    let kv = format!("--kv:storage={}", path_str(&root));
    let host_binary = bin("ukc-unix");
    let host = path_str(&host_binary);

    // A port outside --allow-listen: the listen fails, and the host says why.
    let refused = netns.run(
        &[host, path_str(&website), &kv, "--allow-listen=9000-9001", "--", "--port=8080"],
        std::time::Duration::from_secs(60),
    );
    assert_ne!(refused.status, Some(0), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("refused the unikernel listening on 0.0.0.0:8080: not allowed by --allow-listen"),
        "{}",
        refused.stderr
    );

    // An allowed port on the one address given: served there, not on the other address.
    let flags = [path_str(&website), &kv, "--listen-address=127.0.0.1", "--allow-listen=8080", "--", "--port=8080"];
    let server = Background::start(netns.command(host, &flags));
    netns.wait_for_port("127.0.0.1", 8080);
    let curl = |url: &str| {
        netns.run(&["curl", "-sS", "-o", "/dev/null", "--max-time", "5", url], std::time::Duration::from_secs(10))
    };
    assert_eq!(curl("http://127.0.0.1:8080/index.html").status, Some(0));
    let other = curl("http://10.9.0.1:8080/index.html");
    assert_eq!(other.status, Some(7), "curl cannot connect to the other address: {}", other.stderr);
    server.stop();
}

#[test]
fn static_website_survives_clients_that_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    make_site(&root);
    // 8 × 300 responses of 60 KiB queued at once would be 144 MB; one response at a time
    // per connection, sent from the file, keeps the server small.
    std::fs::create_dir_all(root.join("img")).unwrap();
    std::fs::write(root.join("img/photo.bin"), vec![0x5a; 60 * 1024]).unwrap();
    let website = compose(&component("static-website"), "unix", dir.path(), "web.wasm", &[]);
    let netns = Netns::loopback("hostile-web");
    let kv = format!("--kv:storage={}", path_str(&root));
    // A small memory limit: before responses were bounded, these clients made it trap.
    let flags = [path_str(&website), &kv, "--mem=48", "--", "--port=8080", "--idle-timeout-s=2"];
    let server = Background::start(netns.command(path_str(&bin("ukc-unix")), &flags));
    netns.wait_for_port("127.0.0.1", 8080);
    let seen = hostile_web_clients(&netns, "127.0.0.1", 8080, "/img/photo.bin", 2);
    assert!(seen.contains("served: HTTP/1.1 200 OK"), "{seen}");
    assert!(seen.contains("silent closed: True"), "{seen}");
    let pipelined: u64 = seen.lines().find_map(|l| l.strip_prefix("pipelined bytes: ")).unwrap().parse().unwrap();
    assert!(pipelined > 8 * 2000, "the clients did pipeline: {seen}");
    check_site_alive(&netns);
    let log = server.stop();
    assert!(!log.contains("trap"), "{log}");
}

/// The server still answers after the hostile clients are gone.
fn check_site_alive(netns: &Netns) {
    let curl = netns.run(
        &["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "http://127.0.0.1:8080/"],
        std::time::Duration::from_secs(10),
    );
    assert_eq!(curl.stdout_text(), "200", "{}", curl.stderr);
}
