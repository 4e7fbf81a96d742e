//! OCI image layouts (`oci:DIR[:TAG]`) and their tar archives (`oci-archive:FILE[:TAG]`),
//! as skopeo, podman and containerd read and write them.

use crate::digest::Digest;
use crate::json::{canonical, created};
use crate::package::{Blob, Descriptor, MANIFEST_MEDIA_TYPE, MAX_COMPONENT, MAX_METADATA, Package};
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
const REF_NAME: &str = "org.opencontainers.image.ref.name";
const LAYOUT_FILE: &str = "oci-layout";
const LAYOUT_VERSION: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;

/// The files of a layout: a directory, or an archive read into memory.
enum Files {
    Dir(PathBuf),
    Archive(BTreeMap<String, Vec<u8>>),
}

impl Files {
    fn read(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        match self {
            Files::Dir(dir) => {
                let path = dir.join(name);
                let file = std::fs::File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
                let mut bytes = Vec::new();
                file.take(limit + 1)
                    .read_to_end(&mut bytes)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                if bytes.len() as u64 > limit {
                    bail!(
                        "{} is larger than expected ({limit} bytes at most); it is damaged or not what the layout says",
                        path.display()
                    );
                }
                Ok(bytes)
            }
            Files::Archive(files) => match files.get(name) {
                Some(bytes) if bytes.len() as u64 > limit => {
                    bail!(
                        "{name} in the archive is larger than expected ({limit} bytes at most); it is damaged or not what the layout says"
                    )
                }
                Some(bytes) => Ok(bytes.clone()),
                None => bail!("the archive has no {name}"),
            },
        }
    }
}

/// Reads the package tagged `tag` (or the only one, when `tag` is `None`) from the layout in
/// `dir`, checking every blob against its digest.
pub fn read_dir(dir: &Path, tag: Option<&str>) -> Result<Package> {
    let what = format!("oci:{}", dir.display());
    if !dir.join(LAYOUT_FILE).is_file() {
        bail!("{what}: not an OCI image layout (no {LAYOUT_FILE} file); make one with `ukc package`");
    }
    read(&Files::Dir(dir.to_path_buf()), tag, &what)
}

/// Reads the package tagged `tag` (or the only one) from an `oci-archive` tar file.
pub fn read_archive(file: &Path, tag: Option<&str>) -> Result<Package> {
    let tar = std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    read_archive_from(tar, tag, &format!("oci-archive:{}", file.display()))
}

/// Reads the package tagged `tag` (or the only one) from an `oci-archive` tar stream;
/// `what` names it in messages.
pub fn read_archive_from(tar: impl Read, tag: Option<&str>, what: &str) -> Result<Package> {
    let mut files = BTreeMap::new();
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries().with_context(|| format!("{what}: not a tar archive"))? {
        let mut entry = entry.with_context(|| format!("{what}: damaged tar archive"))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().with_context(|| format!("{what}: damaged tar archive"))?;
        let name = name.to_string_lossy().trim_start_matches("./").to_string();
        // Only what a layout holds is kept, each read to its limit and one byte more (so
        // that `Files::read` can tell it is too large): an archive cannot make ukc hold
        // entries nothing reads, nor one entry without bound.
        let limit = match name.as_str() {
            LAYOUT_FILE | "index.json" => MAX_METADATA,
            blob if is_blob_path(blob) => MAX_COMPONENT,
            _ => continue,
        };
        let mut bytes = Vec::new();
        (&mut entry).take(limit + 1).read_to_end(&mut bytes).with_context(|| format!("{what}: damaged tar archive"))?;
        files.insert(name, bytes);
    }
    if !files.contains_key(LAYOUT_FILE) {
        bail!("{what}: not an OCI archive (no {LAYOUT_FILE} file); make one with `ukc package`");
    }
    read(&Files::Archive(files), tag, what)
}

fn read(files: &Files, tag: Option<&str>, what: &str) -> Result<Package> {
    let index: Value = serde_json::from_slice(&files.read("index.json", MAX_METADATA)?)
        .with_context(|| format!("{what}: index.json is not JSON"))?;
    let entries = index.get("manifests").and_then(Value::as_array).cloned().unwrap_or_default();
    fn tag_of(entry: &Value) -> Option<&str> {
        entry.get("annotations")?.get(REF_NAME)?.as_str()
    }
    let chosen = match tag {
        Some(tag) => entries.iter().find(|e| tag_of(e) == Some(tag)).ok_or_else(|| {
            let tags: Vec<&str> = entries.iter().filter_map(tag_of).collect();
            anyhow!("{what} has no package tagged {tag:?} (its tags: {})", list(&tags))
        })?,
        None => match entries.as_slice() {
            [only] => only,
            [] => bail!("{what} holds no package"),
            _ => {
                let tags: Vec<&str> = entries.iter().filter_map(tag_of).collect();
                bail!("{what} holds several packages; name one with :TAG (its tags: {})", list(&tags))
            }
        },
    };
    let descriptor = Descriptor::from_json(chosen, &format!("{what}: index.json entry"))?;
    if descriptor.media_type != MANIFEST_MEDIA_TYPE {
        bail!("{what}: the entry is a {}, not an image manifest", descriptor.media_type);
    }
    let blob = |d: &Descriptor, limit: u64| files.read(&format!("blobs/sha256/{}", d.digest.hex()), limit.min(d.size));
    let manifest = blob(&descriptor, MAX_METADATA)?;
    descriptor.verify(&manifest, &format!("{what}: manifest {}", descriptor.digest))?;
    let manifest =
        Blob { media_type: descriptor.media_type.clone(), digest: descriptor.digest.clone(), bytes: manifest };
    Package::read(manifest, what, |d| blob(d, d.size))
}

/// `blobs/sha256/` and 64 lowercase hex digits.
fn is_blob_path(name: &str) -> bool {
    name.strip_prefix("blobs/sha256/").is_some_and(|hex| Digest::parse(&format!("sha256:{hex}")).is_ok())
}

fn list(tags: &[&str]) -> String {
    if tags.is_empty() { "none".to_string() } else { tags.join(", ") }
}

/// The files of a layout holding `package` under `tag`, by path, sorted.
fn files_of(package: &Package, tag: &str) -> BTreeMap<String, Vec<u8>> {
    let mut entry = json!({
        "mediaType": MANIFEST_MEDIA_TYPE,
        "digest": package.manifest.digest.as_str(),
        "size": package.manifest.bytes.len(),
    });
    entry["annotations"] = json!({ REF_NAME: tag });
    let index = json!({"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": [entry]});
    let mut files = BTreeMap::new();
    for blob in [&package.manifest, &package.config, &package.component] {
        files.insert(format!("blobs/sha256/{}", blob.digest.hex()), blob.bytes.clone());
    }
    files.insert("index.json".to_string(), canonical(&index));
    files.insert(LAYOUT_FILE.to_string(), LAYOUT_VERSION.as_bytes().to_vec());
    files
}

/// Writes `package` as a new OCI image layout in `dir` (which must not exist, or be
/// empty), tagged `tag`. Files appear under a temporary name and are moved in place at the
/// end, so a failure leaves nothing half-written.
pub fn write_dir(dir: &Path, tag: &str, package: &Package) -> Result<()> {
    if dir.exists() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        bail!("{} already exists and is not empty; remove it or choose another directory", dir.display());
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let staging = tempfile::Builder::new()
        .prefix(".ukc-package")
        .tempdir_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    for (name, bytes) in files_of(package, tag) {
        let path = staging.path().join(&name);
        std::fs::create_dir_all(path.parent().expect("layout files live in directories"))?;
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let _ = std::fs::remove_dir(dir);
    let staged = staging.keep();
    std::fs::rename(&staged, dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(())
}

/// Writes `package` as an `oci-archive` tar file: the layout's files in sorted order, with
/// fixed owners, modes and times, so the same package gives the same archive.
pub fn write_archive(file: &Path, tag: &str, package: &Package) -> Result<()> {
    let (mtime, _) = created();
    let files = files_of(package, tag);
    let dirs: std::collections::BTreeSet<String> = files
        .keys()
        .flat_map(|name| Path::new(name).ancestors().skip(1).map(|d| d.display().to_string()).collect::<Vec<_>>())
        .filter(|d| !d.is_empty())
        .collect();
    let mut tar = tar::Builder::new(Vec::new());
    for dir in dirs {
        let mut header = header(&format!("{dir}/"), tar::EntryType::Directory, 0o755, mtime);
        header.set_size(0);
        header.set_cksum();
        tar.append(&header, std::io::empty())?;
    }
    for (name, bytes) in files {
        let mut header = header(&name, tar::EntryType::Regular, 0o644, mtime);
        header.set_size(bytes.len() as u64);
        header.set_cksum();
        tar.append(&header, bytes.as_slice())?;
    }
    let bytes = tar.into_inner()?;
    crate::write_file(file, &bytes)
}

fn header(name: &str, kind: tar::EntryType, mode: u32, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_path(name).expect("layout paths are short and relative");
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(mtime);
    header
}
