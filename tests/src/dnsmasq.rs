//! dnsmasq as the DNS server (and DHCP server) inside a test's namespace.

use crate::netns::Netns;
use crate::path_str;
use crate::web::Background;
use std::path::Path;
use std::time::Duration;

/// dnsmasq inside `netns` on `listen`, knowing only the names `records` give (dnsmasq
/// options such as `--host-record=www.example.test,10.0.0.1`) and refusing others; given
/// a lease file, it also leases 10.0.0.50–99 with itself as the DNS server.
pub fn start(netns: &Netns, listen: &str, records: &[String], leases: Option<&Path>) -> Background {
    let mut args = vec![
        "--no-daemon".to_string(),
        "--conf-file=/dev/null".into(),
        "--no-resolv".into(),
        "--no-hosts".into(),
        "--bind-interfaces".into(),
        format!("--listen-address={listen}"),
        "--pid-file=".into(),
    ];
    args.extend(records.iter().cloned());
    if let Some(leases) = leases {
        args.push("--dhcp-range=10.0.0.50,10.0.0.99,255.255.255.0,12h".into());
        args.push(format!("--dhcp-option=option:dns-server,{listen}"));
        args.push(format!("--dhcp-leasefile={}", path_str(leases)));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Background::start(netns.command("dnsmasq", &args));
    // dnsmasq needs a moment to bind before the first query or DISCOVER is worth sending.
    std::thread::sleep(Duration::from_millis(500));
    server
}
