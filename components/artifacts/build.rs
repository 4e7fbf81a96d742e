//! Builds every guest crate for wasm32, turns each into a component and writes it to
//! `target/components/<name>.wasm`; embeds the drivers in this crate.
//!
//! The guests are built by a nested cargo invocation, the pattern wasmtime uses for its
//! test programs: it needs its own target directory (the outer build holds the lock on
//! its own), an explicit `--target`, and the outer build's flags removed from the
//! environment.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use ukc_manifest::{COMPONENT_SECTION, ComponentManifest};

/// A guest crate: its package name, the component name it builds, whether it is a driver.
struct Guest {
    package: &'static str,
    name: &'static str,
    driver: bool,
}

const GUESTS: &[Guest] = &[
    Guest { package: "driver-kv-tar", name: "kv-tar", driver: true },
    Guest { package: "example-hello", name: "hello", driver: false },
    Guest { package: "example-block", name: "block", driver: false },
    Guest { package: "example-kv-ro", name: "kv-ro", driver: false },
    Guest { package: "example-pong", name: "pong", driver: false },
    Guest { package: "driver-tcpip", name: "tcpip", driver: true },
    Guest { package: "example-network", name: "network", driver: false },
    Guest { package: "example-static-website", name: "static-website", driver: false },
    Guest { package: "bench-block", name: "block-bench", driver: false },
    Guest { package: "example-conduit-server", name: "conduit-server", driver: false },
    Guest { package: "example-dhcp", name: "dhcp", driver: false },
    Guest { package: "driver-wasi-base", name: "wasi-base", driver: true },
    Guest { package: "driver-wasi-random", name: "wasi-random", driver: true },
    Guest { package: "driver-wasi-args", name: "wasi-args", driver: true },
    Guest { package: "driver-wasi-kv", name: "wasi-kv", driver: true },
    Guest { package: "driver-wasi-block", name: "wasi-block", driver: true },
    Guest { package: "driver-wasi-tcpip", name: "wasi-tcpip", driver: true },
    Guest { package: "driver-wasi-run", name: "wasi-run", driver: true },
    Guest { package: "driver-wasi-shim", name: "wasi-shim", driver: true },
    Guest { package: "driver-wasi-main", name: "wasi-main", driver: true },
];

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "wasm";

fn main() -> Result<()> {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let workspace = manifest_dir.join("../..").canonicalize()?;
    let out_dir = PathBuf::from(env("OUT_DIR")?);
    let target_dir = outer_target_dir(&out_dir).unwrap_or_else(|| workspace.join("target"));
    let guest_target = target_dir.join("guests");
    let components_dir = target_dir.join("components");

    for dir in ["wit", "components/guest", "components/drivers", "components/examples", "components/bench"] {
        println!("cargo:rerun-if-changed={}", workspace.join(dir).display());
    }
    println!("cargo:rerun-if-changed={}", workspace.join("Cargo.lock").display());
    println!("cargo:rustc-env=UKC_COMPONENTS_DIR={}", components_dir.display());

    build_guests(&workspace, &guest_target)?;

    std::fs::create_dir_all(&components_dir)?;
    let mut drivers =
        String::from("/// The built-in drivers, embedded in this crate.\npub const DRIVERS: &[Artifact] = &[\n");
    for guest in GUESTS {
        let core =
            guest_target.join(WASM_TARGET).join(PROFILE).join(format!("{}.wasm", guest.package.replace('-', "_")));
        let component =
            componentize(&core, guest).with_context(|| format!("turning {} into a component", core.display()))?;
        write_atomically(&components_dir.join(format!("{}.wasm", guest.name)), &component)?;
        if guest.driver {
            let embedded = out_dir.join(format!("{}.wasm", guest.name));
            std::fs::write(&embedded, &component)?;
            drivers.push_str(&format!(
                "    Artifact {{ name: {:?}, bytes: include_bytes!({:?}) }},\n",
                guest.name,
                embedded.display().to_string()
            ));
        }
    }
    drivers.push_str("];\n");
    std::fs::write(out_dir.join("drivers.rs"), drivers)?;
    std::fs::write(out_dir.join("wit.rs"), wit_table(&workspace.join("wit"))?)?;
    std::fs::write(out_dir.join("platforms.rs"), platforms_table(&workspace.join("wit"), &out_dir)?)?;
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

fn env(name: &str) -> Result<String> {
    std::env::var(name).with_context(|| format!("cargo did not set {name}"))
}

/// The outer build's target directory: the nearest ancestor of `OUT_DIR` holding the
/// `CACHEDIR.TAG` cargo writes there (it may be moved with `CARGO_TARGET_DIR`).
fn outer_target_dir(out_dir: &Path) -> Option<PathBuf> {
    out_dir.ancestors().find(|dir| dir.join("CACHEDIR.TAG").is_file()).map(Path::to_path_buf)
}

fn build_guests(workspace: &Path, guest_target: &Path) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["build", "--profile", PROFILE, "--target", WASM_TARGET])
        .arg("--target-dir")
        .arg(guest_target);
    for guest in GUESTS {
        cmd.args(["-p", guest.package]);
    }
    // Flags meant for the host build must not reach the wasm build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_PRIMARY_PACKAGE",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().context("running cargo to build the guest components")?;
    if !status.success() {
        bail!("building the guest components failed ({status}); see the cargo output above");
    }
    Ok(())
}

/// Checks the guest's manifest, names its core module after the component (so that a
/// trap's backtrace says which component it came from) and encodes the component.
fn componentize(core: &Path, guest: &Guest) -> Result<Vec<u8>> {
    let module = std::fs::read(core)?;
    let manifest = custom_section(&module, COMPONENT_SECTION)
        .with_context(|| format!("{} has no `{COMPONENT_SECTION}` section", guest.package))?;
    let manifest = ComponentManifest::from_json(manifest, guest.package).map_err(anyhow::Error::msg)?;
    if manifest.name != guest.name {
        bail!("{}'s manifest names it {:?}, but the build expects {:?}", guest.package, manifest.name, guest.name);
    }
    let mut module = module;
    if custom_section(&module, "name").is_none() {
        let mut names = wasm_encoder::NameSection::new();
        names.module(guest.name);
        module.extend(ukc_manifest::encode_custom_section("name", &names.as_custom().data));
    }
    wit_component::ComponentEncoder::default().validate(true).module(&module)?.encode()
}

/// A top-level custom section of a core module (where `#[link_section]` puts it).
fn custom_section<'a>(module: &'a [u8], name: &str) -> Option<&'a [u8]> {
    ukc_manifest::custom_section(module, name).ok().flatten()
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("wasm.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
