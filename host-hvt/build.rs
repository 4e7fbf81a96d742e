//! Builds the guest kernel (host-hvt/kernel) for x86_64-unknown-none and tells the
//! tender where it is (`UKC_HVT_KERNEL`), to embed it.
//!
//! A nested cargo build, as components/artifacts/build.rs builds the guest components:
//! it needs its own target directory (the outer build holds the lock on its own), an
//! explicit `--target`, and the outer build's flags removed from the environment. The
//! kernel is linked at a fixed address, so that the tender loads it without relocating.

use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "x86_64-unknown-none";
const PACKAGE: &str = "ukc-hvt-kernel";
/// The kernel's link address (`abi::KERNEL_BASE`): its ELF headers take the page below
/// 2 MiB. Its code starts at 2 MiB and has those 2 MiB to itself, so that the tender maps
/// it with one 2 MiB page (see kvm/layout.rs); its data starts at 4 MiB. The linker
/// refuses to link a kernel whose code outgrows its 2 MiB.
const KERNEL_BASE: &str = "0x1ff000";
const KERNEL_CODE: &str = "0x200000";
const KERNEL_DATA: &str = "0x400000";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let workspace = manifest_dir.parent().expect("host-hvt lies in the workspace").to_path_buf();
    let target_dir = outer_target_dir(&out_dir).unwrap_or_else(|| workspace.join("target")).join("hvt-kernel");
    for path in ["host-hvt/kernel", "host-hvt/abi", "wit", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", workspace.join(path).display());
    }
    // The kernel is optimised whatever the outer profile, with whole-program LTO, which
    // makes it a fifth smaller.
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // What cargo tells this script of the tender's target must not reach the kernel's
    // build scripts, which read it for theirs: cargo sets those of the kernel's target but
    // leaves the others. Under cargo-fuzz, CARGO_CFG_SANITIZE=address made wasmtime's
    // unwinder call AddressSanitizer's runtime, which the kernel does not have.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_CFG_") || name.starts_with("CARGO_FEATURE_") {
            cargo.env_remove(name.as_ref());
        }
    }
    let status = cargo
        .current_dir(&workspace)
        .args(["build", "--release", "-p", PACKAGE, "--target", TARGET, "--target-dir"])
        .arg(&target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_PRIMARY_PACKAGE")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env(
            "CARGO_ENCODED_RUSTFLAGS",
            [
                "-Crelocation-model=static",
                &format!("-Clink-arg=--image-base={KERNEL_BASE}"),
                &format!("-Clink-arg=--section-start=.text={KERNEL_CODE}"),
                // `.got` is the first of the data sections the linker places; the others
                // follow it, and with `norelro` none is made read-only after start-up.
                &format!("-Clink-arg=--section-start=.got={KERNEL_DATA}"),
                "-Clink-arg=-znorelro",
                // Nothing in the kernel refers to its exception handlers' table: the
                // tender reads it from the ELF file to fill in the IDT.
                "-Clink-arg=--undefined=ukc_exception_table",
            ]
            .join("\x1f"),
        )
        .status()
        .expect("cargo runs to build the guest kernel");
    assert!(status.success(), "building the guest kernel ({PACKAGE}) failed ({status}); see the cargo output above");
    let kernel = target_dir.join(TARGET).join("release").join(PACKAGE);
    println!("cargo:rustc-env=UKC_HVT_KERNEL={}", kernel.display());
}

/// The outer build's target directory: the nearest ancestor of `OUT_DIR` holding the
/// `CACHEDIR.TAG` cargo writes there (it may be moved with `CARGO_TARGET_DIR`).
fn outer_target_dir(out_dir: &Path) -> Option<PathBuf> {
    out_dir.ancestors().find(|dir| dir.join("CACHEDIR.TAG").is_file()).map(Path::to_path_buf)
}
