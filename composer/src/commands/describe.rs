//! `ukc describe`: the device graph of a composition.

use super::{Selection, print_notes};
use anyhow::Result;
use ukc::Composition;
use ukc::component::Component;
use ukc::describe;

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
    let composition = Composition::new(app, &args.selection.options())?;
    print_notes(&composition.notes);
    match args.format {
        Format::Text => print!("{}", describe::text(&composition)),
        Format::Dot => print!("{}", describe::dot(&composition)),
        Format::Json => println!("{:#}", describe::json(&composition)),
    }
    Ok(())
}
