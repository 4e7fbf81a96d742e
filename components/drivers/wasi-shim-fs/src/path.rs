//! Paths inside a preopened directory, turned into kv keys. A WASI path is relative to
//! a directory descriptor; here it is resolved lexically against that directory's key
//! (a kv store has no symbolic links, so nothing else can redirect it), and `..` may
//! climb back up to the preopened directory but never past it: the escape is refused
//! with `not-permitted`, as a WASI host refuses it, and so is an absolute path.

use crate::exports::wasi::filesystem::types::ErrorCode;

/// The key that `path` names, relative to the directory whose key is `base` (`""` is
/// the store's root).
pub fn resolve(base: &str, path: &str) -> Result<String, ErrorCode> {
    if path.is_empty() {
        return Err(ErrorCode::NoEntry);
    }
    if path.starts_with('/') {
        return Err(ErrorCode::NotPermitted);
    }
    if path.contains('\0') {
        return Err(ErrorCode::Invalid);
    }
    let mut segments: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop().ok_or(ErrorCode::NotPermitted)?;
            }
            name => segments.push(name),
        }
    }
    Ok(segments.join("/"))
}

/// The key of the directory holding `key`, and `key`'s last segment; `None` for the root.
pub fn split(key: &str) -> Option<(&str, &str)> {
    if key.is_empty() {
        return None;
    }
    Some(key.rsplit_once('/').unwrap_or(("", key)))
}

/// Whether `key` is `ancestor` or lies below it.
pub fn within(key: &str, ancestor: &str) -> bool {
    ancestor.is_empty() || key == ancestor || key.strip_prefix(ancestor).is_some_and(|rest| rest.starts_with('/'))
}

/// `key` moved from below `from` to below `to` (`key` must lie [`within`] `from`).
pub fn moved(key: &str, from: &str, to: &str) -> String {
    let rest = &key[from.len()..];
    match (to.is_empty(), rest.strip_prefix('/')) {
        (true, Some(rest)) => rest.to_string(),
        _ => format!("{to}{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_against_the_directory_and_never_leave_the_preopen() {
        assert_eq!(resolve("", "a/b.txt"), Ok("a/b.txt".into()));
        assert_eq!(resolve("a", "./b//c/"), Ok("a/b/c".into()));
        assert_eq!(resolve("a/b", "../c"), Ok("a/c".into()));
        assert_eq!(resolve("a/b", "../.."), Ok("".into()));
        assert_eq!(resolve("", "."), Ok("".into()));
        assert_eq!(resolve("", ".."), Err(ErrorCode::NotPermitted));
        assert_eq!(resolve("a", "../../etc/passwd"), Err(ErrorCode::NotPermitted));
        assert_eq!(resolve("a", "b/../../../x"), Err(ErrorCode::NotPermitted));
        assert_eq!(resolve("", "/etc/passwd"), Err(ErrorCode::NotPermitted));
        assert_eq!(resolve("", ""), Err(ErrorCode::NoEntry));
        assert_eq!(resolve("", "a\0b"), Err(ErrorCode::Invalid));
    }

    /// Every path of up to five segments drawn from names, `.`, `..` and empty ones,
    /// from every directory of a small tree: the key is always a clean key (no `.`,
    /// `..` or empty segment) that the path reaches by counting `..` against the depth,
    /// or the escape is refused.
    #[test]
    fn no_path_leaves_the_preopen() {
        const SEGMENTS: [&str; 5] = ["a", "b", ".", "..", ""];
        for base in ["", "a", "a/b"] {
            let depth = base.split('/').filter(|s| !s.is_empty()).count() as i64;
            for len in 1..=5u32 {
                for n in 0..SEGMENTS.len().pow(len) {
                    let (mut rest, mut parts) = (n, Vec::new());
                    for _ in 0..len {
                        parts.push(SEGMENTS[rest % SEGMENTS.len()]);
                        rest /= SEGMENTS.len();
                    }
                    let path = parts.join("/");
                    let mut lowest = depth;
                    let mut level = depth;
                    for part in &parts {
                        match *part {
                            ".." => level -= 1,
                            "" | "." => {}
                            _ => level += 1,
                        }
                        lowest = lowest.min(level);
                    }
                    match resolve(base, &path) {
                        Ok(key) => {
                            assert!(lowest >= 0, "{base:?} + {path:?} climbed out, yet resolved to {key:?}");
                            let segments: Vec<&str> = key.split('/').filter(|s| !s.is_empty()).collect();
                            assert_eq!(segments.join("/"), key, "{base:?} + {path:?}: {key:?} is not clean");
                            assert!(segments.iter().all(|s| *s != "." && *s != ".."), "{base:?} + {path:?}: {key:?}");
                            assert_eq!(segments.len() as i64, level, "{base:?} + {path:?}: {key:?}");
                        }
                        Err(ErrorCode::NoEntry) => assert!(path.is_empty()),
                        Err(code) => {
                            assert_eq!(code, ErrorCode::NotPermitted, "{base:?} + {path:?}");
                            assert!(lowest < 0 || path.starts_with('/'), "{base:?} + {path:?} was refused");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn keys_split_and_move() {
        assert_eq!(split("a/b/c"), Some(("a/b", "c")));
        assert_eq!(split("c"), Some(("", "c")));
        assert_eq!(split(""), None);
        assert!(within("a/b", "a") && within("a", "a") && within("x", ""));
        assert!(!within("ab", "a") && !within("a", "a/b"));
        assert_eq!(moved("a/b/c", "a/b", "x"), "x/c");
        assert_eq!(moved("a/b", "a/b", "x/y"), "x/y");
        assert_eq!(moved("a/b/c", "a", ""), "b/c");
    }
}
