//! `ukc compose` and friends, checked with wasm-tools and wac.

use std::process::Command;
use std::time::Duration;
use ukc_tests::*;

const UNIX_HELLO_IMPORTS: &[&str] = &[
    "import ukc:args/args@0.1.0",
    "import ukc:clock/monotonic@0.1.0",
    "import ukc:console/console@0.1.0",
    "import ukc:poll/poll@0.1.0",
];

fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}

#[test]
fn composed_hello_is_valid_and_imports_only_platform_interfaces() {
    let dir = tempfile::tempdir().unwrap();
    let out = compose(&component("hello"), "unix", dir.path(), "h.wasm", &[]);
    run(peer("wasm-tools"), &["validate", path_str(&out)]).ok();
    let items = sorted(world_items(&out));
    let mut expected: Vec<String> = UNIX_HELLO_IMPORTS.iter().map(|s| s.to_string()).collect();
    expected.insert(0, "export ukc:app/main@0.1.0".into());
    assert_eq!(items, sorted(expected));
}

#[test]
fn compose_reads_stdin_and_writes_stdout_for_pipelines() {
    let app = std::fs::read(component("hello")).unwrap();
    let composed = run_with_input(
        Command::new(bin("ukc")).args(["compose", "-", "-t", "unix", "-o", "-"]),
        &app,
        Duration::from_secs(60),
    );
    let bytes = composed.stdout.clone();
    assert_eq!(composed.status, Some(0), "{}", composed.stderr);
    let validated =
        run_with_input(Command::new(peer("wasm-tools")).args(["validate", "-"]), &bytes, Duration::from_secs(60));
    validated.ok();
    assert!(composed.stderr.contains("run it with: ukc-unix"), "{}", composed.stderr);
}

#[test]
fn compose_componentizes_a_core_module_with_type_information() {
    let core = workspace().join("target/guests/wasm32-unknown-unknown/wasm/example_hello.wasm");
    assert!(core.is_file(), "the guest build leaves {} behind", core.display());
    let dir = tempfile::tempdir().unwrap();
    let out = compose(&core, "unix", dir.path(), "h.wasm", &[]);
    run(peer("wasm-tools"), &["validate", path_str(&out)]).ok();
    let hello = ukc_unix(&[path_str(&out), "--", "--hello=from a core module", "--sleep-ms=0"]);
    assert_eq!(hello.ok(), "from a core module\n".repeat(4));
}

#[test]
fn hvt_fills_kv_from_the_tar_driver_over_a_block_device() {
    let dir = tempfile::tempdir().unwrap();
    let out = compose(&component("kv-ro"), "hvt", dir.path(), "kv.hvt.wasm", &[]);
    run(peer("wasm-tools"), &["validate", path_str(&out)]).ok();
    let items = world_items(&out);
    assert!(items.contains(&"import ukc:block/block@0.1.0".to_string()), "{items:?}");
    assert!(!items.iter().any(|i| i.contains("ukc:kv")), "kv must come from a driver: {items:?}");
    let described = ukc(&["describe", path_str(&component("kv-ro")), "-t", "hvt"]).ok();
    assert!(described.contains("1. kv-tar"), "{described}");
    assert!(described.contains("2. kv-ro"), "{described}");
    assert!(described.contains("storage      block  acquired by kv-ro -> kv-tar"), "{described}");
    assert!(described.contains("--block:storage=FILE"), "{described}");
    // The composed unikernel describes itself from its merged manifest, whatever -t says.
    for args in [vec!["describe", path_str(&out)], vec!["describe", path_str(&out), "-t", "unix"]] {
        let again = ukc(&args).ok();
        assert!(again.starts_with("unikernel kv-ro ("), "{again}");
        assert!(again.contains("composed for target hvt (runs on ukc-hvt)"), "{again}");
        assert!(again.contains("1. kv-tar 0.1.0 (driver)\n  2. kv-ro 0.1.0 (application)"), "{again}");
        assert!(
            again.contains("storage      block  acquired by kv-ro -> kv-tar  attach with --block:storage=FILE"),
            "{again}"
        );
    }
    let json = ukc(&["describe", path_str(&out), "--format", "json"]).ok();
    assert!(json.contains("\"composed\": true") && json.contains("\"flag\": \"--block:storage=FILE\""), "{json}");
    let dot = ukc(&["describe", path_str(&out), "--format", "dot"]);
    assert_eq!(dot.status, Some(1));
    assert!(dot.stderr.contains("already composed") && dot.stderr.contains("--format text or json"), "{}", dot.stderr);
}

#[test]
fn describe_speaks_dot_and_json() {
    let app = component("kv-ro");
    let dot = ukc(&["describe", path_str(&app), "-t", "hvt", "--format", "dot"]).ok();
    assert!(dot.starts_with("digraph unikernel {"), "{dot}");
    assert!(dot.contains("[label=\"ukc:kv/ro@0.1.0\"]"), "{dot}");
    let json = ukc(&["describe", path_str(&app), "-t", "unix", "--format", "json"]).ok();
    assert!(json.contains("\"target\": \"unix\""), "{json}");
    assert!(json.contains("\"type\": \"kv\""), "on unix kv comes from the platform: {json}");
    let with_tar =
        ukc(&["describe", path_str(&app), "-t", "unix", "--use", "ukc:kv/ro=kv-tar", "--format", "json"]).ok();
    assert!(
        with_tar.contains("\"type\": \"block\""),
        "--use kv-tar turns the kv device into a block device: {with_tar}"
    );
    assert!(with_tar.contains("\"read-only\": true"), "kv-tar only reads its archive: {with_tar}");
    assert!(!json.contains("read-only"), "{json}");
    let text = ukc(&["describe", path_str(&app), "-t", "hvt"]).ok();
    assert!(text.contains("attach with --block:storage=FILE, read-only"), "{text}");
}

#[test]
fn emitted_wac_reproduces_the_composition_with_wac() {
    let dir = tempfile::tempdir().unwrap();
    let wac_file = dir.path().join("kv.wac");
    let app = component("kv-ro");
    let out = compose(&app, "hvt", dir.path(), "kv.wasm", &["--emit-wac", path_str(&wac_file)]);
    let deps = dir.path().join("deps");
    ukc(&["drivers", "--export", path_str(&deps)]).ok();
    let by_wac = dir.path().join("by-wac.wasm");
    let dep = format!("ukc-app:kv-ro={}", path_str(&app));
    run(
        peer("wac"),
        &["compose", "--deps-dir", path_str(&deps), "--dep", &dep, "-o", path_str(&by_wac), path_str(&wac_file)],
    )
    .ok();
    run(peer("wasm-tools"), &["validate", path_str(&by_wac)]).ok();
    assert_eq!(sorted(world_items(&by_wac)), sorted(world_items(&out)));
}

#[test]
fn targets_drivers_and_wit_list_what_exists() {
    let targets = ukc(&["targets"]).ok();
    assert!(targets.contains("unix") && targets.contains("hvt"), "{targets}");
    assert!(targets.contains("ukc:net/net@0.1.1"), "{targets}");
    let drivers = ukc(&["drivers"]).ok();
    assert!(drivers.contains("kv-tar 0.1.0 (built-in)"), "{drivers}");
    assert!(drivers.contains("exports: ukc:kv/ro@0.1.0"), "{drivers}");
    assert!(drivers.contains("imports: ukc:block/block@0.1.0"), "{drivers}");
    let dir = tempfile::tempdir().unwrap();
    let wit = wit_dir(dir.path(), &[]);
    let printed = run(peer("wasm-tools"), &["component", "wit", path_str(&wit)]).ok();
    assert!(printed.contains("world unix"), "{printed}");
    assert!(printed.contains("world hvt"), "{printed}");
}

#[test]
fn compose_tells_the_next_step() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("kv.wasm");
    let composed = ukc(&["compose", path_str(&component("kv-ro")), "-t", "hvt", "-o", path_str(&out)]);
    composed.ok();
    let expected = format!("run it with: ukc-hvt --block:storage=FILE -- {} [ARGS...]", path_str(&out));
    assert!(composed.stderr.contains(&expected), "{}", composed.stderr);
}

#[test]
fn writing_to_a_device_keeps_the_device() {
    let composed = ukc(&["compose", path_str(&component("hello")), "-o", "/dev/null"]);
    composed.ok();
    let metadata = std::fs::metadata("/dev/null").unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_char_device(&metadata.file_type()), "/dev/null is still a device");
}

#[test]
fn compose_never_writes_over_its_input_nor_loses_earlier_files() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("hello.wasm");
    std::fs::copy(component("hello"), &app).unwrap();
    let original = std::fs::read(&app).unwrap();
    let other = dir.path().join("x.wasm");
    for args in [["--emit-wac", path_str(&app), "-o", path_str(&other)], ["-o", path_str(&app), "-t", "unix"]] {
        let refused = ukc(&[&["compose", path_str(&app)][..], &args[..]].concat());
        assert_eq!(refused.status, Some(1), "{args:?}: {}", refused.stderr);
        assert!(refused.stderr.contains("is the input"), "{args:?}: {}", refused.stderr);
    }
    assert!(!other.exists(), "no output lands when one of them is refused");
    assert_eq!(std::fs::read(&app).unwrap(), original, "the input is untouched");

    // An existing WAC document stays as it was when the unikernel cannot be written.
    let wac = dir.path().join("hello.wac");
    std::fs::write(&wac, "keep me").unwrap();
    let failed = ukc(&["compose", path_str(&app), "--emit-wac", path_str(&wac), "-o", "/nonexistent-dir/h.wasm"]);
    assert_eq!(failed.status, Some(1), "{}", failed.stderr);
    assert!(failed.stderr.contains("does not exist"), "{}", failed.stderr);
    assert_eq!(std::fs::read_to_string(&wac).unwrap(), "keep me");
    let mut names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names, ["hello.wac", "hello.wasm"], "nothing staged is left behind");
}
