//! `ukc-hvt`: the examples behave exactly as on `ukc-unix`; devices, limits and the
//! Solo5 command line behave as `solo5-hvt`'s.

use std::process::Command;
use std::time::{Duration, Instant};
use ukc_tests::netns::Netns;
use ukc_tests::*;

#[test]
fn hello_prints_the_same_on_hvt_as_on_unix() {
    let dir = tempfile::tempdir().unwrap();
    let on_unix = compose(&component("hello"), "unix", dir.path(), "h.unix.wasm", &[]);
    let on_hvt = compose(&component("hello"), "hvt", dir.path(), "h.hvt.wasm", &[]);
    let unix = ukc_unix(&[path_str(&on_unix), "--", "--hello=Hi", "--sleep-ms=0"]);
    let hvt = ukc_hvt(&["--", path_str(&on_hvt), "--hello=Hi", "--sleep-ms=0"]);
    assert_eq!(hvt.ok(), unix.ok());
    assert_eq!(hvt.stdout_text(), "Hi\nHi\nHi\nHi\n");
}

#[test]
fn kv_ro_on_hvt_serves_a_gnu_tar_image_and_needs_its_block_device() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("docs")).unwrap();
    std::fs::write(tree.join("docs/readme.txt"), "read me\n").unwrap();
    std::fs::write(tree.join(format!("{}.txt", "x".repeat(146))), "long\n").unwrap();
    let image = dir.path().join("files.tar");
    let tar = Command::new("tar").args(["-C", path_str(&tree), "-cf", path_str(&image), "."]).status().unwrap();
    assert!(tar.success());
    let on_unix = compose(&component("kv-ro"), "unix", dir.path(), "kv.unix.wasm", &[]);
    let on_hvt = compose(&component("kv-ro"), "hvt", dir.path(), "kv.hvt.wasm", &[]);
    let unix = ukc_unix(&[path_str(&on_unix), &format!("--kv:storage={}", path_str(&tree))]);
    let hvt = ukc_hvt(&[&format!("--block:storage={}", path_str(&image)), "--", path_str(&on_hvt)]);
    assert_eq!(hvt.ok(), unix.ok());
    assert!(hvt.stdout_text().contains("== /docs/readme.txt (8 bytes)\nread me\n"), "{}", hvt.stdout_text());

    let refused = ukc_hvt(&["--", path_str(&on_hvt)]);
    assert_eq!(refused.status, Some(1));
    assert_eq!(
        refused.stderr.trim(),
        "ukc-hvt: Device 'storage' of type block declared but not attached; attach it with --block:storage=FILE."
    );
}

#[test]
fn block_example_passes_on_a_64_mib_image_with_4096_byte_sectors() {
    let dir = tempfile::tempdir().unwrap();
    let block = compose(&component("block"), "hvt", dir.path(), "b.hvt.wasm", &[]);
    let image = dir.path().join("disk.img");
    std::fs::File::create(&image).unwrap().set_len(64 << 20).unwrap();
    let flag = format!("--block:storage={}", path_str(&image));
    let out = ukc_hvt(&[&flag, "--block-sector-size:storage=4096", "--", path_str(&block)]).ok();
    assert!(out.contains("misaligned and out-of-range requests are refused"), "{out}");
    assert!(out.contains("wrote and verified 16384 sectors, 0 mismatches"), "{out}");
}

#[test]
fn frames_flow_both_ways_through_a_tap_device() {
    let dir = tempfile::tempdir().unwrap();
    let on_hvt = compose(&component("pong"), "hvt", dir.path(), "pong.hvt.wasm", &[]);
    let hvt_args = ["--net:service=tap0", "--net-mac:service=02:00:00:00:00:02", "--", path_str(&on_hvt), "--count=3"];
    ping_pong("hvt", "ukc-hvt", &hvt_args);
    // ukc-unix attaches TAP interfaces with the same device code.
    let on_unix = compose(&component("pong"), "unix", dir.path(), "pong.unix.wasm", &[]);
    let unix_args = [path_str(&on_unix), "--net:service=tap0", "--net-mac:service=02:00:00:00:00:02", "--count=3"];
    ping_pong("unix", "ukc-unix", &unix_args);
}

/// Boots the pong unikernel with `host args` in a fresh namespace, pings it three times
/// from the namespace, and checks both sides saw every exchange.
fn ping_pong(tag: &str, host: &str, args: &[&str]) {
    let netns = Netns::with_tap(tag);
    let mut unikernel = netns.command(path_str(&bin(host)), args);
    unikernel.env("UKC_CACHE_DIR", test_cache());
    let unikernel = std::thread::spawn(move || run_with_input(&mut unikernel, b"", Duration::from_secs(30)));
    std::thread::sleep(Duration::from_millis(300));
    let ping = netns.command("ping", &["-c", "3", "-i", "0.2", "-W", "2", "10.0.0.2"]).output().unwrap();
    let ping_out = String::from_utf8_lossy(&ping.stdout).into_owned();
    let served = unikernel.join().unwrap();
    let out = served.ok();
    assert!(ping_out.contains("3 packets transmitted, 3 received"), "{host}: {ping_out}\n{out}");
    assert!(out.contains("pong: service 02:00:00:00:00:02 mtu 1500"), "{out}");
    // The kernel's ARP request reached the guest, and its reply (with the MAC we set)
    // reached the kernel, or no ping could have been sent at all.
    assert!(out.contains("pong: ARP who-has from 10.0.0.1"), "{out}");
    assert!(out.contains("pong: ping from 10.0.0.1 seq 3, answered"), "{out}");
    assert!(out.ends_with("pong: 3 ping replies sent, done\n"), "{out}");
}

#[test]
fn yield_sleeps_without_spinning() {
    let dir = tempfile::tempdir().unwrap();
    let hello = compose(&component("hello"), "hvt", dir.path(), "h.hvt.wasm", &[]);
    // Warm the compile cache so the measurement is of waiting, not compiling.
    ukc_hvt(&["--", path_str(&hello), "--sleep-ms=0"]).ok();
    let start = Instant::now();
    let (out, cpu) = run_measuring_cpu(
        Command::new(bin("ukc-hvt"))
            .args(["--", path_str(&hello), "--sleep-ms=1000"])
            .env("UKC_CACHE_DIR", test_cache()),
    );
    let wall = start.elapsed();
    assert_eq!(out, "Hello World!\n".repeat(4));
    assert!(wall >= Duration::from_secs(3), "three 1 s sleeps took {wall:?}");
    assert!(cpu < wall / 20, "{cpu:?} of CPU over {wall:?}: yield must not busy-wait");
}

/// Runs `cmd` and returns its standard output and the CPU time it used (user + system).
#[allow(clippy::zombie_processes, reason = "reaped with wait4, which also reports its CPU time")]
fn run_measuring_cpu(cmd: &mut Command) -> (String, Duration) {
    let child = cmd.stdout(std::process::Stdio::piped()).spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut out).unwrap();
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, whose pid we hold.
    assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (out, time(usage.ru_utime) + time(usage.ru_stime))
}

#[test]
fn memory_limit_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let grow = fixtures::build(dir.path(), "grow-app");
    let grow = compose(&grow, "hvt", dir.path(), "grow.hvt.wasm", &[]);
    assert_eq!(ukc_hvt(&["--", path_str(&grow)]).status, Some(0), "16 MiB fits the default 512 MiB");
    let limited = ukc_hvt(&["--mem=8", "--", path_str(&grow)]);
    assert_eq!(limited.status, Some(255), "{}", limited.stderr);
    assert!(limited.stderr.contains("trapped in grow-app"), "{}", limited.stderr);
}

#[test]
fn acquiring_an_undeclared_device_stops_the_unikernel() {
    let dir = tempfile::tempdir().unwrap();
    let ghost = fixtures::build(dir.path(), "ghost-app");
    let ghost = compose(&ghost, "hvt", dir.path(), "ghost.hvt.wasm", &[]);
    let stopped = ukc_hvt(&["--", path_str(&ghost)]);
    assert_eq!(stopped.status, Some(255));
    assert!(
        stopped.stderr.contains("acquired the block device 'ghost', which no component declares in its manifest"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn command_line_follows_solo5_hvt() {
    let help = ukc_hvt(&["--help"]).ok();
    assert!(help.contains("--net:NAME=IFACE") && help.contains("--block-sector-size:NAME=SIZE"), "{help}");
    assert!(ukc_hvt(&["--version"]).ok().starts_with("ukc-hvt "));
    let bad = ukc_hvt(&["--kv:storage=dir", "k.wasm"]);
    assert_eq!(bad.status, Some(64));
    assert!(bad.stderr.contains("unknown option --kv:storage=dir"), "{}", bad.stderr);
    let dir = tempfile::tempdir().unwrap();
    let on_unix = compose(&component("hello"), "unix", dir.path(), "h.unix.wasm", &[]);
    let wrong = ukc_hvt(&["--", path_str(&on_unix)]);
    assert_eq!(wrong.status, Some(1));
    assert!(wrong.stderr.contains("was composed for the unix target; run it with ukc-unix"), "{}", wrong.stderr);
}
