//! A unikernel's command line, Mirage-4 style: parsed against the arguments every
//! component declares, the same way by every ukc host and by the `wasi-args` driver (on
//! the `wasi` target, where no ukc host parses it), so that `--help` and every error read
//! alike everywhere.

use crate::{ArgType, UnikernelArg, UnikernelManifest};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The value of every declared argument (given on the command line, else its default),
/// and the arguments that pass through undeclared.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RuntimeArgs {
    values: BTreeMap<String, Option<String>>,
    program: String,
    undeclared: Vec<String>,
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
    /// Parses `args` (what follows the host's `--`) against the manifest's declarations.
    /// Accepts `--NAME=VALUE`, `--NAME VALUE`, and `--NAME` alone for booleans; `--help`
    /// asks for help. When a component reads undeclared arguments
    /// ([`UnikernelManifest::undeclared_args`]), every other argument passes through in
    /// order instead of being refused, and everything after a lone `--` passes through.
    /// The error is one line meant for the user.
    pub fn parse(manifest: &UnikernelManifest, args: &[String]) -> Result<Parsed, String> {
        let pass_through = !manifest.undeclared_args.is_empty();
        let declared = match args.iter().position(|a| a == "--") {
            Some(end) if pass_through => &args[..end],
            _ => args,
        };
        if declared.iter().any(|a| a == "--help" || a == "-h") {
            return Ok(Parsed::Help);
        }
        let mut given: BTreeMap<String, String> = BTreeMap::new();
        let mut undeclared = Vec::new();
        let mut rest = declared.iter();
        while let Some(arg) = rest.next() {
            let body = arg.strip_prefix("--").filter(|b| !b.is_empty());
            let (name, inline) = match body.map(|b| b.split_once('=')) {
                Some(Some((name, value))) => (name, Some(value.to_string())),
                _ => (body.unwrap_or_default(), None),
            };
            let Some(decl) = manifest.arg(name).filter(|_| body.is_some()) else {
                if pass_through {
                    undeclared.push(arg.clone());
                    continue;
                }
                return Err(match body {
                    Some(_) => unknown(manifest, name),
                    None => format!(
                        "unexpected argument {arg:?}: the unikernel takes only --NAME=VALUE arguments (see --help)"
                    ),
                });
            };
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
        if declared.len() < args.len() {
            undeclared.extend(args[declared.len() + 1..].iter().cloned());
        }
        let values = manifest
            .args
            .iter()
            .map(|a| {
                let value = given.remove(&a.decl.name).or_else(|| a.decl.default.clone());
                (a.decl.name.clone(), value)
            })
            .collect();
        let program = manifest.app_name().to_string();
        Ok(Parsed::Run(RuntimeArgs { values, program, undeclared }))
    }

    /// The value of `name` (`Some(None)` when declared without value or default), or
    /// `None` when the unikernel declares no such argument.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.values.get(name).map(|v| v.as_deref())
    }

    /// Every declared argument with its value (`None` when it has none), by name.
    pub fn declared(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.values.iter().map(|(name, value)| (name.as_str(), value.as_deref()))
    }

    /// The arguments that passed through undeclared, in order.
    pub fn undeclared(&self) -> &[String] {
        &self.undeclared
    }

    /// The command line a program with free-form arguments sees: the application's name
    /// (as `argv[0]`), then the undeclared arguments.
    pub fn argv(&self) -> Vec<String> {
        std::iter::once(self.program.clone()).chain(self.undeclared.iter().cloned()).collect()
    }
}

/// The merged `--help` of a unikernel: every argument of every component. `usage` is the
/// line that shows how to pass them.
pub fn help(manifest: &UnikernelManifest, usage: &str) -> String {
    let mut out = format!("usage: {usage}\n\n");
    let takes_undeclared = !manifest.undeclared_args.is_empty();
    if manifest.args.is_empty() && !takes_undeclared {
        let _ = writeln!(out, "{} takes no runtime arguments.", manifest.app_name());
        return out;
    }
    if !manifest.args.is_empty() {
        let _ = writeln!(out, "Runtime arguments of {}:", manifest.app_name());
    }
    let width = manifest.args.iter().map(|a| a.usage().len()).max().unwrap_or(0);
    for arg in &manifest.args {
        let default = match &arg.decl.default {
            Some(d) => format!(" (default: {d})"),
            None => String::new(),
        };
        let _ = writeln!(out, "  {:<width$}  {}{default} [{}]", arg.usage(), arg.decl.doc, arg.by.join(", "));
    }
    if takes_undeclared {
        let _ = writeln!(
            out,
            "{}{} reads a free-form command line (through {}): every argument not listed here passes \
             to it unchanged, and after a lone -- every argument does (-- --help asks the program for \
             its own help).",
            if manifest.args.is_empty() { "" } else { "\n" },
            manifest.app_name(),
            manifest.undeclared_args.join(", ")
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ArgDecl;

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
            undeclared_args: vec![],
            baked: Vec::new(),
            preopens: Vec::new(),
        }
    }

    fn parse_with(manifest: &UnikernelManifest, args: &[&str]) -> Result<Parsed, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        RuntimeArgs::parse(manifest, &args)
    }

    fn parse(args: &[&str]) -> Result<Parsed, String> {
        parse_with(&manifest(), args)
    }

    fn run(manifest: &UnikernelManifest, args: &[&str]) -> RuntimeArgs {
        match parse_with(manifest, args).unwrap() {
            Parsed::Run(values) => values,
            Parsed::Help => panic!("unexpected help"),
        }
    }

    #[test]
    fn defaults_and_values() {
        let values = run(&manifest(), &[]);
        assert_eq!(values.get("hello"), Some(Some("Hello World!")));
        assert_eq!(values.get("count"), Some(None));
        assert_eq!(values.get("nope"), None);
        let values = run(&manifest(), &["--hello=Hi", "--count", "-3", "--verbose"]);
        assert_eq!(values.get("hello"), Some(Some("Hi")));
        assert_eq!(values.get("count"), Some(Some("-3")));
        assert_eq!(values.get("verbose"), Some(Some("true")));
        assert!(values.undeclared().is_empty());
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(parse(&["--hallo=x"]).unwrap_err(), "unknown argument --hallo; did you mean --hello? (see --help)");
        assert!(parse(&["--count=ten"]).unwrap_err().contains("expected an integer"));
        assert!(parse(&["--count"]).unwrap_err().contains("--count=INT needs a value"));
        assert!(parse(&["--verbose=yes"]).unwrap_err().contains("expected true or false"));
        assert!(parse(&["hello"]).unwrap_err().contains("unexpected argument"));
        assert!(parse(&["--"]).unwrap_err().contains("unexpected argument"));
        assert!(parse(&["--hello=a", "--hello=b"]).unwrap_err().contains("given twice"));
        assert_eq!(parse(&["--bogus", "--help"]), Ok(Parsed::Help));
    }

    #[test]
    fn undeclared_arguments_pass_through_when_a_component_reads_them() {
        let mut m = manifest();
        m.undeclared_args = vec!["wasi-shim".into()];
        let values = run(&m, &["a", "--hello=Hi", "-x", "--other=1", "--", "--help", "--count=3"]);
        assert_eq!(values.get("hello"), Some(Some("Hi")));
        assert_eq!(values.get("count"), Some(None), "after --, declared names pass through too");
        assert_eq!(values.undeclared(), ["a", "-x", "--other=1", "--help", "--count=3"]);
        assert_eq!(parse_with(&m, &["a", "--help"]), Ok(Parsed::Help));
        assert!(parse_with(&m, &["--count=ten"]).unwrap_err().contains("expected an integer"));
        let text = help(&m, "ukc-unix UNIKERNEL -- [ARGS...]");
        assert!(text.contains("free-form command line (through wasi-shim)"), "{text}");
        assert_eq!(values.argv(), ["unikernel", "a", "-x", "--other=1", "--help", "--count=3"]);
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
