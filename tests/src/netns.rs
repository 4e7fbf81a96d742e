//! Network namespaces for tests: each test makes its own, with a TAP interface, uses
//! addresses inside it only, and deletes it when done, also when it fails.

use std::process::Command;

/// A network namespace with one TAP interface `tap0` holding `10.0.0.1/24`; deleted on drop.
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates the namespace `ukc-test-<tag>-<pid>` and its TAP interface.
    pub fn with_tap(tag: &str) -> Netns {
        let netns = Netns { name: format!("ukc-test-{tag}-{}", std::process::id()) };
        let _ = Command::new("ip").args(["netns", "del", &netns.name]).status();
        ip(&["netns", "add", &netns.name]);
        netns.exec_ok(&["ip", "link", "set", "lo", "up"]);
        netns.exec_ok(&["ip", "tuntap", "add", "dev", "tap0", "mode", "tap"]);
        netns.exec_ok(&["ip", "link", "set", "tap0", "up"]);
        netns.exec_ok(&["ip", "addr", "add", "10.0.0.1/24", "dev", "tap0"]);
        netns
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
