//! Encoding a plan as one component with wac-graph: each component instantiated in
//! order, each import filled by a driver's export or by an explicit import of the
//! platform's interface, the application's entry point exported, and the merged manifest
//! added as a custom section.

use crate::names::kebab;
use crate::resolve::{Plan, Provider};
use crate::target::Platform;
use anyhow::{Context, Result, anyhow};
use std::collections::HashMap;
use ukc_manifest::{UNIKERNEL_SECTION, UnikernelManifest, encode_custom_section};
use wac_graph::types::{ItemKind, Package, Type};
use wac_graph::{CompositionGraph, EncodeOptions, NodeId, Processor};

/// The composed unikernel's bytes.
pub fn encode(plan: &Plan, platform: &Platform, manifest: &UnikernelManifest) -> Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    let platform_imports = platform_import_kinds(&mut graph, platform)?;
    let mut instances: Vec<NodeId> = Vec::with_capacity(plan.nodes.len());
    let mut imports: HashMap<String, NodeId> = HashMap::new();
    for (index, component) in plan.nodes.iter().enumerate() {
        let role = if index == plan.app() { "ukc-app" } else { "ukc-driver" };
        let package_name = format!("{role}:{}", kebab(&component.name));
        let package = Package::from_bytes(&package_name, None, component.bytes.clone(), graph.types_mut())
            .with_context(|| format!("{}: cannot read the component", component.origin.describe()))?;
        let package = graph.register_package(package)?;
        let instance = graph.instantiate(package);
        for link in plan.links_of(index) {
            let argument = match &link.provider {
                Provider::Platform(name) => {
                    let name = name.to_string();
                    match imports.get(&name) {
                        Some(node) => *node,
                        None => {
                            let kind = *platform_imports.get(&name).with_context(|| {
                                format!("the built-in platform WIT lacks {name}: {:?}", platform_imports.keys())
                            })?;
                            let node = graph.import(name.clone(), kind)?;
                            imports.insert(name, node);
                            node
                        }
                    }
                }
                Provider::Node { node, export } => graph.alias_instance_export(instances[*node], export)?,
            };
            graph
                .set_instantiation_argument(instance, &link.import, argument)
                .map_err(|e| type_mismatch(plan, index, &link.import, &link.provider, e))?;
        }
        instances.push(instance);
    }
    let main = graph.alias_instance_export(instances[plan.entry_node], &plan.entry_export)?;
    graph.export(main, platform.main.to_string())?;
    let processor = Processor { name: "ukc", version: env!("CARGO_PKG_VERSION") };
    let mut bytes = graph
        .encode(EncodeOptions { processor: Some(processor), ..Default::default() })
        .map_err(|e| anyhow!("encoding the composition failed: {e:#}"))?;
    bytes.extend(encode_custom_section(UNIKERNEL_SECTION, &manifest.to_json()));
    Ok(bytes)
}

/// The type of each platform interface, read from the encoded `ukc:platform` package
/// into the graph's type collection.
fn platform_import_kinds(graph: &mut CompositionGraph, platform: &Platform) -> Result<HashMap<String, ItemKind>> {
    let package = Package::from_bytes(&platform.package, None, platform.wit_package.clone(), graph.types_mut())?;
    let world = &graph.types()[package.ty()];
    // A WIT package encodes each world as a component type that exports the world, as a
    // component type, under its full name (`ukc:platform/unix@0.1.0`, `wasi:cli/command@0.2.12`).
    let world_type = |exports: &wac_graph::types::World, name: &str| {
        exports.exports.iter().find_map(|(export, kind)| match kind {
            ItemKind::Type(Type::World(id)) | ItemKind::Component(id) if export.split('@').next() == Some(name) => {
                Some(*id)
            }
            _ => None,
        })
    };
    let full_name = format!("{}/{}", platform.package, platform.target.world);
    let target_world = world_type(world, platform.target.world)
        .and_then(|wrapper| world_type(&graph.types()[wrapper], &full_name))
        .with_context(|| format!("the built-in WIT has no world {full_name}"))?;
    Ok(graph.types()[target_world].imports.iter().map(|(name, kind)| (name.clone(), *kind)).collect())
}

/// A provider on the right semver track whose types still do not fit: name both sides.
fn type_mismatch(
    plan: &Plan,
    importer: usize,
    import: &str,
    provider: &Provider,
    error: impl std::fmt::Display,
) -> anyhow::Error {
    let who = match provider {
        Provider::Platform(name) => format!("the {} platform's {name}", plan.target.name),
        Provider::Node { node, export } => format!("driver {}'s {export}", plan.nodes[*node].name),
    };
    anyhow!(
        "{} imports {import}, but {who} does not match it: {error:#}.\n  \
         The two were built against different WIT for the same version; rebuild the older one \
         against the WIT of the newer (`ukc wit` writes the WIT this ukc provides).",
        plan.nodes[importer].name
    )
}
