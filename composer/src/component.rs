//! Loading components: from files or stdin, componentizing core modules, and reading what
//! the composer needs to know of each (name, manifest, import and export names).

use crate::names::kebab;
use anyhow::{Context, Result, anyhow, bail};
use std::io::Read;
use std::path::Path;
use ukc_manifest::{COMPONENT_SECTION, ComponentManifest};
use wasmparser::{Parser, Payload, Validator, WasmFeatures};

/// Where a component came from, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A driver embedded in `ukc`.
    Builtin,
    /// A file given on the command line (or `-`, standard input).
    File(String),
}

impl Origin {
    /// How messages refer to the origin: `built-in` or the file name.
    pub fn describe(&self) -> &str {
        match self {
            Origin::Builtin => "built-in",
            Origin::File(f) => f,
        }
    }
}

/// A component ready to be linked.
#[derive(Clone, Debug)]
pub struct Component {
    /// The component's name: its manifest's, else derived from its file name.
    pub name: String,
    /// Where it came from.
    pub origin: Origin,
    /// The encoded component.
    pub bytes: Vec<u8>,
    /// Its manifest; an empty one (with `name` set) when it carries none.
    pub manifest: ComponentManifest,
    /// Whether the component carried a manifest at all.
    pub has_manifest: bool,
    /// Names of its top-level imports, in order.
    pub imports: Vec<String>,
    /// Names of its top-level exports, in order.
    pub exports: Vec<String>,
}

impl Component {
    /// Reads `path` (`-` for standard input) and loads it as a component.
    pub fn read(path: &str) -> Result<Component> {
        let bytes = if path == "-" {
            let mut bytes = Vec::new();
            std::io::stdin().read_to_end(&mut bytes).context("cannot read the component from standard input")?;
            bytes
        } else {
            std::fs::read(path).with_context(|| format!("cannot read {path}"))?
        };
        let display = if path == "-" { "<stdin>" } else { path };
        let stem = if path == "-" {
            "app".to_string()
        } else {
            Path::new(path).file_stem().map_or("app".into(), |s| s.to_string_lossy().into_owned())
        };
        Component::from_bytes(bytes, Origin::File(display.to_string()), &stem)
    }

    /// Loads a component (or a core module carrying component type information, which is
    /// componentized) from bytes. `fallback_name` is used when it carries no manifest.
    pub fn from_bytes(bytes: Vec<u8>, origin: Origin, fallback_name: &str) -> Result<Component> {
        let what = origin.describe().to_string();
        let bytes = componentize(bytes, &what)?;
        // Built-in drivers were validated when ukc was built; files from users are checked
        // here so that a damaged one is reported as such, not as a composition failure.
        if origin != Origin::Builtin {
            Validator::new_with_features(WasmFeatures::all())
                .validate_all(&bytes)
                .map_err(|e| anyhow!("{what}: invalid WebAssembly component: {e}"))?;
        }
        let (imports, exports, manifest_bytes) =
            scan(&bytes).map_err(|e| anyhow!("{what}: invalid WebAssembly component: {e}"))?;
        let (manifest, has_manifest) = match manifest_bytes {
            Some(json) => (ComponentManifest::from_json(&json, &what).map_err(anyhow::Error::msg)?, true),
            None => {
                let name = kebab(fallback_name);
                (ComponentManifest { name, ..Default::default() }, false)
            }
        };
        Ok(Component { name: manifest.name.clone(), origin, bytes, manifest, has_manifest, imports, exports })
    }
}

/// Returns a component: `bytes` itself, or the component wit-component makes of a core
/// module that carries component type information.
fn componentize(bytes: Vec<u8>, what: &str) -> Result<Vec<u8>> {
    if bytes.is_empty() {
        bail!("{what}: the file is empty; expected a WebAssembly component");
    }
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        bail!("{what}: not a WebAssembly file (it does not start with the \\0asm magic number)");
    }
    if Parser::is_component(&bytes) {
        return Ok(bytes);
    }
    if !Parser::is_core_wasm(&bytes) {
        bail!("{what}: unsupported WebAssembly binary version");
    }
    if !has_component_type(&bytes) {
        bail!(
            "{what} is a core WebAssembly module without component type information, so ukc cannot \
             tell what it imports and exports.\n  Build it with wit-bindgen (which embeds the type \
             information), or add it with `wasm-tools component embed WIT_DIR {what} -o OUT` and \
             pass OUT instead."
        );
    }
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(&bytes)
        .and_then(|encoder| encoder.encode())
        .map_err(|e| anyhow!("{what}: cannot turn the core module into a component: {e:#}"))
}

fn has_component_type(module: &[u8]) -> bool {
    Parser::new(0)
        .parse_all(module)
        .any(|payload| matches!(payload, Ok(Payload::CustomSection(s)) if s.name().starts_with("component-type")))
}

type Scan = (Vec<String>, Vec<String>, Option<Vec<u8>>);

/// Top-level import and export names, and the first `ukc-manifest` section found at any
/// depth (a component's manifest lives in its core module).
fn scan(bytes: &[u8]) -> Result<Scan, wasmparser::BinaryReaderError> {
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut manifest = None;
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(s) if depth == 0 => {
                for import in s {
                    imports.push(import?.name.name.to_string());
                }
            }
            Payload::ComponentExportSection(s) if depth == 0 => {
                for export in s {
                    exports.push(export?.name.name.to_string());
                }
            }
            Payload::CustomSection(s) if s.name() == COMPONENT_SECTION && manifest.is_none() => {
                manifest = Some(s.data().to_vec());
            }
            _ => {}
        }
    }
    Ok((imports, exports, manifest))
}
