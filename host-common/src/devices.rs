//! The device flags of every host, from one table. Which device types a host attaches,
//! and with which `--TYPE:NAME=BACKING` flag, is its target's row in
//! [`ukc_manifest::hosts`] (the composer prints the same flags); each device module here
//! adds its own options ([`OPTIONS`]: `--block-sector-size`, `--net-mac`). A host's usage
//! line and the device part of its help are made from both, so hosts cannot drift apart.

use ukc_manifest::DeviceType;
use ukc_manifest::hosts::TargetHost;

/// An option of the devices of one type: `--FLAG:NAME=VALUE`, for the attached device
/// `NAME`.
#[derive(Debug)]
pub struct DeviceOption {
    /// The device type whose devices it applies to.
    pub ty: DeviceType,
    /// The flag's word (`block-sector-size`).
    pub flag: &'static str,
    /// The placeholder for its value in help texts (`SIZE`).
    pub value: &'static str,
    /// What it does, for help texts.
    pub about: &'static str,
    /// Checks a value; the error says what is expected.
    pub check: fn(&str) -> Result<(), String>,
}

/// Every device option, by the module of its device type.
pub const OPTIONS: &[DeviceOption] = &[crate::block::SECTOR_SIZE, crate::net::MAC];

/// The options of `host`'s device types.
pub fn options(host: &TargetHost) -> impl Iterator<Item = &'static DeviceOption> + '_ {
    OPTIONS.iter().filter(|o| host.attach(o.ty).is_some())
}

/// The device flags of `host` in a usage line: `[--block:NAME=FILE] [--block-sector-size:NAME=SIZE] ...`.
pub fn usage(host: &TargetHost) -> String {
    let mut words = Vec::new();
    for attach in host.devices {
        words.push(format!("[{}]", attach.flag));
        words.extend(options(host).filter(|o| o.ty == attach.ty).map(|o| format!("[--{}:NAME={}]", o.flag, o.value)));
    }
    words.join(" ")
}

/// Width of the flag column in help texts.
const FLAG_COLUMN: usize = 34;
/// Width help lines are wrapped to.
const LINE: usize = 100;

/// The help lines of `host`'s device flags, each type's options after its flag.
pub fn help(host: &TargetHost) -> String {
    let mut out = String::new();
    for attach in host.devices {
        help_line(&mut out, attach.flag, attach.about);
        for option in options(host).filter(|o| o.ty == attach.ty) {
            help_line(&mut out, &format!("--{}:NAME={}", option.flag, option.value), option.about);
        }
    }
    out
}

/// One flag and what it does, wrapped under the description column.
fn help_line(out: &mut String, flag: &str, about: &str) {
    let mut line = format!("  {flag:<width$}", width = FLAG_COLUMN - 2);
    if line.len() >= FLAG_COLUMN {
        out.push_str(line.trim_end());
        out.push('\n');
        line = " ".repeat(FLAG_COLUMN);
    }
    let mut empty = true;
    for word in about.split(' ') {
        if !empty && line.len() + 1 + word.len() > LINE {
            out.push_str(&line);
            out.push('\n');
            line = " ".repeat(FLAG_COLUMN);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(target: &str) -> &'static TargetHost {
        TargetHost::of(target).unwrap()
    }

    #[test]
    fn usage_and_help_list_each_flag_once_with_its_types_options() {
        assert_eq!(
            usage(host("unix")),
            "[--block:NAME=FILE] [--block-sector-size:NAME=SIZE] [--kv:NAME=DIR] [--kv-rw:NAME=DIR] \
             [--net:NAME=TAP] [--net-mac:NAME=HWADDR]"
        );
        assert_eq!(
            usage(host("hvt")),
            "[--block:NAME=FILE] [--block-sector-size:NAME=SIZE] [--net:NAME=IFACE] [--net-mac:NAME=HWADDR]"
        );
        for target in ["unix", "hvt"] {
            let help = help(host(target));
            for flag in ["--block:NAME=FILE", "--block-sector-size:NAME=SIZE", "--net-mac:NAME=HWADDR"] {
                assert_eq!(help.matches(flag).count(), 1, "{flag} in\n{help}");
            }
            assert!(help.lines().all(|l| l.len() <= LINE), "{help}");
            assert_eq!(help.contains("--kv:NAME=DIR"), target == "unix", "{help}");
        }
    }
}
