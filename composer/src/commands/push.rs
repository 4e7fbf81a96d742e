//! `ukc push`: a unikernel or driver to an OCI registry.

use anyhow::{Result, bail};
use ukc_oci::{Access, Registry, Source};

/// Arguments of `ukc push`.
#[derive(clap::Args)]
pub struct Args {
    /// What to push: a component file (packaged as `ukc package` would), or a package,
    /// oci:DIR[:TAG] or oci-archive:FILE[:TAG].
    #[arg(value_name = "SOURCE")]
    source: String,
    /// Where: [oci://]HOST[:PORT]/REPOSITORY:TAG.
    #[arg(value_name = "REF")]
    reference: String,
    /// Speak plain HTTP to a registry that is not on loopback (loopback ones always are).
    #[arg(long)]
    insecure: bool,
}

/// Runs `ukc push`.
pub fn run(args: Args) -> Result<()> {
    let access = Access { insecure: args.insecure };
    let package = match Source::parse(&args.source)? {
        Source::File(_) => super::package::build(&args.source)?.0,
        Source::Registry(_) => bail!("{}: push from a file or a package, not from a registry", args.source),
        source => ukc_oci::read_package(&source, &access, None)?,
    };
    let reference = args.reference.strip_prefix(ukc_oci::source::REGISTRY_PREFIX).unwrap_or(&args.reference);
    let registry = Registry::connect(reference, &access)?;
    let digest = registry.push(&package)?;
    let repository = reference.rsplit_once(':').filter(|(_, t)| !t.contains('/')).map_or(reference, |(r, _)| r);
    eprintln!("ukc: pushed {} as {} ({digest})", args.source, registry.shown());
    eprintln!("ukc: pull it with: ukc pull oci://{repository}@{digest}");
    if let Some(run) = package.annotations().get(ukc_oci::package::annotations::RUN) {
        let title = package.title("UNIKERNEL.wasm");
        eprintln!("ukc: or run it with: {}", run.replace(&title, &format!("oci://{repository}@{digest}")));
    }
    Ok(())
}
