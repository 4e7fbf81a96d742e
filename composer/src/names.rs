//! Interface names (`ukc:block/block@0.1.0`) and the semver track rule.

use semver::Version;
use std::fmt;

/// A parsed interface import or export name: `namespace:package/interface[@version]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InterfaceName {
    /// `namespace:package/interface`, without the version.
    pub path: String,
    /// The package version, if the name carries one.
    pub version: Option<Version>,
}

impl InterfaceName {
    /// Parses an import or export name; `None` for plain names such as `run`.
    pub fn parse(name: &str) -> Option<InterfaceName> {
        let (path, version) = match name.split_once('@') {
            Some((path, version)) => (path, Some(Version::parse(version).ok()?)),
            None => (name, None),
        };
        let (package, interface) = path.split_once('/')?;
        let (namespace, package) = package.split_once(':')?;
        if [namespace, package, interface].iter().any(|s| s.is_empty()) {
            return None;
        }
        Some(InterfaceName { path: path.to_string(), version })
    }

    /// The package part, `namespace:package`.
    pub fn package(&self) -> &str {
        self.path.split_once('/').map_or(&self.path, |(p, _)| p)
    }

    /// Whether an export named `other` may fill an import named `self`: same path, and
    /// versions on the same semver track (both absent, or equal tracks).
    pub fn same_track(&self, other: &InterfaceName) -> bool {
        self.path == other.path
            && match (&self.version, &other.version) {
                (None, None) => true,
                (Some(a), Some(b)) => track(a) == track(b),
                _ => false,
            }
    }

    /// The version's track, as users write it: `@1`, `@0.2`, `@0.0.3`; empty without version.
    pub fn track(&self) -> String {
        self.version.as_ref().map(track).unwrap_or_default()
    }
}

impl fmt::Display for InterfaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}@{v}", self.path),
            None => f.write_str(&self.path),
        }
    }
}

/// The semver track used by wasmtime, wit-parser and wac: `1.2.0` → `1`, `0.2.3` → `0.2`;
/// `0.0.x` and prereleases only match themselves.
pub fn track(version: &Version) -> String {
    if !version.pre.is_empty() {
        version.to_string()
    } else if version.major > 0 {
        version.major.to_string()
    } else if version.minor > 0 {
        format!("0.{}", version.minor)
    } else {
        format!("0.0.{}", version.patch)
    }
}

/// Turns an arbitrary name (a file stem, say) into a kebab-case WIT identifier.
pub fn kebab(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if !(out.is_empty() || out.ends_with('-')) || c.is_ascii_alphabetic() {
                out.push(c.to_ascii_lowercase());
            } else if out.is_empty() {
                out.push('x');
                out.push(c);
            } else {
                out.push(c);
            }
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "component".to_string() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> InterfaceName {
        InterfaceName::parse(s).unwrap()
    }

    #[test]
    fn parses_names() {
        let n = name("ukc:block/block@0.1.0");
        assert_eq!(n.path, "ukc:block/block");
        assert_eq!(n.package(), "ukc:block");
        assert_eq!(n.track(), "0.1");
        assert_eq!(name("a:b/c").version, None);
        assert!(InterfaceName::parse("run").is_none());
        assert!(InterfaceName::parse("a:b/c@x").is_none());
        assert!(InterfaceName::parse(":b/c").is_none());
    }

    #[test]
    fn tracks() {
        assert!(name("a:b/c@0.1.0").same_track(&name("a:b/c@0.1.7")));
        assert!(!name("a:b/c@0.1.0").same_track(&name("a:b/c@0.2.0")));
        assert!(name("a:b/c@1.2.0").same_track(&name("a:b/c@1.0.0")));
        assert!(!name("a:b/c@1.2.0").same_track(&name("a:b/c@2.0.0")));
        assert!(!name("a:b/c@0.0.1").same_track(&name("a:b/c@0.0.2")));
        assert!(!name("a:b/c@1.0.0-rc1").same_track(&name("a:b/c@1.0.0")));
        assert!(!name("a:b/c@1.0.0").same_track(&name("a:b/c")));
        assert!(!name("a:b/c@1.0.0").same_track(&name("a:b/d@1.0.0")));
    }

    #[test]
    fn kebab_names() {
        assert_eq!(kebab("kv_mem"), "kv-mem");
        assert_eq!(kebab("My Driver.v2"), "my-driver-v2");
        assert_eq!(kebab("2fast"), "x2fast");
        assert_eq!(kebab("__"), "component");
    }
}
