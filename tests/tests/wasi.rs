//! The `wasi` target under the real `wasmtime` CLI, and ordinary Rust std programs built
//! for `wasm32-wasip2` composed into unikernels for `unix` and `hvt`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use ukc_tests::*;

/// The `wasmtime` CLI: on PATH, else the copy a developer keeps under
/// `target/peers/bin`, else in cargo's bin directory (where `.ci/run` installs it).
fn wasmtime_cli() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let on_path = std::env::split_paths(&path).map(|d| d.join("wasmtime")).find(|p| p.is_file());
    let local = workspace().join("target/peers/bin/wasmtime");
    on_path.or_else(|| local.is_file().then_some(local)).unwrap_or_else(|| peer("wasmtime"))
}

/// `wasmtime run ARGS...`.
fn wasmtime(args: &[&str]) -> Run {
    let mut command = Command::new(wasmtime_cli());
    command.arg("run").args(args);
    run_with_input(&mut command, b"", Duration::from_secs(120))
}

fn ukc_hvt(args: &[&str]) -> Run {
    let cache = std::env::temp_dir().join("ukc-tests-cache");
    run_with_input(Command::new(bin("ukc-hvt")).args(args).env("UKC_CACHE_DIR", cache), b"", Duration::from_secs(120))
}

/// The fixture program built for `wasm32-wasip2`, once per test run: `(main, cat)`.
fn std_programs() -> &'static (PathBuf, PathBuf) {
    static BUILT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let source = workspace().join("tests/fixtures/wasi-std-app");
        // Built from a copy, so that the build writes no Cargo.lock into the source tree.
        let target_dir = workspace().join("target/wasi-std-app");
        let copy = target_dir.join("source");
        std::fs::create_dir_all(copy.join("src/bin")).unwrap();
        for file in ["Cargo.toml", "src/main.rs", "src/bin/cat.rs"] {
            std::fs::copy(source.join(file), copy.join(file)).unwrap();
        }
        let built = Command::new(env!("CARGO"))
            .current_dir(&copy)
            .args(["build", "--release", "--target", "wasm32-wasip2", "--target-dir", path_str(&target_dir)])
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .status()
            .expect("cargo runs");
        assert!(built.success(), "the wasi-std-app fixture builds for wasm32-wasip2");
        let out = target_dir.join("wasm32-wasip2/release");
        (out.join("wasi-std-app.wasm"), out.join("cat.wasm"))
    })
}

/// Asserts that a composed component imports only `wasi:` interfaces and exports only
/// `wasi:cli/run`.
fn assert_only_wasi(unikernel: &Path) {
    let items = world_items(unikernel);
    let exports: Vec<&String> = items.iter().filter(|i| i.starts_with("export ")).collect();
    assert_eq!(exports, ["export wasi:cli/run@0.2.12"], "{items:?}");
    let foreign: Vec<&String> =
        items.iter().filter(|i| i.starts_with("import ") && !i.starts_with("import wasi:")).collect();
    assert!(foreign.is_empty(), "imports other than wasi: {foreign:?}");
}

#[test]
fn hello_for_wasi_runs_under_wasmtime_as_on_unix() {
    let dir = tempfile::tempdir().unwrap();
    let on_wasi = compose(&component("hello"), "wasi", dir.path(), "h.wasi.wasm", &[]);
    run(peer("wasm-tools"), &["validate", path_str(&on_wasi)]).ok();
    assert_only_wasi(&on_wasi);
    let on_unix = compose(&component("hello"), "unix", dir.path(), "h.unix.wasm", &[]);
    let unix = ukc_unix(&[path_str(&on_unix), "--", "--hello=Hi", "--sleep-ms=0"]);
    let wasi = wasmtime(&[path_str(&on_wasi), "--hello=Hi", "--sleep-ms=0"]);
    assert_eq!(wasi.ok(), unix.ok());
    assert_eq!(wasmtime(&[path_str(&on_wasi), "--sleep-ms=1"]).ok(), "Hello World!\n".repeat(4), "defaults apply");
}

#[test]
fn kv_ro_for_wasi_serves_a_preopened_directory_as_unix_serves_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let files = small_tree(dir.path());
    let out = dir.path().join("kv.wasi.wasm");
    let composed = ukc(&["compose", path_str(&component("kv-ro")), "-t", "wasi", "-o", path_str(&out)]);
    composed.ok();
    let expected = format!("run it with: wasmtime run --dir DIR::storage {} [ARGS...]", path_str(&out));
    assert!(composed.stderr.contains(&expected), "{}", composed.stderr);
    assert_only_wasi(&out);

    let on_unix = compose(&component("kv-ro"), "unix", dir.path(), "kv.unix.wasm", &[]);
    let unix = ukc_unix(&[path_str(&on_unix), &format!("--kv:storage={}", path_str(&files))]);
    let dir_flag = format!("{}::storage", path_str(&files));
    let wasi = wasmtime(&["--dir", &dir_flag, path_str(&out)]);
    assert_eq!(wasi.ok(), unix.ok());
    let one = wasmtime(&["--dir", &dir_flag, path_str(&out), "--key=/sub/b.txt"]).ok();
    assert!(one.starts_with("== /sub/b.txt (5 bytes)\nbeta\n"), "{one}");

    let described = ukc(&["describe", path_str(&component("kv-ro")), "-t", "wasi"]).ok();
    assert!(described.contains("acquired by kv-ro -> wasi-kv  attach with --dir DIR::storage"), "{described}");
    assert!(described.contains("wasi:cli/run@0.2.12 <- wasi-run"), "{described}");
}

#[test]
fn help_and_bad_arguments_work_under_wasmtime() {
    let dir = tempfile::tempdir().unwrap();
    let hello = compose(&component("hello"), "wasi", dir.path(), "h.wasi.wasm", &[]);
    let help = wasmtime(&[path_str(&hello), "--help"]);
    let text = help.ok();
    assert!(text.contains("--hello=STRING") && text.contains("--sleep-ms=INT"), "{text}");
    // wasmtime passes the file name as the program name.
    assert!(text.contains("usage: wasmtime run h.wasi.wasm [ARGS...]"), "{text}");

    let unknown = wasmtime(&[path_str(&hello), "--hallo=x"]);
    // WASI 0.2 exits with success or failure only: 1 where ukc hosts use 64.
    assert_eq!(unknown.status, Some(1));
    assert_eq!(unknown.stderr.trim(), "hello: unknown argument --hallo; did you mean --hello? (see --help)");
    assert!(unknown.stdout.is_empty());
    let bad_value = wasmtime(&[path_str(&hello), "--sleep-ms=soon"]);
    assert_eq!(bad_value.status, Some(1));
    assert!(bad_value.stderr.contains("bad value for --sleep-ms: expected an integer"), "{}", bad_value.stderr);

    let kv = compose(&component("kv-ro"), "wasi", dir.path(), "kv.wasi.wasm", &[]);
    let missing = wasmtime(&[path_str(&kv)]);
    assert_eq!(missing.status, Some(1));
    assert!(missing.stderr.contains("the unikernel failed: kv store 'storage'"), "{}", missing.stderr);
}

#[test]
fn emitted_wac_reproduces_the_wasi_composition_with_its_generated_component() {
    let dir = tempfile::tempdir().unwrap();
    let wac_file = dir.path().join("hello.wac");
    let app = component("hello");
    let out = compose(&app, "wasi", dir.path(), "h.wasm", &["--emit-wac", path_str(&wac_file)]);
    let generated = dir.path().join("args-declarations.wasm");
    assert!(generated.is_file(), "--emit-wac writes the generated component next to the document");
    let deps = dir.path().join("deps");
    ukc(&["drivers", "--export", path_str(&deps)]).ok();
    let by_wac = dir.path().join("by-wac.wasm");
    let app_dep = format!("ukc-app:hello={}", path_str(&app));
    let generated_dep = format!("ukc-driver:args-declarations={}", path_str(&generated));
    let deps_dir = path_str(&deps);
    let wac_args =
        ["compose", "--deps-dir", deps_dir, "--dep", &app_dep, "--dep", &generated_dep, "-o", path_str(&by_wac)];
    let mut args = wac_args.to_vec();
    args.push(path_str(&wac_file));
    run(peer("wac"), &args).ok();
    let mut composed = world_items(&out);
    let mut reproduced = world_items(&by_wac);
    composed.sort();
    reproduced.sort();
    assert_eq!(reproduced, composed);
    assert_eq!(wasmtime(&[path_str(&by_wac), "--sleep-ms=0"]).ok(), "Hello World!\n".repeat(4));
}

#[test]
fn a_plain_rust_std_program_runs_on_unix_and_hvt_as_under_wasmtime() {
    let (program, _) = std_programs();
    let dir = tempfile::tempdir().unwrap();
    let on_unix = compose(program, "unix", dir.path(), "std.unix.wasm", &[]);
    let on_hvt = compose(program, "hvt", dir.path(), "std.hvt.wasm", &[]);
    let items = world_items(&on_unix);
    assert!(!items.iter().any(|i| i.contains("wasi:")), "the shim fills every WASI import: {items:?}");

    let expected = wasmtime(&[path_str(program), "a", "b", "a"]).ok();
    assert!(expected.contains("counts: [(\"a\", 2), (\"b\", 1)]"), "{expected}");
    assert!(expected.contains("slept at least 100 ms: true"), "{expected}");
    assert_eq!(ukc_unix(&[path_str(&on_unix), "--", "a", "b", "a"]).ok(), expected);
    assert_eq!(ukc_hvt(&["--", path_str(&on_hvt), "a", "b", "a"]).ok(), expected);

    // After a lone `--`, even `--help` reaches the program.
    let own_help = wasmtime(&[path_str(program), "--help"]).ok();
    assert_eq!(ukc_unix(&[path_str(&on_unix), "--", "--", "--help"]).ok(), own_help);
    let merged_help = ukc_unix(&[path_str(&on_unix), "--help"]).ok();
    assert!(merged_help.contains("wasi-std-app reads a free-form command line (through wasi-shim)"), "{merged_help}");

    let failed = ukc_unix(&[path_str(&on_unix), "--", "fail"]);
    assert_eq!(failed.status, wasmtime(&[path_str(program), "fail"]).status);
    assert_eq!(failed.status, Some(1));
}

#[test]
fn a_wasi_import_no_driver_serves_fails_at_compose_time_naming_it() {
    let (_, cat) = std_programs();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cat.wasm");
    let refused = ukc(&["compose", path_str(cat), "-t", "unix", "-o", path_str(&out)]);
    assert_eq!(refused.status, Some(1));
    assert!(refused.stderr.contains("cat imports wasi:filesystem/"), "{}", refused.stderr);
    assert!(refused.stderr.contains("compose with --target wasi"), "{}", refused.stderr);
    assert!(refused.stderr.contains("the wasi-shim driver serves only"), "{}", refused.stderr);
    assert!(!out.exists(), "no output is written");
    // Under a WASI host, the program is fine as it is.
    let wasi = compose(cat, "wasi", dir.path(), "cat.wasi.wasm", &[]);
    assert_only_wasi(&wasi);
}
