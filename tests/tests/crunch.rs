//! `ukc compose --data NAME=DIR`: a directory baked into the unikernel as the kv store
//! NAME, served from memory by the kv-data driver. The website serves a baked site on
//! ukc-unix and on ukc-hvt in KVM with no storage device attached, byte for byte;
//! `describe` shows the baked store; a baked site and a TLS identity attached at deploy
//! time work side by side; every mistake with `--data` is one clear error.

use std::path::{Path, PathBuf};
use std::time::Duration;
use ukc_tests::netns::Netns;
use ukc_tests::pki::{self, Validity};
use ukc_tests::web::{Background, check_site, make_site};
use ukc_tests::*;

/// `ukc compose APP -t TARGET --data storage=SITE -o DIR/NAME`.
fn compose_baked(app: &str, target: &str, site: &Path, dir: &Path, name: &str) -> PathBuf {
    let data = format!("storage={}", path_str(site));
    compose(&component(app), target, dir, name, &["--data", &data])
}

#[test]
fn a_baked_site_is_served_without_a_device_on_unix_and_on_hvt_in_kvm() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let files = make_site(&site);
    let unix = compose_baked("static-website", "unix", &site, dir.path(), "web.unix.wasm");
    let hvt = compose_baked("static-website", "hvt", &site, dir.path(), "web.hvt.wasm");
    // The site is in the image: changing the directory afterwards changes nothing served.
    let copy = dir.path().join("served");
    run("cp", &["-r", path_str(&site), path_str(&copy)]).ok();
    std::fs::write(site.join("index.html"), "changed after composing\n").unwrap();

    let described = ukc(&["describe", path_str(&hvt)]).ok();
    assert!(
        described.contains("storage      kv     baked in (5 files,") && described.contains("attached by no host"),
        "{described}"
    );
    assert!(!described.contains("--block:storage"), "{described}");

    let netns = Netns::loopback("crunch-unix");
    let server = Background::start(netns.command(path_str(&bin("ukc-unix")), &[path_str(&unix)]));
    netns.wait_for_port_within("127.0.0.1", 8080, Duration::from_secs(20));
    check_site(&netns, "http://127.0.0.1:8080", &copy, &files, dir.path());
    server.stop();

    let netns = Netns::with_tap("crunch-hvt");
    let args = ["--isolation=kvm", "--net:service=tap0", "--", path_str(&hvt), "--ipv4=10.0.0.2/24"];
    let server = Background::start(netns.command(path_str(&bin("ukc-hvt")), &args));
    netns.wait_for_port_within("10.0.0.2", 8080, Duration::from_secs(20));
    check_site(&netns, "http://10.0.0.2:8080", &copy, &files, dir.path());
    server.stop();

    // Attaching the baked store as well is a mistake, said before anything boots.
    let kv = format!("--kv:storage={}", path_str(&copy));
    let attached = ukc_unix(&[path_str(&unix), &kv]);
    assert_eq!(attached.status, Some(1));
    assert!(
        attached.stderr.contains("Device 'storage' is baked into the unikernel (ukc compose --data storage=DIR)"),
        "{}",
        attached.stderr
    );
}

#[test]
fn a_baked_site_and_a_deployed_identity_serve_https_on_hvt_in_kvm() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let site = d.join("site");
    make_site(&site);
    let ca = pki::ca(d, "ca");
    let (cert, key) = pki::certificate(d, "ca", "server", "DNS:localhost,IP:10.0.0.2", Validity::Now);
    let identity = d.join("identity");
    std::fs::create_dir_all(&identity).unwrap();
    std::fs::copy(cert, identity.join("cert.pem")).unwrap();
    std::fs::copy(key, identity.join("key.pem")).unwrap();
    let image = d.join("identity.tar");
    run("tar", &["-cf", path_str(&image), "-C", path_str(&identity), "."]).ok();
    let app = compose_baked("static-website-tls", "hvt", &site, d, "https.hvt.wasm");
    // The identity stays a device: the tls driver's store passes through kv-data to kv-tar.
    let described = ukc(&["describe", path_str(&app)]).ok();
    assert!(described.contains("storage      kv     baked in"), "{described}");
    assert!(described.contains("tls -> kv-data -> kv-tar"), "{described}");
    assert!(described.contains("--block:tls=FILE"), "{described}");

    let netns = Netns::with_tap("crunch-tls");
    let block = format!("--block:tls={}", path_str(&image));
    let args = ["--isolation=kvm", "--net:service=tap0", &block, "--", path_str(&app), "--ipv4=10.0.0.2/24"];
    let server = Background::start(netns.command(path_str(&bin("ukc-hvt")), &args));
    netns.wait_for_port_within("10.0.0.2", 8443, Duration::from_secs(20));
    for path in ["index.html", "docs/manual.pdf"] {
        let out = d.join("download");
        let url = format!("https://localhost:8443/{path}");
        let fetched = netns.run(
            &[
                "curl",
                "-sS",
                "--fail",
                "--cacert",
                path_str(&ca),
                "--resolve",
                "localhost:8443:10.0.0.2",
                "-o",
                path_str(&out),
                &url,
            ],
            Duration::from_secs(30),
        );
        assert_eq!(fetched.status, Some(0), "{}", fetched.stderr);
        assert!(std::fs::read(&out).unwrap() == std::fs::read(site.join(path)).unwrap(), "{path} differs");
    }
    server.stop();
}

#[test]
fn mistakes_with_data_are_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let site = d.join("site");
    make_site(&site);
    let out = path_str(&d.join("out.wasm")).to_string();
    let website = component("static-website");
    let compose_with = |app: &Path, data: &[&str]| {
        let mut args = vec!["compose", path_str(app), "-o", &out];
        for d in data {
            args.extend(["--data", d]);
        }
        ukc(&args)
    };
    // Mistakes in the flag itself are usage errors (status 2, as clap reports them);
    // mistakes found while composing fail the run (status 1).
    let fails_with = |run: Run, status: i32, why: &str| {
        assert_eq!(run.status, Some(status), "{}", run.stderr);
        assert!(run.stderr.contains(why), "expected {why:?} in: {}", run.stderr);
        assert!(!Path::new(&out).exists(), "nothing is written on an error");
    };
    let fails = |run: Run, why: &str| fails_with(run, 1, why);
    let misused = |run: Run, why: &str| fails_with(run, 2, why);
    let site_arg = |name: &str| format!("{name}={}", path_str(&site));
    fails(
        compose_with(&website, &[&site_arg("site")]),
        "--data site: the unikernel reads no kv store \"site\", so nothing would serve it; the kv stores it reads are: storage",
    );
    fails(compose_with(&component("hello"), &[&site_arg("storage")]), "the kv stores it reads are: none");
    fails(
        compose_with(&website, &[&site_arg("storage"), &site_arg("storage")]),
        "--data storage: the store is given twice",
    );
    misused(compose_with(&website, &["storage"]), "expected NAME=DIR, such as storage=./site");
    misused(compose_with(&website, &["a/b=x"]), "device name \"a/b\" must be 1 to 63 letters");
    let missing = format!("storage={}", path_str(&d.join("nothere")));
    fails(compose_with(&website, &[&missing]), "cannot read");
    let file = format!("storage={}", path_str(&site.join("index.html")));
    fails(compose_with(&website, &[&file]), "is not a directory");
    // A --use choice that routes the store around kv-data is named as the cause.
    let mut args = vec!["compose", path_str(&website), "--use", "ukc:kv/ro=kv-tar", "-o", &out, "--data"];
    let storage = site_arg("storage");
    args.push(&storage);
    fails(ukc(&args), "is read without passing through kv-data");
    // On hvt the store becomes a block device through kv-tar; the message still names it.
    let mut args = vec!["compose", path_str(&website), "-t", "hvt", "-o", &out, "--data"];
    let typo = site_arg("site");
    args.push(&typo);
    fails(ukc(&args), "the kv stores it reads are: storage");
    // A link out of the directory would bake whatever it points at: refused.
    let secret = d.join("secret.key");
    std::fs::write(&secret, "not for the image\n").unwrap();
    std::os::unix::fs::symlink(&secret, site.join("key.pem")).unwrap();
    fails(
        compose_with(&website, &[&site_arg("storage")]),
        "outside the directory; --data bakes only what the directory holds",
    );
    std::fs::remove_file(site.join("key.pem")).unwrap();
    std::os::unix::fs::symlink(&site, site.join("loop")).unwrap();
    fails(compose_with(&website, &[&site_arg("storage")]), "a link to a directory");
}

#[test]
fn baking_a_store_a_driver_expects_at_deploy_time_says_where_it_goes() {
    let dir = tempfile::tempdir().unwrap();
    let identity = dir.path().join("identity");
    std::fs::create_dir_all(&identity).unwrap();
    std::fs::write(identity.join("cert.pem"), "").unwrap();
    let out = dir.path().join("echo.wasm");
    let data = format!("tls={}", path_str(&identity));
    let composed = ukc(&["compose", path_str(&component("tls-echo")), "--data", &data, "-o", path_str(&out)]);
    assert_eq!(composed.status, Some(0), "{}", composed.stderr);
    assert!(
        composed
            .stderr
            .contains("--data tls: the store belongs to the tls driver, which expects it attached at deploy time"),
        "{}",
        composed.stderr
    );
}
