//! The kv-ro example served from a GNU tar image through the kv-tar driver prints exactly
//! what it prints when served from the directory the image was made of.

use std::path::Path;
use std::process::Command;
use ukc_tests::*;

/// A tree with what tar archives make hard: long names, long paths, an empty file, a
/// file over 1 MiB, a link, and links to dictionaries that loop (which kv-ro's walk
/// must survive: each dictionary is listed once, at its own place).
fn make_tree(root: &Path) {
    let long_name = format!("{}.txt", "n".repeat(146));
    assert_eq!(long_name.len(), 150);
    let deep = root.join("d".repeat(60)).join("e".repeat(59));
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(root.join(&long_name), "a file with a 150-character name\n").unwrap();
    std::fs::write(deep.join("deep.txt"), "deep inside\n").unwrap();
    std::fs::write(root.join("empty"), "").unwrap();
    let big: Vec<u8> = (0..(1536 * 1024u32)).map(|i| (i % 251) as u8).collect();
    std::fs::write(root.join("big.bin"), big).unwrap();
    std::fs::create_dir(root.join("docs")).unwrap();
    std::fs::write(root.join("docs/index.html"), "<h1>hello</h1>\n").unwrap();
    std::os::unix::fs::symlink("docs/index.html", root.join("index.html")).unwrap();
    for (link, target) in [("loop", "."), ("docs/up", ".."), ("docs/again", "../docs"), ("docs/self", ".")] {
        std::os::unix::fs::symlink(target, root.join(link)).unwrap();
    }
}

fn tar(tree: &Path, image: &Path, format: &str) {
    let status = Command::new("tar")
        .args(["--format", format, "-C", path_str(tree), "-cf", path_str(image), "."])
        .status()
        .expect("GNU tar is installed");
    assert!(status.success());
}

#[test]
fn kv_tar_serves_gnu_and_pax_images_like_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    make_tree(&tree);

    let from_dir = compose(&component("kv-ro"), "unix", dir.path(), "kv-dir.wasm", &[]);
    let expected = ukc_unix(&[path_str(&from_dir), &format!("--kv:storage={}", path_str(&tree))]);
    let expected_text = expected.ok();
    assert!(expected_text.contains(&format!("== /{}.txt (33 bytes)", "n".repeat(146))), "{expected_text}");
    assert!(expected_text.contains("kv-ro: 6 values printed, 0 errors"), "{expected_text}");

    let from_tar = compose(&component("kv-ro"), "unix", dir.path(), "kv-tar.wasm", &["--use", "ukc:kv/ro=kv-tar"]);
    for format in ["gnu", "pax"] {
        let image = dir.path().join(format!("{format}.tar"));
        tar(&tree, &image, format);
        let served = ukc_unix(&[path_str(&from_tar), &format!("--block:storage={}", path_str(&image))]);
        assert_eq!(served.status, Some(0), "{format}: {}", served.stderr);
        assert!(
            served.stdout == expected.stdout,
            "{format}: the tar image serves different contents:\n{}",
            served.stdout_text()
        );
    }
}

#[test]
fn kv_tar_reports_a_device_that_holds_no_archive() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("noise.img");
    std::fs::write(&image, vec![0x5a; 4096]).unwrap();
    let kv = compose(&component("kv-ro"), "unix", dir.path(), "kv.wasm", &["--use", "ukc:kv/ro=kv-tar"]);
    let failed = ukc_unix(&[path_str(&kv), &format!("--block:storage={}", path_str(&image))]);
    assert_eq!(failed.status, Some(1));
    assert!(failed.stderr.contains("kv store 'storage'"), "{}", failed.stderr);
    assert!(failed.stderr.contains("tar"), "{}", failed.stderr);
}
