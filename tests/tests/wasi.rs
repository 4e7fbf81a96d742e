//! The `wasi` target under the real `wasmtime` CLI, and ordinary Rust std programs built
//! for `wasm32-wasip2` composed into unikernels for `unix` and `hvt`. The network tests
//! run wasmtime in a network namespace of their own, on its loopback only.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use ukc_tests::netns::Netns;
use ukc_tests::web::{Background, check_site, conduit_clients, load, make_site};
use ukc_tests::*;

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
    let wasi = wasmtime_run(&[path_str(&on_wasi), "--hello=Hi", "--sleep-ms=0"]);
    assert_eq!(wasi.ok(), unix.ok());
    assert_eq!(wasmtime_run(&[path_str(&on_wasi), "--sleep-ms=1"]).ok(), "Hello World!\n".repeat(4), "defaults apply");
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
    let wasi = wasmtime_run(&["--dir", &dir_flag, path_str(&out)]);
    assert_eq!(wasi.ok(), unix.ok());
    let one = wasmtime_run(&["--dir", &dir_flag, path_str(&out), "--key=/sub/b.txt"]).ok();
    assert!(one.starts_with("== /sub/b.txt (5 bytes)\nbeta\n"), "{one}");

    let described = ukc(&["describe", path_str(&component("kv-ro")), "-t", "wasi"]).ok();
    assert!(described.contains("acquired by kv-ro -> wasi-kv  attach with --dir DIR::storage"), "{described}");
    assert!(described.contains("wasi:cli/run@0.2.12 <- wasi-run"), "{described}");
}

#[test]
fn help_and_bad_arguments_work_under_wasmtime() {
    let dir = tempfile::tempdir().unwrap();
    let hello = compose(&component("hello"), "wasi", dir.path(), "h.wasi.wasm", &[]);
    let help = wasmtime_run(&[path_str(&hello), "--help"]);
    let text = help.ok();
    assert!(text.contains("--hello=STRING") && text.contains("--sleep-ms=INT"), "{text}");
    // wasmtime passes the file name as the program name.
    assert!(text.contains("usage: wasmtime run h.wasi.wasm [ARGS...]"), "{text}");

    let unknown = wasmtime_run(&[path_str(&hello), "--hallo=x"]);
    // WASI 0.2 exits with success or failure only: 1 where ukc hosts use 64.
    assert_eq!(unknown.status, Some(1));
    assert_eq!(unknown.stderr.trim(), "hello: unknown argument --hallo; did you mean --hello? (see --help)");
    assert!(unknown.stdout.is_empty());
    let bad_value = wasmtime_run(&[path_str(&hello), "--sleep-ms=soon"]);
    assert_eq!(bad_value.status, Some(1));
    assert!(bad_value.stderr.contains("bad value for --sleep-ms: expected an integer"), "{}", bad_value.stderr);

    let kv = compose(&component("kv-ro"), "wasi", dir.path(), "kv.wasi.wasm", &[]);
    let missing = wasmtime_run(&[path_str(&kv)]);
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
    assert_eq!(wasmtime_run(&[path_str(&by_wac), "--sleep-ms=0"]).ok(), "Hello World!\n".repeat(4));
}

#[test]
fn a_plain_rust_std_program_runs_on_unix_and_hvt_as_under_wasmtime() {
    let program = &wasi_std_program("wasi-std-app");
    let dir = tempfile::tempdir().unwrap();
    let on_unix = compose(program, "unix", dir.path(), "std.unix.wasm", &[]);
    let on_hvt = compose(program, "hvt", dir.path(), "std.hvt.wasm", &[]);
    let items = world_items(&on_unix);
    assert!(!items.iter().any(|i| i.contains("wasi:")), "the shim fills every WASI import: {items:?}");

    let expected = wasmtime_run(&[path_str(program), "a", "b", "a"]).ok();
    assert!(expected.contains("counts: [(\"a\", 2), (\"b\", 1)]"), "{expected}");
    assert!(expected.contains("slept at least 100 ms: true"), "{expected}");
    assert_eq!(ukc_unix(&[path_str(&on_unix), "--", "a", "b", "a"]).ok(), expected);
    assert_eq!(ukc_hvt(&["--", path_str(&on_hvt), "a", "b", "a"]).ok(), expected);

    // After a lone `--`, even `--help` reaches the program.
    let own_help = wasmtime_run(&[path_str(program), "--help"]).ok();
    assert_eq!(ukc_unix(&[path_str(&on_unix), "--", "--", "--help"]).ok(), own_help);
    let merged_help = ukc_unix(&[path_str(&on_unix), "--help"]).ok();
    assert!(merged_help.contains("wasi-std-app reads a free-form command line (through wasi-shim)"), "{merged_help}");

    let failed = ukc_unix(&[path_str(&on_unix), "--", "fail"]);
    assert_eq!(failed.status, wasmtime_run(&[path_str(program), "fail"]).status);
    assert_eq!(failed.status, Some(1));
}

#[test]
fn a_program_that_opens_files_gets_the_wasi_error_of_a_host_without_preopens() {
    let cat = &wasi_std_program("cat");
    let dir = tempfile::tempdir().unwrap();
    // Under wasmtime without `--dir`, every open fails inside the program; so it does on
    // ukc's targets, whose console takes standard error too.
    let expected = wasmtime_run(&[path_str(cat), "/etc/hostname", "notes.txt"]);
    assert_eq!(expected.status, Some(0), "{}", expected.stderr);
    assert!(expected.stderr.contains("/etc/hostname: No such file or directory"), "{}", expected.stderr);
    let on_unix = compose(cat, "unix", dir.path(), "cat.unix.wasm", &[]);
    let on_hvt = compose(cat, "hvt", dir.path(), "cat.hvt.wasm", &[]);
    assert_eq!(ukc_unix(&[path_str(&on_unix), "--", "/etc/hostname", "notes.txt"]).ok(), expected.stderr);
    assert_eq!(
        ukc_hvt(&["--isolation=kvm", "--", path_str(&on_hvt), "/etc/hostname", "notes.txt"]).ok(),
        expected.stderr
    );
}

/// Whether `image` holds the block example's pattern: each 8-byte word is the run's seed
/// (so the first word) mixed with the word's position.
fn holds_block_pattern(image: &[u8]) -> bool {
    let word = |at: usize| u64::from_le_bytes(image[at..at + 8].try_into().unwrap());
    let seed = word(0);
    (0..image.len()).step_by(8).all(|at| word(at) == seed ^ (at as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// A directory holding the 4 MiB image file `storage`, for `--dir DIR::/dev/block`.
fn disk_dir(dir: &Path, name: &str) -> PathBuf {
    let disks = dir.join(name);
    std::fs::create_dir_all(&disks).unwrap();
    std::fs::File::create(disks.join("storage")).unwrap().set_len(4 << 20).unwrap();
    disks
}

#[test]
fn block_for_wasi_fills_a_file_under_wasmtime_as_unix_fills_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("block.wasi.wasm");
    let composed = ukc(&["compose", path_str(&component("block")), "-t", "wasi", "-o", path_str(&out)]);
    composed.ok();
    let expected = format!("run it with: wasmtime run --dir DIR::/dev/block {} [ARGS...]", path_str(&out));
    assert!(composed.stderr.contains(&expected), "{}", composed.stderr);
    assert!(composed.stderr.contains("the block device 'storage' is DIR/storage"), "{}", composed.stderr);
    assert_only_wasi(&out);
    let described = ukc(&["describe", path_str(&component("block")), "-t", "wasi"]).ok();
    assert!(described.contains("attach with --dir DIR::/dev/block (the device is DIR/storage)"), "{described}");
    // The unikernel's own help gives the run line `ukc compose` gave, preopen included.
    let help = wasmtime_run(&[path_str(&out), "--help"]).ok();
    assert!(help.contains("usage: wasmtime run --dir DIR::/dev/block block.wasi.wasm [ARGS...]"), "{help}");

    let on_unix = compose(&component("block"), "unix", dir.path(), "block.unix.wasm", &[]);
    let unix_image = dir.path().join("unix.img");
    std::fs::File::create(&unix_image).unwrap().set_len(4 << 20).unwrap();
    let unix = ukc_unix(&[path_str(&on_unix), &format!("--block:storage={}", path_str(&unix_image))]).ok();
    let disks = disk_dir(dir.path(), "disks");
    let wasi = wasmtime_run(&["--dir", &format!("{}::/dev/block", path_str(&disks)), path_str(&out)]).ok();
    assert_eq!(wasi, unix);
    assert!(wasi.contains("block: wrote and verified 8192 sectors, 0 mismatches"), "{wasi}");
    assert!(holds_block_pattern(&std::fs::read(disks.join("storage")).unwrap()), "the image holds the pattern");
}

#[test]
fn block_for_wasi_explains_a_missing_or_misshapen_image_and_refuses_writes_to_a_read_only_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = compose(&component("block"), "wasi", dir.path(), "block.wasi.wasm", &[]);
    let missing = wasmtime_run(&[path_str(&out)]);
    assert_eq!(missing.status, Some(1));
    let advice = "no directory is preopened as /dev/block; run wasmtime with --dir DIR::/dev/block";
    assert!(missing.stderr.contains(advice), "{}", missing.stderr);

    let disks = disk_dir(dir.path(), "disks");
    let preopen = format!("{}::/dev/block", path_str(&disks));
    std::fs::File::create(disks.join("storage")).unwrap().set_len(1000).unwrap();
    let misshapen = wasmtime_run(&["--dir", &preopen, path_str(&out)]);
    assert_eq!(misshapen.status, Some(1));
    assert!(
        misshapen.stderr.contains("is 1000 bytes, not a multiple of the 512-byte sector size"),
        "{}",
        misshapen.stderr
    );
    assert!(misshapen.stderr.contains("truncate -s 1024 DIR/storage"), "{}", misshapen.stderr);

    // Root may write any file, so the image is made read-only by a read-only bind mount
    // in a mount namespace of the test's own.
    std::fs::File::create(disks.join("storage")).unwrap().set_len(4 << 20).unwrap();
    let script = r#"mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@""#;
    let cli = wasmtime_cli();
    let args = ["--mount", "sh", "-c", script, path_str(&disks), path_str(&cli), "run", "--dir", &preopen];
    let mut command = Command::new("unshare");
    command.args(args).arg(&out);
    let read_only = run_with_input(&mut command, b"", Duration::from_secs(120));
    assert_eq!(read_only.status, Some(1), "{}", read_only.stderr);
    assert!(
        read_only.stderr.contains(r#"write of 65536 bytes at 0: Error { code: 2, name: "denied""#),
        "{}",
        read_only.stderr
    );
    assert!(std::fs::read(disks.join("storage")).unwrap().iter().all(|&b| b == 0), "nothing was written");
}

/// `wasmtime run -S inherit-network ARGS...` inside `netns`, in the background.
fn wasmtime_server(netns: &Netns, args: &[&str]) -> Background {
    let mut words = vec!["run", "-S", "inherit-network"];
    words.extend(args);
    Background::start(netns.command(path_str(&wasmtime_cli()), &words))
}

/// How long a server may take to listen: wasmtime compiles it first.
const STARTUP: Duration = Duration::from_secs(60);

#[test]
fn static_website_for_wasi_serves_the_site_through_wasi_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    let files = make_site(&root);
    let out = dir.path().join("web.wasi.wasm");
    let composed = ukc(&["compose", path_str(&component("static-website")), "-t", "wasi", "-o", path_str(&out)]);
    composed.ok();
    let expected =
        format!("run it with: wasmtime run -S inherit-network --dir DIR::storage {} [ARGS...]", path_str(&out));
    assert!(composed.stderr.contains(&expected), "{}", composed.stderr);
    assert_only_wasi(&out);

    let netns = Netns::loopback("web-wasi");
    let preopen = format!("{}::storage", path_str(&root));
    let server = wasmtime_server(&netns, &["--dir", &preopen, path_str(&out), "--port=8080"]);
    netns.wait_for_port_within("127.0.0.1", 8080, STARTUP);
    check_site(&netns, "http://127.0.0.1:8080", &root, &files, dir.path());
    let report = load(&netns, "http://127.0.0.1:8080/index.html", 5);
    // Still serving, and byte-identical, after the load.
    check_site(&netns, "http://127.0.0.1:8080", &root, &files, dir.path());
    let log = server.stop();
    assert!(log.contains("static-website: serving on port 8080"), "{log}\n{report}");
}

#[test]
fn echo_and_conduit_server_for_wasi_answer_clients_through_wasi_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let echo = compose(&component("network"), "wasi", dir.path(), "echo.wasi.wasm", &[]);
    let conduit = compose(&component("conduit-server"), "wasi", dir.path(), "conduit.wasi.wasm", &[]);
    assert_only_wasi(&echo);
    assert_only_wasi(&conduit);
    let netns = Netns::loopback("echo-wasi");
    let echo_server = wasmtime_server(&netns, &[path_str(&echo), "--port=8080"]);
    let conduit_server = wasmtime_server(&netns, &[path_str(&conduit), "--port=7000"]);
    netns.wait_for_port_within("127.0.0.1", 8080, STARTUP);
    netns.wait_for_port_within("127.0.0.1", 7000, STARTUP);

    // Two megabytes, more than the echo holds back and the sockets buffer: both sides
    // wait for room to write. nc shuts its side down at the end of its input; the echo
    // then sends the rest and closes.
    let data: Vec<u8> = (0..(2u32 << 20)).map(|i| (i % 251) as u8).collect();
    let nc = &mut netns.command("nc", &["-N", "127.0.0.1", "8080"]);
    let echoed = run_with_input(nc, &data, Duration::from_secs(60));
    assert_eq!(echoed.status, Some(0), "{}", echoed.stderr);
    assert!(echoed.stdout == data, "the echo differs: {} bytes came back", echoed.stdout.len());
    conduit_clients(&netns, "127.0.0.1", 7000);

    let log = echo_server.stop();
    assert!(log.contains("network: connection from 127.0.0.1:"), "{log}");
    assert!(log.contains("closed: 2097152 bytes received, 2097152 sent"), "{log}");
    let log = conduit_server.stop();
    assert!(log.contains("conduit-server: listening on port 7000"), "{log}");
}

#[test]
fn a_tcp_and_udp_client_behaves_on_wasi_as_on_unix() {
    let dir = tempfile::tempdir().unwrap();
    let probe = fixture_crate(dir.path(), "net-probe", &["Cargo.toml", "ukc.json", "src/lib.rs"], "net_probe");
    let on_wasi = compose(&probe, "wasi", dir.path(), "probe.wasi.wasm", &[]);
    let on_unix = compose(&probe, "unix", dir.path(), "probe.unix.wasm", &[]);
    assert_only_wasi(&on_wasi);
    let netns = Netns::loopback("probe-wasi");
    let _peers = Background::start(netns.command("python3", &["-c", ECHO_PEERS]));
    netns.wait_for_port("127.0.0.1", 9000);
    let unix = netns.run(&[path_str(&bin("ukc-unix")), path_str(&on_unix)], Duration::from_secs(60)).ok();
    let cli = wasmtime_cli();
    let wasi = netns.run(&[path_str(&cli), "run", "-S", "inherit-network", path_str(&on_wasi)], STARTUP).ok();
    assert_eq!(wasi, unix);
    assert!(wasi.contains("connecting to port 9009: Err(Error { code: 1, name: \"connection-refused\""), "{wasi}");
    assert!(wasi.contains("connected to (127, 0, 0, 1), established: true"), "{wasi}");
    assert!(wasi.contains(r#"tcp echo: "hello over tcp\n""#), "{wasi}");
    assert!(wasi.contains(r#"udp echo from (127, 0, 0, 1) port 9001: "hello over udp""#), "{wasi}");
}

#[test]
fn a_wasi_0_1_program_is_componentized_with_the_standard_adapter() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("hello.rs");
    std::fs::write(
        &source,
        "fn main() {\n    let args: Vec<String> = std::env::args().skip(1).collect();\n    \
         println!(\"hello from wasip1: {}\", args.join(\" \"));\n    \
         if let Err(e) = std::fs::read(\"data.txt\") { println!(\"data.txt: {e}\"); }\n    \
         std::process::exit(if args.is_empty() { 3 } else { 0 });\n}\n",
    )
    .unwrap();
    let module = dir.path().join("hello.wasm");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    run(&rustc, &["--target", "wasm32-wasip1", "-O", path_str(&source), "-o", path_str(&module)]).ok();
    // A core module importing wasi_snapshot_preview1: ukc adapts it, then composes as usual.
    let wasi = compose(&module, "wasi", dir.path(), "hello.wasi.wasm", &[]);
    assert_only_wasi(&wasi);
    let expected = "hello from wasip1: a b\ndata.txt: No such file or directory (os error 44)\n";
    assert_eq!(wasmtime_run(&[path_str(&wasi), "a", "b"]).ok(), expected);
    let failed = wasmtime_run(&[path_str(&wasi)]);
    assert!(failed.stdout_text().starts_with("hello from wasip1: \n"), "{}", failed.stdout_text());
    assert_ne!(failed.status, Some(0), "a non-zero exit stays a failure");
    // The adapter imports wasi:filesystem whatever the program does; wasi-shim serves it
    // (without preopens) on the ukc targets, in KVM too.
    let on_unix = compose(&module, "unix", dir.path(), "hello.unix.wasm", &[]);
    let on_hvt = compose(&module, "hvt", dir.path(), "hello.hvt.wasm", &[]);
    assert_eq!(ukc_unix(&[path_str(&on_unix), "--", "a", "b"]).ok(), expected);
    assert_eq!(ukc_hvt(&["--isolation=kvm", "--", path_str(&on_hvt), "a", "b"]).ok(), expected);
    let failed = ukc_hvt(&["--isolation=kvm", "--", path_str(&on_hvt)]);
    assert_eq!(failed.status, Some(1), "a failed exit stays a failure (ukc's exit status is 0 or 1)");
}
