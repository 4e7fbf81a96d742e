//! `wasi:sockets` on ukc: an ordinary std::net program (the `serve` fixture), composed
//! with no flag at all (`wasi-shim-net` serves it over `ukc:tcpip`), runs on `ukc-unix`
//! and on `ukc-hvt` in KVM (the tcpip driver over a tap) exactly as under `wasmtime run
//! -S inherit-network`. Each test makes its own network namespace and uses addresses
//! inside it only.

use std::path::Path;
use std::time::Duration;
use ukc_tests::netns::Netns;
use ukc_tests::web::Background;
use ukc_tests::*;

/// A client that sends one line to ADDRESS:8080 and prints the answer; it tries for up
/// to 60 s while nothing listens yet (a probe connection would count as one of those the
/// server answers).
const LINE_CLIENT: &str = r#"
import socket, sys, time
deadline = time.monotonic() + 60
while True:
    try:
        c = socket.create_connection((sys.argv[2], 8080), timeout=10)
        break
    except (ConnectionRefusedError, OSError):
        if time.monotonic() > deadline:
            raise
        time.sleep(0.05)
with c:
    c.sendall(sys.argv[1].encode() + b"\n")
    answer = b""
    while data := c.recv(4096):
        answer += data
print(answer.decode(), end="")
"#;

const LIMIT: Duration = Duration::from_secs(60);

/// `ukc-hvt` running `unikernel` in KVM with its tcpip driver at 10.0.0.2 on `tap0`, and
/// then `args`.
fn in_kvm<'a>(ukc_hvt: &'a Path, unikernel: &'a Path, args: &[&'a str]) -> Vec<&'a str> {
    let mut words = vec![
        path_str(ukc_hvt),
        "--isolation=kvm",
        "--net:service=tap0",
        "--timeout=120",
        "--",
        path_str(unikernel),
        "--ipv4=10.0.0.2/24",
    ];
    words.extend_from_slice(args);
    words
}

#[test]
fn a_std_net_client_talks_tcp_and_udp_on_unix_and_in_kvm_as_under_wasmtime() {
    let serve = wasi_std_program("serve");
    let dir = tempfile::tempdir().unwrap();
    let on_unix = compose(&serve, "unix", dir.path(), "serve.unix.wasm", &[]);
    let on_hvt = compose(&serve, "hvt", dir.path(), "serve.hvt.wasm", &[]);
    let described = ukc(&["describe", path_str(&on_unix)]).ok();
    assert!(described.contains("sockets (wasi:sockets, served by wasi-shim-net over ukc:tcpip)"), "{described}");
    let cli = wasmtime_cli();
    let (ukc_unix, ukc_hvt) = (bin("ukc-unix"), bin("ukc-hvt"));
    // In KVM the program's sockets are the tcpip driver's at 10.0.0.2, and the peers
    // listen at the tap's 10.0.0.1.
    let runners: [(&str, &str, Vec<&str>); 3] = [
        ("wasmtime", "127.0.0.1", vec![path_str(&cli), "run", "-S", "inherit-network", path_str(&serve)]),
        ("ukc-unix", "127.0.0.1", vec![path_str(&ukc_unix), path_str(&on_unix), "--"]),
        ("ukc-hvt-kvm", "10.0.0.1", in_kvm(&ukc_hvt, &on_hvt, &[])),
    ];
    let mut transcripts = Vec::new();
    for (name, peers, mut words) in runners {
        let netns = if peers == "10.0.0.1" {
            Netns::with_tap(&format!("wasi-net-client-{name}"))
        } else {
            Netns::loopback(&format!("wasi-net-client-{name}"))
        };
        let _peers = Background::start(netns.command("python3", &["-c", ECHO_PEERS, peers]));
        netns.wait_for_port(peers, 9000);
        words.extend(["client", peers, "9000", "9001", "9009"]);
        transcripts.push((name, netns.run(&words, LIMIT).ok()));
    }
    let (_, expected) = &transcripts[0];
    for line in [
        "connecting to 9009: Connection refused (os error 14)",
        "tcp echo: \"hello over tcp\\n\"",
        "udp echo from port 9001: \"hello over udp\"",
    ] {
        assert!(expected.lines().any(|l| l == line), "wasmtime's transcript lacks {line:?}:\n{expected}");
    }
    for (name, transcript) in &transcripts[1..] {
        assert_eq!(transcript, expected, "{name} prints what wasmtime prints");
    }
}

#[test]
fn a_std_net_server_answers_on_unix_and_in_kvm_as_under_wasmtime() {
    let serve = wasi_std_program("serve");
    let dir = tempfile::tempdir().unwrap();
    let on_unix = compose(&serve, "unix", dir.path(), "serve.unix.wasm", &[]);
    let on_hvt = compose(&serve, "hvt", dir.path(), "serve.hvt.wasm", &[]);
    let cli = wasmtime_cli();
    let (ukc_unix, ukc_hvt) = (bin("ukc-unix"), bin("ukc-hvt"));
    // On hvt the program's sockets are the tcpip driver's, over a tap in the namespace.
    let runners: [(&str, &str, Vec<&str>); 3] = [
        ("wasmtime", "127.0.0.1", vec![path_str(&cli), "run", "-S", "inherit-network", path_str(&serve), "8080", "2"]),
        ("ukc-unix", "127.0.0.1", vec![path_str(&ukc_unix), path_str(&on_unix), "--", "8080", "2"]),
        ("ukc-hvt-kvm", "10.0.0.2", in_kvm(&ukc_hvt, &on_hvt, &["8080", "2"])),
    ];
    let mut transcripts = Vec::new();
    for (name, address, words) in runners {
        let netns = if address == "10.0.0.2" {
            Netns::with_tap(&format!("wasi-net-{name}"))
        } else {
            Netns::loopback(&format!("wasi-net-{name}"))
        };
        let server = Background::start(netns.command(words[0], &words[1..]));
        for line in ["first", "second"] {
            let answer = netns.run(&["python3", "-c", LINE_CLIENT, line, address], LIMIT).ok();
            assert_eq!(answer, format!("echo: {line}\n"), "{name}");
        }
        transcripts.push((name, server.stop()));
    }
    let (_, expected) = &transcripts[0];
    assert!(expected.contains("answered \"second\""), "{expected}");
    for (name, transcript) in &transcripts[1..] {
        assert_eq!(transcript, expected, "{name} prints what wasmtime prints");
    }
}
