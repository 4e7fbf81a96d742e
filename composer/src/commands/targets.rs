//! `ukc targets`: the targets and what each platform provides.

use anyhow::Result;
use ukc::target::{Platform, TARGETS};

/// Runs `ukc targets`.
pub fn run() -> Result<()> {
    for target in TARGETS {
        let platform = Platform::load(target)?;
        println!("{:<6} {} (host: {})", target.name, target.about, target.host().program);
        let provides: Vec<String> = platform.provides.iter().map(ToString::to_string).collect();
        println!("       provides: {}", provides.join(", "));
        for (interface, driver) in target.defaults {
            println!("       default: {interface} from {driver}");
        }
    }
    println!("\nCompose for one with: ukc compose APP --target NAME -o OUT");
    Ok(())
}
