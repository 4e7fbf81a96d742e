//! The unikernel's entry point: the application's own export of the platform's entry
//! (`ukc:app/main` on `unix` and `hvt`, `wasi:cli/run` on `wasi`), or an *entry adapter*:
//! a driver that imports an entry point the application exports and exports the
//! platform's. `wasi-run` turns a ukc application into a WASI command; `wasi-main` turns
//! a WASI command (any Rust program built for `wasm32-wasip2`) into a ukc application.
//! The adapter is linked after the application, and the unikernel exports its entry.

use crate::catalogue::Catalogue;
use crate::component::Component;
use crate::diagnose;
use crate::names::InterfaceName;
use crate::target::Platform;
use anyhow::{Result, anyhow};

/// How the unikernel's entry point is reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// The application exports the platform's entry under this name.
    Direct(String),
    /// The driver `adapter` imports the application's export `app_export` and exports the
    /// platform's entry.
    Adapter {
        /// The adapter driver's name.
        adapter: String,
        /// The application's export the adapter imports.
        app_export: String,
    },
}

/// Finds the entry of `app` for `platform`: its own export, else the one adapter that
/// fits; none, or several, is an error that says what to do.
pub fn find(app: &Component, platform: &Platform, catalogue: &Catalogue) -> Result<Entry> {
    let main = &platform.main;
    let exports: Vec<(InterfaceName, &String)> =
        app.exports.iter().filter_map(|e| InterfaceName::parse(e).map(|n| (n, e))).collect();
    if let Some((_, name)) = exports.iter().find(|(e, _)| main.same_track(e)) {
        return Ok(Entry::Direct((*name).clone()));
    }
    let mut adapters = Vec::new();
    for driver in &catalogue.drivers {
        let exports_main = driver.exports.iter().filter_map(|e| InterfaceName::parse(e)).any(|e| main.same_track(&e));
        let adapted = driver
            .imports
            .iter()
            .filter_map(|i| InterfaceName::parse(i))
            .find_map(|i| exports.iter().find(|(e, _)| i.same_track(e)).map(|(_, name)| (*name).clone()));
        if let (true, Some(app_export)) = (exports_main, adapted) {
            adapters.push(Entry::Adapter { adapter: driver.name.clone(), app_export });
        }
    }
    match adapters.len() {
        1 => Ok(adapters.remove(0)),
        0 => Err(diagnose::no_entry(app, platform, &exports.iter().map(|(e, _)| e.clone()).collect::<Vec<_>>())),
        _ => {
            let names: Vec<String> = adapters
                .iter()
                .map(|a| match a {
                    Entry::Adapter { adapter, .. } => adapter.clone(),
                    Entry::Direct(_) => unreachable!("only adapters are collected"),
                })
                .collect();
            Err(anyhow!(
                "{} does not export {main} itself, and several drivers adapt one of its exports to it: {}; \
                 leave out all but one of them",
                app.name,
                names.join(", ")
            ))
        }
    }
}
