//! `ukc:net` grows by minor versions: a driver built against 0.1.0, before
//! `write-segments` and `receive-segments` existed, still composes for hvt and runs on
//! ukc-hvt in process and in KVM, its frames reaching the tap as before.

use std::time::Duration;
use ukc_tests::netns::Netns;
use ukc_tests::*;

/// `ukc:net` as it was at 0.1.0 (its documentation left out).
const NET_0_1_0: &str = "
package ukc:net@0.1.0;

interface net {
    enum error { not-found, again, invalid-frame, io }
    record info { mac: tuple<u8, u8, u8, u8, u8, u8>, mtu: u32 }
    resource device {
        info: func() -> info;
        read: func() -> result<list<u8>, error>;
        write: func(frame: list<u8>) -> result<_, error>;
    }
    acquire: func(name: string) -> result<device, error>;
}
";

const WORLD: &str = "
package acme:old-net;

world app {
    import ukc:net/net@0.1.0;
    import ukc:console/console@0.1.0;
    export ukc:app/main@0.1.0;
}
";

/// Acquires `service`, checks its MTU is 1500, writes one 60-byte broadcast frame and
/// says so; any failure ends the run with an error.
const APP: &str = r#"
(module
  (import "ukc:net/net@0.1.0" "acquire" (func $acquire (param i32 i32 i32)))
  (import "ukc:net/net@0.1.0" "[method]device.info" (func $info (param i32 i32)))
  (import "ukc:net/net@0.1.0" "[method]device.write" (func $write (param i32 i32 i32 i32)))
  (import "ukc:console/console@0.1.0" "write" (func $say (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "service")
  (data (i32.const 32) "old-net: wrote a frame\n")
  (data (i32.const 128) "old-net: failed")
  (data (i32.const 256) "\ff\ff\ff\ff\ff\ff\02\00\00\00\00\99\88\b5old net device contract")
  (func $fail (result i32)
    (i32.store8 (i32.const 112) (i32.const 1))
    (i32.store (i32.const 116) (i32.const 128))
    (i32.store (i32.const 120) (i32.const 15))
    (i32.const 112))
  (func (export "ukc:app/main@0.1.0#run") (result i32)
    (call $acquire (i32.const 16) (i32.const 7) (i32.const 64))
    (if (i32.load8_u (i32.const 64)) (then (return (call $fail))))
    (call $info (i32.load (i32.const 68)) (i32.const 80))
    (if (i32.ne (i32.load (i32.const 88)) (i32.const 1500)) (then (return (call $fail))))
    (call $write (i32.load (i32.const 68)) (i32.const 256) (i32.const 60) (i32.const 96))
    (if (i32.load8_u (i32.const 96)) (then (return (call $fail))))
    (call $say (i32.const 32) (i32.const 23))
    (i32.store8 (i32.const 112) (i32.const 0))
    (i32.const 112))
  (@custom "ukc-manifest" "{\"name\": \"old-net\", \"version\": \"1.0.0\", \"description\": \"Writes one frame through ukc:net 0.1.0\", \"devices\": [{\"name\": \"service\", \"type\": \"net\"}]}")
)
"#;

fn frames_received(netns: &Netns) -> u64 {
    let text = netns.run(&["cat", "/sys/class/net/tap0/statistics/rx_packets"], Duration::from_secs(5)).ok();
    text.trim().parse().expect("a packet count")
}

#[test]
fn a_driver_built_against_ukc_net_0_1_0_still_runs_on_both_hvt_modes() {
    let dir = tempfile::tempdir().unwrap();
    let wit = wit_dir(dir.path(), &[("net-0.1.0", NET_0_1_0), ("old-net", WORLD)]);
    let app = wat_component(dir.path(), "old-net", &wit, "acme:old-net/app", APP);
    assert!(component_wit(&app).contains("import ukc:net/net@0.1.0;"), "{}", component_wit(&app));
    let unikernel = compose(&app, "hvt", dir.path(), "old-net.hvt.wasm", &[]);
    let host = bin("ukc-hvt");
    for isolation in ["process", "kvm"] {
        let netns = Netns::with_tap(&format!("old-net-{isolation}"));
        let before = frames_received(&netns);
        let mode = format!("--isolation={isolation}");
        let words = [path_str(&host), &mode, "--net:service=tap0", "--", path_str(&unikernel)];
        let mut cmd = netns.command(words[0], &words[1..]);
        let out = run_with_input(cmd.env("UKC_CACHE_DIR", test_cache()), b"", Duration::from_secs(60)).ok();
        assert!(out.contains("old-net: wrote a frame"), "{isolation}: {out}");
        assert!(frames_received(&netns) > before, "{isolation}: the frame reached tap0");
    }
}
