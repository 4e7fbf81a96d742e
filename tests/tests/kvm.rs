//! `ukc-hvt --isolation=kvm`: the hvt examples behave exactly as with
//! `--isolation=process` (same output, same exit status), a time limit stops a guest that
//! loops or waits, and a guest's traps and stray writes stay inside its VM.
//!
//! These tests need `/dev/kvm` (read and write), as CI's machine has.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use ukc_tests::netns::Netns;
use ukc_tests::web::{Background, check_site, load, make_site};
use ukc_tests::*;

const ISOLATIONS: [&str; 2] = ["--isolation=kvm", "--isolation=process"];

/// `ukc-hvt ISOLATION ARGS...` with the tests' compile cache.
fn hvt(isolation: &str, args: &[&str]) -> Run {
    assert!(
        std::fs::OpenOptions::new().read(true).write(true).open("/dev/kvm").is_ok(),
        "these tests need /dev/kvm (read and write)"
    );
    let mut cmd = Command::new(bin("ukc-hvt"));
    cmd.arg(isolation).args(args).env("UKC_CACHE_DIR", test_cache());
    run_with_input(&mut cmd, b"", Duration::from_secs(120))
}

/// Runs `args` in both isolations and checks they agree on everything; returns the run.
fn same_in_both(args: &[&str]) -> Run {
    let [kvm, process] = ISOLATIONS.map(|isolation| hvt(isolation, args));
    assert_eq!(kvm.stdout_text(), process.stdout_text(), "stdout differs for {args:?}");
    assert_eq!(kvm.stderr, process.stderr, "stderr differs for {args:?}");
    assert_eq!(kvm.status, process.status, "exit status differs for {args:?}");
    kvm
}

#[test]
fn hello_is_the_same_in_a_vm() {
    let dir = tempfile::tempdir().unwrap();
    let hello = compose(&component("hello"), "hvt", dir.path(), "h.hvt.wasm", &[]);
    let out = same_in_both(&["--", path_str(&hello), "--hello=Hi", "--sleep-ms=10"]).ok();
    assert_eq!(out, "Hi\nHi\nHi\nHi\n");
    let help = same_in_both(&["--", path_str(&hello), "--help"]).ok();
    assert!(help.contains("--hello=STRING"), "{help}");
    let bad = same_in_both(&["--", path_str(&hello), "--hallo=x"]);
    assert_eq!(bad.status, Some(64), "{}", bad.stderr);
}

#[test]
fn block_example_is_the_same_in_a_vm() {
    let dir = tempfile::tempdir().unwrap();
    let block = compose(&component("block"), "hvt", dir.path(), "b.hvt.wasm", &[]);
    for (size, sector) in [(64 << 20, "4096"), (1 << 20, "512")] {
        let image = dir.path().join("disk.img");
        std::fs::File::create(&image).unwrap().set_len(size).unwrap();
        let flag = format!("--block:storage={}", path_str(&image));
        let sector_flag = format!("--block-sector-size:storage={sector}");
        let out = same_in_both(&[&flag, &sector_flag, "--", path_str(&block)]).ok();
        assert!(out.contains("misaligned and out-of-range requests are refused"), "{out}");
        assert!(out.contains(", 0 mismatches"), "{out}");
    }
}

#[test]
fn kv_ro_is_the_same_in_a_vm() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("docs")).unwrap();
    std::fs::write(tree.join("docs/readme.txt"), "read me\n").unwrap();
    std::fs::write(tree.join("big.bin"), vec![7u8; 3 << 20]).unwrap();
    let image = dir.path().join("files.tar");
    tar(&tree, &image);
    let kv = compose(&component("kv-ro"), "hvt", dir.path(), "kv.hvt.wasm", &[]);
    let flag = format!("--block:storage={}", path_str(&image));
    let out = same_in_both(&[&flag, "--", path_str(&kv)]).ok();
    assert!(out.contains("== /docs/readme.txt (8 bytes)\nread me\n"), "{out}");
    let refused = same_in_both(&["--", path_str(&kv)]);
    assert_eq!(refused.status, Some(1));
    assert_eq!(
        refused.stderr.trim(),
        "ukc-hvt: Device 'storage' of type block declared but not attached; attach it with --block:storage=FILE."
    );
}

fn tar(tree: &Path, image: &Path) {
    let status = Command::new("tar").args(["-C", path_str(tree), "-cf", path_str(image), "."]).status().unwrap();
    assert!(status.success());
}

#[test]
fn static_website_is_the_same_in_a_vm() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    let files = make_site(&root);
    let image = dir.path().join("site.tar");
    tar(&root, &image);
    let website = compose(&component("static-website"), "hvt", dir.path(), "web.hvt.wasm", &[]);
    let block = format!("--block:storage={}", path_str(&image));
    for isolation in ISOLATIONS {
        let netns = Netns::with_tap(&format!("kvm-web-{}", &isolation["--isolation=".len()..]));
        let words = [isolation, "--net:service=tap0", &block, "--", path_str(&website), "--ipv4=10.0.0.2/24"];
        let server = Background::start(netns.command(path_str(&bin("ukc-hvt")), &words));
        netns.wait_for_port("10.0.0.2", 8080);
        check_site(&netns, "http://10.0.0.2:8080", &root, &files, dir.path());
        let report = load(&netns, "http://10.0.0.2:8080/index.html", 3);
        check_site(&netns, "http://10.0.0.2:8080", &root, &files, dir.path());
        let log = server.stop();
        assert!(log.contains("static-website: serving on port 8080"), "{isolation}: {log}\n{report}");
    }
}

#[test]
fn a_guest_that_loops_forever_is_stopped_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let looping = fixtures::build(dir.path(), "loop-app");
    let looping = compose(&looping, "hvt", dir.path(), "loop.hvt.wasm", &[]);
    for isolation in ISOLATIONS {
        let start = Instant::now();
        let stopped = hvt(isolation, &["--timeout=1", "--", path_str(&looping)]);
        let took = start.elapsed();
        assert_eq!(stopped.status, Some(124), "{isolation}: {}", stopped.stderr);
        assert_eq!(stopped.stderr, "ukc-hvt: the unikernel ran past --timeout=1 and was stopped (exit status 124)\n");
        assert!(
            took >= Duration::from_secs(1) && took < Duration::from_secs(10),
            "{isolation}: stopped after {took:?}"
        );
    }
}

#[test]
fn a_guest_waiting_in_yield_is_stopped_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let hello = compose(&component("hello"), "hvt", dir.path(), "h.hvt.wasm", &[]);
    let stopped = same_in_both(&["--timeout=0.5", "--", path_str(&hello), "--sleep-ms=60000"]);
    assert_eq!(stopped.status, Some(124), "{}", stopped.stderr);
    assert_eq!(stopped.stdout_text(), "Hello World!\n", "it greeted once, then slept");
}

#[test]
fn a_trap_in_the_guest_shows_the_trap_message() {
    let dir = tempfile::tempdir().unwrap();
    let trap = fixtures::build(dir.path(), "trap-app");
    let trap = compose(&trap, "hvt", dir.path(), "trap.hvt.wasm", &[]);
    let trapped = same_in_both(&["--", path_str(&trap)]);
    assert_eq!(trapped.status, Some(255));
    assert!(trapped.stderr.contains("ukc-hvt: the unikernel trapped in trap-app: "), "{}", trapped.stderr);
    assert!(trapped.stderr.contains("unreachable"), "{}", trapped.stderr);
    let exit = fixtures::build(dir.path(), "exit-app");
    let exit = compose(&exit, "hvt", dir.path(), "exit.hvt.wasm", &[]);
    assert_eq!(same_in_both(&["--", path_str(&exit)]).status, Some(7));
}

#[test]
fn a_guest_writing_past_its_memory_cannot_reach_the_tender() {
    let dir = tempfile::tempdir().unwrap();
    // Past its linear memory: a trap, reported by the tender, which carries on to exit.
    let oob = fixtures::build(dir.path(), "oob-app");
    let oob = compose(&oob, "hvt", dir.path(), "oob.hvt.wasm", &[]);
    let trapped = same_in_both(&["--", path_str(&oob)]);
    assert_eq!(trapped.status, Some(255));
    assert!(
        trapped.stderr.contains("trapped in oob-app: ") && trapped.stderr.contains("out of bounds"),
        "{}",
        trapped.stderr
    );
    // Growing past the VM's memory is refused like growing past the limit in process.
    let grow = fixtures::build(dir.path(), "grow-app");
    let grow = compose(&grow, "hvt", dir.path(), "grow.hvt.wasm", &[]);
    let refused = same_in_both(&["--mem=8", "--", path_str(&grow)]);
    assert_eq!(refused.status, Some(255));
    assert!(refused.stderr.contains("trapped in grow-app"), "{}", refused.stderr);
    let too_small = hvt("--isolation=kvm", &["--mem=2", "--", path_str(&grow)]);
    assert_eq!(too_small.status, Some(1));
    assert!(
        too_small.stderr.contains("--mem=2 is too small") && too_small.stderr.contains("use --mem="),
        "{}",
        too_small.stderr
    );
}

#[test]
fn a_guest_that_overflows_its_stack_or_exhausts_its_memory_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let deep = fixtures::build(dir.path(), "deep-app");
    let deep = compose(&deep, "hvt", dir.path(), "deep.hvt.wasm", &[]);
    let overflowed = same_in_both(&["--", path_str(&deep)]);
    assert_eq!(overflowed.status, Some(255));
    assert!(
        overflowed.stderr.contains("trapped in deep-app: ") && overflowed.stderr.contains("call stack exhausted"),
        "{}",
        overflowed.stderr
    );
    // Memory runs out in the VM before the limit does (the kernel and the unikernel's
    // code take their share): growing fails in both, and the guest's own check traps.
    let hog = fixtures::build(dir.path(), "hog-app");
    let hog = compose(&hog, "hvt", dir.path(), "hog.hvt.wasm", &[]);
    for mem in ["--mem=64", "--mem=512"] {
        let exhausted = same_in_both(&[mem, "--", path_str(&hog)]);
        assert_eq!(exhausted.status, Some(255), "{mem}");
        assert!(
            exhausted.stderr.contains("trapped in hog-app: ") && exhausted.stderr.contains("unreachable"),
            "{mem}: {}",
            exhausted.stderr
        );
    }
}

#[test]
fn a_guest_may_use_all_the_memory_it_is_given() {
    // A VM gets its first 64 MiB at boot and the rest when the guest kernel's heap runs
    // out: a memory of 192 MiB fits in 512 (and not in 128, in either mode).
    let dir = tempfile::tempdir().unwrap();
    let big = fixtures::build(dir.path(), "big-app");
    let big = compose(&big, "hvt", dir.path(), "big.hvt.wasm", &[]);
    let fits = same_in_both(&["--mem=512", "--", path_str(&big)]);
    assert_eq!(fits.status, Some(0), "{}", fits.stderr);
    let too_big = same_in_both(&["--mem=128", "--", path_str(&big)]);
    assert_eq!(too_big.status, Some(255));
    assert!(
        too_big.stderr.contains("trapped in big-app: ") && too_big.stderr.contains("unreachable"),
        "{}",
        too_big.stderr
    );
}

#[test]
fn without_a_choice_ukc_hvt_isolates_in_kvm() {
    let help = run(bin("ukc-hvt"), &["--help"]).ok();
    assert!(help.contains("--isolation=kvm|process") && help.contains("--timeout=SECONDS"), "{help}");
    let bad = run(bin("ukc-hvt"), &["--isolation=vm", "k.wasm"]);
    assert_eq!(bad.status, Some(64));
    assert!(bad.stderr.contains("--isolation=vm: expected kvm or process"), "{}", bad.stderr);
    // With /dev/kvm there is no notice about falling back to process isolation.
    let dir = tempfile::tempdir().unwrap();
    let hello = compose(&component("hello"), "hvt", dir.path(), "h.hvt.wasm", &[]);
    let mut cmd = Command::new(bin("ukc-hvt"));
    cmd.args(["--", path_str(&hello), "--sleep-ms=0"]).env("UKC_CACHE_DIR", test_cache());
    let quiet = run_with_input(&mut cmd, b"", Duration::from_secs(60));
    assert_eq!((quiet.status, quiet.stderr.as_str()), (Some(0), ""));
}
