//! Helpers for the end-to-end tests: where the binaries and components are, running
//! commands with a time bound, and building small fixture components with wasm-tools.

pub mod dnsmasq;
pub mod fixtures;
pub mod netns;
pub mod pki;
pub mod registry;
pub mod web;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// A binary built by `cargo build --release` (`ukc`, `ukc-unix`).
pub fn bin(name: &str) -> PathBuf {
    let path = workspace().join("target/release").join(name);
    assert!(path.is_file(), "{} is missing: run `cargo build --release` before the tests", path.display());
    path
}

/// A component the build wrote to `target/components`.
pub fn component(name: &str) -> PathBuf {
    let path = Path::new(ukc_components::COMPONENTS_DIR).join(format!("{name}.wasm"));
    assert!(path.is_file(), "{} is missing: run `cargo build --release` before the tests", path.display());
    path
}

/// The `wasmtime` CLI the `wasi` target's tests run under: on PATH, else the one
/// `.ci/run` or the benchmarks install.
pub fn wasmtime_cli() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let on_path = std::env::split_paths(&path).map(|d| d.join("wasmtime")).find(|p| p.is_file());
    let local = workspace().join("target/peers/bin/wasmtime");
    on_path.or_else(|| local.is_file().then_some(local)).unwrap_or_else(|| peer("wasmtime"))
}

/// A peer tool from PATH or cargo's bin directory (`wasm-tools`, `wac`).
pub fn peer(name: &str) -> PathBuf {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|d| d.join("bin").join(name));
    let in_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect::<Vec<_>>())
        .unwrap_or_default();
    in_path
        .into_iter()
        .chain(cargo_bin)
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed; .ci/run shows how to install it"))
}

/// The result of a finished command.
#[derive(Debug)]
pub struct Run {
    /// Exit status (`None` when killed by a signal).
    pub status: Option<i32>,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error, as text.
    pub stderr: String,
}

impl Run {
    /// Standard output as text.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Asserts success and returns standard output as text.
    pub fn ok(&self) -> String {
        assert_eq!(self.status, Some(0), "command failed:\nstdout: {}\nstderr: {}", self.stdout_text(), self.stderr);
        self.stdout_text()
    }
}

/// Runs `cmd` with `stdin` as input, killing it after `limit`. Output is drained while
/// the command runs, so a command that prints a lot never blocks on a full pipe.
pub fn run_with_input(cmd: &mut Command, stdin: &[u8], limit: Duration) -> Run {
    use std::io::{Read, Write};
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut input = child.stdin.take().expect("piped stdin");
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let _ = writer.join();
    Run {
        status: status.code(),
        stdout: stdout.join().expect("stdout reader"),
        stderr: String::from_utf8_lossy(&stderr.join().expect("stderr reader")).into_owned(),
    }
}

/// Runs `program args...` with no input and a 60-second bound.
pub fn run<P: AsRef<std::ffi::OsStr>>(program: P, args: &[&str]) -> Run {
    run_with_input(Command::new(program).args(args), b"", Duration::from_secs(60))
}

/// `ukc ARGS...`.
pub fn ukc(args: &[&str]) -> Run {
    run(bin("ukc"), args)
}

/// The compile cache the hosts use under test: a scratch directory, not the user's.
pub fn test_cache() -> PathBuf {
    std::env::temp_dir().join("ukc-tests-cache")
}

/// `ukc-unix ARGS...`, with the compile cache in [`test_cache`].
pub fn ukc_unix(args: &[&str]) -> Run {
    run_with_input(
        Command::new(bin("ukc-unix")).args(args).env("UKC_CACHE_DIR", test_cache()),
        b"",
        Duration::from_secs(120),
    )
}

/// `ukc-hvt ARGS...`, with the compile cache in [`test_cache`].
pub fn ukc_hvt(args: &[&str]) -> Run {
    run_with_input(
        Command::new(bin("ukc-hvt")).args(args).env("UKC_CACHE_DIR", test_cache()),
        b"",
        Duration::from_secs(120),
    )
}

/// Builds the crate in `dir` with `cargo build --release --target TARGET` into
/// `target_dir`, free of the outer build's flags; panics naming `what` if it fails.
pub fn cargo_build(dir: &Path, target: &str, target_dir: &Path, what: &str) {
    let built = Command::new(env!("CARGO"))
        .current_dir(dir)
        .args(["build", "--release", "--target", target, "--target-dir", path_str(target_dir)])
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .expect("cargo runs");
    assert!(built.success(), "{what} builds for {target}");
}

/// Composes `app` for `target` into `dir/name` and returns the path.
pub fn compose(app: &Path, target: &str, dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec!["compose", path_str(app), "-t", target, "-o", path_str(&out), "-q"];
    args.extend_from_slice(extra);
    ukc(&args).ok();
    out
}

/// A path as `&str` (test paths are UTF-8).
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Builds a component from WAT with `wasm-tools component embed` and `new`: `wit` is a
/// WIT directory or file, `world` the world the WAT implements.
pub fn wat_component(dir: &Path, name: &str, wit: &Path, world: &str, wat: &str) -> PathBuf {
    let source = dir.join(format!("{name}.wat"));
    let core = dir.join(format!("{name}.core.wasm"));
    let out = dir.join(format!("{name}.wasm"));
    std::fs::write(&source, wat).unwrap();
    let tools = peer("wasm-tools");
    run(&tools, &["component", "embed", path_str(wit), "--world", world, path_str(&source), "-o", path_str(&core)])
        .ok();
    run(&tools, &["component", "new", path_str(&core), "-o", path_str(&out)]).ok();
    out
}

/// Builds the Rust crate `tests/fixtures/FIXTURE` (its `files`) as an outside author
/// would: against `ukc wit --out wit`, for `wasm32-unknown-unknown`, then `wasm-tools
/// component new`. `core` is the crate's library name; returns `DIR/CORE.wasm`.
pub fn fixture_crate(dir: &Path, fixture: &str, files: &[&str], core: &str) -> PathBuf {
    let crate_dir = dir.join(fixture);
    let source = workspace().join("tests/fixtures").join(fixture);
    std::fs::create_dir_all(crate_dir.join("src")).unwrap();
    for file in files {
        std::fs::copy(source.join(file), crate_dir.join(file)).unwrap();
    }
    // The same dependency versions as the project, so that the build needs no resolution.
    std::fs::copy(workspace().join("Cargo.lock"), crate_dir.join("Cargo.lock")).unwrap();
    ukc(&["wit", "--out", path_str(&crate_dir.join("wit"))]).ok();
    let target_dir = workspace().join("target/plugin-test");
    cargo_build(&crate_dir, "wasm32-unknown-unknown", &target_dir, &format!("the {fixture} crate"));
    let core_module = target_dir.join(format!("wasm32-unknown-unknown/release/{core}.wasm"));
    let component = dir.join(format!("{core}.wasm"));
    run(peer("wasm-tools"), &["component", "new", path_str(&core_module), "-o", path_str(&component)]).ok();
    component
}

/// `ukc wit --out DIR/wit` plus extra WIT packages under `DIR/wit/deps`; returns the
/// WIT directory (its root package is ukc:platform).
pub fn wit_dir(dir: &Path, extra: &[(&str, &str)]) -> PathBuf {
    let wit = dir.join("wit");
    ukc(&["wit", "--out", path_str(&wit)]).ok();
    for (package, source) in extra {
        let package_dir = wit.join("deps").join(package);
        std::fs::create_dir_all(&package_dir).unwrap();
        std::fs::write(package_dir.join(format!("{package}.wit")), source).unwrap();
    }
    wit
}

/// The text `wasm-tools component wit` prints for a component.
pub fn component_wit(path: &Path) -> String {
    run(peer("wasm-tools"), &["component", "wit", path_str(path)]).ok()
}

/// The lines of a component's world that import or export something.
pub fn world_items(path: &Path) -> Vec<String> {
    let wit = component_wit(path);
    let world = wit.split("world ").nth(1).unwrap_or_default();
    let body = world.split('}').next().unwrap_or_default();
    body.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("import ") || l.starts_with("export "))
        .map(|l| l.trim_end_matches(';').to_string())
        .collect()
}

/// A small tree for kv stores under `dir/files`: `a.txt`, `sub/b.txt`, and `link`, a
/// symbolic link to `a.txt`. Returns its path.
pub fn small_tree(dir: &Path) -> PathBuf {
    let files = dir.join("files");
    std::fs::create_dir_all(files.join("sub")).unwrap();
    std::fs::write(files.join("a.txt"), "alpha\n").unwrap();
    std::fs::write(files.join("sub/b.txt"), "beta\n").unwrap();
    std::os::unix::fs::symlink("a.txt", files.join("link")).unwrap();
    files
}

/// A program of the `wasi-std-app` fixture (`tests/fixtures/wasi-std-app`: ordinary Rust
/// std programs that know nothing of ukc), built for `wasm32-wasip2` once per test run:
/// `wasi-std-app` (its main program), `cat`, `serve` or `files`.
pub fn wasi_std_program(name: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let out = BUILT.get_or_init(|| {
        let source = workspace().join("tests/fixtures/wasi-std-app");
        // Built from a copy, so that the build writes no Cargo.lock into the source tree.
        let target_dir = workspace().join("target/wasi-std-app");
        let copy = target_dir.join("source");
        std::fs::create_dir_all(copy.join("src/bin")).unwrap();
        for file in ["Cargo.toml", "src/main.rs", "src/bin/cat.rs", "src/bin/serve.rs", "src/bin/files.rs"] {
            std::fs::copy(source.join(file), copy.join(file)).unwrap();
        }
        cargo_build(&copy, "wasm32-wasip2", &target_dir, "the wasi-std-app fixture");
        target_dir.join("wasm32-wasip2/release")
    });
    out.join(format!("{name}.wasm"))
}

/// `wasmtime run ARGS...` with the CLI [`wasmtime_cli`] finds.
pub fn wasmtime_run(args: &[&str]) -> Run {
    let mut command = Command::new(wasmtime_cli());
    command.arg("run").args(args);
    run_with_input(&mut command, b"", Duration::from_secs(120))
}

/// TCP and UDP echo peers on ports 9000 and 9001 of 127.0.0.1, or of the address given
/// as the script's argument.
pub const ECHO_PEERS: &str = r#"
import socket, sys, threading
host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind((host, 9001))
tcp = socket.create_server((host, 9000))
def echo_datagrams():
    while True:
        data, peer = udp.recvfrom(65536)
        udp.sendto(data, peer)
threading.Thread(target=echo_datagrams, daemon=True).start()
while True:
    connection, _ = tcp.accept()
    with connection:
        while data := connection.recv(4096):
            connection.sendall(data)
"#;
