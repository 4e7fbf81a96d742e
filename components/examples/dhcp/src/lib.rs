//! MirageOS's `dhcp`: waits until the TCP/IP stack holds a DHCP lease, prints the
//! address, gateway, DNS servers and lease time, and exits. Compose it with the `tcpip`
//! driver (the default on hvt; `--use ukc:tcpip=tcpip` on unix) and boot it without
//! `--ipv4` so that the stack asks DHCP.

wit_bindgen::generate!({
    inline: "
        package ukc-example:dhcp;
        world dhcp {
            include ukc:app/app@0.1.0;
            import ukc:console/console@0.1.0;
            import ukc:clock/monotonic@0.1.0;
            import ukc:poll/poll@0.1.0;
            import ukc:args/args@0.1.0;
            import ukc:tcpip/ipv4@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use ukc::args::args;
use ukc::clock::monotonic;
use ukc::console::console;
use ukc::poll::poll;
use ukc::tcpip::ipv4;

struct Dhcp;

impl exports::ukc::app::main::Guest for Dhcp {
    fn run() -> Result<(), String> {
        let timeout_ms: u64 =
            args::get("timeout-ms").and_then(|t| t.parse().ok()).ok_or("--timeout-ms must be 0 or more")?;
        let deadline = monotonic::now().saturating_add(timeout_ms.saturating_mul(1_000_000));
        console::write(b"dhcp: waiting for a lease\n");
        loop {
            if let Some(lease) = ipv4::config() {
                let gateway = lease.gateway.map_or("none".to_string(), ip);
                let dns: Vec<String> = lease.dns_servers.into_iter().map(ip).collect();
                let time = lease.lease_seconds.map_or("static".to_string(), |s| format!("{s} s"));
                console::write(
                    format!(
                        "dhcp: address {}/{} gateway {gateway} dns [{}] lease {time}\n",
                        ip(lease.address),
                        lease.prefix_length,
                        dns.join(", ")
                    )
                    .as_bytes(),
                );
                return Ok(());
            }
            if monotonic::now() >= deadline {
                return Err(format!(
                    "no lease within {timeout_ms} ms: is a DHCP server reachable, and does the stack use DHCP \
                     (the tcpip driver booted without --ipv4; the unix socket stack never leases)?"
                ));
            }
            poll::yield_(deadline);
        }
    }
}

fn ip((a, b, c, d): (u8, u8, u8, u8)) -> String {
    format!("{a}.{b}.{c}.{d}")
}

export!(Dhcp);
