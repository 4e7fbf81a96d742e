//! Plugin drivers from files, OCI layouts and registries, with registry references pinned
//! to digests in `ukc.lock`.

use anyhow::{Result, bail};
use std::path::PathBuf;
use ukc::catalogue::Plugin;
use ukc_oci::{Access, BlobCache, Lock, Registry, Source};

/// How registry drivers are reached and pinned.
#[derive(clap::Args)]
pub struct Pinning {
    /// The lock file that pins each `--driver oci://...` to the digest it resolved to;
    /// later composes use the pinned digest, whatever the tag names by then.
    #[arg(long, value_name = "FILE", default_value = ukc_oci::lock::DEFAULT_LOCK)]
    pub lock: PathBuf,
    /// Fail instead of adding to the lock file: every registry driver must be pinned already.
    #[arg(long)]
    pub locked: bool,
    /// Speak plain HTTP to registries that are not on loopback (loopback ones always are).
    #[arg(long)]
    pub insecure: bool,
}

/// Reads every `--driver`: a file, `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]` or
/// `oci://HOST/REPOSITORY[:TAG|@DIGEST]`. Returns the plugins and the lock, with any new pin
/// added (the caller saves it once the composition succeeded).
pub fn load(drivers: &[String], pinning: &Pinning) -> Result<(Vec<Plugin>, Lock)> {
    let mut lock = Lock::load(&pinning.lock)?;
    let access = Access { insecure: pinning.insecure };
    let mut plugins = Vec::new();
    for text in drivers {
        let source = Source::parse(text)?;
        let package = match &source {
            Source::File(_) => {
                plugins.push(Plugin::read(text)?);
                continue;
            }
            Source::Registry(reference) => {
                let pinned = lock.pinned(text).cloned();
                if pinned.is_none() && pinning.locked {
                    bail!(
                        "--driver {text} is not pinned in {} and --locked forbids adding it; \
                         compose once without --locked to pin it",
                        lock.path().display()
                    );
                }
                let package = Registry::connect(reference, &access)?.pull(pinned.as_ref(), &BlobCache::from_env())?;
                lock.pin(text, package.manifest.digest.clone());
                package
            }
            _ => ukc_oci::read_package(&source, &access, None)?,
        };
        let file_name = package.title("driver.wasm");
        plugins.push(Plugin { shown: text.clone(), bytes: package.component.bytes, file_name });
    }
    Ok((plugins, lock))
}

/// Writes the lock if a pin was added, and says so.
pub fn save(lock: &Lock, quiet: bool) -> Result<()> {
    if lock.changed() {
        lock.save()?;
        if !quiet {
            eprintln!("ukc: pinned the registry drivers' digests in {}", lock.path().display());
        }
    }
    Ok(())
}
