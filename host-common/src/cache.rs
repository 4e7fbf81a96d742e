//! The compile cache: machine code compiled once and run on every later boot. A cache
//! entry is machine code that will run, so it is trusted only when this user wrote it:
//!
//! - every entry carries an HMAC-SHA256, over its key and its bytes, made with a secret
//!   that only this user can read (`key` in the cache directory, mode 0600). An entry
//!   that fails the check, from damage, from another user or from an attacker who
//!   guessed a key, is never loaded: it is compiled afresh and replaced;
//! - a cache directory (or key file) that another user owns or may write is not used,
//!   with a note;
//! - files are created exclusively, under random names, never through a symbolic link,
//!   and renamed into place, so a concurrent boot never reads half a file.

use anyhow::{Context, Result, bail};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fs::{self, DirBuilder, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// How many compiled unikernels the cache keeps; the oldest go first.
const CACHE_ENTRIES: usize = 64;
/// The secret's file name, and its size.
const SECRET_FILE: &str = "key";
const SECRET_LEN: usize = 32;
/// Every entry starts with its MAC.
const MAC_LEN: usize = 32;
/// The extension of entries; `.cwasm` files are bare artifacts of earlier versions,
/// which are never loaded and are removed as the cache is trimmed.
const ENTRY: &str = "entry";
const EARLIER: &str = "cwasm";

type HmacSha256 = Hmac<Sha256>;

/// Whether an artifact came from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a cached artifact that passed its check.
    Hit,
    /// Compiled, and stored for next time.
    Stored,
    /// Compiled; there is no cache (disabled, not writable, or not safe to use).
    Compiled,
}

/// Compiled artifacts, keyed by the bytes they were compiled from and the engine's
/// configuration.
pub struct Cache {
    dir: Option<PathBuf>,
}

/// A cache directory found safe to use, with this user's secret.
struct Open {
    dir: PathBuf,
    secret: [u8; SECRET_LEN],
}

impl Cache {
    /// The cache in `$UKC_CACHE_DIR`, else `$XDG_CACHE_HOME/ukc`, else `~/.cache/ukc`.
    /// An empty `UKC_CACHE_DIR` turns the cache off.
    pub fn from_env() -> Cache {
        Cache { dir: ukc_oci::cache::root() }
    }

    /// A cache in `dir`, or none.
    pub fn at(dir: Option<PathBuf>) -> Cache {
        Cache { dir }
    }

    /// `wasm` compiled for `engine` and loaded, from the cache when it was compiled before.
    pub fn load(&self, engine: &Engine, wasm: &[u8]) -> Result<(Component, CacheOutcome)> {
        let (artifact, outcome) = self.precompiled(engine, wasm)?;
        // SAFETY: the artifact is `engine`'s own compilation of `wasm`: made just now, or
        // read from the cache after its MAC proved that this user's ukc stored it under
        // this key, which covers the wasmtime version and the engine's configuration.
        let component = unsafe { Component::deserialize(engine, &artifact) }
            .map_err(anyhow::Error::from)
            .context("cannot load the compiled unikernel")?;
        Ok((component, outcome))
    }

    /// The artifact of `wasm` compiled for `engine`, compiled now or read from the cache:
    /// also for an engine configured for another machine (the guest kernel of a VM),
    /// which loads the bytes itself. The key covers `engine`'s configuration, so
    /// artifacts of different engines never mix.
    pub fn precompiled(&self, engine: &Engine, wasm: &[u8]) -> Result<(Vec<u8>, CacheOutcome)> {
        let compile =
            || engine.precompile_component(wasm).map_err(anyhow::Error::from).context("cannot compile the unikernel");
        self.get_or_compile(&key(engine, wasm), compile)
    }

    /// The artifact of `wasm` that `compile` makes, from the cache when it made it
    /// before: for a compiler that costs more to set up than a warm boot should spend.
    /// `configuration` stands for the engine in the key, so it must change whenever
    /// `compile`'s output would (the engine's settings, say, as source text).
    pub fn precompiled_by(
        &self,
        configuration: &[u8],
        wasm: &[u8],
        compile: impl FnOnce() -> Result<Vec<u8>>,
    ) -> Result<(Vec<u8>, CacheOutcome)> {
        self.get_or_compile(
            &digest(&[env!("CARGO_PKG_VERSION").as_bytes(), PATCHES, b"\0configured\0", configuration, wasm]),
            compile,
        )
    }

    /// The entry `name`, or `compile`'s output, stored as `name`.
    fn get_or_compile(&self, name: &str, compile: impl FnOnce() -> Result<Vec<u8>>) -> Result<(Vec<u8>, CacheOutcome)> {
        let Some(dir) = &self.dir else {
            return Ok((compile()?, CacheOutcome::Compiled));
        };
        let cache = match Open::new(dir) {
            Ok(cache) => cache,
            Err(e) => {
                note(dir, &e);
                return Ok((compile()?, CacheOutcome::Compiled));
            }
        };
        match cache.read(name) {
            Ok(Some(artifact)) => return Ok((artifact, CacheOutcome::Hit)),
            Ok(None) => {}
            Err(e) => eprintln!("ukc: note: compiling afresh: {e:#}"),
        }
        let artifact = compile()?;
        match cache.write(name, &artifact) {
            Ok(()) => Ok((artifact, CacheOutcome::Stored)),
            Err(e) => {
                note(dir, &e);
                Ok((artifact, CacheOutcome::Compiled))
            }
        }
    }
}

/// A cache that cannot be used costs this boot a compilation, not its run: it is noted.
fn note(dir: &Path, e: &anyhow::Error) {
    eprintln!("ukc: note: not using the compile cache in {}: {e:#}", dir.display());
}

impl Open {
    /// Opens (or makes) the cache in `dir`, checking that only this user can write it.
    fn new(dir: &Path) -> Result<Open> {
        DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        let metadata = fs::symlink_metadata(dir)?;
        only_mine(&metadata, 0o022, "it")?;
        if !metadata.is_dir() {
            bail!("it is not a directory");
        }
        let secret = secret(&dir.join(SECRET_FILE))?;
        Ok(Open { dir: dir.to_path_buf(), secret })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.{ENTRY}"))
    }

    fn mac(&self, name: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes a key of any length");
        mac.update(name.as_bytes());
        mac
    }

    /// The artifact stored as `name`, if there is one and it passes its check.
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(name);
        let mut file = match OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let genuine = bytes.split_at_checked(MAC_LEN).is_some_and(|(tag, artifact)| {
            let mut mac = self.mac(name);
            mac.update(artifact);
            mac.verify_slice(tag).is_ok()
        });
        if !genuine {
            bail!("{} fails its integrity check (damaged, or not written by this user's ukc)", path.display());
        }
        Ok(Some(bytes.split_off(MAC_LEN)))
    }

    /// Stores `artifact` as `name`, then trims the cache.
    fn write(&self, name: &str, artifact: &[u8]) -> Result<()> {
        let mut mac = self.mac(name);
        mac.update(artifact);
        let mut file = tempfile::Builder::new().prefix(".entry-").tempfile_in(&self.dir)?;
        file.write_all(&mac.finalize().into_bytes())?;
        file.write_all(artifact)?;
        file.persist(self.path(name)).map_err(|e| e.error)?;
        trim(&self.dir);
        Ok(())
    }
}

/// This user's secret in `path`, made now if there is none.
fn secret(path: &Path) -> Result<[u8; SECRET_LEN]> {
    let open = || OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path);
    let mut file = match open() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match make_secret(path)? {
            Some(secret) => return Ok(secret),
            None => open()?,
        },
        opened => opened.with_context(|| format!("cannot open its key {}", path.display()))?,
    };
    only_mine(&file.metadata()?, 0o077, "its key")?;
    let mut secret = [0; SECRET_LEN];
    file.read_exact(&mut secret).context("its key is damaged; delete it to make a new one")?;
    Ok(secret)
}

/// Makes a new secret in `path`, whole or not at all; `None` when a concurrent boot made
/// one first.
fn make_secret(path: &Path) -> Result<Option<[u8; SECRET_LEN]>> {
    let mut secret = [0; SECRET_LEN];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness for its key: {e}"))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::Builder::new().prefix(".key-").tempfile_in(dir)?;
    file.write_all(&secret)?;
    file.as_file().sync_all()?;
    match file.persist_noclobber(path) {
        Ok(_) => Ok(Some(secret)),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(e.error.into()),
    }
}

/// Refuses `what` when another user owns it or may write it (`forbidden` mode bits).
fn only_mine(metadata: &fs::Metadata, forbidden: u32, what: &str) -> Result<()> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if metadata.uid() != me {
        bail!("{what} belongs to user {}, not to this user ({me})", metadata.uid());
    }
    if metadata.mode() & forbidden != 0 {
        bail!("{what} is open to other users (mode {:o}); chmod go-rwx it", metadata.mode() & 0o777);
    }
    Ok(())
}

/// What ukc changes in wasmtime's code generation (vendor/README.md): part of every key,
/// so that artifacts compiled before a change to it are compiled afresh, not run on.
const PATCHES: &[u8] = include_bytes!("../../vendor/wasmtime-environ-48.0.8-bulk-byte-lists.patch");

/// SHA-256 of the ukc and wasmtime versions, ukc's patches to wasmtime, the engine's
/// compatibility hash and the bytes, in hex.
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
    hasher.write(PATCHES);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.write(wasm);
    hex(&hasher.0.finalize())
}

/// SHA-256 of `parts`, each preceded by its length, in hex.
fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Keeps the newest `CACHE_ENTRIES` entries, and no artifacts of earlier versions.
fn trim(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut artifacts: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        match path.extension() {
            Some(x) if x == EARLIER => drop(fs::remove_file(&path)),
            Some(x) if x == ENTRY => {
                if let Ok(modified) = fs::symlink_metadata(&path).and_then(|m| m.modified()) {
                    artifacts.push((modified, path));
                }
            }
            _ => {}
        }
    }
    if artifacts.len() <= CACHE_ENTRIES {
        return;
    }
    artifacts.sort();
    for (_, path) in &artifacts[..artifacts.len() - CACHE_ENTRIES] {
        let _ = fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::engine;
    use std::os::unix::fs::PermissionsExt;

    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";

    fn entries(dir: &Path) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == ENTRY))
            .collect();
        found.sort();
        found
    }

    #[test]
    fn second_load_hits_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(Some(dir.path().join("cache")));
        let engine = engine(false).unwrap();
        assert_eq!(cache.load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Stored);
        assert_eq!(cache.load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Hit);
        assert_eq!(Cache::at(None).load(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Compiled);
        let mode = |p: &Path| fs::metadata(p).unwrap().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("cache")), 0o700);
        assert_eq!(mode(&dir.path().join("cache").join(SECRET_FILE)), 0o600);
    }

    #[test]
    fn a_damaged_or_forged_artifact_is_never_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(Some(dir.path().to_path_buf()));
        let engine = engine(false).unwrap();
        let (genuine, _) = cache.precompiled(&engine, EMPTY_COMPONENT).unwrap();
        let entry = entries(dir.path()).pop().unwrap();
        // A flipped byte, a bare artifact (the old format, or someone else's), and a
        // whole entry made with another secret all fail the check and are replaced.
        let stored = fs::read(&entry).unwrap();
        let mut flipped = stored.clone();
        *flipped.last_mut().unwrap() ^= 1;
        let other = tempfile::tempdir().unwrap();
        Cache::at(Some(other.path().to_path_buf())).precompiled(&engine, EMPTY_COMPONENT).unwrap();
        let foreign = fs::read(entries(other.path()).pop().unwrap()).unwrap();
        for bad in [flipped, genuine.clone(), foreign, b"garbage".to_vec()] {
            fs::write(&entry, &bad).unwrap();
            let (artifact, outcome) = cache.precompiled(&engine, EMPTY_COMPONENT).unwrap();
            assert_eq!((outcome, artifact == genuine), (CacheOutcome::Stored, true));
            assert_eq!(fs::read(&entry).unwrap(), stored, "replaced by a genuine entry");
        }
    }

    #[test]
    fn a_cache_others_can_write_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).unwrap();
        let engine = engine(false).unwrap();
        let cache = Cache::at(Some(shared.clone()));
        assert_eq!(cache.precompiled(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Compiled);
        assert!(entries(&shared).is_empty(), "nothing written there");
        // Nor is one whose key others can read.
        let private = dir.path().join("private");
        let cache = Cache::at(Some(private.clone()));
        cache.precompiled(&engine, EMPTY_COMPONENT).unwrap();
        fs::set_permissions(private.join(SECRET_FILE), fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(cache.precompiled(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Compiled);
    }

    #[test]
    fn links_in_the_cache_are_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("cache");
        let cache = Cache::at(Some(cache_dir.clone()));
        let engine = engine(false).unwrap();
        cache.precompiled(&engine, EMPTY_COMPONENT).unwrap();
        let entry = entries(&cache_dir).pop().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"precious").unwrap();
        fs::remove_file(&entry).unwrap();
        std::os::unix::fs::symlink(&victim, &entry).unwrap();
        assert_eq!(cache.precompiled(&engine, EMPTY_COMPONENT).unwrap().1, CacheOutcome::Stored);
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        assert!(!fs::symlink_metadata(&entry).unwrap().file_type().is_symlink(), "the link was replaced");
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
