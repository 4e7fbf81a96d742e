//! Network namespaces for tests: each test makes its own, with a TAP interface, uses
//! addresses inside it only, and deletes it when done, also when it fails.

use std::process::Command;

/// A network namespace, deleted on drop.
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates the namespace `ukc-test-<tag>-<pid>` with only its loopback interface up.
    pub fn loopback(tag: &str) -> Netns {
        let netns = Netns { name: format!("ukc-test-{tag}-{}", std::process::id()) };
        let _ = Command::new("ip").args(["netns", "del", &netns.name]).status();
        ip(&["netns", "add", &netns.name]);
        netns.exec_ok(&["ip", "link", "set", "lo", "up"]);
        netns
    }

    /// Creates the namespace with a TAP interface `tap0` holding `10.0.0.1/24`.
    pub fn with_tap(tag: &str) -> Netns {
        let netns = Netns::loopback(tag);
        netns.exec_ok(&["ip", "tuntap", "add", "dev", "tap0", "mode", "tap"]);
        netns.exec_ok(&["ip", "link", "set", "tap0", "up"]);
        netns.exec_ok(&["ip", "addr", "add", "10.0.0.1/24", "dev", "tap0"]);
        netns
    }

    /// Runs `words` inside the namespace, bounded by `limit`, and returns what it printed.
    pub fn run(&self, words: &[&str], limit: std::time::Duration) -> crate::Run {
        crate::run_with_input(&mut self.command(words[0], &words[1..]), b"", limit)
    }

    /// Waits (up to five seconds) until something inside the namespace listens on TCP `port`.
    pub fn wait_for_port(&self, address: &str, port: u16) {
        self.wait_for_port_within(address, port, std::time::Duration::from_secs(5));
    }

    /// Waits up to `limit` until something inside the namespace listens on TCP `port`
    /// (a server that compiles itself first, as `wasmtime run` does, needs longer).
    pub fn wait_for_port_within(&self, address: &str, port: u16, limit: std::time::Duration) {
        let probe = format!("exec 3<>/dev/tcp/{address}/{port}");
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            if self.command("bash", &["-c", &probe]).status().is_ok_and(|s| s.success()) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("nothing listens on {address}:{port} in {} after {limit:?}", self.name);
    }

    /// A command that runs `program args...` inside the namespace.
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]).args(args);
        cmd
    }

    /// Runs `words` inside the namespace and asserts success.
    pub fn exec_ok(&self, words: &[&str]) {
        let status = self.command(words[0], &words[1..]).status().expect("ip netns exec runs");
        assert!(status.success(), "{words:?} failed in {}", self.name);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().expect("iproute2 is installed");
    assert!(status.success(), "ip {args:?} failed (network tests need root)");
}
