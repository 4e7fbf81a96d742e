//! `ukc compose`: link an application with drivers into a unikernel.

use super::{Selection, print_notes};
use anyhow::Result;
use std::path::Path;
use ukc::Composition;
use ukc::component::{Component, Origin};

/// Arguments of `ukc compose`.
#[derive(clap::Args)]
pub struct Args {
    /// The application: a component, or a core module carrying component type
    /// information; `-` reads standard input.
    #[arg(value_name = "APP")]
    app: String,
    #[command(flatten)]
    selection: Selection,
    /// Where to write the unikernel; `-` writes standard output.
    /// [default: APP's name with .TARGET.wasm, or `-` when APP is `-`]
    #[arg(short, long, value_name = "OUT")]
    output: Option<String>,
    /// Also write the equivalent WAC document, for `wac compose`.
    #[arg(long, value_name = "FILE")]
    emit_wac: Option<String>,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
}

/// Runs `ukc compose`.
pub fn run(args: Args) -> Result<()> {
    let output = args.output.clone().unwrap_or_else(|| default_output(&args.app, &args.selection.target));
    let app = Component::read(&args.app)?;
    let (options, lock) = args.selection.options()?;
    let composition = Composition::new(app, &options)?;
    let bytes = composition.encode()?;
    // Files the output must not overwrite: the app and the drivers read from files and
    // archives (a layout is a directory, which no output replaces).
    let driver_files: Vec<String> = args
        .selection
        .drivers
        .iter()
        .filter_map(|d| match ukc_oci::Source::parse(d) {
            Ok(ukc_oci::Source::File(path) | ukc_oci::Source::Archive { file: path, .. }) => {
                Some(path.display().to_string())
            }
            _ => None,
        })
        .collect();
    let inputs = std::iter::once(args.app.as_str()).chain(driver_files.iter().map(String::as_str));
    let mut outputs = ukc::output::Outputs::new(inputs);
    if let Some(wac_path) = &args.emit_wac {
        outputs.add(wac_path, ukc::wac::document(&composition.plan, &args.app, wac_path).as_bytes())?;
        for (_, node) in composition.plan.drivers().filter(|(_, n)| n.origin == Origin::Generated) {
            outputs.add(&ukc::wac::generated_path(wac_path, &node.name).display().to_string(), &node.bytes)?;
        }
    }
    outputs.add(&output, &bytes)?;
    outputs.commit()?;
    super::plugins::save(&lock, args.quiet)?;
    if !args.quiet {
        print_notes(&composition.notes);
        report(&composition, &output, bytes.len());
    }
    Ok(())
}

/// `hello.wasm` composed for unix becomes `hello.unix.wasm`, in the current directory.
fn default_output(app: &str, target: &str) -> String {
    if app == "-" {
        return "-".into();
    }
    let stem = Path::new(app).file_stem().map_or("unikernel".into(), |s| s.to_string_lossy().into_owned());
    format!("{stem}.{target}.wasm")
}

/// Says what was written and the exact command that runs it.
fn report(c: &Composition, output: &str, size: usize) {
    let plan = &c.plan;
    let drivers: Vec<&str> = plan.drivers().map(|(_, n)| n.name.as_str()).collect();
    let with = if drivers.is_empty() { "no drivers".to_string() } else { format!("drivers {}", drivers.join(", ")) };
    let written = if output == "-" { "standard output".to_string() } else { output.to_string() };
    eprintln!(
        "ukc: wrote {written} ({:.1} KiB): {} with {with}, for {}",
        size as f64 / 1024.0,
        plan.nodes[plan.app()].name,
        plan.target.name
    );
    let shown = if output == "-" { "UNIKERNEL.wasm" } else { output };
    eprintln!("ukc: run it with: {}", plan.target.run_command(shown, &c.manifest, &c.platform_imports()));
    for device in &c.manifest.devices {
        if let Some(backing) = plan.target.device_backing(device.ty, &device.name) {
            eprintln!("ukc: the {} device '{}' is {backing}", device.ty, device.name);
        }
    }
}
