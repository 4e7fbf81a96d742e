//! `ukc describe`: the device graph of a composition.

use super::{Selection, print_notes};
use anyhow::{Result, anyhow, bail};
use ukc::Composition;
use ukc::component::Component;
use ukc::describe;
use ukc::target::Target;
use ukc_manifest::UnikernelManifest;

/// Output formats of `ukc describe`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Dot,
    Json,
}

/// Arguments of `ukc describe`.
#[derive(clap::Args)]
pub struct Args {
    /// The application (a component, or `-` for standard input).
    #[arg(value_name = "APP")]
    app: String,
    #[command(flatten)]
    selection: Selection,
    /// How to print the graph.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// Runs `ukc describe`.
pub fn run(args: Args) -> Result<()> {
    let app = Component::read(&args.app)?;
    // A unikernel `ukc compose` wrote is described as it is, from its merged manifest,
    // not composed again.
    let composed = UnikernelManifest::from_wasm(&app.bytes).map_err(|e| anyhow!("{}: {e}", args.app))?;
    if let Some(manifest) = composed {
        let target = Target::find(&manifest.target)?;
        match args.format {
            Format::Text => print!("{}", describe::unikernel_text(&manifest, target, &args.app)),
            Format::Json => println!("{:#}", describe::unikernel_json(&manifest, target)),
            Format::Dot => bail!(
                "{} is already composed: its graph is in the application it was composed from; \
                 use --format text or json here",
                args.app
            ),
        }
        return Ok(());
    }
    // describe reads the lock but never writes it: it only shows what compose would do.
    let (options, _) = args.selection.options()?;
    let composition = Composition::new(app, &options)?;
    print_notes(&composition.notes);
    match args.format {
        Format::Text => print!("{}", describe::text(&composition)),
        Format::Dot => print!("{}", describe::dot(&composition)),
        Format::Json => println!("{:#}", describe::json(&composition)),
    }
    Ok(())
}
