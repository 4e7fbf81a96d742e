//! What `ukc package` and `ukc push` say about a component in its OCI package.

use crate::component::Component;
use crate::target::Target;
use anyhow::{Result, anyhow};
use ukc_manifest::UnikernelManifest;
use ukc_oci::{Contents, UnikernelInfo};

/// The contents of `component`'s package, with `title` as its file name. A unikernel
/// composed for `unix` or `hvt` carries its merged manifest, its devices and the command
/// that runs it; drivers and `wasi` unikernels are plain Wasm components.
pub fn contents(component: &Component, title: &str) -> Result<Contents> {
    let composed = UnikernelManifest::from_wasm(&component.bytes).map_err(|e| anyhow!("{title}: {e}"))?;
    let version = match &composed {
        Some(m) => m.components.iter().rev().find(|c| c.app).map(|c| c.version.clone()).unwrap_or_default(),
        None => component.manifest.version.clone(),
    };
    let unikernel = match composed {
        Some(manifest) if manifest.target != "wasi" => {
            let target = Target::find(&manifest.target)?;
            Some(UnikernelInfo {
                target: target.name.to_string(),
                host: target.host().program.to_string(),
                run: target.run_command(title, &manifest, &component.imports),
                devices: manifest.devices.iter().map(|d| (d.ty.as_str().to_string(), d.name.clone())).collect(),
                manifest: serde_json::to_value(&manifest).expect("manifests serialize"),
            })
        }
        _ => None,
    };
    Ok(Contents {
        title: title.to_string(),
        version,
        imports: component.imports.clone(),
        exports: component.exports.clone(),
        unikernel,
    })
}
