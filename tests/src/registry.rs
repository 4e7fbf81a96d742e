//! A Distribution registry (Debian's `docker-registry`) on a loopback port of its own, for
//! the tests of `ukc push`, `ukc pull` and drivers from registries.

use crate::{path_str, run};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running registry, stopped when dropped.
pub struct TestRegistry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// Where it keeps repositories (`docker/registry/v2/...`).
    pub storage: PathBuf,
}

impl TestRegistry {
    /// Starts a registry keeping its data under `dir`; with `user`, it asks for that user's
    /// password (htpasswd, bcrypt) on every request.
    pub fn start(dir: &Path, user: Option<(&str, &str)>) -> TestRegistry {
        let program = "/usr/bin/docker-registry";
        assert!(
            Path::new(program).exists(),
            "{program} is missing: the registry tests need Debian's Distribution server (apt-get install docker-registry)"
        );
        // A port nothing listens on now; the registry takes it a moment later.
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port();
        let host = format!("127.0.0.1:{port}");
        let storage = dir.join(format!("registry-{port}"));
        std::fs::create_dir_all(&storage).unwrap();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {host}\n",
            path_str(&storage)
        );
        if let Some((name, password)) = user {
            let htpasswd = storage.join("htpasswd");
            let line = run("htpasswd", &["-Bbn", name, password]).ok();
            std::fs::write(&htpasswd, line).unwrap();
            config.push_str(&format!("auth:\n  htpasswd:\n    realm: ukc-test\n    path: {}\n", path_str(&htpasswd)));
        }
        let config_path = storage.join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(program)
            .args(["serve", path_str(&config_path)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let registry = TestRegistry { child, host, storage };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the registry did not listen on {} within 20 s",
                registry.host
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        registry
    }

    /// The blob `sha256:HEX` as the registry stores it.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.storage.join(format!("docker/registry/v2/blobs/sha256/{}/{hex}/data", &hex[..2]))
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A docker configuration directory holding `user`'s credentials for `host` (for
/// `DOCKER_CONFIG`), or none at all.
pub fn docker_config(dir: &Path, host: &str, user: Option<(&str, &str)>) -> PathBuf {
    let config = dir.join("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    if let Some((name, password)) = user {
        let auth = base64(format!("{name}:{password}").as_bytes());
        std::fs::write(config.join("config.json"), format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#)).unwrap();
    }
    config
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_is_rfc_4648() {
        // printf 'ukc:s3cret' | base64 → dWtjOnMzY3JldA==
        assert_eq!(super::base64(b"ukc:s3cret"), "dWtjOnMzY3JldA==");
        assert_eq!(super::base64(b"abc"), "YWJj");
        assert_eq!(super::base64(b"ab"), "YWI=");
    }
}
