//! `ukc compose --preopen`: an ordinary Rust std program reads and writes kv stores as
//! directories, on `ukc-unix` and in a KVM micro-VM on `ukc-hvt`, exactly as it reads and
//! writes host directories under `wasmtime run --dir`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use ukc_tests::*;

/// `wasmtime run ARGS...` with the directory `read_only` made read-only for it alone:
/// wasmtime's CLI lends directories read-write only, so a read-only bind mount over the
/// directory, in a mount namespace of wasmtime's own, makes it what a read-only kv store
/// is (this needs root, as the KVM runs here do).
fn wasmtime_with_read_only(read_only: &Path, args: &[&str]) -> Run {
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "sh", "-c", "mount --bind -o ro \"$0\" \"$0\" && exec \"$@\"", path_str(read_only)])
        .arg(wasmtime_cli())
        .arg("run")
        .args(args);
    run_with_input(&mut command, b"", Duration::from_secs(120))
}

/// The site the program only reads: two files, one in a subdirectory.
fn site(dir: &Path) -> PathBuf {
    let site = dir.join("site");
    std::fs::create_dir_all(site.join("sub")).unwrap();
    std::fs::write(site.join("index.html"), "<h1>hello</h1>\n").unwrap();
    std::fs::write(site.join("sub/page.txt"), "a page\n").unwrap();
    site
}

fn fresh_dir(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir(&path).unwrap();
    path
}

/// What `files` left in its read-write directory: every file, with its contents.
fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let name = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                files.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// What `program` prints under `wasmtime run` with `site` lent read-only as /site and a
/// fresh directory as /logs, with what a ukc host prints instead where the two differ on
/// purpose; and that directory.
fn under_wasmtime(program: &Path, dir: &Path, site: &Path) -> (String, PathBuf) {
    let logs = fresh_dir(dir, &format!("logs-wasmtime-{}", program.file_stem().unwrap().to_string_lossy()));
    let dirs = [format!("{}::/site", path_str(site)), format!("{}::/logs", path_str(&logs))];
    let wasmtime = wasmtime_with_read_only(site, &["--dir", &dirs[0], "--dir", &dirs[1], path_str(program)]).ok();
    // Where wasmtime folds the host's error into WASI's `io`, the store says the code WASI
    // has for it: `read-only` for a change refused by a read-only store (wasmtime's host
    // directory is a read-only mount), `bad-descriptor` for a read through a descriptor
    // opened only for writing (the host's EBADF).
    let folded = [
        ("create in the read-only directory", "Read-only file system (os error 69)"),
        ("remove in the read-only directory", "Read-only file system (os error 69)"),
        ("read through a write-only descriptor", "Bad file descriptor (os error 8)"),
    ];
    let mut expected = wasmtime.clone();
    // (wasmtime's own WASI 0.1 implementation already says `bad-descriptor`.)
    for (what, ours) in folded {
        let (io, ours) = (format!("{what}: I/O error (os error 29)\n"), format!("{what}: {ours}\n"));
        assert!(
            wasmtime.contains(&io) || wasmtime.contains(&ours),
            "wasmtime's transcript lacks {what:?}:\n{wasmtime}"
        );
        expected = expected.replace(&io, &ours);
    }
    (expected, logs)
}

/// Runs `unikernel` on ukc-unix with `site` as /site and a fresh directory as /logs, and
/// asserts that it prints `expected` and leaves `left` in that directory.
fn assert_same_on_unix(unikernel: &Path, dir: &Path, site: &Path, expected: &str, left: &[(String, Vec<u8>)]) {
    let logs = fresh_dir(dir, &format!("logs-unix-{}", unikernel.file_stem().unwrap().to_string_lossy()));
    let unix = ukc_unix(&[
        path_str(unikernel),
        &format!("--kv:site={}", path_str(site)),
        &format!("--kv-rw:logs={}", path_str(&logs)),
        "--",
    ]);
    assert_eq!(unix.ok(), expected, "ukc-unix");
    assert_eq!(tree(&logs), left, "ukc-unix leaves the directory as wasmtime does");
}

#[test]
fn a_std_program_reads_and_writes_preopened_kv_stores_as_under_wasmtime_dir() {
    let files = wasi_std_program("files");
    let dir = tempfile::tempdir().unwrap();
    let site = site(dir.path());
    let (expected, logs) = under_wasmtime(&files, dir.path(), &site);
    // The transcript shows what is being compared: reads, refusals and writes.
    for line in [
        "read /site/sub/../index.html: \"<h1>hello</h1>\\n\"",
        "read /site/../../etc/passwd: Operation not permitted (os error 63)",
        "escape with ..: Operation not permitted (os error 63)",
        "read /logs/day/run.log: \"first LINE\\nsecond line\\n\"",
        "  same: true",
        "remove a directory that is not empty: Directory not empty (os error 55)",
    ] {
        assert!(expected.lines().any(|l| l == line), "wasmtime's transcript lacks {line:?}:\n{expected}");
    }
    let left = tree(&logs);

    let preopens = ["--preopen", "site", "--preopen", "logs:rw"];
    let on_unix = compose(&files, "unix", dir.path(), "files.unix.wasm", &preopens);
    let described = ukc(&["describe", path_str(&on_unix)]).ok();
    assert!(described.contains("/site        the kv store site, read-only"), "{described}");
    assert!(described.contains("/logs        the kv store logs, read-write"), "{described}");
    assert!(described.contains("attach with --kv-rw:logs=DIR"), "{described}");
    assert_same_on_unix(&on_unix, dir.path(), &site, &expected, &left);
    assert_eq!(std::fs::read_to_string(site.join("index.html")).unwrap(), "<h1>hello</h1>\n");

    // On hvt the read-only store is a tar image (kv-tar) and the read-write one a log
    // on a block device (kv-log).
    let tar = dir.path().join("site.tar");
    run("tar", &["-cf", path_str(&tar), "-C", path_str(&site), "."]).ok();
    let image = dir.path().join("logs.img");
    std::fs::File::create(&image).unwrap().set_len(4 << 20).unwrap();
    let on_hvt = compose(&files, "hvt", dir.path(), "files.hvt.wasm", &preopens);
    let hvt = ukc_hvt(&[
        "--isolation=kvm",
        &format!("--block:site={}", path_str(&tar)),
        &format!("--block:logs={}", path_str(&image)),
        "--",
        path_str(&on_hvt),
    ]);
    assert_eq!(hvt.ok(), expected, "ukc-hvt in KVM");
}

#[test]
fn programs_without_preopens_keep_the_small_shim() {
    let cat = wasi_std_program("cat");
    let dir = tempfile::tempdir().unwrap();
    let plain = compose(&cat, "hvt", dir.path(), "cat.hvt.wasm", &[]);
    let described = ukc(&["describe", path_str(&plain)]).ok();
    assert!(described.contains("wasi-shim") && !described.contains("wasi-shim-fs"), "{described}");
    assert!(!described.contains("kv-tar"), "no kv store, no kv driver: {described}");
}

#[test]
fn misused_preopens_are_refused_at_compose_time_with_the_fix() {
    let files = wasi_std_program("files");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.wasm");
    let refuse = |app: &Path, extra: &[&str]| {
        let mut args = vec!["compose", path_str(app), "-o", path_str(&out)];
        args.extend_from_slice(extra);
        let refused = ukc(&args);
        assert!(matches!(refused.status, Some(s) if s != 0), "{extra:?}: {}", refused.stderr);
        assert!(!out.exists(), "{extra:?}: no output is written");
        refused.stderr
    };
    let hello = component("hello");
    let message = refuse(&hello, &["--preopen", "site"]);
    assert!(message.contains("hello imports no wasi:filesystem"), "{message}");
    let message = refuse(&files, &["--preopen", "site", "-t", "wasi"]);
    assert!(message.contains("wasmtime run --dir"), "{message}");
    let message = refuse(&files, &["--preopen", "site:wr"]);
    assert!(message.contains("NAME:rw"), "{message}");
    let message = refuse(&files, &["--preopen", "site", "--preopen", "site:rw"]);
    assert!(message.contains("preopened twice"), "{message}");

    // A host refuses to boot without the store, naming the flag.
    let on_unix = compose(&files, "unix", dir.path(), "files.unix.wasm", &["--preopen", "site"]);
    let missing = ukc_unix(&[path_str(&on_unix), "--"]);
    assert_ne!(missing.status, Some(0));
    assert!(
        missing.stderr.contains("Device 'site' of type kv declared but not attached; attach it with --kv:site=DIR."),
        "{}",
        missing.stderr
    );
}

#[test]
fn a_wasi_0_1_program_reads_and_writes_preopens_through_the_standard_adapter() {
    // The same program built for wasm32-wasip1: a core module, which ukc componentizes
    // with the standard adapter, whose path_open, fd_read, fd_readdir and the rest then
    // reach wasi-shim-fs.
    let dir = tempfile::tempdir().unwrap();
    let source = workspace().join("tests/fixtures/wasi-std-app/src/bin/files.rs");
    let module = dir.path().join("files-p1.wasm");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    run(&rustc, &["--edition", "2024", "--target", "wasm32-wasip1", "-O", path_str(&source), "-o", path_str(&module)])
        .ok();
    let site = site(dir.path());
    let (expected, logs) = under_wasmtime(&module, dir.path(), &site);
    assert!(expected.contains("  same: true\n"), "{expected}");
    let on_unix =
        compose(&module, "unix", dir.path(), "files-p1.unix.wasm", &["--preopen", "site", "--preopen", "logs:rw"]);
    assert_same_on_unix(&on_unix, dir.path(), &site, &expected, &tree(&logs));
}
