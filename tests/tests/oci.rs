//! Shipping through OCI: `ukc package` writes layouts and archives skopeo reads, `ukc push`
//! and `ukc pull` round-trip through a real Distribution registry, the hosts run from
//! references, registry drivers are pinned in ukc.lock and cached, and tampered blobs and
//! registries that refuse or are down give one clear error.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use ukc_tests::registry::{TestRegistry, docker_config};
use ukc_tests::*;

/// A scratch directory with its own blob cache and docker configuration, so that no test
/// reads the machine's.
struct Scratch {
    dir: tempfile::TempDir,
    docker: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let docker = docker_config(dir.path(), "", None);
        Scratch { dir, docker }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `program ARGS...` in the scratch directory.
    fn run(&self, program: &Path, args: &[&str]) -> Run {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(self.path())
            .env("UKC_CACHE_DIR", self.path().join("cache"))
            .env("DOCKER_CONFIG", &self.docker);
        run_with_input(&mut cmd, b"", Duration::from_secs(120))
    }

    fn ukc(&self, args: &[&str]) -> Run {
        self.run(&bin("ukc"), args)
    }

    fn read_json(&self, path: &str) -> Value {
        serde_json::from_slice(&std::fs::read(self.path().join(path)).unwrap()).unwrap()
    }

    /// The manifest and config of the one package in the layout `dir`.
    fn layout(&self, dir: &str) -> (String, Value, Value) {
        let index = self.read_json(&format!("{dir}/index.json"));
        let digest = index["manifests"][0]["digest"].as_str().unwrap().to_string();
        let manifest = self.read_json(&format!("{dir}/blobs/sha256/{}", &digest[7..]));
        let config_digest = manifest["config"]["digest"].as_str().unwrap();
        let config = self.read_json(&format!("{dir}/blobs/sha256/{}", &config_digest[7..]));
        (digest, manifest, config)
    }
}

const HELLO: &str = "Hello World!\nHello World!\nHello World!\nHello World!\n";

#[test]
fn packages_are_reproducible_and_skopeo_reads_them() {
    let s = Scratch::new();
    let hello = compose(&component("hello"), "hvt", s.path(), "hello.hvt.wasm", &[]);
    s.ukc(&["package", path_str(&hello), "-o", "oci-archive:a.tar:1.0"]).ok();
    s.ukc(&["package", path_str(&hello), "-o", "b.tar", "--tag", "1.0"]).ok();
    let a = std::fs::read(s.path().join("a.tar")).unwrap();
    assert_eq!(a, std::fs::read(s.path().join("b.tar")).unwrap(), "the same unikernel gives the same archive");
    let written = s.ukc(&["package", path_str(&hello), "-o", "oci:layout:1.0"]);
    written.ok();
    assert!(written.stderr.contains("ukc push oci:layout:1.0 oci://"), "says what to do next: {}", written.stderr);

    // A unikernel for hvt: the ukc config, the component as the one layer, annotations.
    let (digest, manifest, config) = s.layout("layout");
    assert_eq!(manifest["config"]["mediaType"], "application/vnd.ukc.unikernel.config.v1+json");
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 1);
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(manifest["annotations"]["dev.ukc.target"], "hvt");
    assert_eq!(manifest["annotations"]["dev.ukc.host"], "ukc-hvt");
    assert_eq!(manifest["annotations"]["org.opencontainers.image.title"], "hello.hvt.wasm");
    assert_eq!(manifest["annotations"]["org.opencontainers.image.created"], "1970-01-01T00:00:00Z");
    assert_eq!(config["ukc"]["manifest"]["target"], "hvt");
    assert_eq!(config["layerDigests"][0], manifest["layers"][0]["digest"]);
    let component_digest = manifest["layers"][0]["digest"].as_str().unwrap().to_string();
    assert_eq!(std::fs::read(s.path().join(format!("layout/blobs/sha256/{}", &component_digest[7..]))).unwrap(), {
        std::fs::read(&hello).unwrap()
    });

    // skopeo checks every digest as it copies, and copies the manifest byte for byte.
    run(
        "skopeo",
        &[
            "copy",
            &format!("oci-archive:{}:1.0", path_str(&s.path().join("a.tar"))),
            &format!("oci:{}:1.0", path_str(&s.path().join("copy"))),
        ],
    )
    .ok();
    assert_eq!(s.layout("copy").0, digest);

    // Both hosts run from a layout and from an archive.
    let out = s.run(&bin("ukc-hvt"), &["--isolation=process", "--", "oci:layout:1.0", "--sleep-ms=0"]).ok();
    assert_eq!(out, HELLO);
    let unix = compose(&component("hello"), "unix", s.path(), "hello.unix.wasm", &[]);
    s.ukc(&["package", path_str(&unix), "-o", "unix.tar"]).ok();
    assert_eq!(s.run(&bin("ukc-unix"), &["oci-archive:unix.tar", "--", "--sleep-ms=0"]).ok(), HELLO);

    // A wasi unikernel is exactly the CNCF Wasm artifact.
    let wasi = compose(&component("hello"), "wasi", s.path(), "hello.wasi.wasm", &[]);
    s.ukc(&["package", path_str(&wasi), "-o", "wasi-layout"]).ok();
    let (_, manifest, config) = s.layout("wasi-layout");
    assert_eq!(manifest["config"]["mediaType"], "application/vnd.wasm.config.v0+json");
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(config["architecture"], "wasm");
    assert_eq!(config["os"], "wasip2");
    assert_eq!(config["layerDigests"][0], manifest["layers"][0]["digest"]);
    let exports = config["component"]["exports"].as_array().unwrap();
    assert!(exports.iter().any(|e| e.as_str().unwrap().starts_with("wasi:cli/run@0.2")), "{exports:?}");
    assert!(config.get("ukc").is_none());

    // A damaged blob is refused, by the hosts and by pull alike.
    let blob = s.path().join(format!("layout/blobs/sha256/{}", &component_digest[7..]));
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&blob, bytes).unwrap();
    let refused = s.run(&bin("ukc-hvt"), &["--isolation=process", "--", "oci:layout:1.0"]);
    assert_eq!(refused.status, Some(1), "{}", refused.stderr);
    assert!(refused.stderr.contains("tampered"), "{}", refused.stderr);
    assert!(refused.stdout.is_empty());
    let refused = s.ukc(&["pull", "oci:layout:1.0", "-o", "out.wasm"]);
    assert!(refused.stderr.contains("does not match its digest"), "{}", refused.stderr);
    assert!(!s.path().join("out.wasm").exists(), "nothing written");
}

#[test]
fn push_pull_and_run_through_a_registry() {
    let s = Scratch::new();
    let registry = TestRegistry::start(s.path(), None);
    let reference = format!("oci://{}/ukc/hello:1.0", registry.host);
    let hello = compose(&component("hello"), "hvt", s.path(), "hello.hvt.wasm", &[]);
    let pushed = s.ukc(&["push", path_str(&hello), &reference]);
    pushed.ok();
    let digest = pushed.stderr.split("(sha256:").nth(1).unwrap()[..64].to_string();
    assert!(pushed.stderr.contains(&format!("ukc-hvt -- oci://{}/ukc/hello@sha256:{digest}", registry.host)));

    // Pulled by tag and by digest: the very bytes composed.
    s.ukc(&["pull", &reference, "-o", "pulled.wasm"]).ok();
    assert_eq!(std::fs::read(s.path().join("pulled.wasm")).unwrap(), std::fs::read(&hello).unwrap());
    // Without -o, the file is named after the package's title, and never replaces one.
    let composed = std::fs::read(&hello).unwrap();
    let by_digest = format!("{}/ukc/hello@sha256:{digest}", registry.host);
    let refused = s.ukc(&["pull", &by_digest]);
    assert_eq!(refused.status, Some(1));
    assert!(refused.stderr.contains("hello.hvt.wasm already exists"), "{}", refused.stderr);
    std::fs::remove_file(&hello).unwrap();
    let pulled = s.ukc(&["pull", &by_digest]);
    pulled.ok();
    assert!(pulled.stderr.contains("wrote hello.hvt.wasm"), "the packaged name: {}", pulled.stderr);
    assert_eq!(std::fs::read(&hello).unwrap(), composed);

    // The hosts run it from the registry: in a process and in KVM.
    for isolation in ["--isolation=process", "--isolation=kvm"] {
        let out = s.run(&bin("ukc-hvt"), &[isolation, "--", &reference, "--sleep-ms=0"]);
        assert_eq!(out.ok(), HELLO, "{isolation}");
    }

    // skopeo reads it from the registry and checks every digest.
    let copy = format!("oci:{}:1.0", path_str(&s.path().join("copy")));
    run("skopeo", &["copy", "--src-tls-verify=false", &format!("docker://{}/ukc/hello:1.0", registry.host), &copy])
        .ok();
    assert_eq!(s.layout("copy").0, format!("sha256:{digest}"));

    // A blob damaged in the registry's storage is refused, not run and not cached.
    let manifest = s.layout("copy").1;
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let stored = registry.blob_path(layer);
    let mut bytes = std::fs::read(&stored).unwrap();
    bytes[100] ^= 0x55;
    std::fs::write(&stored, bytes).unwrap();
    std::fs::remove_dir_all(s.path().join("cache")).unwrap();
    let refused = s.ukc(&["pull", &reference, "-o", "tampered.wasm"]);
    assert_eq!(refused.status, Some(1));
    assert!(refused.stderr.contains("tampered"), "{}", refused.stderr);
    assert!(!s.path().join("tampered.wasm").exists());
    let refused = s.run(&bin("ukc-hvt"), &["--isolation=process", "--", &reference]);
    assert!(refused.stderr.contains("tampered") && refused.stdout.is_empty(), "{}", refused.stderr);
}

#[test]
fn registry_drivers_are_pinned_in_the_lock_and_cached() {
    let s = Scratch::new();
    let mut registry = Some(TestRegistry::start(s.path(), None));
    let host = registry.as_ref().unwrap().host.clone();
    let plugin = fixture_crate(s.path(), "plugin-kv-mem", &["Cargo.toml", "src/lib.rs"], "kv_mem");
    let driver = format!("oci://{host}/drivers/kv-mem:1.0");
    let pushed = s.ukc(&["push", path_str(&plugin), &driver]);
    pushed.ok();
    let digest = pushed.stderr.split("(sha256:").nth(1).unwrap()[..64].to_string();

    let kv_ro = component("kv-ro");
    let compose_args = |extra: &[&'static str]| {
        let mut args = vec!["compose", path_str(&kv_ro), "-t", "unix", "-o", "kv.wasm", "--driver"];
        args.push(&driver);
        args.extend_from_slice(&["--use", "ukc:kv/ro=kv-mem"]);
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_string).collect::<Vec<String>>()
    };
    let composing = |extra: &[&'static str]| {
        let args = compose_args(extra);
        s.ukc(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let served = "== /greeting.txt (22 bytes)\nserved by a plugin :)\n";

    let first = composing(&[]);
    first.ok();
    assert!(first.stderr.contains("pinned"), "{}", first.stderr);
    let lock = s.read_json("ukc.lock");
    assert_eq!(lock["packages"][0]["reference"], driver.as_str());
    assert_eq!(lock["packages"][0]["digest"], format!("sha256:{digest}"));
    assert!(s.run(&bin("ukc-unix"), &["kv.wasm"]).ok().starts_with(served));
    let lock_text = std::fs::read(s.path().join("ukc.lock")).unwrap();

    // The tag moves to another component: composes keep the pinned digest, pulled by
    // digest from the registry (the cache emptied first).
    let other = compose(&component("hello"), "unix", s.path(), "other.wasm", &[]);
    s.ukc(&["push", path_str(&other), &driver]).ok();
    std::fs::remove_dir_all(s.path().join("cache")).unwrap();
    composing(&["--locked"]).ok();
    assert!(s.run(&bin("ukc-unix"), &["kv.wasm"]).ok().starts_with(served));
    assert_eq!(std::fs::read(s.path().join("ukc.lock")).unwrap(), lock_text, "the lock is unchanged");

    // --locked refuses what the lock does not pin.
    let unpinned = s.ukc(&[
        "compose",
        path_str(&kv_ro),
        "-t",
        "unix",
        "-o",
        "kv2.wasm",
        "--locked",
        "--lock",
        "fresh.lock",
        "--driver",
        &driver,
    ]);
    assert_eq!(unpinned.status, Some(1));
    assert!(unpinned.stderr.contains("not pinned in fresh.lock"), "{}", unpinned.stderr);
    assert!(!s.path().join("kv2.wasm").exists() && !s.path().join("fresh.lock").exists());

    // With the registry gone, the pinned driver comes from the cache.
    registry.take();
    composing(&["--locked"]).ok();
    assert!(s.run(&bin("ukc-unix"), &["kv.wasm"]).ok().starts_with(served));
    let down = s.ukc(&["compose", path_str(&kv_ro), "--lock", "fresh.lock", "--driver", &driver]);
    assert_eq!(down.status, Some(1));
    assert!(down.stderr.contains("cannot reach the registry"), "{}", down.stderr);
    assert_eq!(down.stderr.lines().count(), 1, "one line: {}", down.stderr);
}

#[test]
fn registries_that_refuse_or_are_missing_give_one_clear_error() {
    let s = Scratch::new();
    let user = ("ukc", "s3cret");
    let registry = TestRegistry::start(s.path(), Some(user));
    let hello = compose(&component("hello"), "hvt", s.path(), "hello.hvt.wasm", &[]);
    let reference = format!("{}/ukc/hello:1.0", registry.host);

    // 401 without credentials, for push, pull and the hosts.
    let refused = s.ukc(&["push", path_str(&hello), &reference]);
    assert_eq!(refused.status, Some(1));
    assert!(refused.stderr.contains("401") && refused.stderr.contains("docker login"), "{}", refused.stderr);
    assert_eq!(refused.stderr.lines().count(), 1, "{}", refused.stderr);

    // With the user's credentials in the docker configuration, the same commands work.
    let with_login = docker_config(&s.path().join("login"), &registry.host, Some(user));
    let mut push = Command::new(bin("ukc"));
    push.args(["push", path_str(&hello), &reference]).env("DOCKER_CONFIG", &with_login);
    run_with_input(&mut push, b"", Duration::from_secs(60)).ok();
    let mut pull = Command::new(bin("ukc"));
    pull.args(["pull", &reference, "-o", path_str(&s.path().join("pulled.wasm"))]).env("DOCKER_CONFIG", &with_login);
    run_with_input(&mut pull, b"", Duration::from_secs(60)).ok();
    assert_eq!(std::fs::read(s.path().join("pulled.wasm")).unwrap(), std::fs::read(&hello).unwrap());

    let refused = s.ukc(&["pull", &reference]);
    assert!(refused.stderr.contains("401"), "{}", refused.stderr);
    let refused = s.run(&bin("ukc-hvt"), &["--", &format!("oci://{reference}")]);
    assert_eq!(refused.status, Some(1));
    assert!(refused.stderr.contains("401"), "{}", refused.stderr);

    // 404: a tag or repository that is not there.
    let open = TestRegistry::start(&s.path().join("open"), None);
    for missing in [format!("{}/ukc/hello:9.9", open.host), format!("{}/nobody/here:1.0", open.host)] {
        let refused = s.ukc(&["pull", &missing]);
        assert_eq!(refused.status, Some(1));
        assert!(refused.stderr.contains("not found in the registry"), "{}", refused.stderr);
        assert_eq!(refused.stderr.lines().count(), 1, "{}", refused.stderr);
    }

    // Down: nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let refused = s.ukc(&["pull", &format!("127.0.0.1:{port}/ukc/hello:1.0")]);
    assert!(
        refused.stderr.contains("cannot reach the registry") && refused.stderr.contains("refused"),
        "{}",
        refused.stderr
    );
    let refused = s.run(&bin("ukc-unix"), &[&format!("oci://127.0.0.1:{port}/ukc/hello:1.0")]);
    assert_eq!(refused.status, Some(1));
    assert!(refused.stderr.contains("cannot reach the registry"), "{}", refused.stderr);
}

#[test]
fn wkg_reads_the_wasm_artifacts_ukc_pushes_and_ukc_reads_what_wkg_pushes() {
    let s = Scratch::new();
    let registry = TestRegistry::start(s.path(), None);
    let wkg = peer("wkg");
    let wasi = compose(&component("hello"), "wasi", s.path(), "hello.wasi.wasm", &[]);
    let ours = format!("{}/ukc/hello-wasi:1.0", registry.host);
    s.ukc(&["push", path_str(&wasi), &ours]).ok();
    s.run(&wkg, &["oci", "pull", "--insecure", &registry.host, &ours, "-o", "by-wkg.wasm"]).ok();
    assert_eq!(std::fs::read(s.path().join("by-wkg.wasm")).unwrap(), std::fs::read(&wasi).unwrap());

    let theirs = format!("{}/wkg/hello-wasi:1.0", registry.host);
    s.run(&wkg, &["oci", "push", "--insecure", &registry.host, &theirs, path_str(&wasi)]).ok();
    s.ukc(&["pull", &theirs, "-o", "by-ukc.wasm"]).ok();
    assert_eq!(std::fs::read(s.path().join("by-ukc.wasm")).unwrap(), std::fs::read(&wasi).unwrap());
}
