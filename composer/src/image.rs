//! The `kv-image` component `ukc compose --data NAME=DIR` generates: the baked kv stores,
//! one read-only byte image exported as `ukc:kv/image`, which the `kv-data` driver serves
//! as `ukc:kv/ro` stores. MirageOS's crunch, without generated code: the image is data in
//! a core module's memory, with two functions that hand out its bytes.
//!
//! The image's layout (the contract with `kv-data`, in the WIT's words): a header of
//! lines, `ukc-kv-image 1`, then `NAME OFFSET SIZE` per store, ended by an empty line and
//! zero-padded to 512 bytes; then each store as a tar archive at a 512-byte-aligned offset.

use crate::component::Component;
use crate::generated::Generated;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use ukc_manifest::BakedStore;
use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, ExportKind, ExportSection, Function, FunctionSection, Instruction, MemArg,
    Module, TypeSection, ValType,
};

/// The generated component: its name, as `describe` shows it, and interface.
pub const GENERATED: Generated = Generated {
    name: "kv-image",
    description: "The kv stores baked in with `ukc compose --data`, for the kv-data driver",
    interface: INTERFACE,
};

/// The driver that serves the image as kv stores.
pub const DRIVER: &str = "kv-data";

/// The interface it exports.
const INTERFACE: &str = "ukc:kv/image@0.1.0";

/// Where the image starts in the module's memory; bytes 0..8 are `read`'s return area
/// (the list's pointer and length, as the canonical ABI returns a `list<u8>`).
const IMAGE_AT: u32 = 16;

/// The image's header, at most: what the kv-data driver reads of it (`layout::MAX_HEADER`
/// there).
const MAX_HEADER: usize = 64 * 1024;

/// A `--data NAME=DIR` choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Data {
    /// The kv device it becomes.
    pub name: String,
    /// The directory baked in.
    pub dir: PathBuf,
}

impl Data {
    /// Parses `NAME=DIR`.
    pub fn parse(text: &str) -> Result<Data> {
        let Some((name, dir)) = text.split_once('=') else {
            bail!("--data {text}: expected NAME=DIR, such as storage=./site (NAME is the kv device the app opens)");
        };
        if let Err(e) = ukc_manifest::check_device_name(name) {
            bail!("--data {text}: {e}");
        }
        if dir.is_empty() {
            bail!("--data {text}: name the directory to bake in after '='");
        }
        Ok(Data { name: name.to_string(), dir: PathBuf::from(dir) })
    }
}

/// The image of `data`'s directories, and what each store holds.
pub fn build(data: &[Data]) -> Result<(Vec<u8>, Vec<BakedStore>)> {
    let mut archives = Vec::new();
    let mut baked = Vec::new();
    for d in data {
        if data.iter().filter(|other| other.name == d.name).count() > 1 {
            bail!("--data {}: the store is given twice; bake one directory per name", d.name);
        }
        let (archive, files) = archive(&d.dir).with_context(|| format!("--data {}={}", d.name, d.dir.display()))?;
        baked.push(BakedStore { name: d.name.clone(), files, bytes: archive.len() as u64 });
        archives.push(archive);
    }
    let mut header = String::from("ukc-kv-image 1\n");
    let header_len = |text: &str| (text.len() as u64 + 1).next_multiple_of(512);
    // Offsets depend on the header's length, which depends on the offsets' digits: lay
    // out with a header long enough for any offset, then write it.
    let mut lines: Vec<(String, u64)> = Vec::new();
    let guess = header_len(&format!(
        "{header}{}",
        data.iter().map(|d| format!("{} {} {}\n", d.name, u64::MAX, u64::MAX)).collect::<String>()
    ));
    let mut at = guess;
    for (d, archive) in data.iter().zip(&archives) {
        lines.push((d.name.clone(), at));
        at += archive.len() as u64;
    }
    for ((name, offset), archive) in lines.iter().zip(&archives) {
        header.push_str(&format!("{name} {offset} {}\n", archive.len()));
    }
    header.push('\n');
    if header.len() > MAX_HEADER {
        bail!(
            "--data: {} stores make a header over {MAX_HEADER} bytes, more than kv-data reads; bake fewer",
            data.len()
        );
    }
    let mut image = header.into_bytes();
    image.resize(guess as usize, 0);
    for archive in &archives {
        image.extend_from_slice(archive);
    }
    Ok((image, baked))
}

/// A tar archive of `dir` (regular files and directories, sorted, owner 0, the files'
/// modification times) and the number of files in it.
fn archive(dir: &Path) -> Result<(Vec<u8>, u64)> {
    let meta = std::fs::metadata(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    if !meta.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let mut builder = tar::Builder::new(Vec::new());
    let mut files = 0;
    let root = std::fs::canonicalize(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    add_dir(&mut builder, &root, dir, "", &mut files)?;
    let bytes = builder.into_inner().context("writing the archive")?;
    Ok((bytes, files))
}

/// Adds what `dir` (inside `root`, the baked directory made canonical) holds, under `prefix`.
fn add_dir(builder: &mut tar::Builder<Vec<u8>>, root: &Path, dir: &Path, prefix: &str, files: &mut u64) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot list {}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            bail!("{}: the name is not UTF-8; kv keys are text", path.display());
        };
        let key = format!("{prefix}{name}");
        // Symbolic links to files inside the directory are followed, as `tar -h` does: the
        // store holds what they show. A link out of it could bake anything the user can
        // read (a key, say) into an image that may be served or pushed: refused.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            let target = std::fs::canonicalize(&path).with_context(|| format!("{}: a broken link", path.display()))?;
            if !target.starts_with(root) {
                bail!(
                    "{} is a link to {}, outside the directory; --data bakes only what the directory holds",
                    path.display(),
                    target.display()
                );
            }
        }
        let meta = std::fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let mtime =
            meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs());
        let mut header = tar::Header::new_gnu();
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        if meta.is_dir() {
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                bail!(
                    "{}: a link to a directory; --data bakes the directory itself, not links to others",
                    path.display()
                );
            }
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            builder.append_data(&mut header, format!("{key}/"), std::io::empty())?;
            add_dir(builder, root, &path, &format!("{key}/"), files)?;
        } else if meta.is_file() {
            let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(0o644);
            header.set_size(bytes.len() as u64);
            builder.append_data(&mut header, &key, bytes.as_slice())?;
            *files += 1;
        } else {
            bail!("{}: neither a file nor a directory; --data bakes only those", path.display());
        }
    }
    Ok(())
}

/// The component holding `image`.
pub fn component(image: &[u8]) -> Result<Component> {
    GENERATED.component(core_module(image)?)
}

/// A module exporting `memory`, `INTERFACE#size` and `INTERFACE#read`.
fn core_module(image: &[u8]) -> Result<Vec<u8>> {
    let size = u32::try_from(image.len())
        .ok()
        .filter(|&n| u64::from(IMAGE_AT) + u64::from(n) <= u64::from(u32::MAX))
        .context("the baked stores are over 4 GiB; bake less, or attach the data as a device")?;
    let pages = (u64::from(IMAGE_AT) + u64::from(size)).div_ceil(65536).max(1);
    let mut types = TypeSection::new();
    types.ty().function([], [ValType::I64]);
    types.ty().function([ValType::I64, ValType::I32], [ValType::I32]);
    let mut functions = FunctionSection::new();
    functions.function(0);
    functions.function(1);
    let memories = crate::generated::fixed_memory(pages);
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export(&format!("{INTERFACE}#size"), ExportKind::Func, 0);
    exports.export(&format!("{INTERFACE}#read"), ExportKind::Func, 1);
    let mut code = CodeSection::new();
    let mut size_body = Function::new([]);
    size_body.instruction(&Instruction::I64Const(i64::from(size)));
    size_body.instruction(&Instruction::End);
    code.function(&size_body);
    code.function(&read_body(size));
    let mut data = DataSection::new();
    data.active(0, &ConstExpr::i32_const(IMAGE_AT as i32), image.iter().copied());
    let mut module = Module::new();
    module.section(&types).section(&functions).section(&memories).section(&exports).section(&code).section(&data);
    Ok(module.finish())
}

/// `read(offset: u64, len: u32)`: the list from `IMAGE_AT + start` of `n` bytes, where
/// `start = min(offset, size)` and `n = min(len, size - start)`, in the return area at 0.
fn read_body(size: u32) -> Function {
    use Instruction::*;
    // Locals: 0 offset (i64), 1 len (i32), 2 start (i32).
    let mut f = Function::new([(1, ValType::I32)]);
    let word = MemArg { offset: 0, align: 2, memory_index: 0 };
    // start = offset < size ? offset : size
    f.instruction(&LocalGet(0));
    f.instruction(&I64Const(i64::from(size)));
    f.instruction(&LocalGet(0));
    f.instruction(&I64Const(i64::from(size)));
    f.instruction(&I64LtU);
    f.instruction(&Select);
    f.instruction(&I32WrapI64);
    f.instruction(&LocalSet(2));
    // return_area.ptr = IMAGE_AT + start
    f.instruction(&I32Const(0));
    f.instruction(&LocalGet(2));
    f.instruction(&I32Const(IMAGE_AT as i32));
    f.instruction(&I32Add);
    f.instruction(&I32Store(word));
    // return_area.len = min(len, size - start), unsigned
    f.instruction(&I32Const(4));
    f.instruction(&LocalGet(1));
    f.instruction(&I32Const(size as i32));
    f.instruction(&LocalGet(2));
    f.instruction(&I32Sub);
    f.instruction(&LocalGet(1));
    f.instruction(&I32Const(size as i32));
    f.instruction(&LocalGet(2));
    f.instruction(&I32Sub);
    f.instruction(&I32LtU);
    f.instruction(&Select);
    f.instruction(&I32Store(word));
    f.instruction(&I32Const(0));
    f.instruction(&End);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placeholder_resolves_as_the_component_does() {
        let real = component(b"ukc-kv-image 1\n\n").unwrap();
        let placeholder = GENERATED.placeholder();
        assert_eq!((placeholder.name, placeholder.exports), (real.name, real.exports));
        assert_eq!((placeholder.imports, placeholder.manifest), (real.imports, real.manifest));
    }

    #[test]
    fn the_header_lists_each_store_at_an_aligned_offset() {
        let dir = tempfile::tempdir().unwrap();
        for (store, file, text) in [("a", "x.txt", "one"), ("b", "y/z.txt", "two")] {
            let path = dir.path().join(store).join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let data: Vec<Data> =
            ["a", "b"].iter().map(|n| Data::parse(&format!("{n}={}", dir.path().join(n).display())).unwrap()).collect();
        let (image, stores) = build(&data).unwrap();
        let header = String::from_utf8_lossy(&image[..image.iter().position(|&b| b == 0).unwrap()]).into_owned();
        let lines: Vec<&str> = header.lines().collect();
        assert_eq!(lines[0], "ukc-kv-image 1");
        for (line, store) in lines[1..3].iter().zip(&stores) {
            let words: Vec<u64> = line.split(' ').skip(1).map(|w| w.parse().unwrap()).collect();
            assert!(line.starts_with(&format!("{} ", store.name)));
            assert_eq!((words[0] % 512, words[1]), (0, store.bytes));
            let archive = &image[words[0] as usize..(words[0] + words[1]) as usize];
            assert!(archive.windows(3).any(|w| w == b"one" || w == b"two"));
        }
        assert_eq!(stores.iter().map(|s| s.files).collect::<Vec<_>>(), [1, 1]);
        assert!(header.ends_with("\n\n"));
    }
}
