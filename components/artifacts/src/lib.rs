//! The guest components built with the workspace.
//!
//! The build script compiles every guest crate for `wasm32-unknown-unknown` with the
//! size-optimised `wasm` profile, turns each core module into a component, checks its
//! manifest, and writes it to `target/components/<name>.wasm`. The built-in drivers are
//! also embedded here, so that an installed `ukc` needs no files besides itself.

/// A component built with the workspace.
#[derive(Clone, Copy, Debug)]
pub struct Artifact {
    /// The component's name, as in its manifest and its file name.
    pub name: &'static str,
    /// The encoded component.
    pub bytes: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/drivers.rs"));

/// Where the build wrote the components: `target/components`.
pub const COMPONENTS_DIR: &str = env!("UKC_COMPONENTS_DIR");
