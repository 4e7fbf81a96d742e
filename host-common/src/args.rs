//! Runtime arguments, Mirage-4 style: parsed by the host against the arguments every
//! component declared, before boot, and served to the components through `ukc:args`.

use crate::Devices;
use crate::bindings::ukc::args::args::Host;
use std::collections::BTreeMap;
use std::fmt::Write;
use ukc_manifest::{ArgType, UnikernelArg, UnikernelManifest};

/// The value of every declared argument: given on the command line, else its default.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RuntimeArgs {
    values: BTreeMap<String, Option<String>>,
}

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Boot with these arguments.
    Run(RuntimeArgs),
    /// Print the merged help and stop.
    Help,
}

impl RuntimeArgs {
    /// Parses `args` (what follows `--`) against the manifest's declarations. Accepts
    /// `--NAME=VALUE`, `--NAME VALUE`, and `--NAME` alone for booleans; `--help` anywhere
    /// asks for help. The error is one line meant for the user.
    pub fn parse(manifest: &UnikernelManifest, args: &[String]) -> Result<Parsed, String> {
        if args.iter().any(|a| a == "--help" || a == "-h") {
            return Ok(Parsed::Help);
        }
        let mut given: BTreeMap<String, String> = BTreeMap::new();
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let Some(body) = arg.strip_prefix("--").filter(|b| !b.is_empty()) else {
                return Err(format!(
                    "unexpected argument {arg:?}: the unikernel takes only --NAME=VALUE arguments (see --help)"
                ));
            };
            let (name, inline) = match body.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (body, None),
            };
            let decl = manifest.arg(name).ok_or_else(|| unknown(manifest, name))?;
            let value = match (inline, decl.decl.ty) {
                (Some(value), _) => value,
                (None, ArgType::Bool) => "true".to_string(),
                (None, _) => rest.next().cloned().ok_or_else(|| format!("{} needs a value", decl.usage()))?,
            };
            decl.decl.ty.check(&value).map_err(|e| format!("bad value for --{name}: {e}"))?;
            if given.insert(name.to_string(), value).is_some() {
                return Err(format!("--{name} is given twice"));
            }
        }
        let values = manifest
            .args
            .iter()
            .map(|a| {
                let value = given.remove(&a.decl.name).or_else(|| a.decl.default.clone());
                (a.decl.name.clone(), value)
            })
            .collect();
        Ok(Parsed::Run(RuntimeArgs { values }))
    }

    /// The value of `name` (`Some(None)` when declared without value or default), or
    /// `None` when the unikernel declares no such argument.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.values.get(name).map(|v| v.as_deref())
    }
}

/// The merged `--help` of a unikernel: every argument of every component.
pub fn help(manifest: &UnikernelManifest, usage: &str) -> String {
    let mut out = format!("usage: {usage}\n\n");
    if manifest.args.is_empty() {
        let _ = writeln!(out, "{} takes no runtime arguments.", manifest.app_name());
        return out;
    }
    let _ = writeln!(out, "Runtime arguments of {} (after --):", manifest.app_name());
    let width = manifest.args.iter().map(|a| a.usage().len()).max().unwrap_or(0);
    for arg in &manifest.args {
        let default = match &arg.decl.default {
            Some(d) => format!(" (default: {d})"),
            None => String::new(),
        };
        let _ = writeln!(out, "  {:<width$}  {}{default} [{}]", arg.usage(), arg.decl.doc, arg.by.join(", "));
    }
    out
}

/// An unknown argument, with the closest declared name when one is close.
fn unknown(manifest: &UnikernelManifest, name: &str) -> String {
    let closest = manifest
        .args
        .iter()
        .map(|a| (distance(&a.decl.name, name), a))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, a): (usize, &UnikernelArg)| format!("; did you mean --{}?", a.decl.name))
        .unwrap_or_default();
    format!("unknown argument --{name}{closest} (see --help)")
}

/// Levenshtein distance, for suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb)).min(row[j] + 1).min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

impl Host for Devices {
    fn get(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        match self.args.get(&name) {
            Some(value) => Ok(value.map(str::to_string)),
            None => Err(wasmtime::Error::msg(format!(
                "the unikernel read the runtime argument --{name}, which no component declares in its manifest"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ukc_manifest::ArgDecl;

    fn manifest() -> UnikernelManifest {
        let arg = |name: &str, ty, default: Option<&str>| UnikernelArg {
            decl: ArgDecl { name: name.into(), ty, default: default.map(Into::into), doc: format!("the {name}") },
            by: vec!["app".into()],
        };
        UnikernelManifest {
            schema: 1,
            target: "unix".into(),
            components: vec![],
            devices: vec![],
            args: vec![
                arg("hello", ArgType::String, Some("Hello World!")),
                arg("count", ArgType::Int, None),
                arg("verbose", ArgType::Bool, Some("false")),
            ],
        }
    }

    fn parse(args: &[&str]) -> Result<Parsed, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        RuntimeArgs::parse(&manifest(), &args)
    }

    fn run(args: &[&str]) -> RuntimeArgs {
        match parse(args).unwrap() {
            Parsed::Run(values) => values,
            Parsed::Help => panic!("unexpected help"),
        }
    }

    #[test]
    fn defaults_and_values() {
        let values = run(&[]);
        assert_eq!(values.get("hello"), Some(Some("Hello World!")));
        assert_eq!(values.get("count"), Some(None));
        assert_eq!(values.get("nope"), None);
        let values = run(&["--hello=Hi", "--count", "-3", "--verbose"]);
        assert_eq!(values.get("hello"), Some(Some("Hi")));
        assert_eq!(values.get("count"), Some(Some("-3")));
        assert_eq!(values.get("verbose"), Some(Some("true")));
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(parse(&["--hallo=x"]).unwrap_err(), "unknown argument --hallo; did you mean --hello? (see --help)");
        assert!(parse(&["--count=ten"]).unwrap_err().contains("expected an integer"));
        assert!(parse(&["--count"]).unwrap_err().contains("--count=INT needs a value"));
        assert!(parse(&["--verbose=yes"]).unwrap_err().contains("expected true or false"));
        assert!(parse(&["hello"]).unwrap_err().contains("unexpected argument"));
        assert!(parse(&["--hello=a", "--hello=b"]).unwrap_err().contains("given twice"));
        assert_eq!(parse(&["--bogus", "--help"]), Ok(Parsed::Help));
    }

    #[test]
    fn help_lists_every_argument() {
        let text = help(&manifest(), "ukc-unix UNIKERNEL -- [ARGS...]");
        assert!(text.contains("--hello=STRING"), "{text}");
        assert!(text.contains("(default: Hello World!)"), "{text}");
        assert!(text.contains("--verbose[=BOOL]"), "{text}");
        assert!(text.contains("--count=INT"), "{text}");
    }
}
