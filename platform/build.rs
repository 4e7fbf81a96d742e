//! Parses ukc's WIT (`wit/`) and WASI's (from the wasip2 crate) and writes the tables
//! `src/lib.rs` includes: `WIT_FILES` and `PLATFORM_WORLDS`.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

fn main() -> Result<()> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let wit = manifest_dir.join("../wit").canonicalize()?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed={}", wit.display());
    std::fs::write(out_dir.join("wit.rs"), wit_table(&wit)?)?;
    std::fs::write(out_dir.join("platforms.rs"), platforms_table(&wit, &out_dir)?)?;
    Ok(())
}

/// Generates `PLATFORM_WORLDS`: every world of `ukc:platform` and of `wasi:cli`, with what
/// `ukc compose` needs of each, so that it does not parse the WIT on every run.
fn platforms_table(wit: &Path, out_dir: &Path) -> Result<String> {
    let mut ukc = wit_parser::Resolve::default();
    let mut files = Vec::new();
    collect_wit(wit, wit, &mut files)?;
    // Each device package before the platform package, which uses them.
    files.sort_by_key(|(relative, _)| (!relative.starts_with("deps/"), relative.clone()));
    let mut ukc_platform = None;
    for (relative, absolute) in &files {
        let source = std::fs::read_to_string(absolute)?;
        ukc_platform = Some(ukc.push_str(relative, &source).with_context(|| format!("parsing wit/{relative}"))?);
    }
    let wasi_dir = ukc_wasi_wit::locate().map_err(anyhow::Error::msg)?;
    println!("cargo:rerun-if-changed={}", wasi_dir.display());
    let mut wasi = wit_parser::Resolve::default();
    let mut wasi_cli = None;
    for package in ukc_wasi_wit::PACKAGES {
        let file = wasi_dir.join("deps").join(format!("{package}.wit"));
        let source = std::fs::read_to_string(&file)?;
        wasi_cli = Some(wasi.push_str(&file, &source).with_context(|| format!("parsing {}", file.display()))?);
    }
    let mut table = String::from(
        "/// Every world of the platform packages (`ukc:platform`, `wasi:cli`), parsed when ukc was built.\n\
         pub const PLATFORM_WORLDS: &[PlatformWorld] = &[\n",
    );
    for (resolve, package) in
        [(&ukc, ukc_platform.context("wit/ is empty")?), (&wasi, wasi_cli.context("no WASI WIT")?)]
    {
        let name = &resolve.packages[package].name;
        let package_name = format!("{}:{}", name.namespace, name.name);
        let encoded = out_dir.join(format!("{}-{}.wit.wasm", name.namespace, name.name));
        std::fs::write(&encoded, wit_component::encode(resolve, package)?)?;
        for (world_name, &world) in &resolve.packages[package].worlds {
            let world = &resolve.worlds[world];
            let key_names = |keys: Vec<&wit_parser::WorldKey>| -> Result<Vec<String>> {
                keys.into_iter()
                    .map(|key| match key {
                        wit_parser::WorldKey::Interface(id) => resolve.id_of(*id).context("an unnamed interface"),
                        wit_parser::WorldKey::Name(name) => Ok(name.clone()),
                    })
                    .collect()
            };
            table.push_str(&format!(
                "    PlatformWorld {{ package: {package_name:?}, world: {world_name:?}, imports: &{:?}, exports: &{:?}, wit_package: include_bytes!({:?}) }},\n",
                key_names(world.imports.keys().collect())?,
                key_names(world.exports.keys().collect())?,
                encoded.display().to_string()
            ));
        }
    }
    table.push_str("];\n");
    Ok(table)
}

/// Generates `WIT_FILES`: every `.wit` file under `wit/`, by path relative to it.
fn wit_table(wit: &Path) -> Result<String> {
    let mut files = Vec::new();
    collect_wit(wit, wit, &mut files)?;
    files.sort();
    let mut table = String::from(
        "/// The WIT packages ukc provides, as (path relative to `wit/`, contents).\npub const WIT_FILES: &[(&str, &str)] = &[\n",
    );
    for (relative, absolute) in files {
        table.push_str(&format!("    ({relative:?}, include_str!({absolute:?})),\n"));
    }
    table.push_str("];\n");
    Ok(table)
}

fn collect_wit(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_wit(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "wit") {
            let relative = path.strip_prefix(root)?.to_string_lossy().into_owned();
            out.push((relative, path.display().to_string()));
        }
    }
    Ok(())
}
