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
            if let Some(default) = &arg.default {
                self.check(arg.ty.check(default), || format!("default of argument --{}", arg.name));
            }
            if args[..i].iter().any(|a| a.name == arg.name) {
                self.push(format!("argument --{} is declared twice", arg.name));
            }
        }
    }

    pub(crate) fn into_result(self) -> Result<(), String> {
        if self.0.is_empty() { Ok(()) } else { Err(self.0.join("; ")) }
    }
}

/// Device names follow Solo5's rule, so that a manifest works unchanged on every host:
/// 1 to 63 ASCII letters, digits, `-` or `_`.
fn check_device_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(format!("device name {name:?} must be 1 to 63 letters, digits, '-' or '_'")) }
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
    fn arg_names() {
        assert!(check_arg_name("hello").is_ok());
        assert!(check_arg_name("sleep-ms").is_ok());
        assert!(check_arg_name("Hello").is_err());
        assert!(check_arg_name("-x").is_err());
        assert!(check_arg_name("x-").is_err());
        assert!(check_arg_name("help").is_err());
    }
}
