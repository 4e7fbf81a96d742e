use super::*;
use crate::blocks::read_range;
use crate::testutil::{MemDevice, TempDir, fixture, fixture_files, gnu_tar, long_dir, long_name, run_tar};

/// A POSIX ustar header for `name`, with a valid checksum.
fn header(name: &str, typeflag: u8, size: u64) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    h[136..148].copy_from_slice(b"14524770400\0");
    h[156] = typeflag;
    h[257..265].copy_from_slice(b"ustar\x0000");
    seal(&mut h);
    h
}

/// Recomputes the checksum after a test changed the header.
fn seal(h: &mut [u8]) {
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

/// Appends a member's header and its data, padded to a whole record.
fn push(archive: &mut Vec<u8>, header: &[u8], data: &[u8]) {
    archive.extend_from_slice(header);
    archive.extend_from_slice(data);
    archive.resize(archive.len().div_ceil(512) * 512, 0);
}

fn pax_record(key: &str, value: &str) -> String {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while format!("{len}{body}").len() != len {
        len += 1;
    }
    format!("{len}{body}")
}

/// Every member of the archive on `device`.
fn entries(device: &MemDevice) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    scan(device, &mut |entry| entries.push(entry))?;
    Ok(entries)
}

fn scan_bytes(data: Vec<u8>) -> Result<Vec<Entry>, String> {
    entries(&MemDevice::new(data, 512))
}

#[test]
fn numbers_in_octal_and_base_256() {
    assert_eq!(number(b"00000001750\0"), Some(0o1750));
    assert_eq!(number(b"   1750 \0\0\0\0"), Some(0o1750));
    assert_eq!(number(&[0; 12]), Some(0));
    assert_eq!(number(b"0000x001750\0"), None);
    let mut big = [0u8; 12];
    big[0] = 0x80;
    big[7..].copy_from_slice(&[0x02, 0x00, 0x00, 0x00, 0x05]);
    assert_eq!(number(&big), Some((2 << 32) + 5));
    // Negative base-256 numbers (times before the epoch) are refused.
    let mut negative = [0xffu8; 12];
    negative[11] = 0xfe;
    assert_eq!(number(&negative), None);
    assert_eq!(number(&[0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0]), None, "beyond 64 bits");
}

#[test]
fn pax_times_keep_fractions() {
    assert_eq!(pax_time(b"1700000000.123"), Some(1_700_000_000_123_000_000));
    assert_eq!(pax_time(b"5"), Some(5_000_000_000));
    assert_eq!(pax_time(b"1.0000000019"), Some(1_000_000_001));
    assert_eq!(pax_time(b"-1.5"), Some(0), "before the epoch");
    assert_eq!(pax_time(b"1."), Some(1_000_000_000));
    assert_eq!(pax_time(b".5"), None);
    assert_eq!(pax_time(b"1.x"), None);
    assert_eq!(pax_time(b""), None);
}

#[test]
fn pax_records_apply_and_malformed_ones_stop() {
    let mut pax = Pax::default();
    let data = [
        pax_record("path", "a/π.txt"),
        pax_record("mtime", "1700000000.5"),
        pax_record("size", "12345678901"),
        pax_record("SCHILY.xattr.user.x", "with = sign"),
        pax_record("linkpath", "t"),
        "99 broken=record\n".to_string(),
        pax_record("path", "ignored"),
    ]
    .concat();
    parse_pax(data.as_bytes(), &mut pax);
    assert_eq!(pax.path.as_deref(), Some("a/π.txt"));
    assert_eq!(pax.linkpath.as_deref(), Some("t"));
    assert_eq!(pax.size, Some(12_345_678_901));
    assert_eq!(pax.mtime_ns, Some(1_700_000_000_500_000_000));
    parse_pax(pax_record("path", "").as_bytes(), &mut pax);
    assert_eq!(pax.path, None);
}

#[test]
fn checksums_may_be_signed_and_bad_ones_name_the_offset() {
    let mut h = header("é", b'0', 0);
    // The signed sum of a header with high bytes differs from the unsigned one.
    h[148..156].fill(b' ');
    let signed: i32 = h.iter().map(|&b| i32::from(b as i8)).sum();
    h[148..156].copy_from_slice(format!("{signed:06o}\0 ").as_bytes());
    let mut archive = Vec::new();
    push(&mut archive, &h, b"");
    assert_eq!(scan_bytes(archive.clone()).unwrap()[0].path, "é");

    let mut bad = header("b", b'0', 0);
    bad[0] = b'c';
    push(&mut archive, &bad, b"");
    let error = scan_bytes(archive).unwrap_err();
    assert!(error.contains("checksum at offset 512"), "{error}");
}

#[test]
fn devices_without_an_archive() {
    assert_eq!(scan_bytes(vec![0; 8192]).unwrap(), vec![]);
    let error = scan_bytes(b"just some text".to_vec()).unwrap_err();
    assert!(error.contains("does not hold a tar archive") && error.contains("offset 0"), "{error}");
    let mut h = header("x", b'0', 0);
    h[257..265].copy_from_slice(b"notustar");
    seal(&mut h);
    let error = scan_bytes(h).unwrap_err();
    assert!(error.contains("does not hold a tar archive") && error.contains("magic"), "{error}");
}

#[test]
fn an_empty_extended_header_may_end_the_device() {
    let mut archive = Vec::new();
    push(&mut archive, &header("a", b'0', 1), b"a");
    push(&mut archive, &header("PaxHeaders/b", b'x', 0), b"");
    assert_eq!(scan_bytes(archive).unwrap().len(), 1);
}

#[test]
fn members_past_the_device_end_are_errors() {
    let mut archive = Vec::new();
    push(&mut archive, &header("big", b'0', 5000), &[1; 1000]);
    let error = scan_bytes(archive).unwrap_err();
    assert!(error.contains("offset 0") && error.contains("past the device"), "{error}");
}

#[test]
fn archives_end_at_a_zero_record_or_the_device_end() {
    let mut archive = Vec::new();
    push(&mut archive, &header("a", b'0', 3), b"abc");
    // No end-of-archive marker at all: the device simply ends.
    assert_eq!(scan_bytes(archive.clone()).unwrap().len(), 1);
    archive.extend_from_slice(&[0; 1024]);
    push(&mut archive, &header("after-the-end", b'0', 0), b"");
    let entries = scan_bytes(archive).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].offset, entries[0].size, entries[0].mtime_ns), (512, 3, 1_700_000_000_000_000_000));
}

#[test]
fn long_names_pax_and_prefixes_apply_to_the_next_member() {
    let long = "x/".repeat(100) + "file";
    let mut archive = Vec::new();
    push(&mut archive, &header("././@LongLink", b'L', long.len() as u64 + 1), format!("{long}\0").as_bytes());
    push(&mut archive, &header("././@LongLink", b'K', 4), b"tgt\0");
    push(&mut archive, &header("trunc", b'2', 0), b"");
    let pax = pax_record("path", "pax/name") + &pax_record("mtime", "1.25") + &pax_record("size", "3");
    push(&mut archive, &header("PaxHeaders/x", b'x', pax.len() as u64), pax.as_bytes());
    push(&mut archive, &header("short", b'0', 999), b"abc");
    let mut prefixed = header("name", b'5', 0);
    prefixed[345..351].copy_from_slice(b"prefix");
    seal(&mut prefixed);
    push(&mut archive, &prefixed, b"");
    push(&mut archive, &header("plain", b'0', 1), b"z");
    let entries = scan_bytes(archive).unwrap();
    let summary: Vec<_> = entries.iter().map(|e| (e.path.as_str(), e.kind, e.link.as_str(), e.size)).collect();
    assert_eq!(
        summary,
        [
            (long.as_str(), Kind::Symlink, "tgt", 0),
            ("pax/name", Kind::File, "", 3),
            ("prefix/name", Kind::Directory, "", 0),
            ("plain", Kind::File, "", 1),
        ]
    );
    assert_eq!(entries[1].mtime_ns, 1_250_000_000);
    assert_eq!(entries[3].mtime_ns, 1_700_000_000_000_000_000);
}

#[test]
fn global_headers_and_other_types_are_skipped() {
    let global = pax_record("comment", "hello") + &pax_record("mtime", "42");
    let mut archive = Vec::new();
    push(&mut archive, &header("g", b'g', global.len() as u64), global.as_bytes());
    push(&mut archive, &header("fifo", b'6', 0), b"");
    push(&mut archive, &header("label", b'V', 0), b"");
    let mut sparse = header("sparse", b'S', 600);
    sparse[482] = 1;
    seal(&mut sparse);
    let mut extension = vec![0u8; 512];
    extension[504] = 1;
    push(&mut archive, &sparse, b"");
    archive.extend_from_slice(&extension);
    archive.extend_from_slice(&[0; 512]);
    push(&mut archive, &[], &[7; 600]);
    let mut base256 = header("base256", b'0', 0);
    base256[124..136].copy_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    seal(&mut base256);
    push(&mut archive, &base256, b"hi");
    let entries = scan_bytes(archive).unwrap();
    let kinds: Vec<_> = entries.iter().map(|e| (e.path.as_str(), e.kind)).collect();
    assert_eq!(
        kinds,
        [("fifo", Kind::Other), ("label", Kind::Other), ("sparse", Kind::Other), ("base256", Kind::File)]
    );
    let last = entries.last().unwrap();
    assert_eq!((last.size, last.mtime_ns), (2, 42_000_000_000));
}

/// Checks GNU tar's archive of the fixture lists every file with its contents.
fn check_gnu_archive(format: &str, with_long_name: bool, sector: u64) {
    let dir = fixture(with_long_name);
    let archive = gnu_tar(dir.path(), format, &["."]);
    let device = MemDevice::new(archive, sector);
    let entries = entries(&device).unwrap();
    let find = |path: &str| {
        let path = format!("./{path}");
        entries.iter().rfind(|e| e.path.trim_end_matches('/') == path).unwrap_or_else(|| panic!("{format}: no {path}"))
    };
    for (path, data) in fixture_files(with_long_name) {
        let entry = find(&path);
        assert_eq!(entry.kind, Kind::File, "{format}: {path}");
        assert_eq!(read_range(&device, entry.offset, entry.size).unwrap(), data, "{format}: {path}");
    }
    assert_eq!(find("sub/link").kind, Kind::Symlink);
    assert_eq!(find("sub/link").link, "../small.txt");
    assert_eq!(find("dirlink").link, "sub");
    assert_eq!(find("emptydir").kind, Kind::Directory);
    assert_eq!(find(&long_dir()).kind, Kind::Directory);
    // The hard link points at whichever of the pair tar stored first.
    let hard = entries.iter().find(|e| e.kind == Kind::HardLink).expect("a hard link");
    assert!(["./small.txt", "./sub/hard"].contains(&hard.link.as_str()), "{format}: {}", hard.link);
    assert_eq!(find("emptydir").mtime_ns % 1_000_000_000, 0);
    assert!(find("emptydir").mtime_ns > 1_700_000_000_000_000_000);
}

#[test]
fn gnu_tar_gnu_format() {
    check_gnu_archive("gnu", true, 512);
}

#[test]
fn gnu_tar_pax_format() {
    check_gnu_archive("pax", true, 4096);
}

#[test]
fn gnu_tar_ustar_format() {
    // ustar cannot store a 150-character segment, but splits the long directory path.
    check_gnu_archive("ustar", false, 512);
    assert!(long_name().len() == 150 && long_dir().len() == 120);
}

#[test]
fn gnu_tar_oldgnu_format() {
    check_gnu_archive("oldgnu", true, 1024);
}

#[test]
fn gnu_tar_v7_format() {
    // v7 has no magic, no long names and no prefix: a small tree only.
    let dir = TempDir::new();
    dir.file("a/b/f", b"v7 data");
    std::os::unix::fs::symlink("f", dir.path().join("a/b/l")).unwrap();
    let device = MemDevice::new(gnu_tar(dir.path(), "v7", &["."]), 512);
    let entries = entries(&device).unwrap();
    let summary: Vec<_> = entries.iter().map(|e| (e.path.as_str(), e.kind, e.link.as_str())).collect();
    assert_eq!(
        summary,
        [
            ("./", Kind::Directory, ""),
            ("./a/", Kind::Directory, ""),
            ("./a/b/", Kind::Directory, ""),
            ("./a/b/f", Kind::File, ""),
            ("./a/b/l", Kind::Symlink, "f"),
        ]
    );
    assert_eq!(read_range(&device, entries[3].offset, entries[3].size).unwrap(), b"v7 data");
}

#[test]
fn gnu_tar_sparse_files_are_skipped() {
    let dir = TempDir::new();
    let sparse = std::fs::File::create(dir.path().join("sparse")).unwrap();
    sparse.set_len(3 << 20).unwrap();
    std::os::unix::fs::FileExt::write_at(&sparse, b"x", 2_000_000).unwrap();
    dir.file("z", b"after the sparse file");
    for format in ["gnu", "oldgnu", "pax"] {
        let format = format!("--format={format}");
        let archive = run_tar(dir.path(), &["-c", "--sparse", &format, "-f", "-", "sparse", "z"]);
        let device = MemDevice::new(archive, 512);
        let entries = entries(&device).unwrap();
        assert_eq!(entries.len(), 2, "{format}: {entries:?}");
        assert_eq!(entries[0].kind, Kind::Other, "{format}");
        assert_eq!((entries[1].path.as_str(), entries[1].kind), ("z", Kind::File));
        let data = read_range(&device, entries[1].offset, entries[1].size).unwrap();
        assert_eq!(data, b"after the sparse file", "{format}");
    }
}

#[test]
fn gnu_tar_global_pax_headers_are_skipped() {
    let dir = TempDir::new();
    dir.file("f", b"data");
    let archive = run_tar(dir.path(), &["-c", "--format=pax", "--pax-option=comment=hi", "-f", "-", "f"]);
    assert_eq!(archive[156], b'g', "GNU tar wrote a global header first");
    let device = MemDevice::new(archive, 512);
    let entries = entries(&device).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(read_range(&device, entries[0].offset, entries[0].size).unwrap(), b"data");
}
