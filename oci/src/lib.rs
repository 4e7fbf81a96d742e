//! Unikernels and drivers as OCI artifacts.
//!
//! [`package`] turns a component into an OCI image manifest, config and layer (the CNCF
//! Wasm artifact for drivers and `wasi` unikernels; a ukc config for `unix` and `hvt`
//! unikernels); [`layout`] writes and reads OCI image layouts and their archives;
//! [`registry`] pushes and pulls over the distribution API; [`cache`] keeps pulled blobs by
//! digest; [`lock`] pins registry references to digests. [`read`] is the one way both the
//! composer and the hosts turn what a user typed into a component's bytes.

pub mod cache;
pub mod digest;
#[cfg(any(fuzzing, test))]
pub mod fuzzing;
mod json;
pub mod layout;
pub mod lock;
pub mod package;
pub mod registry;
pub mod source;

use anyhow::{Context, Result};
pub use cache::BlobCache;
pub use digest::Digest;
pub use lock::Lock;
pub use package::{Contents, Package, UnikernelInfo};
pub use registry::{Access, Registry};
pub use source::Source;
use std::path::Path;

/// Reads the package `source` names (any source but a file), checking every digest.
/// `pinned` replaces a registry reference's tag by a digest (from `ukc.lock`).
pub fn read_package(source: &Source, access: &Access, pinned: Option<&Digest>) -> Result<Package> {
    match source {
        Source::File(path) => anyhow::bail!("{}: a file, not a package", path.display()),
        Source::Layout { dir, tag } => layout::read_dir(dir, tag.as_deref()),
        Source::Archive { file, tag } => layout::read_archive(file, tag.as_deref()),
        Source::Registry(reference) => Registry::connect(reference, access)?.pull(pinned, &BlobCache::from_env()),
    }
}

/// The component `text` names: a file's bytes, or the component of the package in a
/// layout, an archive or a registry (plain HTTP to loopback registries only).
pub fn read(text: &str) -> Result<Vec<u8>> {
    match Source::parse(text)? {
        Source::File(path) => std::fs::read(&path).with_context(|| format!("cannot read {}", path.display())),
        source => Ok(read_package(&source, &Access::default(), None)?.component.bytes),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory, so that a
/// failure never leaves a half-written file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // Created as any new file is (0666 less the umask), not tempfile's private 0600.
    let mut file = tempfile::Builder::new()
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut file, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
