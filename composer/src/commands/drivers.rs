//! `ukc drivers`: the built-in drivers and the plugins given with --driver.

use super::print_notes;
use anyhow::{Context, Result};
use std::path::PathBuf;
use ukc::catalogue::Catalogue;
use ukc::names::kebab;

/// Arguments of `ukc drivers`.
#[derive(clap::Args)]
pub struct Args {
    /// A plugin driver to list with the built-ins (repeatable): a component file,
    /// oci:DIR[:TAG], oci-archive:FILE[:TAG] or oci://HOST/REPOSITORY[:TAG|@DIGEST].
    #[arg(long = "driver", value_name = "DRIVER")]
    drivers: Vec<String>,
    #[command(flatten)]
    pinning: super::plugins::Pinning,
    /// Write every driver to DIR/ukc-driver/NAME.wasm (the layout `wac compose --deps-dir` reads).
    #[arg(long, value_name = "DIR")]
    export: Option<PathBuf>,
}

/// Runs `ukc drivers`.
pub fn run(args: Args) -> Result<()> {
    // Listing reads the lock but never writes it.
    let (plugins, _) = super::plugins::load(&args.drivers, &args.pinning)?;
    let catalogue = Catalogue::load(&plugins)?;
    print_notes(&catalogue.notes);
    if let Some(dir) = &args.export {
        let dir = dir.join("ukc-driver");
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for driver in &catalogue.drivers {
            let path = dir.join(format!("{}.wasm", kebab(&driver.name)));
            ukc::output::write(&path.to_string_lossy(), &driver.bytes)?;
            println!("{}", path.display());
        }
        return Ok(());
    }
    for driver in &catalogue.drivers {
        let version = if driver.manifest.version.is_empty() { "-" } else { &driver.manifest.version };
        println!("{} {version} ({})", driver.name, driver.origin.describe());
        if !driver.manifest.description.is_empty() {
            println!("    {}", driver.manifest.description);
        }
        println!("    exports: {}", list(&driver.exports));
        println!("    imports: {}", list(&driver.imports));
        for map in &driver.manifest.maps {
            match map.onto {
                _ if map.baked => println!(
                    "    serves the {} stores baked in with `ukc compose --data` from memory, and passes the others on",
                    map.ty
                ),
                _ if map.attached_by_host => {
                    println!("    serves {} devices that the host attaches, through the platform's interfaces", map.ty)
                }
                Some(onto) => println!("    serves {} devices from {onto} devices of the same name", map.ty),
                None => println!("    serves {} devices from its own contents", map.ty),
            }
        }
        if driver.manifest.undeclared_args {
            println!("    reads the arguments no component declares");
        }
    }
    Ok(())
}

fn list(names: &[String]) -> String {
    if names.is_empty() { "(none)".into() } else { names.join(", ") }
}
