//! The merged manifest of a composed unikernel.

use crate::UNIKERNEL_SECTION;
use crate::component::{ArgDecl, ArgType, DeviceType};
use crate::section::custom_section;
use crate::validate::{Problems, from_checked_json};
use serde::{Deserialize, Serialize};

/// Everything a host must know about a unikernel before booting it: the target it was
/// composed for, the components inside it, the devices to attach and the runtime
/// arguments to accept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnikernelManifest {
    /// Schema version.
    pub schema: u32,
    /// The target the unikernel was composed for (`unix`, `hvt`).
    pub target: String,
    /// The components linked into the unikernel, in instantiation order (an entry adapter
    /// comes after the application).
    pub components: Vec<UnikernelComponent>,
    /// The devices the host must attach, each exactly once.
    pub devices: Vec<UnikernelDevice>,
    /// The runtime arguments the unikernel accepts.
    pub args: Vec<UnikernelArg>,
    /// The components that read undeclared arguments (`undeclared-args` in their
    /// manifests); when there are any, hosts pass undeclared arguments through to them.
    #[serde(default, rename = "undeclared-args", skip_serializing_if = "Vec::is_empty")]
    pub undeclared_args: Vec<String>,
    /// The kv stores baked into the unikernel (`ukc compose --data`): devices no host
    /// attaches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub baked: Vec<BakedStore>,
    /// The kv stores a WASI program sees as preopened directories (`ukc compose
    /// --preopen`): the `wasi-shim-fs` driver serves each as `/NAME`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preopens: Vec<Preopen>,
}

/// A kv store preopened as a directory for a WASI program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preopen {
    /// The kv device's name; the directory is `/NAME`.
    pub name: String,
    /// Read and written through `ukc:kv/rw`, rather than only read through `ukc:kv/ro`.
    #[serde(default, rename = "read-write", skip_serializing_if = "std::ops::Not::not")]
    pub read_write: bool,
}

/// A kv store baked into the unikernel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BakedStore {
    /// The kv device's name.
    pub name: String,
    /// How many files it holds.
    pub files: u64,
    /// The size of its archive in the image, in bytes.
    pub bytes: u64,
}

/// A component linked into a unikernel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnikernelComponent {
    /// The component's name.
    pub name: String,
    /// The component's version, possibly empty.
    pub version: String,
    /// Whether it is the application (`true`) or a driver.
    pub app: bool,
}

/// A device the host must attach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnikernelDevice {
    /// The device's name.
    pub name: String,
    /// The device's type, as the platform provides it (after drivers' mappings).
    #[serde(rename = "type")]
    pub ty: DeviceType,
    /// The components that acquire it, starting with the one that declared it.
    pub by: Vec<String>,
    /// Every component that acquires it only reads it: hosts attach it read-only, and
    /// writes fail with `denied`.
    #[serde(default, rename = "read-only", skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// A runtime argument of the unikernel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnikernelArg {
    /// The declaration, identical in every component that reads the argument.
    #[serde(flatten)]
    pub decl: ArgDecl,
    /// The components that read it.
    pub by: Vec<String>,
}

impl UnikernelManifest {
    /// Reads the manifest from a composed unikernel's bytes. `Ok(None)` means the binary
    /// has no such section: it was not composed by `ukc compose`.
    pub fn from_wasm(wasm: &[u8]) -> Result<Option<Self>, String> {
        let section = custom_section(wasm, UNIKERNEL_SECTION).map_err(|e| e.to_string())?;
        section.map(|bytes| Self::from_json(bytes, UNIKERNEL_SECTION)).transpose()
    }

    /// Parses and checks a merged manifest.
    pub fn from_json(bytes: &[u8], origin: &str) -> Result<Self, String> {
        from_checked_json(bytes, origin, "unikernel manifest", UnikernelManifest::validate)
    }

    /// The manifest as compact JSON, ready to embed.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("manifest types always serialize")
    }

    /// Checks the rules hosts rely on: names unique across all devices, defaults valid.
    pub fn validate(&self) -> Result<(), String> {
        let mut problems = Problems::default();
        problems.check_schema(self.schema);
        for (i, c) in self.components.iter().enumerate() {
            problems.check_identity(&format!("components[{i}]"), &c.name, &c.version, "");
        }
        problems.check_devices(
            self.devices.iter().map(|d| d.name.as_str()).chain(self.baked.iter().map(|b| b.name.as_str())),
        );
        problems.check_args(self.args.iter().map(|a| &a.decl));
        problems.into_result()
    }

    /// The application's name (the component marked `app`), or `unikernel` when there is none.
    pub fn app_name(&self) -> &str {
        self.components.iter().rev().find(|c| c.app).map_or("unikernel", |c| c.name.as_str())
    }

    /// The device called `name`, if the unikernel declares one.
    pub fn device(&self, name: &str) -> Option<&UnikernelDevice> {
        self.devices.iter().find(|d| d.name == name)
    }

    /// The argument called `name`, if the unikernel declares one.
    pub fn arg(&self, name: &str) -> Option<&UnikernelArg> {
        self.args.iter().find(|a| a.decl.name == name)
    }

    /// The kv store called `name`, if it is baked into the unikernel.
    pub fn baked(&self, name: &str) -> Option<&BakedStore> {
        self.baked.iter().find(|b| b.name == name)
    }

    /// The devices of one type, in declaration order.
    pub fn devices_of(&self, ty: DeviceType) -> impl Iterator<Item = &UnikernelDevice> {
        self.devices.iter().filter(move |d| d.ty == ty)
    }
}

impl UnikernelArg {
    /// `--hello=STRING`, or `--verbose[=BOOL]` for booleans, as `--help` shows it.
    pub fn usage(&self) -> String {
        match self.decl.ty {
            ArgType::Bool => format!("--{}[=BOOL]", self.decl.name),
            ty => format!("--{}={}", self.decl.name, ty.placeholder()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SCHEMA, encode_custom_section};

    fn sample() -> UnikernelManifest {
        UnikernelManifest {
            schema: SCHEMA,
            target: "unix".into(),
            components: vec![UnikernelComponent { name: "hello".into(), version: "0.1.0".into(), app: true }],
            devices: vec![UnikernelDevice {
                name: "storage".into(),
                ty: DeviceType::Block,
                by: vec!["kv-ro".into(), "kv-tar".into()],
                read_only: true,
            }],
            args: vec![UnikernelArg {
                decl: ArgDecl {
                    name: "hello".into(),
                    ty: ArgType::String,
                    default: Some("Hello World!".into()),
                    doc: "What to print".into(),
                },
                by: vec!["hello".into()],
            }],
            undeclared_args: vec![],
            baked: vec![],
            preopens: vec![],
        }
    }

    #[test]
    fn round_trips_through_a_section() {
        let m = sample();
        let mut wasm = b"\0asm\x0d\x00\x01\x00".to_vec();
        wasm.extend(encode_custom_section(UNIKERNEL_SECTION, &m.to_json()));
        assert_eq!(UnikernelManifest::from_wasm(&wasm).unwrap(), Some(m.clone()));
        assert_eq!(m.app_name(), "hello");
        assert_eq!(m.arg("hello").unwrap().usage(), "--hello=STRING");
        assert_eq!(m.devices_of(DeviceType::Block).count(), 1);
    }

    #[test]
    fn rejects_duplicate_device_names() {
        let mut m = sample();
        let mut dup = m.devices[0].clone();
        dup.ty = DeviceType::Net;
        m.devices.push(dup);
        assert!(m.validate().unwrap_err().contains("\"storage\" is declared twice"));
    }
}
