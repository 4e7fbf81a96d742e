//! `ukc-unix` running the example unikernels and fixtures.

use ukc_tests::*;

#[test]
fn hello_prints_its_argument_four_times() {
    let dir = tempfile::tempdir().unwrap();
    let hello = compose(&component("hello"), "unix", dir.path(), "h.wasm", &[]);
    let out = ukc_unix(&[path_str(&hello), "--", "--hello=Hi", "--sleep-ms=0"]);
    assert_eq!(out.ok(), "Hi\nHi\nHi\nHi\n");
    let default = ukc_unix(&[path_str(&hello), "--sleep-ms=1"]);
    assert_eq!(default.ok(), "Hello World!\n".repeat(4));
}

#[test]
fn hello_sleeps_between_greetings() {
    let dir = tempfile::tempdir().unwrap();
    let hello = compose(&component("hello"), "unix", dir.path(), "h.wasm", &[]);
    let start = std::time::Instant::now();
    ukc_unix(&[path_str(&hello), "--", "--sleep-ms=150"]).ok();
    // Three sleeps of 150 ms separate four greetings: the waiting really happens.
    assert!(start.elapsed() >= std::time::Duration::from_millis(450), "{:?}", start.elapsed());
}

#[test]
fn unikernel_help_lists_every_argument() {
    let dir = tempfile::tempdir().unwrap();
    let kv = compose(&component("kv-ro"), "unix", dir.path(), "kv.wasm", &["--use", "ukc:kv/ro=kv-tar"]);
    let help = ukc_unix(&[path_str(&kv), "--", "--help"]).ok();
    assert!(help.contains("--key=STRING"), "{help}");
    assert!(help.contains("(default: /)"), "{help}");
    let hello = compose(&component("hello"), "unix", dir.path(), "h.wasm", &[]);
    let help = ukc_unix(&[path_str(&hello), "--help"]).ok();
    assert!(help.contains("--hello=STRING") && help.contains("--sleep-ms=INT"), "{help}");
    let host_help = ukc_unix(&["--help"]).ok();
    assert!(host_help.contains("--block:NAME=FILE") && host_help.contains("Examples:"), "{host_help}");
}

#[test]
fn exit_status_and_traps_reach_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let exit_app = fixtures::build(dir.path(), "exit-app");
    let exiting = compose(&exit_app, "unix", dir.path(), "exit.wasm", &[]);
    assert_eq!(ukc_unix(&[path_str(&exiting)]).status, Some(7));

    let trap_app = fixtures::build(dir.path(), "trap-app");
    let trapping = compose(&trap_app, "unix", dir.path(), "trap.wasm", &[]);
    let trapped = ukc_unix(&[path_str(&trapping)]);
    assert_eq!(trapped.status, Some(255));
    assert!(trapped.stderr.contains("trapped in trap-app"), "{}", trapped.stderr);
    assert!(trapped.stderr.contains("unreachable"), "{}", trapped.stderr);
}

#[test]
fn block_example_verifies_every_sector() {
    let dir = tempfile::tempdir().unwrap();
    let block = compose(&component("block"), "unix", dir.path(), "b.wasm", &[]);
    let image = dir.path().join("disk.img");
    std::fs::File::create(&image).unwrap().set_len(64 << 20).unwrap();
    let flag = format!("--block:storage={}", path_str(&image));
    let out = ukc_unix(&[path_str(&block), &flag, "--block-sector-size:storage=4096"]).ok();
    assert!(out.contains("16384 sectors of 4096 bytes"), "{out}");
    assert!(out.contains("misaligned and out-of-range requests are refused"), "{out}");
    assert!(out.contains("wrote and verified 16384 sectors, 0 mismatches"), "{out}");
    // The pattern really reached the file: no sector is left zero.
    let data = std::fs::read(&image).unwrap();
    assert!(data.chunks(4096).all(|s| s.iter().any(|&b| b != 0)));
}

#[test]
fn kv_ro_serves_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let files = small_tree(dir.path());
    let kv = compose(&component("kv-ro"), "unix", dir.path(), "kv.wasm", &[]);
    let flag = format!("--kv:storage={}", path_str(&files));
    let out = ukc_unix(&[path_str(&kv), &flag]).ok();
    assert_eq!(
        out,
        "== /a.txt (6 bytes)\nalpha\n== /link (6 bytes)\nalpha\n== /sub/b.txt (5 bytes)\nbeta\nkv-ro: 3 values printed, 0 errors\n"
    );
    let one = ukc_unix(&[path_str(&kv), &flag, "--", "--key=/sub/b.txt"]).ok();
    assert!(one.starts_with("== /sub/b.txt (5 bytes)\nbeta\n"), "{one}");
}

#[test]
fn kv_store_with_a_link_out_of_the_tree_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("a.txt"), "alpha\n").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", files.join("passwd")).unwrap();
    let kv = compose(&component("kv-ro"), "unix", dir.path(), "kv.wasm", &[]);
    let flag = format!("--kv:storage={}", path_str(&files));
    let refused = ukc_unix(&[path_str(&kv), &flag]);
    assert_eq!(refused.status, Some(1));
    assert!(refused.stderr.contains("passwd is a symbolic link that leads outside"), "{}", refused.stderr);
    assert!(!refused.stdout_text().contains("root:"), "nothing of /etc/passwd may be printed");
}

#[test]
fn warm_boots_use_the_compile_cache() {
    let dir = tempfile::tempdir().unwrap();
    let hello = compose(&component("hello"), "unix", dir.path(), "h.wasm", &[]);
    let cache = dir.path().join("cache");
    let boot = || {
        run_with_input(
            std::process::Command::new(bin("ukc-unix"))
                .args([path_str(&hello), "--", "--sleep-ms=0"])
                .env("UKC_CACHE_DIR", &cache),
            b"",
            std::time::Duration::from_secs(60),
        )
    };
    boot().ok();
    let artifacts: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "entry"))
        .collect();
    assert_eq!(artifacts.len(), 1, "the first boot stores one compiled artifact");
    assert!(cache.join("key").is_file(), "next to the secret that authenticates it");
    let artifact = &artifacts[0];
    let stored = std::fs::metadata(artifact).unwrap().modified().unwrap();
    assert_eq!(boot().ok(), "Hello World!\n".repeat(4));
    assert_eq!(std::fs::metadata(artifact).unwrap().modified().unwrap(), stored, "a warm boot reuses the artifact");
    std::fs::write(artifact, b"damaged").unwrap();
    let recompiled = boot();
    assert!(recompiled.stderr.contains("fails its integrity check"), "{}", recompiled.stderr);
    assert_eq!(recompiled.ok(), "Hello World!\n".repeat(4), "a damaged artifact is recompiled");
}
