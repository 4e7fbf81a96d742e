//! One component's own declarations.

use crate::SCHEMA;
use crate::validate::{Problems, from_checked_json};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::Ipv4Addr;

/// What a component declares about itself: its identity, the devices it acquires, the
/// runtime arguments it reads and, for drivers, how it maps the devices it serves onto
/// the devices it acquires.
///
/// ```json
/// { "schema": 1, "name": "kv-tar", "version": "0.1.0",
///   "description": "read-only kv store over a block device holding a tar archive",
///   "maps": [ { "type": "kv", "onto": "block" } ] }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ComponentManifest {
    /// Schema version; 1 when absent.
    #[serde(default = "schema_default")]
    pub schema: u32,
    /// Short name: how `--use` and error messages refer to the component.
    pub name: String,
    /// The component's own version (semver), shown by `ukc drivers`.
    #[serde(default)]
    pub version: String,
    /// One line saying what the component does.
    #[serde(default)]
    pub description: String,
    /// Devices the component acquires by name.
    #[serde(default)]
    pub devices: Vec<DeviceDecl>,
    /// Runtime arguments the component reads.
    #[serde(default)]
    pub args: Vec<ArgDecl>,
    /// For drivers: what becomes of each device of type `type` that an importer acquires
    /// from this driver: it is acquired by the driver as a device of type `onto` under the
    /// same name, or, without `onto`, served by the driver itself.
    #[serde(default)]
    pub maps: Vec<DeviceMap>,
    /// Whether the component reads a free-form command line (`ukc:args/undeclared`), as
    /// a WASI program's `main` does: hosts then pass every argument that no component
    /// declares through to it instead of refusing it, and the merged `--help` says so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub undeclared_args: bool,
}

fn schema_default() -> u32 {
    SCHEMA
}

/// A device acquired by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceDecl {
    /// The name the component passes to `acquire`/`open`, and the host's `--TYPE:NAME=`.
    pub name: String,
    /// The kind of device.
    #[serde(rename = "type")]
    pub ty: DeviceType,
    /// The component only reads the device: a host attaches it read-only when every
    /// component that acquires it says so (`"read-only": true`).
    #[serde(default, rename = "read-only", skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// The kinds of named devices, each tied to one WIT interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceType {
    /// `ukc:block/block`: sector-addressed storage.
    Block,
    /// `ukc:net/net`: Ethernet frames.
    Net,
    /// `ukc:kv/ro`: a read-only key-value store.
    Kv,
    /// `ukc:kv/rw`: a read-write key-value store.
    KvRw,
}

impl DeviceType {
    /// Every device type, in the order hosts list them.
    pub const ALL: [DeviceType; 4] = [DeviceType::Block, DeviceType::Net, DeviceType::Kv, DeviceType::KvRw];

    /// The WIT interface (without version) through which devices of this type are acquired.
    pub fn interface(self) -> &'static str {
        match self {
            DeviceType::Block => "ukc:block/block",
            DeviceType::Net => "ukc:net/net",
            DeviceType::Kv => "ukc:kv/ro",
            DeviceType::KvRw => "ukc:kv/rw",
        }
    }

    /// The lowercase name used in manifests and host flags (`--block:NAME=...`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceType::Block => "block",
            DeviceType::Net => "net",
            DeviceType::Kv => "kv",
            DeviceType::KvRw => "kv-rw",
        }
    }
}

impl fmt::Display for DeviceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A driver's rule for the devices it serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceMap {
    /// The device type the driver exports.
    #[serde(rename = "type")]
    pub ty: DeviceType,
    /// The device type it acquires, under the same name, to serve it; `None` when the
    /// driver serves such devices from its own contents (a kv store baked into it, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onto: Option<DeviceType>,
    /// Whether the device stays one the host attaches, under the same name and type, that
    /// the driver reaches through the platform's own interfaces: the `wasi-kv` driver
    /// serves the kv store `NAME` from the directory a WASI host preopens as `NAME`.
    /// Excludes `onto`.
    #[serde(default, rename = "attached-by-host", skip_serializing_if = "std::ops::Not::not")]
    pub attached_by_host: bool,
    /// Whether the driver serves the kv stores `ukc compose --data` baked into the
    /// unikernel, from their image, and passes every other device of this type on, under
    /// the same name and type, to whoever provides the interface to the driver itself:
    /// `kv-data`. Excludes `onto` and `attached-by-host`; only for `kv`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub baked: bool,
    /// The driver only reads the device it acquires (`onto`), as `kv-tar` only reads its
    /// archive: a host attaches it read-only when every acquirer says so.
    #[serde(default, rename = "read-only", skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// A runtime argument read by a component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgDecl {
    /// The name, without dashes: `hello` is given as `--hello=TEXT`.
    pub name: String,
    /// The type values must have.
    #[serde(rename = "type")]
    pub ty: ArgType,
    /// The value used when the argument is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// One line for `--help`.
    #[serde(default)]
    pub doc: String,
}

/// The types a runtime argument can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArgType {
    /// Any text.
    String,
    /// A signed 64-bit decimal integer.
    Int,
    /// `true` or `false`; `--NAME` alone means `true`.
    Bool,
    /// An IPv4 address: `10.0.0.2`.
    Ipv4,
    /// An IPv4 address with a prefix length: `10.0.0.2/24`.
    Ipv4Prefix,
}

impl ArgType {
    /// The placeholder shown in `--help` (`--hello=STRING`).
    pub fn placeholder(self) -> &'static str {
        match self {
            ArgType::String => "STRING",
            ArgType::Int => "INT",
            ArgType::Bool => "BOOL",
            ArgType::Ipv4 => "ADDR",
            ArgType::Ipv4Prefix => "ADDR/PREFIX",
        }
    }

    /// Checks that `value` is a valid value of this type.
    pub fn check(self, value: &str) -> Result<(), String> {
        match self {
            ArgType::String => Ok(()),
            ArgType::Int => value.parse::<i64>().map(drop).map_err(|_| format!("expected an integer, got {value:?}")),
            ArgType::Bool => match value {
                "true" | "false" => Ok(()),
                _ => Err(format!("expected true or false, got {value:?}")),
            },
            ArgType::Ipv4 => value
                .parse::<Ipv4Addr>()
                .map(drop)
                .map_err(|_| format!("expected an IPv4 address such as 10.0.0.2, got {value:?}")),
            ArgType::Ipv4Prefix => {
                let valid = value.split_once('/').is_some_and(|(address, prefix)| {
                    address.parse::<Ipv4Addr>().is_ok() && prefix.parse::<u8>().is_ok_and(|p| p <= 32)
                });
                if valid {
                    Ok(())
                } else {
                    Err(format!("expected an IPv4 address and prefix such as 10.0.0.2/24, got {value:?}"))
                }
            }
        }
    }
}

impl ComponentManifest {
    /// Parses and checks a manifest; `origin` names where it came from in errors.
    pub fn from_json(bytes: &[u8], origin: &str) -> Result<Self, String> {
        from_checked_json(bytes, origin, "ukc manifest", ComponentManifest::validate)
    }

    /// The manifest as compact JSON, ready to embed.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("manifest types always serialize")
    }

    /// Checks names, types, defaults and duplicates; the error lists every problem found.
    pub fn validate(&self) -> Result<(), String> {
        let mut problems = Problems::default();
        problems.check_schema(self.schema);
        problems.check_identity("\"name\"", &self.name, &self.version, &self.description);
        problems.check_devices(self.devices.iter().map(|d| d.name.as_str()));
        problems.check_args(self.args.iter());
        for (i, map) in self.maps.iter().enumerate() {
            if Some(map.ty) == map.onto {
                problems.push(format!("maps[{i}] maps {} onto itself", map.ty));
            }
            if map.read_only && map.onto.is_none() {
                problems.push(format!("maps[{i}] is \"read-only\" but acquires no device; add \"onto\" or drop it"));
            }
            if map.attached_by_host && map.onto.is_some() {
                problems.push(format!("maps[{i}] has both \"onto\" and \"attached-by-host\"; keep one"));
            }
            if map.baked && (map.onto.is_some() || map.attached_by_host || map.ty != DeviceType::Kv) {
                problems.push(format!(
                    "maps[{i}] is \"baked\": it serves kv devices and passes the others on, so it needs \
                     \"type\": \"kv\" and neither \"onto\" nor \"attached-by-host\""
                ));
            }
            if self.maps[..i].iter().any(|m| m.ty == map.ty) {
                problems.push(format!("device type {} is mapped twice", map.ty));
            }
        }
        problems.into_result()
    }

    /// This driver's rule for devices of type `ty`, if it has one.
    pub fn map_for(&self, ty: DeviceType) -> Option<&DeviceMap> {
        self.maps.iter().find(|m| m.ty == ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_driver_manifest() {
        let json = br#"{"name":"kv-tar","version":"0.1.0","maps":[{"type":"kv","onto":"block"}]}"#;
        let m = ComponentManifest::from_json(json, "kv-tar.wasm").unwrap();
        assert_eq!(m.schema, 1);
        assert_eq!(m.map_for(DeviceType::Kv).unwrap().onto, Some(DeviceType::Block));
        assert!(m.map_for(DeviceType::Net).is_none());
        let baked = br#"{"name":"kv-mem","maps":[{"type":"kv"}]}"#;
        let m = ComponentManifest::from_json(baked, "kv-mem.wasm").unwrap();
        assert_eq!(m.map_for(DeviceType::Kv).unwrap().onto, None);
        let host = br#"{"name":"wasi-kv","maps":[{"type":"kv","attached-by-host":true}]}"#;
        assert!(ComponentManifest::from_json(host, "wasi-kv.wasm").unwrap().maps[0].attached_by_host);
        let both = br#"{"name":"x","maps":[{"type":"kv","onto":"block","attached-by-host":true}]}"#;
        assert!(ComponentManifest::from_json(both, "x.wasm").unwrap_err().contains("keep one"));
    }

    #[test]
    fn rejects_unknown_fields_and_types() {
        let err = ComponentManifest::from_json(br#"{"name":"x","colour":1}"#, "x.wasm").unwrap_err();
        assert!(err.contains("unknown field `colour`"), "{err}");
        let err = ComponentManifest::from_json(br#"{"name":"x","devices":[{"name":"d","type":"tape"}]}"#, "x.wasm")
            .unwrap_err();
        assert!(err.contains("unknown variant `tape`"), "{err}");
    }

    #[test]
    fn lists_every_problem() {
        let json = br#"{"name":"x","devices":[{"name":"a b","type":"block"}],
            "args":[{"name":"n","type":"int","default":"ten"},{"name":"n","type":"int"}]}"#;
        let err = ComponentManifest::from_json(json, "x.wasm").unwrap_err();
        assert!(err.contains("devices[0]"), "{err}");
        assert!(err.contains("expected an integer, got \"ten\""), "{err}");
        assert!(err.contains("--n is declared twice"), "{err}");
    }

    #[test]
    fn arg_types_check_values() {
        assert!(ArgType::Int.check("-12").is_ok());
        assert!(ArgType::Int.check("1.5").is_err());
        assert!(ArgType::Bool.check("true").is_ok());
        assert!(ArgType::Bool.check("yes").is_err());
        assert!(ArgType::String.check("").is_ok());
        assert!(ArgType::Ipv4.check("10.0.0.2").is_ok());
        assert!(ArgType::Ipv4.check("10.0.0.300").is_err());
        assert!(ArgType::Ipv4Prefix.check("10.0.0.2/24").is_ok());
        assert!(ArgType::Ipv4Prefix.check("10.0.0.2/33").is_err());
        assert!(ArgType::Ipv4Prefix.check("10.0.0.2").is_err());
    }
}
