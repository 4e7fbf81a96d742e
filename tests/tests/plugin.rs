//! A driver built outside the project, from `ukc wit` and a plain Rust crate, fills an
//! import exactly as a built-in driver does.

use ukc_tests::*;

#[test]
fn plugin_driver_built_outside_fills_an_import() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = fixture_crate(dir.path(), "plugin-kv-mem", &["Cargo.toml", "src/lib.rs"], "kv_mem");

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
