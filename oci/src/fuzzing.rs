//! Everything ukc-oci reads from outside, over any bytes: for `fuzz/` (built with
//! `--cfg fuzzing`, as cargo-fuzz does) and for the test suite's smoke of it.
//!
//! A registry, a layout or an archive someone else made, a lock file and a reference typed
//! by a user are all untrusted. The input is read as each of them in turn: an image
//! manifest (whose blobs are served as zeros, or as the input itself when a descriptor
//! names the input's digest), an `oci-archive`, a lock file, a source and a digest.

use crate::digest::Digest;
use crate::lock::Lock;
use crate::package::{Blob, MANIFEST_MEDIA_TYPE, Manifest, Package};
use crate::source::Source;
use std::path::Path;

/// Reads `input` as every kind of untrusted text ukc-oci takes. Panics only when a
/// reader panics, or when what it accepted breaks a promise: a package whose blobs do not
/// match their descriptors, a source or a lock that does not read back as itself.
pub fn read_untrusted(input: &[u8]) {
    if let Ok(manifest) = Manifest::parse(input, "fuzz") {
        let _ = manifest.component_layer("fuzz");
    }
    let manifest = Blob::new(MANIFEST_MEDIA_TYPE, input.to_vec());
    let served = |d: &crate::package::Descriptor| {
        if d.digest == Digest::of(input) { Ok(input.to_vec()) } else { Ok(vec![0; d.size.min(1 << 16) as usize]) }
    };
    if let Ok(package) = Package::read(manifest, "fuzz", served) {
        package.config.digest.verify(&package.config.bytes, "config").expect("a read package's config matches");
        package.component.digest.verify(&package.component.bytes, "component").expect("its component matches");
        let title = package.title("fallback.wasm");
        assert!(
            title == "fallback.wasm"
                || (title.ends_with(".wasm") && !title.contains('/') && !title.starts_with(['.', '-'])),
            "a title is a plain .wasm file name: {title:?}"
        );
    }
    if let Ok(package) = crate::layout::read_archive_from(input, None, "fuzz") {
        assert_eq!(package.manifest.digest, Digest::of(&package.manifest.bytes));
    }
    if let Ok(lock) = Lock::parse(Path::new("ukc.lock"), input) {
        assert!(!lock.changed(), "reading a lock changes nothing");
    }
    if let Ok(text) = std::str::from_utf8(input) {
        if let Ok(source) = Source::parse(text) {
            assert_eq!(Source::parse(&source.to_string()).expect("a source's text reads back"), source);
        }
        if let Ok(digest) = Digest::parse(text) {
            assert_eq!(digest.as_str(), text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::Contents;

    /// A real package, its archive and its lock line, whole and cut at every length, and
    /// a few hundred pseudo-random inputs: what the fuzz target starts from.
    #[test]
    fn untrusted_inputs_never_panic() {
        let contents = Contents {
            title: "hello.hvt.wasm".into(),
            version: "1.0.0".into(),
            imports: vec!["ukc:console/console@0.1.0".into()],
            exports: vec![],
            unikernel: None,
        };
        let package = Package::build(b"\0asm\x0d\0\x01\0".to_vec(), &contents);
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("p.tar");
        crate::layout::write_archive(&archive, "1.0", &package).unwrap();
        let archive = std::fs::read(archive).unwrap();
        let lock = format!(
            r#"{{"version":1,"packages":[{{"reference":"oci://h/r:1","digest":"{}"}}]}}"#,
            package.manifest.digest
        );
        for whole in [&package.manifest.bytes, &archive, &lock.as_bytes().to_vec()] {
            read_untrusted(whole);
            for cut in (0..whole.len()).step_by(7) {
                read_untrusted(&whole[..cut]);
            }
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..300 {
            let input: Vec<u8> = (0..(seed % 700))
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    b"{}[]\":,0123456789abcdefsha256:oci-archive/ ."[(seed % 44) as usize]
                })
                .collect();
            read_untrusted(&input);
        }
    }
}
