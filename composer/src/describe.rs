//! `ukc describe`: the device graph of a composition as text, Graphviz dot or JSON.

use crate::Composition;
use crate::resolve::Provider;
use crate::target::Target;
use serde_json::{Value, json};
use std::fmt::Write;
use ukc_manifest::{UnikernelDevice, UnikernelManifest};

/// The graph as text for people.
pub fn text(c: &Composition) -> String {
    let plan = &c.plan;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "unikernel {} for target {} (runs on {})",
        plan.nodes[plan.app()].name,
        plan.target.name,
        plan.target.host().program
    );
    let _ = writeln!(out, "\ninstantiation order:");
    for (index, node) in plan.nodes.iter().enumerate() {
        let role = if index == plan.app() { "application" } else { "driver" };
        let version =
            if node.manifest.version.is_empty() { String::new() } else { format!(" {}", node.manifest.version) };
        let _ = writeln!(out, "  {}. {}{version} ({role}, {})", index + 1, node.name, node.origin.describe());
        for link in plan.links_of(index) {
            let _ = writeln!(out, "       {:<28} <- {}", link.import, provider_name(c, &link.provider));
        }
    }
    let _ = writeln!(out, "\nexports:\n  {} <- {}", c.main_export_name(), plan.nodes[plan.entry_node].name);
    let _ = writeln!(out, "\nplatform imports:");
    for name in c.platform_imports() {
        let _ = writeln!(out, "  {name}");
    }
    devices_and_args(&mut out, &c.manifest, plan.target);
    out
}

/// The devices and runtime arguments of a merged manifest, as `text` prints them.
fn devices_and_args(out: &mut String, manifest: &UnikernelManifest, target: &Target) {
    let _ = writeln!(out, "\ndevices:");
    if manifest.devices.is_empty() && manifest.baked.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for b in &manifest.baked {
        let files = if b.files == 1 { "1 file".to_string() } else { format!("{} files", b.files) };
        let _ = writeln!(
            out,
            "  {:<12} {:<6} baked in ({files}, {} in the image): served from memory by kv-data, attached by no host",
            b.name,
            "kv",
            kib(b.bytes)
        );
    }
    let chains: Vec<String> = manifest.devices.iter().map(|d| d.by.join(" -> ")).collect();
    let width = chains.iter().map(String::len).max().unwrap_or(0);
    for (d, chain) in manifest.devices.iter().zip(&chains) {
        let flag = attach_flag(target, d);
        let access = if d.read_only { ", read-only" } else { "" };
        let _ = writeln!(
            out,
            "  {:<12} {:<6} acquired by {chain:<width$}  attach with {flag}{access}",
            d.name,
            d.ty.as_str()
        );
    }
    if !manifest.preopens.is_empty() {
        let _ = writeln!(out, "\npreopened directories (wasi:filesystem, served by wasi-shim-fs):");
        for p in &manifest.preopens {
            let access = if p.read_write { "read-write" } else { "read-only" };
            let _ = writeln!(out, "  /{:<11} the kv store {}, {access}", p.name, p.name);
        }
    }
    if manifest.components.iter().any(|c| c.name == crate::preopen::NET_DRIVER) {
        let _ = writeln!(
            out,
            "\nsockets (wasi:sockets, served by {} over ukc:tcpip): TCP and UDP on IPv4, on the unikernel's \
             network",
            crate::preopen::NET_DRIVER
        );
    }
    let _ = writeln!(out, "\nruntime arguments:");
    if manifest.args.is_empty() && manifest.undeclared_args.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for a in &manifest.args {
        let default = a.decl.default.as_ref().map(|d| format!(" (default {d:?})")).unwrap_or_default();
        let _ = writeln!(out, "  {:<22} {}{default} [{}]", a.usage(), a.decl.doc, a.by.join(", "));
    }
    if !manifest.undeclared_args.is_empty() {
        let _ = writeln!(out, "  undeclared arguments pass through to {}", manifest.undeclared_args.join(", "));
    }
}

/// How a host attaches `device` on `target`.
fn attach_flag(target: &Target, device: &UnikernelDevice) -> String {
    let mut flag = target.device_flag(device.ty, &device.name).unwrap_or_default();
    if let Some(backing) = target.device_backing(device.ty, &device.name) {
        flag.push_str(&format!(" (the device is {backing})"));
    }
    flag
}

/// An already composed unikernel, from the merged manifest `ukc compose` wrote into it
/// (its components, devices and runtime arguments), as text for people.
pub fn unikernel_text(manifest: &UnikernelManifest, target: &Target, origin: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "unikernel {} ({origin}), composed for target {} (runs on {})",
        manifest.app_name(),
        target.name,
        target.host().program
    );
    let _ = writeln!(out, "\ncomponents, in instantiation order:");
    for (index, component) in manifest.components.iter().enumerate() {
        let version = if component.version.is_empty() { String::new() } else { format!(" {}", component.version) };
        let role = if component.app { "application" } else { "driver" };
        let _ = writeln!(out, "  {}. {}{version} ({role})", index + 1, component.name);
    }
    devices_and_args(&mut out, manifest, target);
    out
}

/// An already composed unikernel as JSON for tools: its merged manifest, with the flag
/// that attaches each device.
pub fn unikernel_json(manifest: &UnikernelManifest, target: &Target) -> Value {
    let attach: Vec<Value> =
        manifest.devices.iter().map(|d| json!({ "device": d.name, "flag": attach_flag(target, d) })).collect();
    json!({
        "target": target.name,
        "host": target.host().program,
        "composed": true,
        "attach": attach,
        "manifest": serde_json::to_value(manifest).expect("manifests serialize"),
    })
}

/// The graph in Graphviz dot, as `mirage describe --dot`: one box per component, the
/// platform as one node, an edge per filled import labelled with the interface.
pub fn dot(c: &Composition) -> String {
    let plan = &c.plan;
    let mut out = String::from("digraph unikernel {\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\"];\n");
    let _ = writeln!(
        out,
        "  platform [label=\"{} platform\\n({})\", shape=box3d];",
        plan.target.name,
        plan.target.host().program
    );
    for (index, node) in plan.nodes.iter().enumerate() {
        let style = if index == plan.app() { ", style=bold" } else { "" };
        let _ = writeln!(out, "  n{index} [label=\"{}\\n{}\"{style}];", node.name, node.manifest.version);
    }
    for link in &plan.links {
        let to = match &link.provider {
            Provider::Platform(_) => "platform".to_string(),
            Provider::Node { node, .. } => format!("n{node}"),
        };
        let _ = writeln!(out, "  n{} -> {to} [label=\"{}\"];", link.importer, link.import);
    }
    out.push_str("}\n");
    out
}

/// The graph as JSON for tools.
pub fn json(c: &Composition) -> Value {
    let plan = &c.plan;
    let components: Vec<Value> = plan
        .nodes
        .iter()
        .enumerate()
        .map(|(index, node)| {
            let imports: Vec<Value> = plan
                .links_of(index)
                .map(|l| json!({ "import": l.import, "provider": provider_name(c, &l.provider) }))
                .collect();
            json!({
                "name": node.name,
                "version": node.manifest.version,
                "role": if index == plan.app() { "application" } else { "driver" },
                "origin": node.origin.describe(),
                "imports": imports,
                "exports": node.exports,
            })
        })
        .collect();
    json!({
        "target": plan.target.name,
        "host": plan.target.host().program,
        "order": components,
        "exports": [c.main_export_name()],
        "platform_imports": c.platform_imports(),
        "manifest": serde_json::to_value(&c.manifest).expect("manifests serialize"),
    })
}

fn provider_name(c: &Composition, provider: &Provider) -> String {
    match provider {
        Provider::Platform(name) => format!("platform ({name})"),
        Provider::Node { node, .. } => c.plan.nodes[*node].name.clone(),
    }
}

/// `bytes` as KiB with one decimal, as compose's report shows sizes.
fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}
