//! The WIT packages ukc provides, embedded in the binary.

use anyhow::{Context, Result, anyhow};
use std::path::Path;
use ukc_components::{WASI_WIT_FILES, WIT_FILES};
use wit_parser::{PackageId, Resolve};

/// Parses the embedded WIT: every device package, then `ukc:platform`, which uses them.
/// Returns the resolve and the platform package's id.
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

/// Parses the embedded WASI 0.2 WIT (from the wasip2 crate, see `ukc-wasi-wit`): every
/// package of the `wasi:cli/command` world. Returns the resolve and `wasi:cli`'s id.
pub fn wasi_resolve() -> Result<(Resolve, PackageId)> {
    let mut resolve = Resolve::default();
    let mut last = None;
    for (package, source) in WASI_WIT_FILES {
        let path = format!("wasi/{package}.wit");
        last = Some(resolve.push_str(&path, source).map_err(|e| anyhow!("built-in WASI WIT {path}: {e:#}"))?);
    }
    last.context("the built-in WASI WIT is empty").map(|cli| (resolve, cli))
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
