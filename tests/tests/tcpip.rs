//! The tcpip driver (smoltcp over a net device) against real Linux peers over a TAP
//! device, on ukc-hvt and on ukc-unix (`--use ukc:tcpip=tcpip`), each test in its own
//! network namespace with addresses inside it only.

use std::process::Command;
use std::time::Duration;
use ukc_tests::netns::Netns;
use ukc_tests::web::{Background, check_site, load, make_site};
use ukc_tests::*;

/// The command that boots `unikernel` on `host` with the net device `service` on tap0.
fn boot(netns: &Netns, host: &str, unikernel: &str, devices: &[&str], args: &[&str]) -> Command {
    let mut words: Vec<&str> = Vec::new();
    if host == "ukc-hvt" {
        words.extend(devices);
        words.extend(["--", unikernel]);
    } else {
        words.push(unikernel);
        words.extend(devices);
        words.push("--");
    }
    words.extend(args);
    netns.command(path_str(&bin(host)), &words)
}

#[test]
fn echo_and_ping_over_the_tcpip_driver_on_both_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let on_hvt = compose(&component("network"), "hvt", dir.path(), "net.hvt.wasm", &[]);
    let on_unix = compose(&component("network"), "unix", dir.path(), "net.unix.wasm", &["--use", "ukc:tcpip=tcpip"]);
    for (host, unikernel) in [("ukc-hvt", &on_hvt), ("ukc-unix", &on_unix)] {
        let netns = Netns::with_tap(&format!("echo-{host}"));
        let server = Background::start(boot(
            &netns,
            host,
            path_str(unikernel),
            &["--net:service=tap0"],
            &["--ipv4=10.0.0.2/24"],
        ));
        netns.wait_for_port("10.0.0.2", 8080);
        let ping = netns.run(&["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.0.2"], Duration::from_secs(20)).ok();
        assert!(ping.contains("3 packets transmitted, 3 received"), "{host}: {ping}");
        let echoed = run_with_input(
            &mut netns.command("nc", &["-q", "1", "10.0.0.2", "8080"]),
            b"hello through smoltcp\n",
            Duration::from_secs(20),
        );
        assert_eq!(echoed.ok(), "hello through smoltcp\n", "{host}");
        let log = server.stop();
        assert!(log.contains("network: connection from 10.0.0.1:"), "{host}: {log}");
    }
}

#[test]
fn static_website_on_hvt_serves_a_gnu_tar_image_through_30_seconds_of_wrk() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("site");
    let files = make_site(&root);
    let image = dir.path().join("site.tar");
    let tar = Command::new("tar").args(["-C", path_str(&root), "-cf", path_str(&image), "."]).status().unwrap();
    assert!(tar.success());
    let website = compose(&component("static-website"), "hvt", dir.path(), "web.hvt.wasm", &[]);
    let netns = Netns::with_tap("web-hvt");
    let block = format!("--block:storage={}", path_str(&image));
    let devices = ["--net:service=tap0", block.as_str()];
    let server = Background::start(boot(&netns, "ukc-hvt", path_str(&website), &devices, &["--ipv4=10.0.0.2/24"]));
    netns.wait_for_port("10.0.0.2", 8080);
    check_site(&netns, "http://10.0.0.2:8080", &root, &files, dir.path());
    let report = load(&netns, "http://10.0.0.2:8080/index.html", 30);
    // Still serving, and byte-identical, after the load.
    check_site(&netns, "http://10.0.0.2:8080", &root, &files, dir.path());
    let log = server.stop();
    assert!(log.contains("static-website: serving on port 8080"), "{log}\n{report}");
}

#[test]
fn dhcp_example_gets_a_lease_from_dnsmasq() {
    let dir = tempfile::tempdir().unwrap();
    let dhcp = compose(&component("dhcp"), "hvt", dir.path(), "dhcp.hvt.wasm", &[]);
    let netns = Netns::with_tap("dhcp");
    let leases = dir.path().join("leases");
    let server = Background::start(netns.command(
        "dnsmasq",
        &[
            "--no-daemon",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--port=0",
            "--interface=tap0",
            "--bind-interfaces",
            "--dhcp-range=10.0.0.50,10.0.0.99,255.255.255.0,12h",
            "--dhcp-option=option:dns-server,10.0.0.1",
            &format!("--dhcp-leasefile={}", path_str(&leases)),
        ],
    ));
    // dnsmasq needs a moment to bind before the first DISCOVER is worth sending.
    std::thread::sleep(Duration::from_millis(500));
    let mut unikernel = boot(&netns, "ukc-hvt", path_str(&dhcp), &["--net:service=tap0"], &["--timeout-ms=30000"]);
    unikernel.env("UKC_CACHE_DIR", test_cache());
    let leased = run_with_input(&mut unikernel, b"", Duration::from_secs(60));
    let dnsmasq_log = server.stop();
    assert_eq!(leased.status, Some(0), "{}{}\ndnsmasq: {dnsmasq_log}", leased.stdout_text(), leased.stderr);
    let out = leased.stdout_text();
    assert!(out.starts_with("dhcp: waiting for a lease\n"), "{out}");
    assert!(out.contains("\ndhcp: address 10.0.0."), "{out}\n{dnsmasq_log}");
    assert!(out.contains("/24 gateway 10.0.0.1 dns [10.0.0.1] lease 43200 s"), "{out}");
    let address = out.split("address ").nth(1).and_then(|a| a.split('/').next()).unwrap_or_default().to_string();
    assert!(dnsmasq_log.contains(&format!("DHCPACK(tap0) {address}")), "{dnsmasq_log}");
}

#[test]
fn a_malformed_address_is_refused_before_boot() {
    let dir = tempfile::tempdir().unwrap();
    let network = compose(&component("network"), "hvt", dir.path(), "net.hvt.wasm", &[]);
    let refused = run(bin("ukc-hvt"), &["--net:service=tap0", "--", path_str(&network), "--ipv4=10.0.0.300/24"]);
    assert_eq!(refused.status, Some(64));
    assert!(refused.stderr.contains("bad value for --ipv4: expected an IPv4 address and prefix"), "{}", refused.stderr);
}

/// Whether `tap0`'s TCP segmentation offload is on, as `ethtool -k` reports it.
fn segmentation_offload(netns: &Netns) -> String {
    let features = netns.run(&["ethtool", "-k", "tap0"], Duration::from_secs(10)).ok();
    let line = features.lines().find(|l| l.starts_with("tcp-segmentation-offload:")).expect("ethtool lists TSO");
    line.split_whitespace().nth(1).unwrap_or_default().to_string()
}

/// The tcpip driver asks for merged segments (`receive-segments`), which turns on the tap's
/// segmentation offload; that belongs to the interface, so the host turns it off again when
/// it ends, on SIGTERM and SIGHUP too (the signal still ends it, with its usual status).
#[test]
fn the_taps_offloads_are_on_only_while_the_unikernel_runs() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let unikernel = compose(&component("network"), "hvt", dir.path(), "net.hvt.wasm", &[]);
    for (isolation, signal) in [("process", libc::SIGTERM), ("kvm", libc::SIGTERM), ("kvm", libc::SIGHUP)] {
        let netns = Netns::with_tap(&format!("offload-{isolation}-{signal}"));
        assert_eq!(segmentation_offload(&netns), "off", "{isolation}: before");
        let mode = format!("--isolation={isolation}");
        let mut cmd =
            boot(&netns, "ukc-hvt", path_str(&unikernel), &[&mode, "--net:service=tap0"], &["--ipv4=10.0.0.2/24"]);
        let mut host = cmd.env("UKC_CACHE_DIR", test_cache()).stdout(std::process::Stdio::null()).spawn().unwrap();
        netns.wait_for_port_within("10.0.0.2", 8080, Duration::from_secs(30));
        assert_eq!(segmentation_offload(&netns), "on", "{isolation}: while it runs");
        // SAFETY: signalling a child this test started and has not reaped.
        assert_eq!(unsafe { libc::kill(host.id() as libc::pid_t, signal) }, 0);
        let status = host.wait().unwrap();
        assert_eq!(status.signal(), Some(signal), "{isolation}: {status}");
        assert_eq!(segmentation_offload(&netns), "off", "{isolation}: after signal {signal}");
    }
}
