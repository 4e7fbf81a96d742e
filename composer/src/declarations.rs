//! The `args-declarations` component `ukc compose` generates for each unikernel: it
//! exports `ukc:args/declarations`, whose `manifest` returns the unikernel's merged
//! manifest as JSON. On the `wasi` target no ukc host parses the command line, so the
//! `wasi-args` driver reads the declarations from here.
//!
//! It is data, not code: a core module with one function returning the JSON in its
//! memory (`generated::string_module`).

use crate::component::Component;
use crate::generated::Generated;
use anyhow::Result;

/// The generated component: its name, as drivers and `describe` show it, and interface.
pub const GENERATED: Generated = Generated {
    name: "args-declarations",
    description: "The unikernel's merged manifest, for drivers that parse the command line themselves",
    interface: INTERFACE,
};

/// The interface it exports.
const INTERFACE: &str = "ukc:args/declarations@0.1.0";

/// The component whose `manifest` returns `manifest_json`. (Most unikernels do not link
/// it: only the `wasi` target's drivers read it.)
pub fn component(manifest_json: &[u8]) -> Result<Component> {
    GENERATED.component(crate::generated::string_module(&format!("{INTERFACE}#manifest"), manifest_json)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placeholder_resolves_as_the_component_does() {
        let real = component(b"{}").unwrap();
        let placeholder = GENERATED.placeholder();
        assert_eq!(placeholder.name, real.name);
        assert_eq!(placeholder.imports, real.imports);
        assert_eq!(placeholder.exports, real.exports);
        assert_eq!(placeholder.manifest, real.manifest);
        assert_eq!(placeholder.has_manifest, real.has_manifest);
    }
}
