//! Where the WASI 0.2 WIT is: ukc never copies it, it reads the WIT that the `wasip2`
//! crate (the registry's WASI bindings, which the `wasi-*` drivers import WASI through)
//! ships in its package, so that the WIT, the bindings and the version always agree.
//!
//! Build scripts call [`locate`]: `ukc-components` embeds the files for the composer's
//! `wasi` platform, and the drivers that *export* WASI interfaces (which the `wasip2`
//! crate has no bindings for) point `wit_bindgen::generate!` at them through an
//! environment variable set with [`export_to_rustc`].

use std::path::PathBuf;
use std::process::Command;

/// The WASI packages of the `wasi:cli/command` world, in an order in which each one's
/// dependencies come first (how `wit-parser` must receive them one by one).
pub const PACKAGES: &[&str] = &["io", "clocks", "random", "filesystem", "sockets", "cli"];

/// The environment variable [`export_to_rustc`] sets to the `wit` folder.
pub const ENV: &str = "UKC_WASI_WIT";

/// The `wit` folder of the `wasip2` package the workspace's members depend on (its
/// `deps/` holds one file per WASI package). Runs `cargo metadata`; the error says what
/// went wrong and what to do.
pub fn locate() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").map_err(|_| "CARGO_MANIFEST_DIR is not set".to_string())?;
    // Guests are what depend on wasip2; filtering for their platform keeps cargo from
    // downloading packages only other platforms need.
    // The host build's flags (a fuzzer's sanitizer, say) are not for the wasm target,
    // where rustc would refuse them while cargo asks it about the platform.
    let output = Command::new(cargo)
        .current_dir(&manifest_dir)
        .args(["metadata", "--format-version", "1", "--filter-platform", "wasm32-unknown-unknown"])
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .output()
        .map_err(|e| format!("cannot run `cargo metadata` to find the wasip2 crate: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo metadata` failed while looking for the wasip2 crate: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("cannot read `cargo metadata`'s output: {e}"))?;
    wit_dir(&metadata)
}

/// The `wasip2` package that workspace members depend on directly, as its `wit` folder.
fn wit_dir(metadata: &serde_json::Value) -> Result<PathBuf, String> {
    let empty = Vec::new();
    let list = |value: &serde_json::Value| value.as_array().unwrap_or(&empty).clone();
    let members: Vec<serde_json::Value> = list(&metadata["workspace_members"]);
    let mut found: Vec<String> = Vec::new();
    for node in list(&metadata["resolve"]["nodes"]) {
        if !members.contains(&node["id"]) {
            continue;
        }
        for dep in list(&node["deps"]) {
            let id = dep["pkg"].as_str().unwrap_or_default().to_string();
            if dep["name"] == "wasip2" && !found.contains(&id) {
                found.push(id);
            }
        }
    }
    let [id] = found.as_slice() else {
        return Err(format!(
            "the workspace must depend on exactly one version of the wasip2 crate (through the \
             `wasip2` workspace dependency), but depends on {}",
            if found.is_empty() { "none".to_string() } else { found.join(", ") }
        ));
    };
    let package = list(&metadata["packages"]).into_iter().find(|p| p["id"].as_str() == Some(id.as_str()));
    let manifest_path = package
        .as_ref()
        .and_then(|p| p["manifest_path"].as_str())
        .ok_or_else(|| format!("`cargo metadata` lists no manifest for {id}"))?;
    let wit = PathBuf::from(manifest_path).with_file_name("wit");
    for package in PACKAGES {
        let file = wit.join("deps").join(format!("{package}.wit"));
        if !file.is_file() {
            return Err(format!("{id} ships no {}; ukc expects the WASI 0.2 packages there", file.display()));
        }
    }
    Ok(wit)
}

/// For a build script: locates the WIT, sets [`ENV`] for the crate's code to the `wit`
/// folder (for `wit_bindgen::generate!({ path: [..., env!("UKC_WASI_WIT")] })`), and asks
/// cargo to rerun when it changes. Panics with the error, as a build script reports it.
pub fn export_to_rustc() {
    let wit = locate().unwrap_or_else(|e| panic!("{e}"));
    println!("cargo:rustc-env={ENV}={}", wit.display());
    println!("cargo:rerun-if-changed={}", wit.display());
}
