//! Read-write kv stores (`ukc:kv/rw`) on unix: a directory attached with `--kv-rw`,
//! written with every operation by an application built outside the project, killed with
//! SIGKILL right after its flush, and read back from the directory and by a second run.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use ukc_tests::*;

#[test]
fn a_store_written_and_flushed_survives_sigkill_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let probe = fixture_crate(dir.path(), "kv-rw-probe", &["Cargo.toml", "ukc.json", "src/lib.rs"], "kv_rw_probe");
    let unikernel = compose(&probe, "unix", dir.path(), "probe.unix.wasm", &[]);
    let described = ukc(&["describe", path_str(&unikernel)]).ok();
    assert!(described.contains("attach with --kv-rw:notes=DIR"), "{described}");

    let notes = dir.path().join("notes");
    std::fs::create_dir(&notes).unwrap();
    let attach = format!("--kv-rw:notes={}", path_str(&notes));
    let mut writer = Command::new(bin("ukc-unix"))
        .args([path_str(&unikernel), &attach, "--", "--step=write"])
        .env("UKC_CACHE_DIR", test_cache())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines: Vec<String> = BufReader::new(writer.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .take_while(|line| line != "flushed")
        .collect();
    writer.kill().unwrap();
    let status = writer.wait().unwrap();
    assert_eq!(lines.len(), 1, "the writer stopped before its flush ({status}): {lines:?}");
    assert!(lines[0].starts_with("failing batch: Err(Error::DictionaryExpected(\"published\""), "{lines:?}");

    // The directory holds what the flush covered, and nothing of the failed batch.
    let read = |key: &str| std::fs::read_to_string(notes.join(key)).ok();
    assert_eq!(read("published/two").as_deref(), Some("second"));
    assert_eq!(read("published/three").as_deref(), Some("third"));
    assert_eq!(read("greeting"), None, "removed by the batch");
    assert!(!notes.join("drafts").exists(), "removed with what it held");
    let mut names: Vec<String> =
        std::fs::read_dir(&notes).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["published"], "no temporary file is left");

    let checked = ukc_unix(&[path_str(&unikernel), &attach, "--", "--step=check"]).ok();
    let lines: Vec<&str> = checked.lines().collect();
    assert_eq!(lines[..2], ["published/three = third", "published/two = second"], "{checked}");
    assert!(lines[2].starts_with("digest ") && lines[2].len() == "digest ".len() + 64, "{checked}");
    assert_eq!(lines[3], "get published: Err(Error::DictionaryExpected(\"published\"))");
    assert!(lines[4].starts_with("set published/two/x: Err(Error::ValueExpected("), "{checked}");
    assert!(lines[5].starts_with("get ../x: Err(Error::InvalidKey("), "{checked}");
    // Reading changes nothing: the digest is the same on a second look.
    let again = ukc_unix(&[path_str(&unikernel), &attach, "--", "--step=check"]).ok();
    assert_eq!(again.lines().nth(2), Some(lines[2]));
}

#[test]
fn hosts_and_targets_without_read_write_stores_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let probe = fixture_crate(dir.path(), "kv-rw-probe", &["Cargo.toml", "ukc.json", "src/lib.rs"], "kv_rw_probe");
    for target in ["hvt", "wasi"] {
        let out = dir.path().join(format!("probe.{target}.wasm"));
        let refused = ukc(&["compose", path_str(&probe), "-t", target, "-o", path_str(&out)]);
        assert_eq!(refused.status, Some(1), "{target}");
        assert!(refused.stderr.contains("imports ukc:kv/rw@0.1.0"), "{target}: {}", refused.stderr);
        assert!(!out.exists(), "{target}");
    }
    let unikernel = compose(&probe, "unix", dir.path(), "probe.unix.wasm", &[]);
    let missing = ukc_unix(&[path_str(&unikernel)]);
    assert_eq!(missing.status, Some(1));
    assert!(missing.stderr.contains("Device 'notes' of type kv-rw declared but not attached."), "{}", missing.stderr);
    let as_read_only = ukc_unix(&[path_str(&unikernel), &format!("--kv:notes={}", path_str(dir.path()))]);
    assert!(as_read_only.stderr.contains("declared as type kv-rw but attached as kv"), "{}", as_read_only.stderr);
}
