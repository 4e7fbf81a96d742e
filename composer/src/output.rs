//! Writing outputs whole or not at all.

use anyhow::{Context, Result, bail};
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Writes `bytes` to `path`, or to standard output for `-`. A file is written to a
/// temporary name in the same directory and renamed into place, so a failure never
/// leaves a partial file behind and an existing file is replaced only by a whole one.
pub fn write(path: &str, bytes: &[u8]) -> Result<()> {
    if path == "-" {
        let mut stdout = std::io::stdout().lock();
        if stdout.is_terminal() && bytes.first() == Some(&0) {
            bail!("refusing to write WebAssembly to a terminal; redirect standard output or give -o FILE");
        }
        stdout.write_all(bytes).context("cannot write to standard output")?;
        return stdout.flush().context("cannot write to standard output");
    }
    let target = Path::new(path);
    if target.is_dir() {
        bail!("cannot write {path}: it is a directory; name a file, such as {path}/unikernel.wasm");
    }
    // A device or a pipe (`-o /dev/null`, a FIFO) is written in place: renaming a
    // temporary file over it would replace the device itself.
    if target.exists() && !target.is_file() {
        return std::fs::OpenOptions::new()
            .write(true)
            .open(target)
            .and_then(|mut f| f.write_all(bytes))
            .with_context(|| format!("cannot write {path}"));
    }
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        bail!("cannot write {path}: the directory {} does not exist", dir.display());
    }
    let file_name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.ukc-{}.tmp", std::process::id()));
    let result = std::fs::write(&tmp, bytes)
        .with_context(|| format!("cannot write {path}"))
        .and_then(|()| std::fs::rename(&tmp, target).with_context(|| format!("cannot write {path}")));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
