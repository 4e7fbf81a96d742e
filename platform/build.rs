//! Parses ukc's WIT (`wit/`) and WASI's (from the wasip2 crate) and writes the tables
//! `src/lib.rs` includes: `WIT_FILES` and `PLATFORM_WORLDS`.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

fn main() -> Result<()> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let wit = manifest_dir.join("../wit").canonicalize()?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed={}", wit.display());
    let files = wit_files(&wit)?;
    std::fs::write(out_dir.join("wit.rs"), wit_table(&files))?;
    std::fs::write(out_dir.join("platforms.rs"), platforms_table(&files, &out_dir)?)?;
    Ok(())
}

/// Generates `PLATFORM_WORLDS`: every world of `ukc:platform` and of `wasi:cli`, with what
/// `ukc compose` needs of each, so that it does not parse the WIT on every run.
fn platforms_table(files: &[(String, String)], out_dir: &Path) -> Result<String> {
    let mut ukc = wit_parser::Resolve::default();
    let mut ukc_platform = None;
    for (relative, absolute) in files {
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
            let mut import_uses = Vec::new();
            for key in world.imports.keys() {
                let uses = match key {
                    wit_parser::WorldKey::Interface(id) => key_names(interfaces_used(resolve, *id).iter().collect())?,
                    wit_parser::WorldKey::Name(_) => Vec::new(),
                };
                import_uses.push(format!("&{uses:?}"));
            }
            table.push_str(&format!(
                "    PlatformWorld {{ package: {package_name:?}, world: {world_name:?}, imports: &{:?}, exports: &{:?}, import_uses: &[{}], wit_package: include_bytes!({:?}) }},\n",
                key_names(world.imports.keys().collect())?,
                key_names(world.exports.keys().collect())?,
                import_uses.join(", "),
                encoded.display().to_string()
            ));
        }
    }
    table.push_str("];\n");
    Ok(table)
}

/// The other interfaces whose resources the interface `id` uses (`use i.{r}`), in order.
/// Only resources tie two imports to one provider: other types match by structure.
fn interfaces_used(resolve: &wit_parser::Resolve, id: wit_parser::InterfaceId) -> Vec<wit_parser::WorldKey> {
    let mut used = Vec::new();
    for &ty in resolve.interfaces[id].types.values() {
        if let wit_parser::TypeDefKind::Type(wit_parser::Type::Id(original)) = resolve.types[ty].kind
            && let wit_parser::TypeDefKind::Resource = resolve.types[original].kind
            && let wit_parser::TypeOwner::Interface(owner) = resolve.types[original].owner
            && owner != id
            && !used.contains(&wit_parser::WorldKey::Interface(owner))
        {
            used.push(wit_parser::WorldKey::Interface(owner));
        }
    }
    used
}

/// Generates `WIT_FILES`: every `.wit` file under `wit/` (`files`, from [`wit_files`]),
/// by path relative to it.
fn wit_table(files: &[(String, String)]) -> String {
    let mut table = String::from(
        "/// The WIT packages ukc provides, as (path relative to `wit/`, contents), each after\n\
         /// the packages it uses (the platform package last): the order to parse them in.\n\
         pub const WIT_FILES: &[(&str, &str)] = &[\n",
    );
    for (relative, absolute) in files {
        table.push_str(&format!("    ({relative:?}, include_str!({absolute:?})),\n"));
    }
    table.push_str("];\n");
    table
}

/// Every `.wit` file under `wit` as (path relative to it, absolute path), each package
/// after those it uses (`ukc:sendfile` uses `ukc:tcpip` and `ukc:kv`; the platform uses
/// them all), in name order otherwise; a `Resolve` takes them one by one in that order.
fn wit_files(wit: &Path) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    collect_wit(wit, wit, &mut files)?;
    files.sort();
    let mut pending = Vec::new();
    for (relative, absolute) in files {
        let source = std::fs::read_to_string(&absolute)?;
        let group = wit_parser::UnresolvedPackageGroup::parse(&relative, &source)
            .map_err(|(_, e)| anyhow::anyhow!("parsing wit/{relative}: {e}"))?;
        let name = group.main.name.to_string();
        let uses: Vec<String> = group.main.foreign_deps.keys().map(ToString::to_string).collect();
        pending.push((relative, absolute, name, uses));
    }
    let mut ordered: Vec<(String, String, String, Vec<String>)> = Vec::new();
    while !pending.is_empty() {
        let known = |package: &String| pending.iter().any(|(_, _, name, _)| name == package);
        let Some(next) = pending.iter().position(|(_, _, _, uses)| !uses.iter().any(known)) else {
            anyhow::bail!("the WIT packages under wit/ use each other in a cycle");
        };
        ordered.push(pending.remove(next));
    }
    Ok(ordered.into_iter().map(|(relative, absolute, _, _)| (relative, absolute)).collect())
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
