//! `ukc wit`: the WIT packages ukc provides.

use anyhow::Result;
use std::path::PathBuf;
use ukc_platform::WIT_FILES;

/// Arguments of `ukc wit`.
#[derive(clap::Args)]
pub struct Args {
    /// Write the packages under DIR (platform.wit, deps/*/...) instead of printing them.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Runs `ukc wit`.
pub fn run(args: Args) -> Result<()> {
    let Some(dir) = args.out else {
        for (path, source) in WIT_FILES {
            println!("// ---- {path}\n{source}");
        }
        return Ok(());
    };
    let written = ukc::wit::write_to(&dir)?;
    eprintln!("ukc: wrote {} WIT files under {}", written.len(), dir.display());
    eprintln!(
        "ukc: point wit-bindgen at it: wit_bindgen::generate!({{ path: {:?}, world: \"ukc:app/app\", generate_all }})",
        dir.display().to_string()
    );
    Ok(())
}
