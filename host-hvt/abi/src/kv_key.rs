//! The kv device contract's key rule, as the WIT documents it, for every store: a key is
//! `/`-separated names; a leading and a trailing `/` are optional, so `""`, `"/"` and
//! `"//"` name the root, and empty, `.` and `..` names, and NUL bytes, make it invalid
//! (`invalid-key`).

use alloc::vec::Vec;

/// The prefix of the names that stores kept on a directory (`ukc-unix`'s, the `wasi-kv`
/// driver's) use for their temporary files: never listed, and invalid in their keys, so
/// that both serve the same directory alike.
pub const RESERVED_PREFIX: &str = ".ukc-tmp-";

/// What a dictionary's digest (`ukc:kv/rw`'s `digest`) takes in for one member, as the WIT
/// defines it, so that every store gives equal trees equal digests: the name's length in
/// bytes (8 bytes, little-endian), the name, 1 for a dictionary or 0 for a value, and the
/// member's own digest.
pub fn digest_member(name: &str, dictionary: bool, digest: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(8 + name.len() + 1 + digest.len());
    bytes.extend_from_slice(&(name.len() as u64).to_le_bytes());
    bytes.extend_from_slice(name.as_bytes());
    bytes.push(u8::from(dictionary));
    bytes.extend_from_slice(digest);
    bytes
}

/// What an `invalid-key` error says of the rule.
pub const RULE: &str = "keys are /-separated names, without empty, . or .. segments";

/// The names of `key` from the root, or `None` when it breaks the rule.
pub fn segments(key: &str) -> Option<Vec<&str>> {
    let key = key.strip_prefix('/').unwrap_or(key);
    let key = key.strip_suffix('/').unwrap_or(key);
    if key.is_empty() {
        return Some(Vec::new());
    }
    let segments: Vec<&str> = key.split('/').collect();
    segments.iter().all(|s| !matches!(*s, "" | "." | "..") && !s.contains('\0')).then_some(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dictionary_member_is_framed_as_the_wit_says() {
        assert_eq!(digest_member("ab", true, &[9, 9]), [2, 0, 0, 0, 0, 0, 0, 0, b'a', b'b', 1, 9, 9]);
        assert_eq!(digest_member("", false, &[]), [0; 9]);
    }

    #[test]
    fn keys_are_names_from_the_root() {
        for root in ["", "/", "//"] {
            assert_eq!(segments(root), Some(Vec::new()));
        }
        assert_eq!(segments("/a/b.txt"), Some(alloc::vec!["a", "b.txt"]));
        assert_eq!(segments("a/b/"), Some(alloc::vec!["a", "b"]));
        for bad in ["///", "../x", "a/../../x", "a//b", "./a", "a/./b", "a/\0", "a/b\0c"] {
            assert_eq!(segments(bad), None, "{bad:?}");
        }
    }
}
