//! Resolution errors that say what to do.

use crate::catalogue::Catalogue;
use crate::component::Component;
use crate::names::InterfaceName;
use crate::target::{PLATFORM, Platform, PlatformWit, TARGETS};
use anyhow::{Error, anyhow};

/// The application exports neither the platform's entry point nor one an adapter turns
/// into it: a version clash, or not an application at all.
pub fn no_entry(app: &Component, platform: &Platform, exports: &[InterfaceName]) -> Error {
    let main = &platform.main;
    if let Some(e) = exports.iter().find(|e| e.path == main.path) {
        return clash(&app.name, e, &[(format!("the {} platform", platform.target.name), main.clone())]);
    }
    let mut message = format!("{} does not export {main}, so it is not a ukc application", app.origin.describe());
    if app.exports.is_empty() {
        message.push_str(" (it exports nothing)");
    } else {
        message.push_str(&format!(" (it exports: {})", app.exports.join(", ")));
    }
    message.push_str(
        ".\n  Its world must `include ukc:app/app@0.1.0` and implement `run` (`ukc wit` writes the WIT), \
         or it must be a WASI command exporting wasi:cli/run (any program built for wasm32-wasip2).",
    );
    anyhow!(message)
}

/// An import that is not an interface (a bare function, say) cannot be filled.
pub fn not_an_interface(component: &Component, import: &str) -> Error {
    anyhow!(
        "{} imports `{import}`, which is not a versioned interface such as ukc:console/console@0.1.0; \
         ukc fills only interface imports, so move it into an interface",
        component.name
    )
}

/// Nothing provides `want` on its track: a missing driver, or a version clash.
pub fn missing(component: &Component, want: &InterfaceName, platform: &Platform, catalogue: &Catalogue) -> Error {
    let mut offers: Vec<(String, InterfaceName)> = Vec::new();
    if let Some(p) = platform.provided(&want.path) {
        offers.push((format!("the {} platform", platform.target.name), p.clone()));
    }
    for (driver, export) in catalogue.exporters(&want.path) {
        if driver.name != component.name {
            offers.push((format!("driver {}", driver.name), export));
        }
    }
    if !offers.is_empty() {
        return clash(&component.name, want, &offers);
    }
    let mut message = format!(
        "{} imports {want}, but neither the {} platform nor any driver provides {}.\n  \
         The drivers are: {} (see `ukc drivers`); pass one that exports it with --driver FILE.",
        component.name,
        platform.target.name,
        want.path,
        catalogue.names().join(", ")
    );
    let elsewhere: Vec<&str> = TARGETS
        .iter()
        .filter(|t| t.name != platform.target.name)
        .filter(|t| crate::target::Platform::load(t).is_ok_and(|p| p.provided(&want.path).is_some()))
        .map(|t| t.name)
        .collect();
    if !elsewhere.is_empty() {
        message.push_str(&format!(
            "\n  The {} target provides it: compose with --target {}.",
            elsewhere.join(", "),
            elsewhere[0]
        ));
    }
    if platform.target.wit == PlatformWit::Wasi && want.path.starts_with("ukc:") {
        message.push_str(
            "\n  On the wasi target, ukc bridges the console, clocks, yield, entropy, runtime arguments, \
             exit, kv stores, block devices and TCP/IP to WASI (the wasi-* drivers); net devices are \
             not bridged: WASI has no raw network frames (use ukc:tcpip instead).",
        );
    }
    if want.path.starts_with("wasi:") {
        message.push_str(&format!(
            "\n  On ukc targets, the wasi-shim drivers serve the WASI of Rust std programs: printing, \
             arguments, clocks, sleeping, random numbers, files (with --preopen) and sockets \
             (wasi:cli, wasi:clocks, wasi:io, wasi:random, wasi:filesystem, wasi:sockets), not {}: \
             change {} not to use it, or run it under a WASI host as it is.",
            want.path, component.name
        ));
    }
    anyhow!(message)
}

/// Providers exist, but on other semver tracks: name both sides and which to upgrade.
fn clash(importer: &str, want: &InterfaceName, offers: &[(String, InterfaceName)]) -> Error {
    let listed: Vec<String> = offers.iter().map(|(who, name)| format!("{who} has {name}")).collect();
    let newest = offers.iter().filter_map(|(_, name)| name.version.as_ref()).max().cloned();
    let package = want.package();
    let advice = match (&want.version, &newest) {
        (Some(w), Some(n)) if w > n => format!(
            "{importer} was built against a newer {package} than any provider here: upgrade ukc or \
             the driver to one that provides {package}@{}, or rebuild {importer} against {package}@{n}.",
            want.track()
        ),
        (_, Some(n)) => format!(
            "{importer} was built against an older {package}: rebuild it against {package}@{n} \
             (`ukc wit --out wit` writes the WIT this ukc provides)."
        ),
        _ => format!("rebuild {importer} against a versioned {package} (`ukc wit` writes it)."),
    };
    anyhow!(
        "version clash: {importer} imports {want}, but {}; {} is not on the same semver track.\n  {advice}",
        listed.join(" and "),
        if want.version.is_some() { format!("@{}", want.track()) } else { "an unversioned import".into() }
    )
}

/// Several drivers export `want` and nothing picks one.
pub fn ambiguous(component: &Component, want: &InterfaceName, candidates: &[(&Component, InterfaceName)]) -> Error {
    let listed: Vec<String> =
        candidates.iter().map(|(d, e)| format!("{} ({}, {})", d.name, e, d.origin.describe())).collect();
    anyhow!(
        "{} imports {want}, which several drivers export: {}.\n  Pick one with --use {}={}",
        component.name,
        listed.join(", "),
        want.path,
        candidates[0].0.name
    )
}

/// A provider chosen by `--use` or a target default does not offer `want`.
pub fn chosen_provider_lacks(
    component: &Component,
    want: &InterfaceName,
    provider: &str,
    by: &str,
    platform: &Platform,
    catalogue: &Catalogue,
) -> Error {
    let has = if provider == PLATFORM {
        platform.provided(&want.path).cloned()
    } else {
        catalogue.exporters(&want.path).find(|(d, _)| d.name == provider).map(|(_, e)| e)
    };
    let who = if provider == PLATFORM {
        format!("the {} platform", platform.target.name)
    } else {
        format!("driver {provider}")
    };
    match has {
        Some(other) => clash(&component.name, want, &[(format!("{who} (chosen by {by})"), other)]),
        None => anyhow!(
            "{by} picks {who} for {}, but {who} does not provide it (see `ukc drivers` for what each driver exports)",
            want.path
        ),
    }
}
