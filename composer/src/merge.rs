//! Merging the manifests of every linked component into the unikernel's manifest.
//!
//! A device declared by a component is followed down the chain of providers of its
//! interface: a driver that serves devices of type `kv` by acquiring `block` devices of
//! the same name (its manifest's `maps`) turns the declaration into a `block` device, and
//! so on until the platform provides the interface, or to a driver that leaves it to the
//! host under its own name and type (`attached-by-host`: `wasi-kv`'s preopened
//! directories). The host attaches what is left.

use crate::resolve::{Plan, Provider};
use anyhow::{Result, anyhow, bail};
use ukc_manifest::{DeviceType, SCHEMA, UnikernelArg, UnikernelComponent, UnikernelDevice, UnikernelManifest};

/// The unikernel manifest of a resolved plan.
pub fn merge(plan: &Plan) -> Result<UnikernelManifest> {
    let components = plan
        .nodes
        .iter()
        .enumerate()
        .map(|(i, c)| UnikernelComponent {
            name: c.name.clone(),
            version: c.manifest.version.clone(),
            app: i == plan.app(),
        })
        .collect();
    let mut devices: Vec<UnikernelDevice> = Vec::new();
    let mut args: Vec<UnikernelArg> = Vec::new();
    let mut served: Vec<String> = Vec::new();
    // The application's declarations first: its devices and arguments lead the lists.
    let nodes = std::iter::once(plan.app()).chain((0..plan.nodes.len()).rev().filter(|&n| n != plan.app()));
    for node in nodes {
        for decl in &plan.nodes[node].manifest.devices {
            if let Some(device) = follow_device(plan, node, &decl.name, decl.ty, decl.read_only, &mut served)? {
                add_device(&mut devices, device)?;
            }
        }
        for decl in &plan.nodes[node].manifest.args {
            add_arg(&mut args, decl, &plan.nodes[node].name)?;
        }
    }
    check_baked(plan, &served, &devices)?;
    let undeclared_args = plan.nodes.iter().filter(|n| n.manifest.undeclared_args).map(|n| n.name.clone()).collect();
    Ok(UnikernelManifest {
        schema: SCHEMA,
        target: plan.target.name.to_string(),
        components,
        devices,
        args,
        undeclared_args,
        baked: Vec::new(),
        preopens: Vec::new(),
    })
}

/// Follows the device `name` of type `ty`, acquired by `node` (which only reads it if
/// `read_only`), down to the platform. `None` when a driver on the way serves it from its
/// own contents, or from the baked image (then `name` joins `served`). What the host
/// attaches is read-only if its last acquirer only reads it.
fn follow_device(
    plan: &Plan,
    mut node: usize,
    name: &str,
    mut ty: DeviceType,
    mut read_only: bool,
    served: &mut Vec<String>,
) -> Result<Option<UnikernelDevice>> {
    let mut by = vec![plan.nodes[node].name.clone()];
    loop {
        let component = &plan.nodes[node];
        let link =
            plan.links_of(node).find(|l| l.import.split('@').next() == Some(ty.interface())).ok_or_else(|| {
                anyhow!(
                    "{} declares the {ty} device {name:?} in its manifest but does not import {}; \
                     remove the declaration or use the interface",
                    component.name,
                    ty.interface()
                )
            })?;
        let Provider::Node { node: provider, .. } = &link.provider else {
            return Ok(Some(UnikernelDevice { name: name.to_string(), ty, by, read_only }));
        };
        let driver = &plan.nodes[*provider];
        let map = driver.manifest.map_for(ty).ok_or_else(|| {
            anyhow!(
                "driver {} serves the {ty} device {name:?} of {}, but its manifest does not say how; \
                 its author must add \"maps\": [{{\"type\": \"{ty}\", \"onto\": \"block\"}}] (the device it \
                 acquires under the same name) or [{{\"type\": \"{ty}\"}}] (served from its own contents)",
                driver.name,
                component.name
            )
        })?;
        by.push(driver.name.clone());
        if map.baked {
            if plan.baked.iter().any(|b| b == name) {
                served.push(name.to_string());
                return Ok(None);
            }
            // Passed on, under the same name and type, to the driver's own provider.
            node = *provider;
            continue;
        }
        if map.attached_by_host {
            return Ok(Some(UnikernelDevice { name: name.to_string(), ty, by, read_only }));
        }
        let Some(onto) = map.onto else { return Ok(None) };
        node = *provider;
        ty = onto;
        read_only = map.read_only;
    }
}

fn add_device(devices: &mut Vec<UnikernelDevice>, device: UnikernelDevice) -> Result<()> {
    match devices.iter_mut().find(|d| d.name == device.name) {
        None => devices.push(device),
        Some(existing) if existing.ty == device.ty => {
            existing.read_only &= device.read_only;
            for who in device.by {
                if !existing.by.contains(&who) {
                    existing.by.push(who);
                }
            }
        }
        Some(existing) => bail!(
            "device {:?} is acquired as a {} device by {} and as a {} device by {}; \
             a name can only be attached once, so one of them must use another name",
            device.name,
            existing.ty,
            existing.by.join(" → "),
            device.ty,
            device.by.join(" → ")
        ),
    }
    Ok(())
}

fn add_arg(args: &mut Vec<UnikernelArg>, decl: &ukc_manifest::ArgDecl, by: &str) -> Result<()> {
    match args.iter_mut().find(|a| a.decl.name == decl.name) {
        None => args.push(UnikernelArg { decl: decl.clone(), by: vec![by.to_string()] }),
        Some(existing) if existing.decl.ty == decl.ty && existing.decl.default == decl.default => {
            existing.by.push(by.to_string());
        }
        Some(existing) => bail!(
            "argument --{} is declared by {} as {:?} (default {:?}) and by {by} as {:?} (default {:?}); \
             components sharing an argument must declare it alike",
            decl.name,
            existing.by.join(", "),
            existing.decl.ty,
            existing.decl.default,
            decl.ty,
            decl.default
        ),
    }
    Ok(())
}

/// Every baked store is read through kv-data, and no device of another kind has its name.
fn check_baked(plan: &Plan, served: &[String], devices: &[UnikernelDevice]) -> Result<()> {
    let mut read: Vec<&str> = plan
        .nodes
        .iter()
        .flat_map(|n| &n.manifest.devices)
        .filter(|d| d.ty == DeviceType::Kv)
        .map(|d| d.name.as_str())
        .collect();
    read.sort_unstable();
    read.dedup();
    for name in &plan.baked {
        if served.contains(name) {
            if let Some(device) = devices.iter().find(|d| &d.name == name) {
                bail!(
                    "--data {name}: {} also acquires a {} device {name:?}; a name can only be one device, so \
                     bake the store under the name the app opens and rename the other",
                    device.by.join(" -> "),
                    device.ty
                );
            }
            continue;
        }
        if read.contains(&name.as_str()) {
            bail!(
                "--data {name}: the kv store {name:?} is read without passing through kv-data, which serves baked \
                 stores; drop the --use choice that gives ukc:kv/ro to another driver"
            );
        }
        bail!(
            "--data {name}: the unikernel reads no kv store {name:?}, so nothing would serve it; the kv stores it \
             reads are: {}",
            if read.is_empty() { "none".to_string() } else { read.join(", ") }
        );
    }
    Ok(())
}
