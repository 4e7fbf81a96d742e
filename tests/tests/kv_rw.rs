//! Read-write kv stores (`ukc:kv/rw`): on directories, attached with `--kv-rw` on unix and
//! preopened under `wasmtime run` on wasi (the `wasi-kv` driver), and on a block device
//! on hvt (the `kv-log` driver), in process and in KVM. Each is written with every
//! operation by an application built outside the project, killed with SIGKILL right after
//! its flush, and read back by a second run (and from the directory where there is one).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use ukc_tests::*;

/// The probe application, built once per test from `tests/fixtures/kv-rw-probe`.
fn probe(dir: &Path) -> PathBuf {
    fixture_crate(dir, "kv-rw-probe", &["Cargo.toml", "ukc.json", "src/lib.rs"], "kv_rw_probe")
}

/// Where the probe runs: a name, the target it is composed for, and the flag `ukc
/// describe` gives for its store.
const RUNNERS: [(&str, &str, &str); 4] = [
    ("unix", "unix", "--kv-rw:notes=DIR"),
    ("wasi", "wasi", "--dir DIR::notes"),
    ("hvt in process", "hvt", "--block:notes=FILE"),
    ("hvt in KVM", "hvt", "--block:notes=FILE"),
];

/// The command that runs the probe on `runner` with the store `notes` on `store` (a
/// directory, or a disk image on hvt), and its argument `step`.
fn probe_command(runner: &str, unikernel: &Path, store: &Path, step: &str) -> Command {
    let mut command = match runner {
        "unix" => {
            let mut c = Command::new(bin("ukc-unix"));
            c.args([path_str(unikernel), &format!("--kv-rw:notes={}", path_str(store)), "--"]);
            c
        }
        "wasi" => {
            let mut c = Command::new(wasmtime_cli());
            c.args(["run", "--dir", &format!("{}::notes", path_str(store)), path_str(unikernel)]);
            c
        }
        _ => {
            let isolation = if runner.ends_with("KVM") { "--isolation=kvm" } else { "--isolation=process" };
            let mut c = Command::new(bin("ukc-hvt"));
            c.args([isolation, &format!("--block:notes={}", path_str(store)), "--", path_str(unikernel)]);
            c
        }
    };
    command.arg(step).env("UKC_CACHE_DIR", test_cache());
    command
}

#[test]
fn a_store_written_and_flushed_survives_sigkill_and_reads_back_on_every_host() {
    let dir = tempfile::tempdir().unwrap();
    let probe = probe(dir.path());
    let mut digests = Vec::new();
    for (runner, target, flag) in RUNNERS {
        let unikernel = compose(&probe, target, dir.path(), &format!("probe.{target}.wasm"), &[]);
        let described = ukc(&["describe", path_str(&unikernel)]).ok();
        assert!(described.contains(&format!("attach with {flag}")), "{runner}: {described}");

        let notes = dir.path().join(format!("notes-{}", runner.replace(' ', "-")));
        if target == "hvt" {
            std::fs::File::create(&notes).unwrap().set_len(4 << 20).unwrap();
        } else {
            std::fs::create_dir(&notes).unwrap();
        }
        let mut writer =
            probe_command(runner, &unikernel, &notes, "--step=write").stdout(Stdio::piped()).spawn().unwrap();
        let lines: Vec<String> = BufReader::new(writer.stdout.take().unwrap())
            .lines()
            .map_while(Result::ok)
            .take_while(|line| line != "flushed")
            .collect();
        writer.kill().unwrap();
        let status = writer.wait().unwrap();
        assert_eq!(lines.len(), 1, "{runner}: the writer stopped before its flush ({status}): {lines:?}");
        let failed = "failing batch: Err(Error::DictionaryExpected(\"published\"";
        assert!(lines[0].starts_with(failed), "{runner}: {lines:?}");

        if target != "hvt" {
            // The directory holds what the flush covered, and nothing of the failed batch.
            let read = |key: &str| std::fs::read_to_string(notes.join(key)).ok();
            assert_eq!(read("published/two").as_deref(), Some("second"), "{runner}");
            assert_eq!(read("published/three").as_deref(), Some("third"), "{runner}");
            assert_eq!(read("greeting"), None, "{runner}: removed by the batch");
            assert!(!notes.join("drafts").exists(), "{runner}: removed with what it held");
            let names: Vec<String> =
                std::fs::read_dir(&notes).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
            assert_eq!(names, ["published"], "{runner}: no temporary file is left");
        }

        let check = || run_with_input(&mut probe_command(runner, &unikernel, &notes, "--step=check"), b"", TIMEOUT);
        let checked = check().ok();
        let lines: Vec<&str> = checked.lines().collect();
        assert_eq!(lines[..2], ["published/three = third", "published/two = second"], "{runner}: {checked}");
        assert!(lines[2].starts_with("digest ") && lines[2].len() == "digest ".len() + 64, "{checked}");
        assert_eq!(lines[3], "get published: Err(Error::DictionaryExpected(\"published\"))", "{runner}");
        assert!(lines[4].starts_with("set published/two/x: Err(Error::ValueExpected("), "{runner}: {checked}");
        assert!(lines[5].starts_with("get ../x: Err(Error::InvalidKey("), "{runner}: {checked}");
        // Reading changes nothing: the digest is the same on a second look.
        assert_eq!(check().ok().lines().nth(2), Some(lines[2]), "{runner}");
        digests.push(lines[2].to_string());
    }
    assert!(digests.iter().all(|d| *d == digests[0]), "equal trees have equal digests on every host: {digests:?}");
}

const TIMEOUT: Duration = Duration::from_secs(120);

#[test]
fn misattached_stores_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let probe = probe(dir.path());
    // On hvt the store is a block device of the same name, which kv-log writes.
    let on_hvt = compose(&probe, "hvt", dir.path(), "probe.hvt.wasm", &[]);
    let described = ukc(&["describe", path_str(&on_hvt)]).ok();
    assert!(described.contains("acquired by kv-rw-probe -> kv-log"), "{described}");
    let missing = ukc_hvt(&["--isolation=process", "--", path_str(&on_hvt)]);
    assert!(
        missing
            .stderr
            .contains("Device 'notes' of type block declared but not attached; attach it with --block:notes=FILE."),
        "{}",
        missing.stderr
    );
    let unikernel = compose(&probe, "unix", dir.path(), "probe.unix.wasm", &[]);
    let missing = ukc_unix(&[path_str(&unikernel)]);
    assert_eq!(missing.status, Some(1));
    assert!(
        missing
            .stderr
            .contains("Device 'notes' of type kv-rw declared but not attached; attach it with --kv-rw:notes=DIR."),
        "{}",
        missing.stderr
    );
    let as_read_only = ukc_unix(&[path_str(&unikernel), &format!("--kv:notes={}", path_str(dir.path()))]);
    assert!(as_read_only.stderr.contains("declared as type kv-rw but attached as kv"), "{}", as_read_only.stderr);
}
