//! Looks names up through `ukc:dns/resolver`, as `host(1)` does: one line per address,
//! one line per failure, and a failed run when any name failed.

wit_bindgen::generate!({
    inline: "
        package ukc-example:lookup;
        world lookup {
            include ukc:app/app@0.1.0;
            import ukc:console/console@0.1.0;
            import ukc:args/args@0.1.0;
            import ukc:dns/resolver@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use ukc::args::args;
use ukc::console::console;
use ukc::dns::resolver::{self, Error};

struct Lookup;

impl exports::ukc::app::main::Guest for Lookup {
    fn run() -> Result<(), String> {
        let names = args::get("names").unwrap_or_default();
        let names: Vec<&str> = names.split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
        if names.is_empty() {
            return Err("give the names to look up with --names=NAME[,NAME...]".into());
        }
        let mut failed = 0;
        for name in &names {
            match resolver::resolve_ipv4(name) {
                Ok(addresses) => {
                    for (a, b, c, d) in addresses {
                        say(&format!("{name} has address {a}.{b}.{c}.{d}"));
                    }
                }
                Err(Error::NoServer) => {
                    return Err("no DNS server: give one with --dns-server=ADDRESS (or get one from DHCP)".into());
                }
                Err(e) => {
                    failed += 1;
                    say(&format!("{name}: {}", describe(&e)));
                }
            }
        }
        if failed > 0 { Err(format!("{failed} of {} names not resolved", names.len())) } else { Ok(()) }
    }
}

fn describe(error: &Error) -> String {
    match error {
        Error::InvalidName(text) => format!("not a domain name ({text})"),
        Error::NotFound(_) => "not found (NXDOMAIN)".into(),
        Error::NoAddress(_) => "has no IPv4 address".into(),
        Error::NoServer => "no DNS server".into(),
        Error::Timeout(text) | Error::Server(text) | Error::Network(text) => text.clone(),
    }
}

fn say(line: &str) {
    console::write(format!("{line}\n").as_bytes());
}

export!(Lookup);
