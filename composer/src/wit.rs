//! The WIT packages ukc provides, embedded in the binary.

use anyhow::{Context, Result, anyhow};
use std::path::Path;
use ukc_platform::WIT_FILES;
use wit_parser::{PackageId, Resolve};

/// Parses the embedded WIT: every device package, each after those it uses, then
/// `ukc:platform`, which uses them (`WIT_FILES`' order). Returns the resolve and the
/// platform package's id.
pub fn platform_resolve() -> Result<(Resolve, PackageId)> {
    let mut resolve = Resolve::default();
    let (root, deps): (Vec<_>, Vec<_>) = WIT_FILES.iter().partition(|(path, _)| !path.starts_with("deps/"));
    for (path, source) in deps {
        resolve.push_str(path, source).map_err(|e| anyhow!("built-in WIT {path}: {e:#}"))?;
    }
    let mut platform = None;
    for (path, source) in root {
        platform = Some(resolve.push_str(path, source).map_err(|e| anyhow!("built-in WIT {path}: {e:#}"))?);
    }
    let platform = platform.context("the built-in WIT has no platform package")?;
    Ok((resolve, platform))
}

/// Writes the WIT packages under `dir` in the layout wit-bindgen and wasm-tools read:
/// `platform.wit` at the top, one folder per device package under `deps/`.
/// Returns the paths written.
pub fn write_to(dir: &Path) -> Result<Vec<String>> {
    let mut written = Vec::new();
    for (path, source) in WIT_FILES {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, source).with_context(|| format!("cannot write {}", target.display()))?;
        written.push(target.display().to_string());
    }
    Ok(written)
}
