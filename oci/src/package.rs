//! A package: one OCI image manifest, its config and the component as its one layer.
//!
//! Components that are not unikernels for a ukc host (drivers, and unikernels for the
//! `wasi` target) are packaged exactly as the CNCF Wasm OCI artifact that runwasi,
//! wasmCloud and `wkg` read: config `application/vnd.wasm.config.v0+json` and one
//! `application/wasm` layer. Unikernels for `unix` and `hvt` carry a ukc config instead
//! (the same fields, plus the merged manifest a host needs) and annotations a fleet's
//! tooling can read without fetching the config.

use crate::digest::Digest;
use crate::json::{canonical, created};
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Media type of an OCI image manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of the CNCF Wasm artifact's config.
pub const WASM_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// Media type of a ukc unikernel's config (for the `unix` and `hvt` targets).
pub const UNIKERNEL_CONFIG_MEDIA_TYPE: &str = "application/vnd.ukc.unikernel.config.v1+json";
/// Media type of the layer holding the component.
pub const WASM_LAYER_MEDIA_TYPE: &str = "application/wasm";

/// Annotation keys ukc writes on a unikernel's manifest (see the README's "Shipping").
pub mod annotations {
    /// OCI: when the package was made (fixed; see `SOURCE_DATE_EPOCH`).
    pub const CREATED: &str = "org.opencontainers.image.created";
    /// OCI: the component's file name, which `ukc pull` writes by default.
    pub const TITLE: &str = "org.opencontainers.image.title";
    /// OCI: the version of the application, when it states one.
    pub const VERSION: &str = "org.opencontainers.image.version";
    /// The target the unikernel was composed for: `unix` or `hvt`.
    pub const TARGET: &str = "dev.ukc.target";
    /// The program that runs it: `ukc-unix` or `ukc-hvt`.
    pub const HOST: &str = "dev.ukc.host";
    /// The devices to attach, `TYPE:NAME` separated by commas (empty when none).
    pub const DEVICES: &str = "dev.ukc.devices";
    /// The command that runs it, with a placeholder for each device's backing.
    pub const RUN: &str = "dev.ukc.run";
}

/// The largest manifest or config accepted from anywhere (the distribution spec's 4 MiB).
pub const MAX_METADATA: u64 = 4 << 20;
/// The largest component accepted from anywhere.
pub const MAX_COMPONENT: u64 = 1 << 30;

/// Bytes named by their digest, with their media type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob {
    /// The media type a descriptor gives it.
    pub media_type: String,
    /// The digest of `bytes`.
    pub digest: Digest,
    /// The content.
    pub bytes: Vec<u8>,
}

impl Blob {
    /// A blob of `bytes`.
    pub fn new(media_type: &str, bytes: Vec<u8>) -> Blob {
        Blob { media_type: media_type.to_string(), digest: Digest::of(&bytes), bytes }
    }

    /// Its OCI descriptor.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor { media_type: self.media_type.clone(), digest: self.digest.clone(), size: self.bytes.len() as u64 }
    }
}

/// An OCI content descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    /// What the content is.
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
    /// Its length in bytes.
    pub size: u64,
}

impl Descriptor {
    fn to_json(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": self.digest.as_str(), "size": self.size})
    }

    /// Reads a descriptor from JSON; `what` names it in messages.
    pub fn from_json(value: &Value, what: &str) -> Result<Descriptor> {
        let field = |name: &str| value.get(name).ok_or_else(|| anyhow!("{what} has no {name:?}"));
        let media_type = field("mediaType")?.as_str().ok_or_else(|| anyhow!("{what}: mediaType is not a string"))?;
        let digest = Digest::parse(field("digest")?.as_str().ok_or_else(|| anyhow!("{what}: digest is not a string"))?)
            .with_context(|| what.to_string())?;
        let size = field("size")?.as_u64().ok_or_else(|| anyhow!("{what}: size is not a whole number"))?;
        Ok(Descriptor { media_type: media_type.to_string(), digest, size })
    }

    /// Checks that `bytes` are this descriptor's content: size and digest.
    pub fn verify(&self, bytes: &[u8], what: &str) -> Result<()> {
        if bytes.len() as u64 != self.size {
            bail!(
                "{what}: {} bytes where the manifest says {} for {}; it was damaged or tampered with, and is not used",
                bytes.len(),
                self.size,
                self.digest
            );
        }
        self.digest.verify(bytes, what)
    }
}

/// What a unikernel for a ukc host adds to its package.
#[derive(Clone, Debug)]
pub struct UnikernelInfo {
    /// `unix` or `hvt`.
    pub target: String,
    /// The program that runs it.
    pub host: String,
    /// The merged manifest, as the unikernel carries it.
    pub manifest: Value,
    /// Its devices, as `(type, name)`.
    pub devices: Vec<(String, String)>,
    /// The command that runs it (see [`annotations::RUN`]).
    pub run: String,
}

/// What a package says about the component it carries.
#[derive(Clone, Debug)]
pub struct Contents {
    /// The component's file name (`hello.hvt.wasm`).
    pub title: String,
    /// The application's version, possibly empty.
    pub version: String,
    /// The component's top-level import names.
    pub imports: Vec<String>,
    /// The component's top-level export names.
    pub exports: Vec<String>,
    /// Set for unikernels of the `unix` and `hvt` targets.
    pub unikernel: Option<UnikernelInfo>,
}

/// A package: manifest, config and component, each verified against the others.
#[derive(Clone, Debug)]
pub struct Package {
    /// The image manifest; its digest names the package.
    pub manifest: Blob,
    /// The config.
    pub config: Blob,
    /// The component, the one layer.
    pub component: Blob,
}

impl Package {
    /// Packages `component`. The same bytes and contents always give the same package.
    pub fn build(component: Vec<u8>, contents: &Contents) -> Package {
        let component = Blob::new(WASM_LAYER_MEDIA_TYPE, component);
        let (_, created) = created();
        let mut config = json!({
            "created": created,
            "architecture": "wasm",
            "os": "wasip2",
            "layerDigests": [component.digest.as_str()],
            "component": {"imports": contents.imports, "exports": contents.exports},
        });
        let mut notes =
            BTreeMap::from([(annotations::CREATED, created.clone()), (annotations::TITLE, contents.title.clone())]);
        if !contents.version.is_empty() {
            notes.insert(annotations::VERSION, contents.version.clone());
        }
        let config_type = match &contents.unikernel {
            None => WASM_CONFIG_MEDIA_TYPE,
            Some(u) => {
                config["ukc"] = json!({"target": u.target, "host": u.host, "manifest": u.manifest, "run": u.run});
                let devices: Vec<String> = u.devices.iter().map(|(ty, name)| format!("{ty}:{name}")).collect();
                notes.insert(annotations::TARGET, u.target.clone());
                notes.insert(annotations::HOST, u.host.clone());
                notes.insert(annotations::DEVICES, devices.join(","));
                notes.insert(annotations::RUN, u.run.clone());
                UNIKERNEL_CONFIG_MEDIA_TYPE
            }
        };
        let config = Blob::new(config_type, canonical(&config));
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": config.descriptor().to_json(),
            "layers": [component.descriptor().to_json()],
            "annotations": notes,
        });
        Package { manifest: Blob::new(MANIFEST_MEDIA_TYPE, canonical(&manifest)), config, component }
    }

    /// Reads a package whose manifest is `manifest`, fetching its config and component with
    /// `fetch` and checking each against the manifest. `what` names the package in messages.
    pub fn read(manifest: Blob, what: &str, mut fetch: impl FnMut(&Descriptor) -> Result<Vec<u8>>) -> Result<Package> {
        let parsed = Manifest::parse(&manifest.bytes, what)?;
        let layer = parsed.component_layer(what)?;
        for d in [&parsed.config, layer] {
            let limit = if d == layer { MAX_COMPONENT } else { MAX_METADATA };
            if d.size > limit {
                bail!("{what}: blob {} is {} bytes, more than the {limit} ukc accepts", d.digest, d.size);
            }
        }
        let config = fetch(&parsed.config)?;
        parsed.config.verify(&config, &format!("{what}: config {}", parsed.config.digest))?;
        let component = fetch(layer)?;
        layer.verify(&component, &format!("{what}: component {}", layer.digest))?;
        Ok(Package {
            config: Blob {
                media_type: parsed.config.media_type.clone(),
                digest: parsed.config.digest.clone(),
                bytes: config,
            },
            component: Blob { media_type: layer.media_type.clone(), digest: layer.digest.clone(), bytes: component },
            manifest,
        })
    }

    /// The manifest's annotations.
    pub fn annotations(&self) -> BTreeMap<String, String> {
        Manifest::parse(&self.manifest.bytes, "package").map(|m| m.annotations).unwrap_or_default()
    }

    /// The file name the component is written to by default: its title, when that is a
    /// plain `.wasm` file name (letters, digits, `_`, `.`, `-`, not starting with `.` or
    /// `-`), else `fallback`. The title comes from whoever made the package, so nothing else
    /// (`.bashrc`, `-`, a path) may name a file.
    pub fn title(&self, fallback: &str) -> String {
        let title = self.annotations().remove(annotations::TITLE).unwrap_or_default();
        let plain = title.len() <= 255
            && title.ends_with(".wasm")
            && title.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && title.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if plain { title } else { fallback.to_string() }
    }
}

/// The parts of an image manifest ukc reads.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// The config's descriptor.
    pub config: Descriptor,
    /// The layers' descriptors.
    pub layers: Vec<Descriptor>,
    /// Annotations, if any.
    pub annotations: BTreeMap<String, String>,
}

impl Manifest {
    /// Parses an OCI image manifest.
    pub fn parse(bytes: &[u8], what: &str) -> Result<Manifest> {
        let value: Value =
            serde_json::from_slice(bytes).with_context(|| format!("{what}: the manifest is not JSON"))?;
        if value.get("schemaVersion").and_then(Value::as_u64) != Some(2) {
            bail!("{what}: not an OCI image manifest (schemaVersion is not 2)");
        }
        if let Some(kind) = value.get("mediaType").and_then(Value::as_str)
            && kind != MANIFEST_MEDIA_TYPE
        {
            bail!("{what}: a {kind}, not an OCI image manifest ({MANIFEST_MEDIA_TYPE})");
        }
        let config = Descriptor::from_json(
            value.get("config").ok_or_else(|| anyhow!("{what}: the manifest has no config"))?,
            &format!("{what}: config"),
        )?;
        let layers = value
            .get("layers")
            .and_then(Value::as_array)
            .ok_or_else(|| anyhow!("{what}: the manifest has no layers"))?
            .iter()
            .enumerate()
            .map(|(i, l)| Descriptor::from_json(l, &format!("{what}: layers[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        let annotations = match value.get("annotations").and_then(Value::as_object) {
            Some(map) => strings(map),
            None => BTreeMap::new(),
        };
        Ok(Manifest { config, layers, annotations })
    }

    /// The one `application/wasm` layer.
    pub fn component_layer(&self, what: &str) -> Result<&Descriptor> {
        let mut wasm = self.layers.iter().filter(|l| l.media_type == WASM_LAYER_MEDIA_TYPE);
        match (wasm.next(), wasm.next()) {
            (Some(layer), None) => Ok(layer),
            (None, _) => {
                let kinds: Vec<&str> = self.layers.iter().map(|l| l.media_type.as_str()).collect();
                bail!(
                    "{what} holds no WebAssembly component (no {WASM_LAYER_MEDIA_TYPE} layer; its layers are [{}]); \
                     is it a container image rather than a package from `ukc package` or `wkg`?",
                    kinds.join(", ")
                )
            }
            (Some(_), Some(_)) => bail!("{what} has several {WASM_LAYER_MEDIA_TYPE} layers; ukc expects exactly one"),
        }
    }
}

fn strings(map: &Map<String, Value>) -> BTreeMap<String, String> {
    map.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver() -> Contents {
        Contents {
            title: "upper.wasm".into(),
            version: "1.2.0".into(),
            imports: vec!["ukc:kv/ro@0.1.0".into()],
            exports: vec!["ukc:kv/ro@0.1.0".into()],
            unikernel: None,
        }
    }

    #[test]
    fn a_component_becomes_the_cncf_wasm_artifact() {
        let package = Package::build(b"\0asm\x0d\0\x01\0".to_vec(), &driver());
        let manifest: Value = serde_json::from_slice(&package.manifest.bytes).unwrap();
        assert_eq!(manifest["config"]["mediaType"], WASM_CONFIG_MEDIA_TYPE);
        assert_eq!(manifest["layers"][0]["mediaType"], WASM_LAYER_MEDIA_TYPE);
        assert_eq!(manifest["layers"][0]["digest"], package.component.digest.as_str());
        let config: Value = serde_json::from_slice(&package.config.bytes).unwrap();
        assert_eq!(config["architecture"], "wasm");
        assert_eq!(config["os"], "wasip2");
        assert_eq!(config["layerDigests"][0], package.component.digest.as_str());
        assert_eq!(config["component"]["imports"][0], "ukc:kv/ro@0.1.0");
        assert!(config.get("ukc").is_none());
        assert_eq!(package.title("x"), "upper.wasm");
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        let a = Package::build(b"\0asm".to_vec(), &driver());
        let b = Package::build(b"\0asm".to_vec(), &driver());
        assert_eq!(a.manifest, b.manifest);
        assert_eq!(a.config, b.config);
    }

    #[test]
    fn reading_checks_every_blob_against_the_manifest() {
        let package = Package::build(b"\0asm-component".to_vec(), &driver());
        let blobs = [package.config.clone(), package.component.clone()];
        let fetch = |tamper: bool| {
            let blobs = blobs.clone();
            move |d: &Descriptor| {
                let mut bytes = blobs.iter().find(|b| b.digest == d.digest).unwrap().bytes.clone();
                if tamper && d.media_type == WASM_LAYER_MEDIA_TYPE {
                    bytes[1] ^= 1;
                }
                Ok(bytes)
            }
        };
        let read = Package::read(package.manifest.clone(), "p", fetch(false)).unwrap();
        assert_eq!(read.component, package.component);
        let err = Package::read(package.manifest.clone(), "p", fetch(true)).unwrap_err().to_string();
        assert!(err.contains("tampered"), "{err}");
    }

    #[test]
    fn a_container_image_is_named_as_such() {
        let manifest = json!({
            "schemaVersion": 2, "mediaType": MANIFEST_MEDIA_TYPE,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": Digest::of(b"").as_str(), "size": 0},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": Digest::of(b"").as_str(), "size": 0}],
        });
        let err = Manifest::parse(&canonical(&manifest), "alpine").unwrap().component_layer("alpine").unwrap_err();
        assert!(err.to_string().contains("no WebAssembly component"), "{err}");
    }
}
