//! Helpers for writing ukc components in Rust.
//!
//! A component tells ukc which devices it acquires and which runtime arguments it reads
//! through a manifest carried inside its binary, in the `ukc-manifest` custom section.
//! [`manifest!`] embeds a JSON manifest file from the crate's directory:
//!
//! ```ignore
//! ukc_guest::manifest!("ukc.json");
//! ```
//!
//! with `ukc.json` such as
//!
//! ```json
//! { "name": "hello", "version": "0.1.0",
//!   "args": [ { "name": "hello", "type": "string", "default": "Hello World!",
//!               "doc": "The greeting to print" } ] }
//! ```
//!
//! `ukc compose` checks the manifest and reports any mistake in it.
//!
//! [`accept`] paces and logs a server's failing `accept`. With the `critical-section`
//! feature, a wasm32 component gets the critical section its dependencies may take
//! (`one_thread`).
#![no_std]

pub mod accept;
#[cfg(all(feature = "critical-section", target_arch = "wasm32"))]
mod one_thread;

/// Embeds the JSON manifest at `$path` (relative to the crate's `Cargo.toml`) in the
/// component's `ukc-manifest` custom section.
#[macro_export]
macro_rules! manifest {
    ($path:literal) => {
        #[unsafe(link_section = "ukc-manifest")]
        #[used]
        static UKC_MANIFEST: [u8; include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $path)).len()] =
            *include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $path));
    };
}
