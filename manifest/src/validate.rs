//! Name and value rules shared by both manifests.

use crate::{ArgDecl, SCHEMA};
use serde::de::DeserializeOwned;

/// Parses JSON into a manifest of type `T` and checks it; errors name `origin` and say
/// which kind of manifest (`what`) was invalid.
pub(crate) fn from_checked_json<T: DeserializeOwned>(
    bytes: &[u8],
    origin: &str,
    what: &str,
    validate: impl FnOnce(&T) -> Result<(), String>,
) -> Result<T, String> {
    let manifest: T = serde_json::from_slice(bytes).map_err(|e| format!("{origin}: invalid {what}: {e}"))?;
    validate(&manifest).map_err(|e| format!("{origin}: invalid {what}: {e}"))?;
    Ok(manifest)
}

/// Collects problems so that one error can report all of them.
#[derive(Default)]
pub(crate) struct Problems(Vec<String>);

impl Problems {
    pub(crate) fn push(&mut self, problem: String) {
        self.0.push(problem);
    }

    /// Records `result`'s error, prefixed with where it was found.
    pub(crate) fn check(&mut self, result: Result<(), String>, at: impl FnOnce() -> String) {
        if let Err(e) = result {
            self.0.push(format!("{}: {e}", at()));
        }
    }

    /// The schema must be the one this crate reads.
    pub(crate) fn check_schema(&mut self, schema: u32) {
        if schema != SCHEMA {
            self.push(format!("schema {schema} is not supported (this ukc reads schema {SCHEMA})"));
        }
    }

    /// Device names must be valid and unique.
    pub(crate) fn check_devices<'a>(&mut self, names: impl Iterator<Item = &'a str>) {
        let names: Vec<&str> = names.collect();
        for (i, name) in names.iter().enumerate() {
            self.check(check_device_name(name), || format!("devices[{i}]"));
            if names[..i].contains(name) {
                self.push(format!("device {name:?} is declared twice"));
            }
        }
    }

    /// Argument names must be valid and unique, and defaults of the declared type.
    pub(crate) fn check_args<'a>(&mut self, args: impl Iterator<Item = &'a ArgDecl>) {
        let args: Vec<&ArgDecl> = args.collect();
        for (i, arg) in args.iter().enumerate() {
            self.check(check_arg_name(&arg.name), || format!("args[{i}]"));
            self.check(check_text(&arg.doc), || format!("doc of argument --{}", arg.name));
            if let Some(default) = &arg.default {
                self.check(arg.ty.check(default), || format!("default of argument --{}", arg.name));
                self.check(check_text(default), || format!("default of argument --{}", arg.name));
            }
            if args[..i].iter().any(|a| a.name == arg.name) {
                self.push(format!("argument --{} is declared twice", arg.name));
            }
        }
    }

    /// A component's identity: a name that is safe in file names and terminals, a
    /// version of semver's characters, and a description that prints as one plain line.
    pub(crate) fn check_identity(&mut self, at: &str, name: &str, version: &str, description: &str) {
        self.check(check_component_name(name), || at.to_string());
        self.check(check_version(version), || at.to_string());
        self.check(check_text(description), || format!("{at} description"));
    }

    pub(crate) fn into_result(self) -> Result<(), String> {
        if self.0.is_empty() { Ok(()) } else { Err(self.0.join("; ")) }
    }
}

/// Device names follow Solo5's rule, so that a manifest works unchanged on every host:
/// 1 to 63 ASCII letters, digits, `-` or `_`.
pub fn check_device_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(format!("device name {name:?} must be 1 to 63 letters, digits, '-' or '_'")) }
}

/// Component names reach file names (`ukc drivers --export`, `--emit-wac`'s generated
/// components) and terminals: 1 to 63 ASCII letters, digits, `-` or `_`, starting with a
/// letter or digit.
fn check_component_name(name: &str) -> Result<(), String> {
    let ok = name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "name {} must be 1 to 63 letters, digits, '-' or '_', starting with a letter or digit",
            shown(name)
        ))
    }
}

/// Versions are empty or made of semver's characters (`1.2.0-rc.1+build`).
fn check_version(version: &str) -> Result<(), String> {
    let ok = version.len() <= 63 && version.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.+".contains(&b));
    if ok { Ok(()) } else { Err(format!("version {} must be a semver version such as 0.1.0", shown(version))) }
}

/// Text printed in `--help` and `ukc drivers`: one line of at most 300 characters with no
/// control characters, so that nothing a manifest says can move a terminal's cursor.
fn check_text(text: &str) -> Result<(), String> {
    if text.chars().count() > 300 {
        return Err("is longer than 300 characters".into());
    }
    match text.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!("holds the control character U+{:04X}; keep it to one plain line", c as u32)),
        None => Ok(()),
    }
}

/// `text` quoted for an error message, at most 40 characters, with control characters
/// escaped.
fn shown(text: &str) -> String {
    let cut: String = text.chars().take(40).collect();
    let quoted = format!("{cut:?}");
    if text.chars().count() > 40 { format!("{quoted}...") } else { quoted }
}

/// Argument names are what follows `--` on a command line: lowercase words joined by `-`.
fn check_arg_name(name: &str) -> Result<(), String> {
    let ok = name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.ends_with('-');
    if !ok {
        return Err(format!(
            "argument name {name:?} must start with a lowercase letter and hold only lowercase letters, digits and '-'"
        ));
    }
    if name == "help" {
        return Err("argument name \"help\" is reserved for the merged --help".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names() {
        assert!(check_device_name("storage").is_ok());
        assert!(check_device_name("net_0-a").is_ok());
        assert!(check_device_name("").is_err());
        assert!(check_device_name("a/b").is_err());
        assert!(check_device_name(&"x".repeat(64)).is_err());
    }

    #[test]
    fn component_identities() {
        assert!(check_component_name("kv-tar").is_ok());
        assert!(check_component_name("example_hello2").is_ok());
        for bad in ["", "-x", "../etc", "a/b", "x\u{1b}[2J", "tab\tname", "é", &"x".repeat(64)] {
            assert!(check_component_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_version("").is_ok());
        assert!(check_version("1.2.0-rc.1+build.5").is_ok());
        assert!(check_version("1.0 beta").is_err());
        assert!(check_version("1\u{7}").is_err());
        assert!(check_text("Serves a website, naïvely").is_ok());
        for bad in ["two\nlines", "\u{1b}]0;title\u{7}", "csi \u{9b}31m", &"x".repeat(301)] {
            assert!(check_text(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn errors_show_hostile_names_escaped() {
        let error = check_component_name("\u{1b}[31mred").unwrap_err();
        assert!(!error.contains('\u{1b}'), "{error}");
        assert!(error.contains("\\u{1b}"), "{error}");
    }

    #[test]
    fn arg_names() {
        assert!(check_arg_name("hello").is_ok());
        assert!(check_arg_name("sleep-ms").is_ok());
        assert!(check_arg_name("Hello").is_err());
        assert!(check_arg_name("-x").is_err());
        assert!(check_arg_name("x-").is_err());
        assert!(check_arg_name("help").is_err());
    }
}
