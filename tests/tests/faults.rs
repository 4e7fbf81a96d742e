//! Faults from outside the unikernel: the host killed with SIGKILL right after a flush, a
//! full disk under a block device, SIGTERM. On every host and, for ukc-hvt, in KVM (where
//! the guest kernel caches block writes) as in process.

use std::io::{BufRead, BufReader, Lines};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};
use ukc_tests::*;

/// The hosts and modes block devices are tested under: a name, the program, and the
/// arguments before the device flags and after them.
fn hosts(unix: &Path, hvt: &Path) -> Vec<(&'static str, String, Vec<String>, Vec<String>)> {
    let s = |p: &Path| path_str(p).to_string();
    vec![
        ("ukc-unix", s(&bin("ukc-unix")), vec![s(unix)], vec!["--".into()]),
        ("ukc-hvt in process", s(&bin("ukc-hvt")), vec!["--isolation=process".into()], vec!["--".into(), s(hvt)]),
        ("ukc-hvt in KVM", s(&bin("ukc-hvt")), vec!["--isolation=kvm".into()], vec!["--".into(), s(hvt)]),
    ]
}

/// Starts `cmd` with the tests' compile cache, to read its output line by line as it comes.
fn spawn_reading(cmd: &mut Command) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = cmd
        .env("UKC_CACHE_DIR", test_cache())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the host starts");
    let lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    (child, lines)
}

/// Kills the host with SIGKILL as soon as block-bench says its flush returned, while it
/// reads back: every write before that flush must be in the file, byte for byte.
#[test]
fn writes_acknowledged_by_a_flush_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let unix = compose(&component("block-bench"), "unix", dir.path(), "bb.unix.wasm", &[]);
    let hvt = compose(&component("block-bench"), "hvt", dir.path(), "bb.hvt.wasm", &[]);
    let request = 4096usize;
    for (name, program, before, after) in hosts(&unix, &hvt) {
        let image = dir.path().join("disk.img");
        let _ = std::fs::remove_file(&image);
        std::fs::File::create(&image).unwrap().set_len(8 << 20).unwrap();
        let device = format!("--block:storage={}", path_str(&image));
        let (mut child, mut lines) = spawn_reading(
            Command::new(&program)
                .args(&before)
                .arg(&device)
                .args(&after)
                .args(["--request-bytes=4096", "--total-mb=8"]),
        );
        let flushed = lines.by_ref().map_while(Result::ok).any(|line| line.starts_with("block-bench: flush"));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(flushed, "{name}: block-bench never reported its flush ({status})");
        let data = std::fs::read(&image).unwrap();
        for (i, chunk) in data.chunks(request).enumerate() {
            let offset = (i * request) as u64;
            let expected: Vec<u8> = offset.to_le_bytes().into_iter().chain((8..request).map(|b| b as u8)).collect();
            assert!(
                chunk == expected,
                "{name}: the request at byte {offset} was acknowledged by a flush but is not in the file"
            );
        }
    }
}

/// A tmpfs of 1 MiB, unmounted on drop.
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn mount() -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let status =
            Command::new("mount").args(["-t", "tmpfs", "-o", "size=1m", "tmpfs", path_str(dir.path())]).status();
        assert!(status.is_ok_and(|s| s.success()), "mounting a tmpfs needs root");
        SmallDisk(dir)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

/// A sparse 4 MiB image on a 1 MiB file system: the block example's writes run out of
/// space. The unikernel gets an I/O error and stops with its message, and the host says
/// what the file system said; nothing crashes.
#[test]
fn a_full_disk_is_an_error_to_the_unikernel() {
    let dir = tempfile::tempdir().unwrap();
    let unix = compose(&component("block"), "unix", dir.path(), "b.unix.wasm", &[]);
    let hvt = compose(&component("block"), "hvt", dir.path(), "b.hvt.wasm", &[]);
    for (name, program, before, after) in hosts(&unix, &hvt) {
        let disk = SmallDisk::mount();
        let image = disk.0.path().join("disk.img");
        std::fs::File::create(&image).unwrap().set_len(4 << 20).unwrap();
        let device = format!("--block:storage={}", path_str(&image));
        let args: Vec<&str> = before
            .iter()
            .map(String::as_str)
            .chain([device.as_str()])
            .chain(after.iter().map(String::as_str))
            .collect();
        let run = run_with_input(
            Command::new(&program).args(&args).env("UKC_CACHE_DIR", test_cache()),
            b"",
            Duration::from_secs(120),
        );
        assert_eq!(run.status, Some(1), "{name}: {}", run.stderr);
        assert!(run.stderr.contains("No space left on device"), "{name}: {}", run.stderr);
        assert!(run.stderr.contains("the unikernel failed: write of"), "{name}: {}", run.stderr);
        assert!(run.stderr.contains("name: \"io\""), "{name}: the unikernel sees an I/O error: {}", run.stderr);
    }
}

/// SIGTERM ends a unikernel that is waiting, in KVM as in process, at once.
#[test]
fn sigterm_stops_the_host_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let hvt = compose(&component("hello"), "hvt", dir.path(), "h.hvt.wasm", &[]);
    for isolation in ["--isolation=process", "--isolation=kvm"] {
        let (mut child, mut lines) =
            spawn_reading(Command::new(bin("ukc-hvt")).args([isolation, "--", path_str(&hvt), "--sleep-ms=60000"]));
        assert!(lines.next().is_some_and(|l| l.is_ok()), "{isolation}: the first greeting");
        let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
        assert!(sent.success());
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(!status.success(), "{isolation}: {status}");
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(5), "{isolation}: still running 5 s after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The tap going down under a running unikernel (in KVM) and coming back: the unikernel
/// keeps running, and answers again once the link is up.
#[test]
fn a_tap_that_goes_down_and_up_again_is_survived() {
    let dir = tempfile::tempdir().unwrap();
    let pong = compose(&component("pong"), "hvt", dir.path(), "pong.hvt.wasm", &[]);
    let netns = ukc_tests::netns::Netns::with_tap("tap-down");
    let mut unikernel = netns.command(
        path_str(&bin("ukc-hvt")),
        &["--isolation=kvm", "--net:service=tap0", "--", path_str(&pong), "--count=4"],
    );
    unikernel.env("UKC_CACHE_DIR", test_cache());
    let unikernel = std::thread::spawn(move || run_with_input(&mut unikernel, b"", Duration::from_secs(60)));
    std::thread::sleep(Duration::from_millis(300));
    let ping = |count: &str| {
        let out = netns.command("ping", &["-c", count, "-i", "0.2", "-W", "2", "10.0.0.2"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let before = ping("2");
    assert!(before.contains("2 packets transmitted, 2 received"), "{before}");
    netns.exec_ok(&["ip", "link", "set", "tap0", "down"]);
    std::thread::sleep(Duration::from_millis(500));
    netns.exec_ok(&["ip", "link", "set", "tap0", "up"]);
    let after = ping("2");
    assert!(after.contains("2 packets transmitted, 2 received"), "{after}");
    let out = unikernel.join().unwrap().ok();
    assert!(out.ends_with("pong: 4 ping replies sent, done\n"), "{out}");
}
