//! The manifest a ukc component carries inside its binary, and the merged manifest of a
//! composed unikernel.
//!
//! A component (application or driver) states, in a custom section named
//! [`COMPONENT_SECTION`], which named devices it acquires and which runtime arguments it
//! reads ([`ComponentManifest`]). `ukc compose` merges the manifests of every component it
//! links into one [`UnikernelManifest`], stored in the composed component's top-level
//! [`UNIKERNEL_SECTION`]. Hosts read that section to refuse devices that are missing or
//! unexpected, and to parse the runtime arguments before boot.
//!
//! Both manifests are JSON, so that any toolchain can produce one; this crate checks them
//! strictly and names the offending field in every error.

pub mod cmdline;
mod component;
pub mod hosts;
mod section;
mod unikernel;
mod validate;

pub use component::{ArgDecl, ArgType, ComponentManifest, DeviceDecl, DeviceMap, DeviceType};
pub use section::{SectionError, custom_section, encode_custom_section};
pub use unikernel::{BakedStore, Preopen, UnikernelArg, UnikernelComponent, UnikernelDevice, UnikernelManifest};
pub use validate::check_device_name;

/// Name of the custom section in which a component declares its own manifest.
pub const COMPONENT_SECTION: &str = "ukc-manifest";

/// Name of the top-level custom section holding a composed unikernel's merged manifest.
pub const UNIKERNEL_SECTION: &str = "ukc-unikernel";

/// The schema version this crate reads and writes.
pub const SCHEMA: u32 = 1;
