//! Targets: what each platform provides, its per-interface default drivers, and how its
//! host runs a unikernel.

use crate::names::InterfaceName;
use anyhow::{Result, anyhow, bail};
use ukc_manifest::hosts::{Layout, TargetHost};
use ukc_manifest::{DeviceType, UnikernelManifest};

/// A target a unikernel can be composed for.
#[derive(Debug)]
pub struct Target {
    /// The name users pass to `--target`.
    pub name: &'static str,
    /// One line saying what the target is.
    pub about: &'static str,
    /// Where the platform world is: ukc's own WIT, or the WASI WIT.
    pub wit: PlatformWit,
    /// The world listing what the host provides, in that WIT's platform package.
    pub world: &'static str,
    /// Which driver fills an interface (path without version) or every interface of a
    /// package when several could; `platform` names the host's own implementation.
    pub defaults: &'static [(&'static str, &'static str)],
}

/// The WIT a target's platform world comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlatformWit {
    /// `ukc:platform`, in ukc's own WIT.
    Ukc,
    /// `wasi:cli`, in the WASI 0.2 WIT of the wasip2 crate.
    Wasi,
}

/// Every target, in the order `ukc targets` lists them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "unix",
        about: "a Unix process: files as block devices, directories as kv stores, stdout as console",
        wit: PlatformWit::Ukc,
        world: "unix",
        // wasi-shim-fs serves WASI too, when `--preopen` asks for it (see preopen.rs).
        defaults: &[
            ("wasi:io", "wasi-shim"),
            ("wasi:clocks", "wasi-shim"),
            ("wasi:random", "wasi-shim"),
            ("wasi:cli", "wasi-shim"),
            ("wasi:filesystem", "wasi-shim"),
        ],
    },
    Target {
        name: "hvt",
        about: "the Solo5 hvt device model: console, clocks, yield, named block and net devices",
        wit: PlatformWit::Ukc,
        world: "hvt",
        defaults: &[
            ("ukc:kv/ro", "kv-tar"),
            ("ukc:kv/rw", "kv-log"),
            ("ukc:tcpip", "tcpip"),
            ("wasi:io", "wasi-shim"),
            ("wasi:clocks", "wasi-shim"),
            ("wasi:random", "wasi-shim"),
            ("wasi:cli", "wasi-shim"),
            ("wasi:filesystem", "wasi-shim"),
        ],
    },
    Target {
        name: "wasi",
        about: "any WASI 0.2 runtime (wasmtime run): console on stdout, kv stores on preopened directories, \
                block devices on files, TCP/IP on wasi:sockets",
        wit: PlatformWit::Wasi,
        world: "command",
        // The wasi-* drivers bridge ukc devices to WASI; where another driver also exports
        // the interface (the smoltcp `tcpip` driver: TCP/IP and `yield`), they are the
        // default. `wasi-tcpip` interposes on `yield` above `wasi-base`.
        defaults: &[
            ("ukc:console", "wasi-base"),
            ("ukc:clock", "wasi-base"),
            ("ukc:poll", "wasi-base"),
            ("ukc:entropy", "wasi-random"),
            ("ukc:args/args", "wasi-args"),
            ("ukc:exit", "wasi-args"),
            ("ukc:kv/ro", "wasi-kv"),
            ("ukc:kv/rw", "wasi-kv"),
            ("ukc:block", "wasi-block"),
            ("ukc:tcpip", "wasi-tcpip"),
        ],
    },
];

/// The name `--use` accepts for a platform's own implementation of an interface.
pub const PLATFORM: &str = "platform";

impl Target {
    /// Looks a target up by name.
    pub fn find(name: &str) -> Result<&'static Target> {
        TARGETS.iter().find(|t| t.name == name).ok_or_else(|| {
            let names: Vec<_> = TARGETS.iter().map(|t| t.name).collect();
            anyhow!("unknown target {name:?}; the targets are: {} (see `ukc targets`)", names.join(", "))
        })
    }

    /// The default provider for the interface `want`, if the target sets one.
    pub fn default_for(&self, want: &InterfaceName) -> Option<&'static str> {
        self.defaults.iter().find(|(p, _)| *p == want.path || *p == want.package()).map(|(_, d)| *d)
    }

    /// How the target's host runs unikernels and attaches devices (shared with the hosts).
    pub fn host(&self) -> &'static TargetHost {
        TargetHost::of(self.name).expect("every target has a host in ukc_manifest::hosts")
    }

    /// The host flag that attaches device `name` of type `ty`, with a placeholder for its
    /// backing, or `None` when the host has no such devices.
    pub fn device_flag(&self, ty: DeviceType, name: &str) -> Option<String> {
        self.host().device_flag(ty, name)
    }

    /// Where the device's contents are, when its flag does not name them: one flag
    /// preopens the directory of every block device on `wasi`, so each is a file in it.
    pub fn device_backing(&self, ty: DeviceType, name: &str) -> Option<String> {
        self.host().device_backing(ty, name)
    }

    /// Host options a unikernel importing `platform_imports` needs besides its devices:
    /// wasmtime lets sockets reach no address without `-S inherit-network`.
    fn host_options(&self, platform_imports: &[String]) -> Vec<String> {
        let sockets = platform_imports.iter().any(|name| name.starts_with("wasi:sockets/"));
        if self.host().layout == Layout::Wasmtime && sockets {
            vec!["-S".into(), "inherit-network".into()]
        } else {
            Vec::new()
        }
    }

    /// The command that runs `unikernel`, which imports `platform_imports`, with every
    /// device its manifest requires.
    pub fn run_command(&self, unikernel: &str, manifest: &UnikernelManifest, platform_imports: &[String]) -> String {
        self.host().run_command(unikernel, manifest, &self.host_options(platform_imports))
    }
}

/// A target's platform, read from the embedded WIT.
pub struct Platform {
    /// The target.
    pub target: &'static Target,
    /// The interfaces the host provides, with their versions.
    pub provides: Vec<InterfaceName>,
    /// The entry point a unikernel for this target exports (`ukc:app/main@...`,
    /// `wasi:cli/run@...`).
    pub main: InterfaceName,
    /// The platform package's name without version (`ukc:platform`, `wasi:cli`).
    pub package: String,
    /// The platform package encoded as a WIT package, for type checks.
    pub wit_package: Vec<u8>,
    /// For each interface the host provides (by path), those of the others whose
    /// resources it uses (paths).
    pub uses: Vec<(String, Vec<String>)>,
}

impl Platform {
    /// The platform of `target`, from the platform worlds parsed when ukc was built.
    pub fn load(target: &'static Target) -> Result<Platform> {
        let package = match target.wit {
            PlatformWit::Ukc => "ukc:platform",
            PlatformWit::Wasi => "wasi:cli",
        };
        let world = ukc_platform::PLATFORM_WORLDS
            .iter()
            .find(|w| w.package == package && w.world == target.world)
            .ok_or_else(|| anyhow!("the built-in WIT has no world {package}/{}", target.world))?;
        let mut provides = Vec::new();
        for name in world.imports {
            provides
                .push(InterfaceName::parse(name).ok_or_else(|| anyhow!("platform import {name} is not an interface"))?);
        }
        let mut uses = Vec::new();
        for (provided, used) in provides.iter().zip(world.import_uses) {
            let used = used.iter().filter_map(|u| InterfaceName::parse(u)).map(|u| u.path).collect();
            uses.push((provided.path.clone(), used));
        }
        let main = match world.exports {
            [name] => InterfaceName::parse(name).ok_or_else(|| anyhow!("bad platform export {name}"))?,
            _ => bail!("the {} platform world must export exactly one interface", target.name),
        };
        Ok(Platform {
            target,
            provides,
            main,
            package: package.to_string(),
            wit_package: world.wit_package.to_vec(),
            uses,
        })
    }

    /// The interfaces (paths) whose resources the platform's interface `path` uses.
    pub fn uses_of(&self, path: &str) -> &[String] {
        self.uses.iter().find(|(p, _)| p == path).map_or(&[], |(_, used)| used)
    }

    /// The platform's version of the interface `path`, if it provides one.
    pub fn provided(&self, path: &str) -> Option<&InterfaceName> {
        self.provides.iter().find(|p| p.path == path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ukc_manifest::{SCHEMA, UnikernelDevice};

    #[test]
    fn every_target_has_a_host_and_every_host_a_target_in_the_same_order() {
        let targets: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
        let hosts: Vec<&str> = ukc_manifest::hosts::HOSTS.iter().map(|h| h.target).collect();
        assert_eq!(targets, hosts);
    }

    #[test]
    fn wasi_run_lines_grant_sockets_to_unikernels_that_import_them() {
        let wasi = Target::find("wasi").unwrap();
        let manifest = UnikernelManifest {
            schema: SCHEMA,
            target: "wasi".into(),
            components: Vec::new(),
            devices: vec![UnikernelDevice {
                name: "site".into(),
                ty: DeviceType::Kv,
                by: vec!["app".into()],
                read_only: false,
            }],
            args: Vec::new(),
            undeclared_args: Vec::new(),
            baked: Vec::new(),
            preopens: Vec::new(),
        };
        let sockets = ["wasi:sockets/tcp@0.2.12".to_string()];
        assert_eq!(
            wasi.run_command("u.wasm", &manifest, &sockets),
            "wasmtime run -S inherit-network --dir DIR::site u.wasm"
        );
        assert_eq!(wasi.run_command("u.wasm", &manifest, &[]), "wasmtime run --dir DIR::site u.wasm");
        let unix = Target::find("unix").unwrap();
        assert_eq!(unix.run_command("u.wasm", &manifest, &sockets), "ukc-unix u.wasm --kv:site=DIR");
    }
}
