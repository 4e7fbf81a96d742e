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

/// A world of a platform package, as `ukc compose` needs it: what a target's host provides
/// (its imports) and the entry point it calls (its export).
#[derive(Clone, Copy, Debug)]
pub struct PlatformWorld {
    /// The package, without version: `ukc:platform` or `wasi:cli`.
    pub package: &'static str,
    /// The world's name in the package: `unix`, `hvt`, `command`, ...
    pub world: &'static str,
    /// The world's imports, in order: interface names with versions where they are interfaces.
    pub imports: &'static [&'static str],
    /// The world's exports, likewise.
    pub exports: &'static [&'static str],
    /// The whole package encoded as a WIT package (`wit_component::encode`), for type checks.
    pub wit_package: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/drivers.rs"));
include!(concat!(env!("OUT_DIR"), "/platforms.rs"));
include!(concat!(env!("OUT_DIR"), "/wit.rs"));

/// Where the build wrote the components: `target/components`.
pub const COMPONENTS_DIR: &str = env!("UKC_COMPONENTS_DIR");
