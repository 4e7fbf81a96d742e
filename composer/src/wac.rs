//! The WAC document equivalent to a plan, so that `wac compose` can reproduce it.

use crate::component::Origin;
use crate::names::kebab;
use crate::resolve::{Plan, Provider};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Where `--emit-wac WAC_FILE` writes a generated component (`args-declarations`), for
/// `wac compose --dep`: next to the WAC file, as `NAME.wasm`.
pub fn generated_path(wac_file: &str, name: &str) -> PathBuf {
    let dir = Path::new(wac_file).parent().unwrap_or(Path::new(""));
    dir.join(format!("{}.wasm", kebab(name)))
}

/// The WAC source for `plan`. `app_file` is the application's path and `wac_file` the
/// document's, shown in the comment that explains how to run `wac`.
pub fn document(plan: &Plan, app_file: &str, wac_file: &str) -> String {
    let app = &plan.nodes[plan.app()];
    let app_package = format!("ukc-app:{}", kebab(&app.name));
    let mut out = String::new();
    let _ = writeln!(out, "// The composition `ukc compose` made for target {}.", plan.target.name);
    let _ = writeln!(out, "// Reproduce it with wac (the built-in drivers are written by `ukc drivers --export`):");
    let _ = writeln!(out, "//   ukc drivers --export deps");
    let _ =
        writeln!(out, "//   wac compose --deps-dir deps --dep {app_package}={app_file} -o unikernel.wasm THIS_FILE");
    for (_, driver) in plan.drivers() {
        let (what, path) = match &driver.origin {
            Origin::File(path) => ("plugin driver", path.clone()),
            Origin::Generated => ("generated component", generated_path(wac_file, &driver.name).display().to_string()),
            Origin::Builtin => continue,
        };
        let _ = writeln!(out, "// ({what} {}: add --dep ukc-driver:{}={path})", driver.name, kebab(&driver.name));
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
    let _ = writeln!(out, "export {}[{:?}];", variable(plan, plan.entry_node), plan.entry_export);
    out
}

/// WAC variable names: `app`, and `driver-NAME` for drivers (never a WAC keyword).
fn variable(plan: &Plan, index: usize) -> String {
    if index == plan.app() { "app".to_string() } else { format!("driver-{}", kebab(&plan.nodes[index].name)) }
}
