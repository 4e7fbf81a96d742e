//! The wasmtime engine hosts use, and the compile cache that makes warm boots skip
//! compilation.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

/// How many compiled unikernels the cache keeps; the oldest go first.
const CACHE_ENTRIES: usize = 64;

/// The engine every host uses: Cranelift, backtraces on (the default 20 frames; they
/// name the component a trap came from), no fuel. With `interruptible`, compiled code
/// checks the engine's epoch so that a time limit can stop a unikernel that never calls
/// the host; that costs a little speed, so it is on only for runs with a time limit.
pub fn engine(interruptible: bool) -> Result<Engine> {
    let mut config = Config::new();
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    config.epoch_interruption(interruptible);
    Engine::new(&config).map_err(anyhow::Error::from).context("cannot create the WebAssembly engine")
}

/// Whether a component came from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a precompiled artifact.
    Hit,
    /// Compiled, and stored for next time.
    Stored,
    /// Compiled; there is no cache (disabled or not writable).
    Compiled,
}

/// Precompiled components, keyed by their bytes and the engine's configuration.
pub struct Cache {
    dir: Option<PathBuf>,
}

impl Cache {
    /// The cache in `$UKC_CACHE_DIR`, else `$XDG_CACHE_HOME/ukc`, else `~/.cache/ukc`.
    /// An empty `UKC_CACHE_DIR` turns the cache off.
    pub fn from_env() -> Cache {
        let dir = match std::env::var_os("UKC_CACHE_DIR") {
            Some(dir) if dir.is_empty() => None,
            Some(dir) => Some(PathBuf::from(dir)),
            None => std::env::var_os("XDG_CACHE_HOME")
                .filter(|d| !d.is_empty())
                .map(|d| PathBuf::from(d).join("ukc"))
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/ukc"))),
        };
        Cache { dir }
    }

    /// A cache in `dir`, or none.
    pub fn at(dir: Option<PathBuf>) -> Cache {
        Cache { dir }
    }

    /// Compiles `wasm`, or loads it precompiled when this engine compiled it before.
    pub fn load(&self, engine: &Engine, wasm: &[u8]) -> Result<(Component, CacheOutcome)> {
        let Some(dir) = &self.dir else {
            return Ok((compile(engine, wasm)?, CacheOutcome::Compiled));
        };
        let path = dir.join(format!("{}.cwasm", key(engine, wasm)));
        if path.is_file() {
            // SAFETY: the file was written by `serialize` of this same engine configuration
            // (the key covers the wasmtime version and the configuration); a damaged or
            // foreign file fails wasmtime's own header checks and is compiled afresh.
            if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
                return Ok((component, CacheOutcome::Hit));
            }
        }
        let component = compile(engine, wasm)?;
        let outcome = keep(dir, || write_artifact(dir, &path, &component.serialize()?));
        Ok((component, outcome))
    }

    /// The precompiled artifact of `wasm` for `engine`, compiled now or read from the
    /// cache: for an engine configured for another machine (the guest kernel of a VM),
    /// which loads the bytes itself. The key covers `engine`'s configuration, so
    /// artifacts of different engines never mix.
    pub fn precompiled(&self, engine: &Engine, wasm: &[u8]) -> Result<(Vec<u8>, CacheOutcome)> {
        let precompile =
            || engine.precompile_component(wasm).map_err(anyhow::Error::from).context("cannot compile the unikernel");
        let Some(dir) = &self.dir else {
            return Ok((precompile()?, CacheOutcome::Compiled));
        };
        let path = dir.join(format!("{}.cwasm", key(engine, wasm)));
        // A damaged file fails this header check (and the guest engine's full checks).
        if let Ok(bytes) = std::fs::read(&path)
            && Engine::detect_precompiled(&bytes) == Some(wasmtime::Precompiled::Component)
        {
            return Ok((bytes, CacheOutcome::Hit));
        }
        let bytes = precompile()?;
        let outcome = keep(dir, || write_artifact(dir, &path, &bytes));
        Ok((bytes, outcome))
    }
}

fn compile(engine: &Engine, wasm: &[u8]) -> Result<Component> {
    Component::new(engine, wasm).map_err(anyhow::Error::from).context("cannot compile the unikernel")
}

/// SHA-256 of the wasmtime version, the engine's compatibility hash and the bytes.
fn key(engine: &Engine, wasm: &[u8]) -> String {
    struct Sha(Sha256);
    impl Hasher for Sha {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
    }
    let mut hasher = Sha(Sha256::new());
    hasher.write(env!("CARGO_PKG_VERSION").as_bytes());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.write(wasm);
    hasher.0.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Stores an artifact in the cache with `store`. A cache that cannot be written costs
/// the next boot a compilation, not this one its run: it is only noted.
fn keep(dir: &Path, store: impl FnOnce() -> Result<()>) -> CacheOutcome {
    match store() {
        Ok(()) => CacheOutcome::Stored,
        Err(e) => {
            eprintln!("ukc: note: not caching the compiled unikernel in {}: {e:#}", dir.display());
            CacheOutcome::Compiled
        }
    }
}

/// Writes the artifact under a temporary name and renames it into place, so that a
/// concurrent boot never reads half a file; then trims the cache.
fn write_artifact(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    trim(dir);
    Ok(())
}

/// Keeps the newest `CACHE_ENTRIES` artifacts.
fn trim(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut artifacts: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if artifacts.len() <= CACHE_ENTRIES {
        return;
    }
    artifacts.sort();
    for (_, path) in &artifacts[..artifacts.len() - CACHE_ENTRIES] {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";

    #[test]
    fn second_load_hits_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(Some(dir.path().join("cache")));
        let engine = engine(false).unwrap();
        assert_eq!(cache.load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Stored);
        assert_eq!(cache.load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Hit);
        assert_eq!(Cache::at(None).load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Compiled);
    }

    #[test]
    fn a_damaged_artifact_is_recompiled() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(Some(dir.path().to_path_buf()));
        let engine = engine(false).unwrap();
        cache.load(&engine, EMPTY_COMPONENT).unwrap();
        let artifact = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
        std::fs::write(&artifact, b"garbage").unwrap();
        assert_eq!(cache.load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Stored);
    }

    #[test]
    fn artifacts_are_kept_per_engine_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(Some(dir.path().to_path_buf()));
        let native = engine(false).unwrap();
        let interruptible = engine(true).unwrap();
        assert_eq!(cache.precompiled(&native, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Stored);
        assert_eq!(cache.precompiled(&native, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Hit);
        assert_eq!(cache.precompiled(&interruptible, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Stored);
        // The artifact `precompiled` stored is the one `load` finds.
        assert_eq!(cache.load(&native, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Hit);
    }
}
