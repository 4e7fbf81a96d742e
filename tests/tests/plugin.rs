//! A driver built outside the project, from `ukc wit` and a plain Rust crate, fills an
//! import exactly as a built-in driver does.

use std::process::Command;
use ukc_tests::*;

#[test]
fn plugin_driver_built_outside_fills_an_import() {
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("kv-mem");
    let fixture = workspace().join("tests/fixtures/plugin-kv-mem");
    std::fs::create_dir_all(crate_dir.join("src")).unwrap();
    for file in ["Cargo.toml", "src/lib.rs"] {
        std::fs::copy(fixture.join(file), crate_dir.join(file)).unwrap();
    }
    // The same dependency versions as the project, so that the build needs no resolution.
    std::fs::copy(workspace().join("Cargo.lock"), crate_dir.join("Cargo.lock")).unwrap();
    ukc(&["wit", "--out", path_str(&crate_dir.join("wit"))]).ok();

    let target_dir = workspace().join("target/plugin-test");
    let built = Command::new(env!("CARGO"))
        .current_dir(&crate_dir)
        .args(["build", "--release", "--target", "wasm32-unknown-unknown", "--target-dir", path_str(&target_dir)])
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .expect("cargo runs");
    assert!(built.success(), "the plugin crate builds");
    let core = target_dir.join("wasm32-unknown-unknown/release/kv_mem.wasm");
    let plugin = dir.path().join("kv-mem.wasm");
    run(peer("wasm-tools"), &["component", "new", path_str(&core), "-o", path_str(&plugin)]).ok();

    let listed = ukc(&["drivers", "--driver", path_str(&plugin)]).ok();
    assert!(listed.contains(&format!("kv-mem 1.0.0 ({})", path_str(&plugin))), "{listed}");
    assert!(listed.contains("serves kv devices from its own contents"), "{listed}");

    let unikernel = compose(
        &component("kv-ro"),
        "hvt",
        dir.path(),
        "kv-mem.hvt.wasm",
        &["--driver", path_str(&plugin), "--use", "ukc:kv/ro=kv-mem"],
    );
    let items = world_items(&unikernel);
    assert!(!items.iter().any(|i| i.contains("ukc:kv") || i.contains("ukc:block")), "{items:?}");

    let unikernel = compose(
        &component("kv-ro"),
        "unix",
        dir.path(),
        "kv-mem.wasm",
        &["--driver", path_str(&plugin), "--use", "ukc:kv/ro=kv-mem"],
    );
    let out = ukc_unix(&[path_str(&unikernel)]).ok();
    assert_eq!(
        out,
        "== /greeting.txt (22 bytes)\nserved by a plugin :)\n== /notes/todo.txt (5 bytes)\nship\nkv-ro: 2 values printed, 0 errors\n"
    );
}
