//! How each target's host runs a unikernel and attaches its devices: one table, read by
//! the composer (the run line it prints, `describe`), by the hosts (which device flags
//! they take, their help) and by the `wasi` drivers (their usage line), so that none of
//! them keeps its own copy.

use crate::{DeviceType, UnikernelManifest};

/// A target's host program and how it attaches devices.
#[derive(Debug)]
pub struct TargetHost {
    /// The target (`unix`, `hvt`, `wasi`).
    pub target: &'static str,
    /// The program that runs the target's unikernels (`ukc-unix`, `wasmtime run`).
    pub program: &'static str,
    /// How its command line is laid out.
    pub layout: Layout,
    /// How it attaches each device type it has, in the order its help lists them.
    pub devices: &'static [Attach],
}

/// How a host's command line orders the unikernel, its flags and its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `HOST UNIKERNEL FLAGS -- ARGS` (`ukc-unix`).
    KernelFirst,
    /// `HOST FLAGS -- UNIKERNEL ARGS` (Solo5's grammar: `ukc-hvt`).
    KernelLast,
    /// `HOST FLAGS UNIKERNEL ARGS` (`wasmtime run`).
    Wasmtime,
}

/// How a host attaches devices of one type.
#[derive(Debug)]
pub struct Attach {
    /// The device type.
    pub ty: DeviceType,
    /// The flag, with `NAME` standing for the device's name (`--block:NAME=FILE`).
    pub flag: &'static str,
    /// Where the device's contents are when the flag does not name them, with `NAME` as
    /// in `flag` (`DIR/NAME`: one preopen holds every block device on `wasi`).
    pub backing: Option<&'static str>,
    /// What the flag does, for help texts.
    pub about: &'static str,
}

impl Attach {
    /// The word of a `--WORD:NAME=BACKING` flag (`block`), which a host parses; `None`
    /// for a flag of another host's grammar (`wasmtime run`'s `--dir`).
    pub fn word(&self) -> Option<&'static str> {
        let (word, rest) = self.flag.strip_prefix("--")?.split_once(':')?;
        rest.starts_with("NAME=").then_some(word)
    }
}

const BLOCK_FILE: Attach = Attach {
    ty: DeviceType::Block,
    flag: "--block:NAME=FILE",
    backing: None,
    about: "the file FILE as block device NAME (read-only if FILE is, or if the unikernel only reads it: \
            see `ukc describe`)",
};

/// Every target's host, in the order `ukc targets` lists the targets.
pub const HOSTS: &[TargetHost] = &[
    TargetHost {
        target: "unix",
        program: "ukc-unix",
        layout: Layout::KernelFirst,
        devices: &[
            BLOCK_FILE,
            Attach {
                ty: DeviceType::Kv,
                flag: "--kv:NAME=DIR",
                backing: None,
                about: "the directory DIR as read-only key-value store NAME",
            },
            Attach {
                ty: DeviceType::KvRw,
                flag: "--kv-rw:NAME=DIR",
                backing: None,
                about: "the directory DIR as read-write key-value store NAME (durable at each flush)",
            },
            Attach {
                ty: DeviceType::Net,
                flag: "--net:NAME=TAP",
                backing: None,
                about: "the TAP interface TAP as net device NAME",
            },
        ],
    },
    TargetHost {
        target: "hvt",
        program: "ukc-hvt",
        layout: Layout::KernelLast,
        devices: &[
            BLOCK_FILE,
            // Solo5's spelling.
            Attach {
                ty: DeviceType::Net,
                flag: "--net:NAME=IFACE",
                backing: None,
                about: "the TAP interface IFACE as net device NAME",
            },
        ],
    },
    TargetHost {
        target: "wasi",
        program: "wasmtime run",
        layout: Layout::Wasmtime,
        devices: &[
            Attach {
                ty: DeviceType::Block,
                flag: "--dir DIR::/dev/block",
                backing: Some("DIR/NAME"),
                about: "the directory DIR, preopened as /dev/block, holds block device NAME as the file NAME",
            },
            Attach {
                ty: DeviceType::Kv,
                flag: "--dir DIR::NAME",
                backing: None,
                about: "the directory DIR, preopened as NAME, as read-only key-value store NAME",
            },
            Attach {
                ty: DeviceType::KvRw,
                flag: "--dir DIR::NAME",
                backing: None,
                about: "the directory DIR, preopened as NAME, as read-write key-value store NAME",
            },
        ],
    },
];

impl TargetHost {
    /// The host of `target`, if there is such a target.
    pub fn of(target: &str) -> Option<&'static TargetHost> {
        HOSTS.iter().find(|h| h.target == target)
    }

    /// How the host attaches devices of type `ty`, if it has them.
    pub fn attach(&self, ty: DeviceType) -> Option<&'static Attach> {
        self.devices.iter().find(|a| a.ty == ty)
    }

    /// How to pass a unikernel its own arguments, for its `--help`; `UNIKERNEL` stands
    /// for its path.
    pub fn args_usage(&self) -> String {
        let program = self.program;
        match self.layout {
            Layout::KernelFirst => format!("{program} UNIKERNEL [DEVICES] -- [ARGS...]"),
            Layout::KernelLast => format!("{program} [DEVICES] -- UNIKERNEL [ARGS...]"),
            Layout::Wasmtime => format!("{program} [DIRECTORIES] UNIKERNEL [ARGS...]"),
        }
    }

    /// The device types the host attaches.
    pub fn device_types(&self) -> impl Iterator<Item = DeviceType> + '_ {
        self.devices.iter().map(|a| a.ty)
    }

    /// The flag that attaches device `name` of type `ty`, with a placeholder for what
    /// backs it, or `None` when the host has no such devices.
    pub fn device_flag(&self, ty: DeviceType, name: &str) -> Option<String> {
        self.attach(ty).map(|a| a.flag.replace("NAME", name))
    }

    /// Where the contents of device `name` are, when its flag does not say.
    pub fn device_backing(&self, ty: DeviceType, name: &str) -> Option<String> {
        self.attach(ty).and_then(|a| a.backing).map(|b| b.replace("NAME", name))
    }

    /// The command that runs `unikernel` with every device its manifest declares, after
    /// the host's `options` (`-S inherit-network`). Devices that share a flag (`wasi`'s
    /// block devices, in one preopen) get it once.
    pub fn run_command(&self, unikernel: &str, manifest: &UnikernelManifest, options: &[String]) -> String {
        let mut flags = options.to_vec();
        for flag in manifest.devices.iter().filter_map(|d| self.device_flag(d.ty, &d.name)) {
            if !flags.contains(&flag) {
                flags.push(flag);
            }
        }
        let takes_args = !manifest.args.is_empty() || !manifest.undeclared_args.is_empty();
        let mut words = vec![self.program.to_string()];
        match self.layout {
            Layout::KernelLast => {
                words.extend(flags);
                words.push("--".into());
                words.push(unikernel.into());
            }
            Layout::KernelFirst => {
                words.push(unikernel.into());
                words.extend(flags);
                if takes_args {
                    words.push("--".into());
                }
            }
            Layout::Wasmtime => {
                words.extend(flags);
                words.push(unikernel.into());
            }
        }
        if takes_args {
            words.push("[ARGS...]".into());
        }
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SCHEMA, UnikernelDevice};

    fn manifest(devices: &[(&str, DeviceType)], takes_args: bool) -> UnikernelManifest {
        UnikernelManifest {
            schema: SCHEMA,
            target: "wasi".into(),
            components: Vec::new(),
            devices: devices
                .iter()
                .map(|(name, ty)| UnikernelDevice {
                    name: name.to_string(),
                    ty: *ty,
                    by: vec!["app".into()],
                    read_only: false,
                })
                .collect(),
            args: Vec::new(),
            undeclared_args: if takes_args { vec!["app".into()] } else { Vec::new() },
            baked: Vec::new(),
            preopens: Vec::new(),
        }
    }

    #[test]
    fn every_target_has_a_host_and_each_type_one_flag() {
        for target in ["unix", "hvt", "wasi"] {
            let host = TargetHost::of(target).unwrap();
            for ty in DeviceType::ALL {
                assert!(host.devices.iter().filter(|a| a.ty == ty).count() <= 1, "{target} {ty}");
            }
        }
        assert!(TargetHost::of("vm").is_none());
        let unix = TargetHost::of("unix").unwrap();
        assert_eq!(
            unix.devices.iter().map(Attach::word).collect::<Vec<_>>(),
            [Some("block"), Some("kv"), Some("kv-rw"), Some("net")]
        );
        assert_eq!(TargetHost::of("wasi").unwrap().attach(DeviceType::Kv).unwrap().word(), None);
        assert_eq!(unix.args_usage(), "ukc-unix UNIKERNEL [DEVICES] -- [ARGS...]");
        assert_eq!(TargetHost::of("hvt").unwrap().args_usage(), "ukc-hvt [DEVICES] -- UNIKERNEL [ARGS...]");
        assert_eq!(
            TargetHost::of("unix").unwrap().device_types().collect::<Vec<_>>(),
            [DeviceType::Block, DeviceType::Kv, DeviceType::KvRw, DeviceType::Net]
        );
    }

    #[test]
    fn run_lines_attach_every_device_once_in_the_hosts_layout() {
        let devices =
            manifest(&[("disk", DeviceType::Block), ("site", DeviceType::Kv), ("log", DeviceType::Block)], false);
        let host = |t| TargetHost::of(t).unwrap();
        assert_eq!(
            host("wasi").run_command("u.wasm", &devices, &["-S".into(), "inherit-network".into()]),
            "wasmtime run -S inherit-network --dir DIR::/dev/block --dir DIR::site u.wasm"
        );
        assert_eq!(host("wasi").device_backing(DeviceType::Block, "log").as_deref(), Some("DIR/log"));
        assert_eq!(
            host("unix").run_command("u.wasm", &devices, &[]),
            "ukc-unix u.wasm --block:disk=FILE --kv:site=DIR --block:log=FILE"
        );
        assert_eq!(host("unix").device_backing(DeviceType::Block, "log"), None);
        let net = manifest(&[("service", DeviceType::Net)], true);
        assert_eq!(host("unix").run_command("u.wasm", &net, &[]), "ukc-unix u.wasm --net:service=TAP -- [ARGS...]");
        assert_eq!(host("hvt").run_command("u.wasm", &net, &[]), "ukc-hvt --net:service=IFACE -- u.wasm [ARGS...]");
        assert_eq!(host("wasi").run_command("u.wasm", &net, &[]), "wasmtime run u.wasm [ARGS...]");
    }
}
