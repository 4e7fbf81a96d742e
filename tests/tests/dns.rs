//! The `dns` example: an authoritative server answers `dig` over UDP and TCP for every
//! record type it serves, on ukc-unix (the host's sockets) and on ukc-hvt in KVM (the
//! tcpip driver over a tap, the zone file in a GNU tar image), says NXDOMAIN, REFUSED and
//! FORMERR where due, and keeps answering after malformed packets.

use std::path::Path;
use std::time::Duration;
use ukc_tests::netns::Netns;
use ukc_tests::web::Background;
use ukc_tests::*;

const ZONE: &str = "\
$ORIGIN example.test.
$TTL 3600
@   IN SOA ns1 hostmaster ( 2026120601 1h 15m 1w 300 )
    IN NS  ns1
    IN MX  10 mail
    IN TXT \"v=spf1 -all\"
ns1     A    10.0.0.2
mail    A    10.0.0.3
        AAAA fd00::3
www     CNAME mail
";

/// `dig` inside the namespace, bounded: two tries of two seconds.
fn dig(netns: &Netns, server: &str, args: &[&str]) -> String {
    let at = format!("@{server}");
    let mut words = vec!["dig", at.as_str(), "+time=2", "+tries=2"];
    words.extend_from_slice(args);
    netns.run(&words, Duration::from_secs(20)).ok()
}

/// What `dig +short` prints for `name TYPE`, over UDP and over TCP (which must agree).
fn short(netns: &Netns, server: &str, name: &str, kind: &str) -> String {
    let udp = dig(netns, server, &["+short", name, kind]);
    let tcp = dig(netns, server, &["+short", "+tcp", name, kind]);
    assert_eq!(udp, tcp, "{name} {kind}: UDP and TCP agree");
    udp.trim().to_string()
}

/// Sends `hex` as one UDP datagram to port 53 and returns the answer's ID and RCODE, or
/// `none` when no answer comes within a second.
fn raw_query(netns: &Netns, server: &str, hex: &str) -> String {
    let script = format!(
        "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.settimeout(1)\n\
         s.sendto(bytes.fromhex('{hex}'), ('{server}', 53))\n\
         try:\n    d = s.recv(4096)\n    print(d[:2].hex(), d[3] & 15)\n\
         except socket.timeout:\n    print('none')\n"
    );
    netns.run(&["python3", "-c", &script], Duration::from_secs(10)).ok().trim().to_string()
}

fn check_answers(netns: &Netns, server: &str) {
    assert_eq!(short(netns, server, "ns1.example.test", "A"), "10.0.0.2");
    assert_eq!(short(netns, server, "MAIL.example.test", "AAAA"), "fd00::3");
    assert_eq!(short(netns, server, "www.example.test", "CNAME"), "mail.example.test.");
    assert_eq!(short(netns, server, "www.example.test", "A"), "mail.example.test.\n10.0.0.3");
    assert_eq!(short(netns, server, "example.test", "MX"), "10 mail.example.test.");
    assert_eq!(short(netns, server, "example.test", "TXT"), "\"v=spf1 -all\"");
    assert_eq!(short(netns, server, "example.test", "NS"), "ns1.example.test.");
    assert_eq!(
        short(netns, server, "example.test", "SOA"),
        "ns1.example.test. hostmaster.example.test. 2026120601 3600 900 604800 300"
    );
    let full = dig(netns, server, &["ns1.example.test", "A"]);
    assert!(full.contains("flags: qr aa"), "authoritative: {full}");
    let missing = dig(netns, server, &["nothere.example.test", "A"]);
    assert!(missing.contains("status: NXDOMAIN") && missing.contains("IN\tSOA"), "{missing}");
    let nodata = dig(netns, server, &["+tcp", "ns1.example.test", "MX"]);
    assert!(nodata.contains("status: NOERROR") && nodata.contains("ANSWER: 0"), "{nodata}");
    let outside = dig(netns, server, &["example.org", "A"]);
    assert!(outside.contains("status: REFUSED"), "{outside}");
    // A header and a cut question, a cut name: FORMERR with the query's ID. Fewer bytes
    // than a header, or a response: no answer at all (answering answers makes loops).
    assert_eq!(raw_query(netns, server, "abcd01000001000000000000077878"), "abcd 1");
    assert_eq!(raw_query(netns, server, "beef0100000100000000000003777777"), "beef 1");
    assert_eq!(raw_query(netns, server, "0102030405"), "none");
    assert_eq!(raw_query(netns, server, "abcd81800001000000000000"), "none");
    assert_eq!(short(netns, server, "ns1.example.test", "A"), "10.0.0.2", "still serving");
}

fn zone_dir(dir: &Path) -> std::path::PathBuf {
    let zone = dir.join("zone");
    std::fs::create_dir_all(&zone).unwrap();
    std::fs::write(zone.join("zone.txt"), ZONE).unwrap();
    zone
}

#[test]
fn dns_answers_dig_on_unix_over_the_hosts_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let zone = zone_dir(dir.path());
    let dns = compose(&component("dns"), "unix", dir.path(), "dns.unix.wasm", &[]);
    let netns = Netns::loopback("dns-unix");
    let kv = format!("--kv:zone={}", path_str(&zone));
    let server =
        Background::start(netns.command(path_str(&bin("ukc-unix")), &[path_str(&dns), &kv, "--", "--verbose"]));
    netns.wait_for_port("127.0.0.1", 53);
    check_answers(&netns, "127.0.0.1");
    let log = server.stop();
    assert!(log.contains("dns: serving example.test. (8 records) on port 53, UDP and TCP"), "{log}");
    assert!(log.contains("udp ns1.example.test. A"), "--verbose logs queries: {log}");
}

#[test]
fn dns_answers_dig_on_hvt_in_kvm_through_the_tcpip_driver() {
    let dir = tempfile::tempdir().unwrap();
    let zone = zone_dir(dir.path());
    let image = dir.path().join("zone.tar");
    run("tar", &["-cf", path_str(&image), "-C", path_str(&zone), "."]).ok();
    let dns = compose(&component("dns"), "hvt", dir.path(), "dns.hvt.wasm", &[]);
    let netns = Netns::with_tap("dns-hvt");
    let block = format!("--block:zone={}", path_str(&image));
    let host = bin("ukc-hvt");
    let args = ["--isolation=kvm", "--net:service=tap0", &block, "--", path_str(&dns), "--ipv4=10.0.0.2/24"];
    let server = Background::start(netns.command(path_str(&host), &args));
    netns.wait_for_port_within("10.0.0.2", 53, Duration::from_secs(20));
    check_answers(&netns, "10.0.0.2");
    let log = server.stop();
    assert!(log.contains("dns: serving example.test."), "{log}");
}

#[test]
fn a_bad_zone_file_is_one_error_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let zone = zone_dir(dir.path());
    std::fs::write(zone.join("zone.txt"), format!("{ZONE}bad     A    10.0.0.300\n")).unwrap();
    let dns = compose(&component("dns"), "unix", dir.path(), "dns.unix.wasm", &[]);
    let kv = format!("--kv:zone={}", path_str(&zone));
    let failed = ukc_unix(&[path_str(&dns), &kv, "--", "--port=0"]);
    assert_eq!(failed.status, Some(1), "{}", failed.stderr);
    assert!(
        failed.stderr.contains("zone file \"zone.txt\", line 11: \"10.0.0.300\" is not an IPv4 address"),
        "{}",
        failed.stderr
    );
    let missing = ukc_unix(&[path_str(&dns), &kv, "--", "--zone-file=other.txt"]);
    assert_eq!(missing.status, Some(1));
    assert!(missing.stderr.contains("zone file \"other.txt\""), "{}", missing.stderr);
}

/// dnsmasq inside `netns` as the recursive server the resolver asks: it knows
/// `mail.example.test` and that `www` is its alias, refuses other names, and, given a
/// DHCP lease file, leases addresses naming itself as the DNS server.
fn dnsmasq(netns: &Netns, listen: &str, dhcp: Option<&Path>) -> Background {
    let records = ["--host-record=mail.example.test,10.0.0.3", "--cname=www.example.test,mail.example.test"];
    ukc_tests::dnsmasq::start(netns, listen, &records.map(String::from), dhcp)
}

const LOOKED_UP: &str = "www.example.test has address 10.0.0.3\nmail.example.test has address 10.0.0.3\n";

#[test]
fn the_dns_resolver_driver_asks_dnsmasq_on_unix() {
    let dir = tempfile::tempdir().unwrap();
    let lookup = compose(&component("lookup"), "unix", dir.path(), "lookup.unix.wasm", &[]);
    let netns = Netns::loopback("lookup-unix");
    let server = dnsmasq(&netns, "127.0.0.1", None);
    let mut cmd = netns.command(
        path_str(&bin("ukc-unix")),
        &[path_str(&lookup), "--", "--dns-server=127.0.0.1", "--names=www.example.test,mail.example.test."],
    );
    cmd.env("UKC_CACHE_DIR", test_cache());
    let found = run_with_input(&mut cmd, b"", Duration::from_secs(60));
    assert_eq!(found.ok(), LOOKED_UP.replace("mail.example.test has", "mail.example.test. has"));
    let mut cmd = netns.command(
        path_str(&bin("ukc-unix")),
        &[path_str(&lookup), "--", "--dns-server=127.0.0.1", "--names=nothere.example.test,a..b"],
    );
    cmd.env("UKC_CACHE_DIR", test_cache());
    let failed = run_with_input(&mut cmd, b"", Duration::from_secs(60));
    assert_eq!(failed.status, Some(1));
    assert!(
        failed.stdout_text().contains("nothere.example.test: 127.0.0.1: the server answered"),
        "{}",
        failed.stdout_text()
    );
    assert!(failed.stdout_text().contains("a..b: not a domain name"), "{}", failed.stdout_text());
    assert!(failed.stderr.contains("2 of 2 names not resolved"), "{}", failed.stderr);
    server.stop();

    // Nobody answers: three tries of two seconds, then one clear line.
    let mut cmd = netns.command(
        path_str(&bin("ukc-unix")),
        &[path_str(&lookup), "--", "--dns-server=127.0.0.9", "--names=www.example.test"],
    );
    cmd.env("UKC_CACHE_DIR", test_cache());
    let silent = run_with_input(&mut cmd, b"", Duration::from_secs(60));
    assert!(silent.stdout_text().contains("127.0.0.9 did not answer 3 tries of 2 s"), "{}", silent.stdout_text());
}

#[test]
fn the_dns_resolver_driver_asks_dnsmasq_on_hvt_in_kvm_static_and_by_dhcp() {
    let dir = tempfile::tempdir().unwrap();
    let lookup = compose(&component("lookup"), "hvt", dir.path(), "lookup.hvt.wasm", &[]);
    let netns = Netns::with_tap("lookup-hvt");
    let server = dnsmasq(&netns, "10.0.0.1", Some(&dir.path().join("leases")));
    let host = bin("ukc-hvt");
    let names = "--names=www.example.test,mail.example.test";
    for args in [vec!["--ipv4=10.0.0.2/24", "--dns-server=10.0.0.1", names], vec![names]] {
        let mut words = vec!["--isolation=kvm", "--net:service=tap0", "--", path_str(&lookup)];
        words.extend(&args);
        let mut cmd = netns.command(path_str(&host), &words);
        cmd.env("UKC_CACHE_DIR", test_cache());
        let found = run_with_input(&mut cmd, b"", Duration::from_secs(60)).ok();
        if args.len() == 1 {
            let (lease, rest) = found.split_once('\n').unwrap_or_default();
            assert!(lease.starts_with("tcpip: DHCP lease 10.0.0.") && lease.contains("DNS 10.0.0.1"), "{found}");
            assert_eq!(rest, LOOKED_UP);
        } else {
            assert_eq!(found, LOOKED_UP, "{args:?}");
        }
    }
    let log = server.stop();
    assert!(log.contains("DHCPACK(tap0)"), "the second run took its server from a lease: {log}");
}
