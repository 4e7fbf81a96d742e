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

/// A guest crate: its package name, the component name it builds (its directory's
/// name), whether it is a driver (embedded in ukc).
struct Guest {
    package: String,
    name: String,
    driver: bool,
    /// `wasm32-unknown-unknown`, or `wasm32-wasip2` for a guest whose dependencies need
    /// WASI (its Cargo.toml says `[package.metadata.ukc] target = "wasm32-wasip2"`): ring's
    /// randomness, say, which the wasi-shim driver serves from ukc:entropy.
    target: &'static str,
}

/// Where guest crates live, and whether those are drivers: every directory there with a
/// `Cargo.toml` is a guest, so adding one is adding a directory.
const GUEST_DIRS: &[(&str, bool)] =
    &[("components/drivers", true), ("components/examples", false), ("components/bench", false)];

/// Every guest crate, by directory name within each of [`GUEST_DIRS`].
fn discover(workspace: &Path) -> Result<Vec<Guest>> {
    let mut guests = Vec::new();
    for &(dir, driver) in GUEST_DIRS {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(workspace.join(dir)).with_context(|| format!("listing {dir}"))? {
            let path = entry?.path();
            let manifest = path.join("Cargo.toml");
            if !manifest.is_file() {
                continue;
            }
            let name = path.file_name().context("a directory has a name")?.to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&manifest)?;
            let package = section_value(&text, "[package]", "name")
                .with_context(|| format!("{} names no package", manifest.display()))?;
            let target = match section_value(&text, "[package.metadata.ukc]", "target").as_deref() {
                None => WASM_TARGET,
                Some(WASIP2_TARGET) => WASIP2_TARGET,
                Some(other) => bail!("{}: target {other:?} is not one ukc builds guests for", manifest.display()),
            };
            found.push(Guest { package, name, driver, target });
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        guests.extend(found);
    }
    Ok(guests)
}

/// The string `key` of a Cargo.toml's `section` (`[package]`'s `name`, say).
fn section_value(cargo_toml: &str, section: &str, key: &str) -> Option<String> {
    let mut inside = false;
    for line in cargo_toml.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == section;
        } else if inside && let Some(value) = line.strip_prefix(key) {
            return Some(value.trim_start().strip_prefix('=')?.trim().trim_matches('"').to_string());
        }
    }
    None
}

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const WASIP2_TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "wasm";

fn main() -> Result<()> {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let workspace = manifest_dir.join("../..").canonicalize()?;
    let out_dir = PathBuf::from(env("OUT_DIR")?);
    let target_dir = outer_target_dir(&out_dir).unwrap_or_else(|| workspace.join("target"));
    let guest_target = target_dir.join("guests");
    let components_dir = target_dir.join("components");

    let guest_dirs = GUEST_DIRS.iter().map(|(dir, _)| *dir);
    for dir in ["wit", "components/guest", "host-hvt/abi"].into_iter().chain(guest_dirs) {
        println!("cargo:rerun-if-changed={}", workspace.join(dir).display());
    }
    println!("cargo:rerun-if-changed={}", workspace.join("Cargo.lock").display());
    println!("cargo:rustc-env=UKC_COMPONENTS_DIR={}", components_dir.display());

    let mut guests = discover(&workspace)?;
    if let Some(missing) = wasip2_missing() {
        let skipped: Vec<&str> = guests.iter().filter(|g| g.target == WASIP2_TARGET).map(|g| g.name.as_str()).collect();
        println!(
            "cargo:warning=not building {} ({missing}; they build for {WASIP2_TARGET} with C inside): \
             `rustup target add {WASIP2_TARGET}` and `apt-get install clang llvm`, then build again",
            skipped.join(", ")
        );
        guests.retain(|g| g.target != WASIP2_TARGET);
        // A path that never exists: cargo runs this script again on every build, so the
        // skipped guests are built as soon as the toolchain is there.
        println!("cargo:rerun-if-changed={}", out_dir.join("wasip2-toolchain-missing").display());
    }
    println!("cargo:rerun-if-env-changed=CC_wasm32_wasip2");
    println!("cargo:rerun-if-env-changed=AR_wasm32_wasip2");
    for target in [WASM_TARGET, WASIP2_TARGET] {
        let these: Vec<&Guest> = guests.iter().filter(|g| g.target == target).collect();
        if !these.is_empty() {
            build_guests(&workspace, &guest_target, target, &these)?;
        }
    }

    std::fs::create_dir_all(&components_dir)?;
    let mut drivers =
        String::from("/// The built-in drivers, embedded in this crate.\npub const DRIVERS: &[Artifact] = &[\n");
    for guest in &guests {
        let core =
            guest_target.join(guest.target).join(PROFILE).join(format!("{}.wasm", guest.package.replace('-', "_")));
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
    Ok(())
}

/// What a wasm32-wasip2 guest with C in it (ring) needs and this machine lacks, if
/// anything: the target's standard library, a C compiler and an archiver for wasm32.
fn wasip2_missing() -> Option<String> {
    let suffix = WASIP2_TARGET.replace('-', "_");
    let runs =
        |tool: std::ffi::OsString| Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    for (var, tool) in [("CC", "clang"), ("AR", "llvm-ar")] {
        let tool = std::env::var_os(format!("{var}_{suffix}")).unwrap_or_else(|| tool.into());
        if !runs(tool.clone()) {
            return Some(format!("{} is not installed", tool.to_string_lossy()));
        }
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc).args(["--print", "sysroot"]).output().ok()?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if !sysroot.join("lib/rustlib").join(WASIP2_TARGET).is_dir() {
        return Some(format!("the {WASIP2_TARGET} target is not installed"));
    }
    None
}

fn env(name: &str) -> Result<String> {
    std::env::var(name).with_context(|| format!("cargo did not set {name}"))
}

/// The outer build's target directory: the nearest ancestor of `OUT_DIR` holding the
/// `CACHEDIR.TAG` cargo writes there (it may be moved with `CARGO_TARGET_DIR`).
fn outer_target_dir(out_dir: &Path) -> Option<PathBuf> {
    out_dir.ancestors().find(|dir| dir.join("CACHEDIR.TAG").is_file()).map(Path::to_path_buf)
}

fn build_guests(workspace: &Path, guest_target: &Path, target: &str, guests: &[&Guest]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(["build", "--profile", PROFILE, "--target", target])
        .arg("--target-dir")
        .arg(guest_target);
    if target == WASIP2_TARGET {
        // C in wasip2 guests (ring) needs a compiler for wasm32: clang, with LLVM's ar.
        let suffix = target.replace('-', "_");
        for (var, tool) in [("CC", "clang"), ("AR", "llvm-ar")] {
            let name = format!("{var}_{suffix}");
            if std::env::var_os(&name).is_none() {
                cmd.env(name, tool);
            }
        }
    }
    for guest in guests {
        cmd.args(["-p", &guest.package]);
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
    // Nor what cargo tells this script of the host's target: the guests' build scripts
    // would read a cfg the wasm target does not set (as host-hvt/build.rs explains).
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_CFG_") || name.starts_with("CARGO_FEATURE_") {
            cmd.env_remove(name.as_ref());
        }
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
    if guest.target == WASIP2_TARGET {
        // rustc already made the component (wasm-component-ld); its manifest is in its
        // core module.
        let manifest = nested_custom_section(&module, COMPONENT_SECTION)
            .with_context(|| format!("{} has no `{COMPONENT_SECTION}` section", guest.package))?;
        check_name(&manifest, guest)?;
        return Ok(module);
    }
    let manifest = custom_section(&module, COMPONENT_SECTION)
        .with_context(|| format!("{} has no `{COMPONENT_SECTION}` section", guest.package))?;
    check_name(manifest, guest)?;
    let mut module = module;
    if custom_section(&module, "name").is_none() {
        let mut names = wasm_encoder::NameSection::new();
        names.module(&guest.name);
        module.extend(ukc_manifest::encode_custom_section("name", &names.as_custom().data));
    }
    wit_component::ComponentEncoder::default().validate(true).module(&module)?.encode()
}

/// Checks the guest's manifest, and that it names the guest after its directory.
fn check_name(manifest: &[u8], guest: &Guest) -> Result<()> {
    let manifest = ComponentManifest::from_json(manifest, &guest.package).map_err(anyhow::Error::msg)?;
    if manifest.name != guest.name {
        bail!(
            "{}'s manifest names it {:?}, but its directory is called {:?}; a guest's component is named after its directory",
            guest.package,
            manifest.name,
            guest.name
        );
    }
    Ok(())
}

/// The first custom section called `name` at any depth of a component.
fn nested_custom_section(component: &[u8], name: &str) -> Option<Vec<u8>> {
    wasmparser::Parser::new(0).parse_all(component).find_map(|payload| match payload {
        Ok(wasmparser::Payload::CustomSection(s)) if s.name() == name => Some(s.data().to_vec()),
        _ => None,
    })
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
