//! The stack's runtime arguments: `--ipv4=ADDR/PREFIX` and `--ipv4-gateway=ADDR`.
//!
//! Parsing is pure so that every message a user can see is tested on the host.

use core::net::Ipv4Addr;
use smoltcp::wire::Ipv4Cidr;

/// How the interface gets its address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Addressing {
    /// Given on the command line.
    Static { cidr: Ipv4Cidr, gateway: Option<Ipv4Addr> },
    /// Leased from a DHCP server.
    Dhcp,
}

/// Reads the configuration from the two arguments' values (`None` when not given).
/// The error names the argument and says what a good value looks like.
pub fn addressing(ipv4: Option<&str>, gateway: Option<&str>) -> Result<Addressing, String> {
    let Some(ipv4) = ipv4 else {
        return match gateway {
            Some(_) => Err("--ipv4-gateway needs --ipv4: with DHCP the gateway comes from the lease".into()),
            None => Ok(Addressing::Dhcp),
        };
    };
    let cidr = parse_cidr(ipv4)
        .map_err(|why| format!("--ipv4={ipv4}: {why}; expected an address with prefix such as 10.0.0.2/24"))?;
    let gateway = match gateway {
        None => None,
        Some(text) => {
            let gateway = parse_address(text)
                .map_err(|why| format!("--ipv4-gateway={text}: {why}; expected an address such as 10.0.0.1"))?;
            if !cidr.contains_addr(&gateway) || gateway == cidr.address() {
                return Err(format!(
                    "--ipv4-gateway={text}: the gateway must be another address on {}",
                    cidr.network()
                ));
            }
            Some(gateway)
        }
    };
    Ok(Addressing::Static { cidr, gateway })
}

/// `A.B.C.D/N` with a unicast address that is neither the network nor the broadcast
/// address of its prefix.
fn parse_cidr(text: &str) -> Result<Ipv4Cidr, String> {
    let (address, prefix) = text.split_once('/').ok_or("the prefix length is missing")?;
    let address = parse_address(address)?;
    let prefix: u8 = prefix.parse().map_err(|_| format!("{prefix:?} is not a prefix length"))?;
    if !(1..=32).contains(&prefix) {
        return Err(format!("the prefix length {prefix} is not between 1 and 32"));
    }
    let cidr = Ipv4Cidr::new(address, prefix);
    // A /31 or /32 has no network or broadcast address to avoid (RFC 3021).
    if prefix <= 30 && (address == cidr.network().address() || Some(address) == cidr.broadcast()) {
        return Err(format!("{address} is the network or broadcast address of /{prefix}"));
    }
    Ok(cidr)
}

/// A dotted-quad unicast address.
fn parse_address(text: &str) -> Result<Ipv4Addr, String> {
    let address: Ipv4Addr = text.parse().map_err(|_| format!("{text:?} is not an IPv4 address"))?;
    if address.is_unspecified() || address.is_broadcast() || address.is_multicast() || address.is_loopback() {
        return Err(format!("{address} is not a unicast address"));
    }
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
        Ipv4Addr::new(a, b, c, d)
    }

    #[test]
    fn without_ipv4_asks_dhcp() {
        assert_eq!(addressing(None, None), Ok(Addressing::Dhcp));
        let err = addressing(None, Some("10.0.0.1")).unwrap_err();
        assert!(err.starts_with("--ipv4-gateway needs --ipv4"), "{err}");
    }

    #[test]
    fn reads_a_static_address_and_gateway() {
        let cidr = Ipv4Cidr::new(ip(10, 0, 0, 2), 24);
        assert_eq!(addressing(Some("10.0.0.2/24"), None), Ok(Addressing::Static { cidr, gateway: None }));
        assert_eq!(
            addressing(Some("10.0.0.2/24"), Some("10.0.0.1")),
            Ok(Addressing::Static { cidr, gateway: Some(ip(10, 0, 0, 1)) })
        );
        let host = Ipv4Cidr::new(ip(192, 168, 7, 9), 32);
        assert_eq!(addressing(Some("192.168.7.9/32"), None), Ok(Addressing::Static { cidr: host, gateway: None }));
    }

    #[test]
    fn names_the_argument_in_every_error() {
        for (ipv4, why) in [
            ("10.0.0.2", "prefix length is missing"),
            ("10.0.0.300/24", "is not an IPv4 address"),
            ("10.0.0.2/33", "not between 1 and 32"),
            ("10.0.0.2/0", "not between 1 and 32"),
            ("10.0.0.2/x", "is not a prefix length"),
            ("10.0.0.0/24", "network or broadcast"),
            ("10.0.0.255/24", "network or broadcast"),
            ("0.0.0.0/8", "not a unicast address"),
            ("224.0.0.1/4", "not a unicast address"),
        ] {
            let err = addressing(Some(ipv4), None).unwrap_err();
            assert!(err.starts_with(&format!("--ipv4={ipv4}: ")) && err.contains(why), "{ipv4}: {err}");
        }
        for (gateway, why) in
            [("10.0.1.1", "another address on 10.0.0.0/24"), ("10.0.0.2", "another address"), ("gw", "not an IPv4")]
        {
            let err = addressing(Some("10.0.0.2/24"), Some(gateway)).unwrap_err();
            assert!(err.starts_with(&format!("--ipv4-gateway={gateway}: ")) && err.contains(why), "{gateway}: {err}");
        }
    }
}
