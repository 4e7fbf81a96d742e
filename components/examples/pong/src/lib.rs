//! `pong`: answers ARP requests and ICMP echo requests for `--ipv4` on the net device
//! `service`, working on raw Ethernet frames. It shows frames flowing both ways through a
//! host's net device before any TCP/IP stack is involved, and waits with `yield` (never
//! spinning) between frames.

wit_bindgen::generate!({
    inline: "
        package ukc-example:pong;
        world pong {
            include ukc:app/app@0.1.0;
            import ukc:console/console@0.1.0;
            import ukc:poll/poll@0.1.0;
            import ukc:args/args@0.1.0;
            import ukc:net/net@0.1.1;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

mod frames;

use ukc::args::args;
use ukc::console::console;
use ukc::net::net::{self, Error};
use ukc::poll::poll;

struct Pong;

impl exports::ukc::app::main::Guest for Pong {
    fn run() -> Result<(), String> {
        let ip =
            parse_ipv4(&args::get("ipv4").unwrap_or_default()).ok_or("--ipv4 must be an address such as 10.0.0.2")?;
        let count: u64 = args::get("count").and_then(|c| c.parse().ok()).ok_or("--count must be 0 or more")?;
        let device = net::acquire("service").map_err(|e| format!("net device 'service': {e:?}"))?;
        let info = device.info();
        let (a, b, c, d, e, f) = info.mac;
        let mac = [a, b, c, d, e, f];
        say(&format!("pong: service {} mtu {}, answering ARP and ping for {}", show_mac(&mac), info.mtu, show_ip(&ip)));
        let mut replies = 0;
        while count == 0 || replies < count {
            let frame = match device.read() {
                Ok(frame) => frame,
                Err(Error::Again) => {
                    poll::yield_(u64::MAX);
                    continue;
                }
                Err(e) => return Err(format!("reading a frame: {e:?}")),
            };
            let Some(answer) = frames::answer(&frame, &mac, &ip) else { continue };
            say(&answer.describe());
            device.write(&answer.frame).map_err(|e| format!("sending a frame: {e:?}"))?;
            if answer.is_echo_reply() {
                replies += 1;
            }
        }
        say(&format!("pong: {replies} ping replies sent, done"));
        Ok(())
    }
}

fn parse_ipv4(text: &str) -> Option<[u8; 4]> {
    let mut ip = [0u8; 4];
    let mut parts = text.split('.');
    for byte in &mut ip {
        *byte = parts.next()?.parse().ok()?;
    }
    parts.next().is_none().then_some(ip)
}

fn show_ip(ip: &[u8]) -> String {
    format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3])
}

fn show_mac(mac: &[u8]) -> String {
    mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

fn say(line: &str) {
    console::write(format!("{line}\n").as_bytes());
}

export!(Pong);
