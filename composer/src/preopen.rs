//! `ukc compose --preopen NAME[:rw]`: kv stores that a WASI program sees as preopened
//! directories (`/NAME`), as `wasmtime run --dir` lends it host directories. The
//! `wasi-shim-fs` driver serves them; it is `wasi-shim` with a file system, and it
//! serves every WASI package the shim does (a file's streams are its own `wasi:io`
//! resources, so one component must serve both). Each preopen becomes a kv device that
//! `wasi-shim-fs` declares: hosts attach it as any other (`--kv:NAME=DIR` on unix, a tar
//! image through kv-tar on hvt), `--data NAME=DIR` can bake it in, and the merged
//! manifest lists the preopens for `describe`. The driver learns them at run time from
//! the `kv-preopens` component ukc generates: data, one line per store, behind
//! `ukc:kv/preopens` (a text the driver reads in a few lines, where the manifest's JSON
//! would have cost it a JSON parser).

use crate::component::Component;
use crate::generated::Generated;
use crate::resolve::{Plan, Use};
use anyhow::{Result, bail};
use ukc_manifest::{DeviceDecl, DeviceType, Preopen};

/// The driver that serves preopens.
pub const DRIVER: &str = "wasi-shim-fs";
/// The driver that serves `wasi:sockets`, and preopens too.
pub const NET_DRIVER: &str = "wasi-shim-net";

/// The generated component that tells the driver which stores are preopened.
pub const GENERATED: Generated = Generated {
    name: "kv-preopens",
    description: "The kv stores preopened as directories for a WASI program (ukc compose --preopen)",
    interface: INTERFACE,
};

/// The interface it exports.
const INTERFACE: &str = "ukc:kv/preopens@0.1.0";

/// The component whose `stores` lists `preopens`: `NAME ro` or `NAME rw`, a line each.
pub fn component(preopens: &[Preopen]) -> Result<Component> {
    let text: String =
        preopens.iter().map(|p| format!("{} {}\n", p.name, if p.read_write { "rw" } else { "ro" })).collect();
    GENERATED.component(crate::generated::string_module(&format!("{INTERFACE}#stores"), text.as_bytes())?)
}

/// The WASI packages the shims serve (`wasi:sockets` only `wasi-shim-net`).
pub const PACKAGES: &[&str] = &["wasi:io", "wasi:clocks", "wasi:random", "wasi:cli", "wasi:filesystem", "wasi:sockets"];

/// The shim that must serve WASI to an application importing `app_imports`, when it is
/// not the target's default `wasi-shim`: `wasi-shim-net` for a program that imports
/// `wasi:sockets` (it serves preopens as well), `wasi-shim-fs` for one with preopens.
pub fn shim(app_imports: &[String], preopens: &[Preopen]) -> Option<&'static str> {
    if app_imports.iter().any(|i| i.starts_with("wasi:sockets/")) {
        Some(NET_DRIVER)
    } else if !preopens.is_empty() {
        Some(DRIVER)
    } else {
        None
    }
}

/// Parses `NAME`, `NAME:ro` or `NAME:rw`.
pub fn parse(text: &str) -> Result<Preopen> {
    let (name, mode) = text.split_once(':').unwrap_or((text, "ro"));
    let read_write = match mode {
        "ro" => false,
        "rw" => true,
        other => bail!("--preopen {text}: {other:?} is not a mode; write NAME (read-only) or NAME:rw (read-write)"),
    };
    if let Err(e) = ukc_manifest::check_device_name(name) {
        bail!("--preopen {text}: {e}");
    }
    Ok(Preopen { name: name.to_string(), read_write })
}

/// The choices, implied as if by `--use` (see `resolve::resolve`), that make `shim` (see
/// [`shim`]) serve every WASI package; an explicit `--use` of one of them stays the user's.
pub fn uses(shim: Option<&str>, preopens: &[Preopen], given: &[Use]) -> Result<Vec<Use>> {
    for (i, p) in preopens.iter().enumerate() {
        if preopens[..i].iter().any(|q| q.name == p.name) {
            bail!("--preopen {}: the store is preopened twice; give each name once", p.name);
        }
    }
    let Some(shim) = shim else {
        return Ok(Vec::new());
    };
    PACKAGES
        .iter()
        .filter(|package| !given.iter().any(|u| &u.interface == *package))
        .map(|package| Use::parse(&format!("{package}={shim}")))
        .collect()
}

/// Declares each preopen as a kv device of `wasi-shim-fs` in `plan`, which must have
/// linked it: something must open files.
pub fn declare(plan: &mut Plan, app: &str, preopens: &[Preopen]) -> Result<()> {
    let Some(first) = preopens.first() else {
        return Ok(());
    };
    let Some(shim) = plan.nodes.iter_mut().find(|n| n.name == DRIVER || n.name == NET_DRIVER) else {
        bail!(
            "--preopen {}: {} imports no wasi:filesystem, so nothing in the unikernel could open the directory; \
             preopens are for WASI programs (built for wasm32-wasip2 or wasm32-wasip1)",
            first.name,
            app
        );
    };
    for p in preopens {
        let ty = if p.read_write { DeviceType::KvRw } else { DeviceType::Kv };
        shim.manifest.devices.push(DeviceDecl { name: p.name.clone(), ty, read_only: !p.read_write });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placeholder_resolves_as_the_component_does() {
        let real = component(&[parse("data").unwrap()]).unwrap();
        let placeholder = GENERATED.placeholder();
        assert_eq!((placeholder.name, placeholder.exports), (real.name, real.exports));
        assert!(real.imports.is_empty());
    }

    #[test]
    fn preopens_parse_with_a_mode_and_a_valid_name() {
        assert_eq!(parse("data").unwrap(), Preopen { name: "data".into(), read_write: false });
        assert_eq!(parse("data:ro").unwrap(), Preopen { name: "data".into(), read_write: false });
        assert_eq!(parse("logs:rw").unwrap(), Preopen { name: "logs".into(), read_write: true });
        assert!(parse("data:wr").unwrap_err().to_string().contains("NAME:rw"));
        assert!(parse("no/slash").is_err());
        assert!(parse(":rw").is_err());
    }

    #[test]
    fn preopens_make_the_fs_shim_serve_every_wasi_package_unless_chosen_otherwise() {
        let one = [parse("data").unwrap()];
        let given = [Use::parse("wasi:clocks=wasi-shim").unwrap()];
        let chosen = shim(&[], &one);
        assert_eq!(chosen, Some(DRIVER));
        let uses = uses(chosen, &one, &given).unwrap();
        assert_eq!(uses.len(), PACKAGES.len() - 1);
        assert!(uses.iter().all(|u| u.provider == DRIVER && u.interface != "wasi:clocks"));
        assert!(super::uses(shim(&[], &[]), &[], &[]).unwrap().is_empty());
        let sockets = ["wasi:sockets/tcp@0.2.12".to_string()];
        assert_eq!(shim(&sockets, &[]), Some(NET_DRIVER));
        assert_eq!(shim(&sockets, &one), Some(NET_DRIVER), "the net shim serves preopens too");
        let twice = [parse("data").unwrap(), parse("data:rw").unwrap()];
        assert!(super::uses(Some(DRIVER), &twice, &[]).unwrap_err().to_string().contains("twice"));
    }
}
