//! The device flags hosts share with `solo5-hvt` (`--block:NAME=FILE`, `--mem=MB`, ...)
//! and the boot check of attached devices against the unikernel's manifest. Which device
//! flags a host takes is its target's row in `ukc_manifest::hosts` and the device
//! options in [`crate::devices`].

use crate::devices::{self, DeviceOption};
use std::collections::BTreeMap;
use ukc_manifest::hosts::TargetHost;
use ukc_manifest::{DeviceType, UnikernelManifest};

/// Default guest memory limit in MiB, as `solo5-hvt`.
pub const DEFAULT_MEM_MB: u64 = 512;
/// The largest `--mem` in MiB (16 TiB): far above any machine, and small enough that the
/// size in bytes never wraps.
pub const MAX_MEM_MB: u64 = 1 << 24;

/// The devices and limits given on a host's command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachments {
    /// Guest memory limit in MiB.
    pub mem_mb: u64,
    /// Attached devices, in command-line order: type, name, backing (file, directory, tap).
    pub devices: Vec<(DeviceType, String, String)>,
    /// Device options (`--block-sector-size:NAME=SIZE`): (option, device name) → value,
    /// checked by the option's device module.
    pub options: BTreeMap<(&'static str, String), String>,
    /// How long the unikernel may run (`ukc-hvt --timeout=SECONDS`); `None`: no limit.
    pub timeout: Option<std::time::Duration>,
    /// Where the unikernel may listen and what it may reach on the host's sockets
    /// (`ukc-unix --allow-listen=...`).
    pub sockets: crate::socket_policy::SocketPolicy,
}

impl Default for Attachments {
    fn default() -> Self {
        Attachments {
            mem_mb: DEFAULT_MEM_MB,
            devices: Vec::new(),
            options: BTreeMap::new(),
            timeout: None,
            sockets: Default::default(),
        }
    }
}

impl Attachments {
    /// Takes `arg` if it is a device or memory flag of `host`; `Ok(false)` when it is no
    /// such flag. Errors are one line for the user.
    pub fn take(&mut self, arg: &str, host: &TargetHost) -> Result<bool, String> {
        let Some(body) = arg.strip_prefix("--") else {
            return Ok(false);
        };
        if let Some(value) = body.strip_prefix("mem=") {
            let mb: u64 = value
                .parse()
                .ok()
                .filter(|&mb| mb > 0)
                .ok_or_else(|| format!("--mem={value}: expected a size in MiB, such as --mem=64"))?;
            if mb > MAX_MEM_MB {
                return Err(format!("--mem={value}: at most {MAX_MEM_MB} MiB (16 TiB)"));
            }
            self.mem_mb = mb;
            return Ok(true);
        }
        let Some((kind, rest)) = body.split_once(':') else {
            return Ok(false);
        };
        let option = devices::options(host).find(|o| o.flag == kind);
        let ty = host.devices.iter().find(|a| a.word() == Some(kind)).map(|a| a.ty);
        if option.is_none() && ty.is_none() {
            return Ok(false);
        }
        let (name, value) = rest.split_once('=').ok_or_else(|| format!("{arg}: expected --{kind}:NAME=VALUE"))?;
        if name.is_empty() || value.is_empty() {
            return Err(format!("{arg}: expected --{kind}:NAME=VALUE with a name and a value"));
        }
        if let Some(option) = option {
            (option.check)(value).map_err(|expected| format!("{arg}: {expected}"))?;
            if self.options.insert((option.flag, name.to_string()), value.to_string()).is_some() {
                return Err(format!("--{kind}:{name} is given twice"));
            }
            return Ok(true);
        }
        if self.devices.iter().any(|(_, n, _)| n == name) {
            return Err(format!("device '{name}' is attached twice; each name can be attached once"));
        }
        self.devices.push((ty.expect("a device type when not an option"), name.to_string(), value.to_string()));
        Ok(true)
    }

    /// The value of `option` for device `name`, if given.
    pub fn option(&self, option: &DeviceOption, name: &str) -> Option<&str> {
        self.options.get(&(option.flag, name.to_string())).map(String::as_str)
    }

    /// The attached devices of one type: (name, backing).
    pub fn of(&self, ty: DeviceType) -> impl Iterator<Item = (&str, &str)> {
        self.devices.iter().filter(move |(t, _, _)| *t == ty).map(|(_, n, v)| (n.as_str(), v.as_str()))
    }

    /// Checks the attachments against the manifest as Solo5 does: every declared device
    /// attached with its type, nothing attached that was not declared.
    pub fn check(&self, manifest: &UnikernelManifest) -> Result<(), String> {
        for device in &manifest.devices {
            match self.devices.iter().find(|(_, n, _)| *n == device.name) {
                Some((ty, _, _)) if *ty == device.ty => {}
                Some((ty, name, value)) => {
                    return Err(format!(
                        "Device '{name}' is declared as type {} but attached as {ty} (--{ty}:{name}={value}).",
                        device.ty
                    ));
                }
                None => {
                    // Solo5's words, then how to attach it on this host.
                    let flag = TargetHost::of(&manifest.target).and_then(|h| h.device_flag(device.ty, &device.name));
                    let how = flag.map(|flag| format!("; attach it with {flag}")).unwrap_or_default();
                    return Err(format!(
                        "Device '{}' of type {} declared but not attached{how}.",
                        device.name, device.ty
                    ));
                }
            }
        }
        for (ty, name, value) in &self.devices {
            if manifest.baked(name).is_some() {
                return Err(format!(
                    "Device '{name}' is baked into the unikernel (ukc compose --data {name}=DIR): it is served from \
                     the image, so drop --{ty}:{name}={value}, or compose without --data {name} to attach it."
                ));
            }
            if manifest.device(name).is_none() {
                return Err(format!(
                    "Device '{name}' of type {ty} attached (--{ty}:{name}={value}) but not declared by the unikernel; {}",
                    declared_list(manifest)
                ));
            }
        }
        for (flag, name) in self.options.keys() {
            let ty = devices::OPTIONS.iter().find(|o| o.flag == *flag).expect("only known options are taken").ty;
            if !self.of(ty).any(|(n, _)| n == name) {
                return Err(format!("--{flag}:{name} names no attached {ty} device"));
            }
        }
        Ok(())
    }
}

fn declared_list(manifest: &UnikernelManifest) -> String {
    if manifest.devices.is_empty() {
        return "it declares no devices.".into();
    }
    let names: Vec<String> = manifest.devices.iter().map(|d| format!("'{}' ({})", d.name, d.ty)).collect();
    format!("it declares {}.", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ukc_manifest::UnikernelDevice;

    fn unix() -> &'static TargetHost {
        TargetHost::of("unix").unwrap()
    }

    fn manifest(devices: &[(&str, DeviceType)]) -> UnikernelManifest {
        UnikernelManifest {
            schema: 1,
            target: "unix".into(),
            components: vec![],
            devices: devices
                .iter()
                .map(|(n, t)| UnikernelDevice { name: n.to_string(), ty: *t, by: vec!["app".into()], read_only: false })
                .collect(),
            args: vec![],
            undeclared_args: vec![],
            baked: Vec::new(),
            preopens: Vec::new(),
        }
    }

    fn attach(args: &[&str]) -> Result<Attachments, String> {
        let mut a = Attachments::default();
        for arg in args {
            assert!(a.take(arg, unix())?, "{arg} not taken");
        }
        Ok(a)
    }

    #[test]
    fn parses_flags() {
        let a = attach(&["--block:storage=disk.img", "--block-sector-size:storage=4096", "--mem=64"]).unwrap();
        assert_eq!(a.mem_mb, 64);
        assert_eq!(crate::block::sector_size(&a, "storage"), 4096);
        assert_eq!(a.of(DeviceType::Block).collect::<Vec<_>>(), vec![("storage", "disk.img")]);
        assert!(!Attachments::default().take("--hello=x", unix()).unwrap());
        let wasi = TargetHost::of("wasi").unwrap();
        assert!(!Attachments::default().take("--net:x=tap0", wasi).unwrap());
        assert!(!Attachments::default().take("--net-mac:x=02:00:00:00:00:01", wasi).unwrap());
    }

    #[test]
    fn rejects_bad_flags() {
        assert!(attach(&["--mem=0"]).unwrap_err().contains("size in MiB"));
        // Sizes whose bytes would wrap are refused, naming what was typed.
        for huge in ["17592186044416", "16777217", "18446744073709551615"] {
            assert_eq!(
                attach(&[&format!("--mem={huge}")]).unwrap_err(),
                format!("--mem={huge}: at most 16777216 MiB (16 TiB)")
            );
        }
        assert!(attach(&["--mem=18446744073709551616"]).unwrap_err().contains("size in MiB"));
        assert_eq!(attach(&["--mem=16777216"]).unwrap().mem_mb, MAX_MEM_MB);
        assert!(attach(&["--block-sector-size:s=1000"]).unwrap_err().contains("power of two"));
        assert!(attach(&["--block-sector-size:s=256"]).unwrap_err().contains("at least 512"));
        assert!(attach(&["--block:s"]).unwrap_err().contains("NAME=VALUE"));
        assert!(attach(&["--block:s=a", "--kv:s=b"]).unwrap_err().contains("attached twice"));
    }

    #[test]
    fn checks_against_the_manifest() {
        let m = manifest(&[("storage", DeviceType::Block)]);
        assert_eq!(
            attach(&[]).unwrap().check(&m).unwrap_err(),
            "Device 'storage' of type block declared but not attached; attach it with --block:storage=FILE."
        );
        assert!(attach(&["--block:storage=x"]).unwrap().check(&m).is_ok());
        let err = attach(&["--block:storage=x", "--block:other=y"]).unwrap().check(&m).unwrap_err();
        assert!(err.contains("'other' of type block attached") && err.contains("declares 'storage' (block)"), "{err}");
        let err = attach(&["--kv:storage=dir"]).unwrap().check(&m).unwrap_err();
        assert!(err.contains("declared as type block but attached as kv"), "{err}");
        let err = attach(&["--block:storage=x", "--block-sector-size:nope=4096"]).unwrap().check(&m).unwrap_err();
        assert!(err.contains("names no attached block device"), "{err}");
    }
}
