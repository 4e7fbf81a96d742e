//! Writing outputs whole or not at all, and never over an input.
//!
//! A command stages every file it writes in [`Outputs`], then commits them together. Each
//! is staged under a fresh random name in its own directory, created exclusively (never
//! through a symlink, never over an existing file), and renamed into place only when all
//! are staged: a failure leaves every file that was there before as it was.

use anyhow::{Context, Result, bail};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// The files a command writes, staged until [`Outputs::commit`].
pub struct Outputs {
    inputs: Vec<String>,
    staged: Vec<(NamedTempFile, PathBuf)>,
    in_place: Vec<(String, Vec<u8>)>,
    names: Vec<PathBuf>,
}

impl Outputs {
    /// Outputs that must not name any of `inputs` (files the command reads).
    pub fn new<'a>(inputs: impl IntoIterator<Item = &'a str>) -> Outputs {
        let inputs = inputs.into_iter().filter(|i| *i != "-").map(str::to_string).collect();
        Outputs { inputs, staged: Vec::new(), in_place: Vec::new(), names: Vec::new() }
    }

    /// Stages `bytes` for `path` (`-` is standard output, written at commit).
    pub fn add(&mut self, path: &str, bytes: &[u8]) -> Result<()> {
        if path == "-" {
            if std::io::stdout().is_terminal() && bytes.first() == Some(&0) {
                bail!("refusing to write WebAssembly to a terminal; redirect standard output or give -o FILE");
            }
            self.in_place.push(("-".into(), bytes.to_vec()));
            return Ok(());
        }
        let target = Path::new(path);
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let Some(file_name) = target.file_name() else {
            bail!("cannot write {path}: it names no file; name one, such as {path}/unikernel.wasm");
        };
        if !dir.is_dir() {
            bail!("cannot write {path}: the directory {} does not exist", dir.display());
        }
        if let Some(input) = self.inputs.iter().find(|input| same_file(Path::new(input), target)) {
            bail!("refusing to write {path}: it is the input {input}; choose another output file");
        }
        // Where the file lands, with the directory's symlinks resolved, to tell whether two
        // outputs name one file.
        let landing = std::fs::canonicalize(dir).with_context(|| format!("cannot write {path}"))?.join(file_name);
        if self.names.contains(&landing) {
            bail!("{path} is named for two outputs; give each its own file");
        }
        self.names.push(landing);
        if target.is_dir() {
            bail!("cannot write {path}: it is a directory; name a file, such as {path}/unikernel.wasm");
        }
        // A device or a pipe (`-o /dev/null`, a FIFO) is written in place: renaming a
        // file over it would replace the device itself.
        if target.exists() && !target.is_file() {
            self.in_place.push((path.to_string(), bytes.to_vec()));
            return Ok(());
        }
        let prefix = format!(".{}.", file_name.to_string_lossy());
        let mut staged = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".ukc.tmp")
            .tempfile_in(dir)
            .with_context(|| format!("cannot write {path}"))?;
        staged.write_all(bytes).with_context(|| format!("cannot write {path}"))?;
        self.staged.push((staged, target.to_path_buf()));
        Ok(())
    }

    /// Renames every staged file into place, then writes standard output and devices.
    pub fn commit(self) -> Result<()> {
        for (staged, target) in self.staged {
            staged
                .persist(&target)
                .map_err(|e| e.error)
                .with_context(|| format!("cannot write {}", target.display()))?;
        }
        for (path, bytes) in self.in_place {
            if path == "-" {
                write_stdout(&bytes)?;
            } else {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .and_then(|mut f| f.write_all(&bytes))
                    .with_context(|| format!("cannot write {path}"))?;
            }
        }
        Ok(())
    }
}

/// Writes one output, whole or not at all (see [`Outputs`]).
pub fn write(path: &str, bytes: &[u8]) -> Result<()> {
    let mut outputs = Outputs::new([]);
    outputs.add(path, bytes)?;
    outputs.commit()
}

fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes).context("cannot write to standard output")?;
    stdout.flush().context("cannot write to standard output")
}

/// Whether `a` and `b` are one file, by any name: through `..`, a symlink, or a hard link.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_failed_output_leaves_every_earlier_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let side = dir.path().join("app.wac");
        std::fs::write(&side, "before").unwrap();
        let mut outputs = Outputs::new([]);
        outputs.add(side.to_str().unwrap(), b"after").unwrap();
        let missing = dir.path().join("no-such-dir/out.wasm");
        let error = outputs.add(missing.to_str().unwrap(), b"\0asm").unwrap_err();
        assert!(error.to_string().contains("does not exist"), "{error}");
        drop(outputs);
        assert_eq!(std::fs::read_to_string(&side).unwrap(), "before");
        assert_eq!(leftovers(dir.path()), ["app.wac"], "no staged file is left behind");
    }

    #[test]
    fn outputs_land_together_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.wac"), dir.path().join("a.wasm"));
        std::fs::write(&b, "old").unwrap();
        let mut outputs = Outputs::new([]);
        outputs.add(a.to_str().unwrap(), b"doc").unwrap();
        outputs.add(b.to_str().unwrap(), b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "old", "nothing lands before the commit");
        outputs.commit().unwrap();
        assert_eq!((std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap()), (b"doc".to_vec(), b"new".to_vec()));
        assert_eq!(leftovers(dir.path()), ["a.wac", "a.wasm"]);
    }

    #[test]
    fn an_input_is_never_an_output_by_any_name() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app.wasm");
        std::fs::write(&app, "input").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/up")).unwrap();
        std::fs::hard_link(&app, dir.path().join("link.wasm")).unwrap();
        let mut outputs = Outputs::new([app.to_str().unwrap()]);
        for name in ["app.wasm", "sub/../app.wasm", "sub/up/app.wasm", "link.wasm"] {
            let path = dir.path().join(name);
            let error = outputs.add(path.to_str().unwrap(), b"x").unwrap_err();
            assert!(error.to_string().contains("is the input"), "{name}: {error}");
        }
        assert_eq!(std::fs::read_to_string(&app).unwrap(), "input");
    }

    #[test]
    fn one_file_named_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wasm");
        let mut outputs = Outputs::new([]);
        outputs.add(path.to_str().unwrap(), b"1").unwrap();
        let error = outputs.add(dir.path().join("./x.wasm").to_str().unwrap(), b"2").unwrap_err();
        assert!(error.to_string().contains("two outputs"), "{error}");
    }

    #[test]
    fn a_symlink_planted_at_the_staging_place_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "safe").unwrap();
        // The old predictable staging name, planted as a symlink to another file.
        let planted = dir.path().join(format!(".out.wasm.ukc-{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        write(dir.path().join("out.wasm").to_str().unwrap(), b"unikernel").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "safe");
        assert_eq!(std::fs::read(dir.path().join("out.wasm")).unwrap(), b"unikernel");
    }

    #[test]
    fn a_device_is_written_in_place() {
        write("/dev/null", b"\0asm").unwrap();
        assert!(Path::new("/dev/null").exists());
    }
}
