use super::*;
use crate::testutil::{MemDevice, TempDir, contents, fixture, fixture_files, gnu_tar, long_dir, long_name, run_tar};
use std::process::Command;

const SECOND: u64 = 1_000_000_000;

/// GNU tar's archive of the fixture in `format`, mounted from a device of `sector`-byte
/// sectors. `small.txt` gets a fractional mtime, which only pax keeps.
fn mount(format: &str, with_long_name: bool, sector: u64) -> Mount<MemDevice> {
    let dir = fixture(with_long_name);
    let small = dir.path().join("small.txt");
    assert!(Command::new("touch").arg("-d").arg("@1700000000.123456789").arg(small).status().unwrap().success());
    let mut archive = gnu_tar(dir.path(), format, &["."]);
    // The device is larger than the archive, as an image padded to its capacity.
    archive.resize(archive.len() + 3 * 4096, 0);
    Mount::open("storage", MemDevice::new(archive, sector)).unwrap()
}

fn names(mount: &Mount<MemDevice>, key: &str) -> Vec<String> {
    let mark = |(name, kind)| {
        if kind == Kind::Dictionary { format!("{name}/") } else { name }
    };
    mount.list(key).unwrap().into_iter().map(mark).collect()
}

fn check_fixture(format: &str, with_long_name: bool, sector: u64) {
    let mount = mount(format, with_long_name, sector);
    for (path, data) in fixture_files(with_long_name) {
        assert_eq!(mount.exists(&path), Ok(Some(Kind::Value)), "{format}: {path}");
        assert_eq!(mount.size(&format!("/{path}")), Ok(data.len() as u64));
        assert!(mount.get(&path).unwrap() == data, "{format}: {path}");
    }
    let d59 = format!("{}/", "d".repeat(59));
    let mut root: Vec<String> = ["big.bin", &d59, "empty", "emptydir/"].map(String::from).into();
    if with_long_name {
        root.push(long_name());
    }
    root.extend(["small.txt", "sub/"].map(String::from));
    // `dirlink -> sub` resolves, but only `sub` lists the dictionary.
    assert_eq!(names(&mount, "/"), root, "{format}");
    assert_eq!(names(&mount, "sub"), ["deeper/", "hard", "link"]);
    assert_eq!(names(&mount, "dirlink/"), ["deeper/", "hard", "link"]);
    assert_eq!(names(&mount, &long_dir()), ["inner.txt"]);
    assert_eq!(names(&mount, "emptydir"), Vec::<String>::new());
    for key in ["sub/link", "sub/hard", "dirlink/hard", "small.txt"] {
        assert_eq!(mount.get(key).unwrap(), b"hello, tar!\n", "{format}: {key}");
    }
    assert_eq!(mount.get("dirlink/deeper/leaf").unwrap(), contents("leaf", 513));
    assert_eq!(mount.exists("dirlink"), Ok(Some(Kind::Dictionary)));
    assert_eq!(mount.exists(""), Ok(Some(Kind::Dictionary)));

    let small = if format == "pax" { 1_700_000_000 * SECOND + 123_456_789 } else { 1_700_000_000 * SECOND };
    assert_eq!(mount.last_modified("small.txt"), Ok(small), "{format}");
    assert_eq!(mount.last_modified("sub/link"), Ok(small), "a symlink reports its target");
    assert_eq!(mount.last_modified("empty"), Ok(1_700_000_001 * SECOND));
    assert_eq!(mount.last_modified("sub/deeper").unwrap() / SECOND, 1_700_000_006 + u64::from(with_long_name));
}

#[test]
fn gnu_format_round_trips() {
    check_fixture("gnu", true, 512);
}

#[test]
fn pax_format_round_trips() {
    check_fixture("pax", true, 4096);
}

#[test]
fn ustar_format_round_trips() {
    check_fixture("ustar", false, 512);
}

#[test]
fn oldgnu_format_round_trips() {
    check_fixture("oldgnu", true, 2048);
}

#[test]
fn partial_reads_touch_only_the_sectors_needed() {
    let mount = mount("gnu", false, 4096);
    let data = contents("big.bin", (1 << 20) + 12345);
    let size = data.len() as u64;
    for (offset, len) in [(0, 1), (1, 4096), (4095, 2), (123_456, 1 << 20), (size - 10, 100), (size, 5), (size + 9, 5)]
    {
        let before = mount.device.calls().len();
        let got = mount.get_partial("big.bin", offset, len).unwrap();
        let start = offset.min(size) as usize;
        let end = (offset.saturating_add(len)).min(size) as usize;
        assert!(got == data[start..end], "{offset}+{len}");
        let read: u64 = mount.device.calls()[before..].iter().map(|&(_, n)| u64::from(n)).sum();
        assert!(read <= (end - start) as u64 + 2 * 4096, "{offset}+{len}: read {read} bytes");
    }
    assert_eq!(mount.get_partial("big.bin", 5, u64::MAX).unwrap(), data[5..]);
    assert_eq!(mount.get_partial("empty", 0, 10).unwrap(), b"");
    for (offset, len) in mount.device.calls() {
        assert!(offset.is_multiple_of(4096) && len.is_multiple_of(4096) && len <= 1 << 20);
    }
}

#[test]
fn errors_name_the_key() {
    let mount = mount("gnu", false, 512);
    for key in ["a//b", ".", "sub/../small.txt", "./small.txt", "sub/./link", "///"] {
        let invalid = Err(Error::InvalidKey(format!("{key}: {}", ukc_hvt_abi::kv_key::RULE)));
        assert_eq!(mount.exists(key), invalid, "{key:?}");
        assert_eq!(mount.get(key).map(drop), invalid.map(drop), "{key:?}");
    }
    assert_eq!(mount.exists("//"), Ok(Some(Kind::Dictionary)), "a leading and a trailing / around the root");
    assert_eq!(mount.exists("small.txt/x"), Ok(None));
    assert_eq!(mount.exists("nothing"), Ok(None));
    assert_eq!(mount.get("nothing"), Err(Error::NotFound("nothing".into())));
    assert_eq!(mount.last_modified("no/thing"), Err(Error::NotFound("no/thing".into())));
    assert_eq!(mount.get("sub"), Err(Error::DictionaryExpected("sub".into())));
    assert_eq!(mount.size("/"), Err(Error::DictionaryExpected("/".into())));
    assert_eq!(mount.get_partial("sub", 0, 1), Err(Error::DictionaryExpected("sub".into())));
    assert_eq!(mount.list("small.txt"), Err(Error::ValueExpected("small.txt".into())));
    assert_eq!(mount.list("sub/link"), Err(Error::ValueExpected("sub/link".into())));
}

#[test]
fn device_failures_are_io_errors() {
    let mount = mount("gnu", false, 512);
    mount.device.fail_reads();
    let Err(Error::Io(message)) = mount.get("small.txt") else {
        panic!("expected an io error");
    };
    assert!(message.contains("storage") && message.contains("small.txt") && message.contains("injected"), "{message}");
    // Nothing is read for an empty value, so nothing can fail.
    assert_eq!(mount.get("empty"), Ok(Vec::new()));

    let failing = MemDevice::new(vec![0; 4096], 512);
    failing.fail_reads();
    assert!(matches!(Mount::open("s", failing), Err(Error::Io(m)) if m.contains("injected")));
}

#[test]
fn devices_that_hold_no_archive() {
    let empty = Mount::open("blank", MemDevice::new(vec![0; 1 << 16], 4096)).unwrap();
    assert_eq!(empty.list(""), Ok(Vec::new()));
    assert_eq!(empty.exists("/"), Ok(Some(Kind::Dictionary)));
    assert_eq!(empty.get("x"), Err(Error::NotFound("x".into())));

    let text = b"This is not an archive, just text.\n".repeat(100);
    let Err(Error::Io(message)) = Mount::open("text", MemDevice::new(text, 512)) else {
        panic!("text was accepted");
    };
    assert!(message.contains("'text'") && message.contains("does not hold a tar archive"), "{message}");
    assert!(message.contains("offset 0"), "{message}");
}

#[test]
fn appended_members_replace_earlier_ones() {
    let dir = TempDir::new();
    dir.file("f", b"first version");
    dir.file("g", b"unchanged");
    let archive = dir.path().join("archive.tar");
    let archive_arg = archive.to_str().unwrap();
    run_tar(dir.path(), &["-c", "--format=gnu", "-f", archive_arg, "f", "g"]);
    dir.file("f", b"second, longer version");
    run_tar(dir.path(), &["-r", "-f", archive_arg, "f"]);
    let mount = Mount::open("s", MemDevice::new(std::fs::read(&archive).unwrap(), 512)).unwrap();
    assert_eq!(mount.get("f").unwrap(), b"second, longer version");
    assert_eq!(mount.get("g").unwrap(), b"unchanged");
    assert_eq!(names(&mount, ""), ["f", "g"]);
}

#[test]
fn sparse_files_are_not_listed() {
    let dir = TempDir::new();
    std::fs::File::create(dir.path().join("sparse")).unwrap().set_len(1 << 20).unwrap();
    dir.file("z", b"z");
    let archive = run_tar(dir.path(), &["-c", "--sparse", "--format=pax", "-f", "-", "sparse", "z"]);
    let mount = Mount::open("s", MemDevice::new(archive, 512)).unwrap();
    // Neither the file nor the made-up directory pax puts it under.
    assert_eq!(names(&mount, ""), ["z"]);
}
