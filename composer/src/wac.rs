//! The WAC document equivalent to a plan, so that `wac compose` can reproduce it.

use crate::names::kebab;
use crate::resolve::{Plan, Provider};
use std::fmt::Write;

/// The WAC source for `plan`. `app_file` is the application's path, shown in the
/// comment that explains how to run `wac`.
pub fn document(plan: &Plan, app_file: &str) -> String {
    let app = &plan.nodes[plan.app()];
    let app_package = format!("ukc-app:{}", kebab(&app.name));
    let mut out = String::new();
    let _ = writeln!(out, "// The composition `ukc compose` made for target {}.", plan.target.name);
    let _ = writeln!(out, "// Reproduce it with wac (the built-in drivers are written by `ukc drivers --export`):");
    let _ = writeln!(out, "//   ukc drivers --export deps");
    let _ =
        writeln!(out, "//   wac compose --deps-dir deps --dep {app_package}={app_file} -o unikernel.wasm THIS_FILE");
    for driver in &plan.nodes[..plan.app()] {
        if let crate::component::Origin::File(path) = &driver.origin {
            let _ = writeln!(
                out,
                "// (plugin driver {}: add --dep ukc-driver:{}={path})",
                driver.name,
                kebab(&driver.name)
            );
        }
    }
    let _ = writeln!(out, "// Imports left open (`...`) become the unikernel's imports: the platform's interfaces.");
    let _ = writeln!(out, "package ukc:unikernel;\n");
    for (index, component) in plan.nodes.iter().enumerate() {
        let package =
            if index == plan.app() { app_package.clone() } else { format!("ukc-driver:{}", kebab(&component.name)) };
        let _ = writeln!(out, "let {} = new {package} {{", variable(plan, index));
        for link in plan.links_of(index) {
            if let Provider::Node { node, export } = &link.provider {
                let _ = writeln!(out, "    {:?}: {}[{export:?}],", link.import, variable(plan, *node));
            }
        }
        let _ = writeln!(out, "    ...\n}};\n");
    }
    let _ = writeln!(out, "export app[{:?}];", plan.main_export);
    out
}

/// WAC variable names: `app`, and `driver-NAME` for drivers (never a WAC keyword).
fn variable(plan: &Plan, index: usize) -> String {
    if index == plan.app() { "app".to_string() } else { format!("driver-{}", kebab(&plan.nodes[index].name)) }
}
