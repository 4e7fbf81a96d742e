//! ukc's WIT as tables for the composer: every WIT file of ukc's device packages and
//! platforms (`wit/`), and every world of the platform packages (`ukc:platform` and
//! WASI's `wasi:cli`), parsed when ukc is built so that `ukc compose` does not parse WIT
//! on every run. Nothing here needs the guest components, so the composer library builds
//! and tests without them.

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
    /// For each import, in the same order, the other imports whose resources it uses
    /// (`ukc:sendfile/sendfile` uses `ukc:kv/ro`'s store and `ukc:tcpip/tcp`'s connection):
    /// a component can take the import from the host only if it takes those from the host
    /// too, for the resources to be the same.
    pub import_uses: &'static [&'static [&'static str]],
    /// The whole package encoded as a WIT package (`wit_component::encode`), for type checks.
    pub wit_package: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/platforms.rs"));
include!(concat!(env!("OUT_DIR"), "/wit.rs"));
