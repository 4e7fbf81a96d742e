//! What the network tests share: unikernels in the background, a test site and the
//! checks a browser user and a load generator would make of it.

use crate::netns::Netns;
use crate::{path_str, test_cache};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A unikernel running in the background; killed when dropped.
pub struct Background(Child);

impl Background {
    /// Starts `cmd` with the tests' compile cache, capturing its output.
    pub fn start(mut cmd: Command) -> Background {
        cmd.env("UKC_CACHE_DIR", test_cache());
        Background(cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the host starts"))
    }

    /// Stops it and returns what it printed.
    pub fn stop(mut self) -> String {
        let _ = self.0.kill();
        let mut out = String::new();
        if let Some(mut stdout) = self.0.stdout.take() {
            let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
        }
        if let Some(mut stderr) = self.0.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut stderr, &mut out);
        }
        let _ = self.0.wait();
        out
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A site with nested directories, an index, a binary file over the streaming threshold.
pub fn make_site(root: &Path) -> Vec<String> {
    std::fs::create_dir_all(root.join("css")).unwrap();
    std::fs::create_dir_all(root.join("docs/guide")).unwrap();
    std::fs::write(root.join("index.html"), "<!doctype html><h1>ukc</h1>\n").unwrap();
    std::fs::write(root.join("css/site.css"), "body { margin: 0 }\n").unwrap();
    std::fs::write(root.join("docs/guide/index.html"), "<p>guide</p>\n").unwrap();
    std::fs::write(root.join("empty.txt"), "").unwrap();
    let big: Vec<u8> = (0..(700 * 1024u32)).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(root.join("docs/manual.pdf"), big).unwrap();
    ["index.html", "css/site.css", "docs/guide/index.html", "docs/manual.pdf"].map(String::from).to_vec()
}

/// Fetches every file with curl, byte-identical, plus the 404 and HEAD cases.
pub fn check_site(netns: &Netns, base: &str, root: &Path, files: &[String], scratch: &Path) {
    for file in files {
        let out = scratch.join("download");
        let url = format!("{base}/{file}");
        netns.run(&["curl", "-sS", "--fail", "-o", path_str(&out), &url], Duration::from_secs(20)).ok();
        assert!(std::fs::read(&out).unwrap() == std::fs::read(root.join(file)).unwrap(), "{url} differs");
    }
    let index = netns.run(&["curl", "-sS", "--fail", &format!("{base}/")], Duration::from_secs(20)).ok();
    assert_eq!(index, "<!doctype html><h1>ukc</h1>\n");
    let codes = netns
        .run(
            &[
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code} %{content_type}\\n",
                &format!("{base}/missing.html"),
                &format!("{base}/css/site.css"),
            ],
            Duration::from_secs(20),
        )
        .ok();
    assert_eq!(codes, "404 text/plain; charset=utf-8\n200 text/css; charset=utf-8\n");
    let empty = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", &format!("{base}/empty.txt")];
    assert_eq!(netns.run(&empty, Duration::from_secs(20)).ok(), "200 0", "an empty file: a head alone");
    let head = netns.run(&["curl", "-sS", "-I", &format!("{base}/docs/manual.pdf")], Duration::from_secs(20)).ok();
    assert!(head.contains("Content-Length: 716800") && head.contains("application/pdf"), "{head}");
    // Two requests on one connection: curl reuses it (keep-alive).
    let reuse = netns
        .run(
            &[
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-o",
                "/dev/null",
                "-w",
                "%{num_connects}\\n",
                &format!("{base}/"),
                &format!("{base}/css/site.css"),
            ],
            Duration::from_secs(20),
        )
        .ok();
    assert_eq!(reuse, "1\n0\n", "the second request reuses the first connection");
}

/// A bounded wrk run; returns its report after checking it had no socket errors.
pub fn load(netns: &Netns, url: &str, seconds: u32) -> String {
    let duration = format!("{seconds}s");
    let report = netns
        .run(&["wrk", "-t2", "-c32", "-d", &duration, "--latency", url], Duration::from_secs(u64::from(seconds) + 30))
        .ok();
    assert!(!report.contains("Socket errors"), "wrk saw socket errors:\n{report}");
    assert!(!report.contains("Non-2xx"), "wrk saw failed requests:\n{report}");
    assert!(report.contains("Requests/sec"), "{report}");
    report
}

/// Forty conduit-server clients at once, from a small Python program inside the
/// namespace: each stores a key, then every client reads another's key, then all quit.
pub fn conduit_clients(netns: &Netns, address: &str, port: u16) {
    let client = r#"
import socket, sys
address, port = sys.argv[1], int(sys.argv[2])
clients = [socket.create_connection((address, port), timeout=10) for _ in range(40)]
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
    let port = port.to_string();
    let out = netns.run(&["python3", "-c", client, address, &port], Duration::from_secs(60)).ok();
    assert_eq!(out, "ok\n");
}

/// Clients a server must survive, from a small Python program inside the namespace:
/// eight connections each pipeline 300 requests for `path` (about 10 KB of requests)
/// and never read a byte of the answers, and one connection sends nothing at all. While
/// they hang on, an ordinary client must still be served; the silent connection must be
/// closed by the server within `idle_seconds` (plus slack). Prints what it saw.
pub fn hostile_web_clients(netns: &Netns, address: &str, port: u16, path: &str, idle_seconds: u64) -> String {
    let client = r#"
import socket, sys, time
address, port, path, idle = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
request = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
hogs = []
for _ in range(8):
    s = socket.create_connection((address, port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setblocking(False)
    sent = 0
    for _ in range(300):
        try:
            sent += s.send(request)
        except BlockingIOError:
            break
    hogs.append((s, sent))
silent = socket.create_connection((address, port), timeout=10)
time.sleep(1)
ok = socket.create_connection((address, port), timeout=10)
ok.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
answer = b""
while chunk := ok.recv(65536):
    answer += chunk
print("served:", answer.split(b"\r\n")[0].decode())
print("pipelined bytes:", sum(sent for _, sent in hogs))
silent.settimeout(idle + 10)
start = time.time()
try:
    closed = silent.recv(1) == b""
except OSError:
    closed = True
print("silent closed:", closed, "after", round(time.time() - start), "s")
"#;
    let (port, idle) = (port.to_string(), idle_seconds.to_string());
    netns.run(&["python3", "-c", client, address, &port, path, &idle], Duration::from_secs(120)).ok()
}
