//! `ukc pull`: a unikernel or driver from an OCI registry (or a package) to a file.

use anyhow::Result;
use ukc_oci::{Access, Source};

/// Arguments of `ukc pull`.
#[derive(clap::Args)]
pub struct Args {
    /// What to pull: [oci://]HOST[:PORT]/REPOSITORY[:TAG|@DIGEST], oci:DIR[:TAG] or
    /// oci-archive:FILE[:TAG].
    #[arg(value_name = "REF")]
    reference: String,
    /// Where to write the component. [default: the file name it was packaged under]
    #[arg(short, long, value_name = "FILE")]
    output: Option<String>,
    /// Speak plain HTTP to a registry that is not on loopback (loopback ones always are).
    #[arg(long)]
    insecure: bool,
}

/// Runs `ukc pull`.
pub fn run(args: Args) -> Result<()> {
    let source = match Source::parse(&args.reference)? {
        // A bare reference means a registry here: nothing else can be pulled.
        Source::File(_) => Source::Registry(args.reference.clone()),
        other => other,
    };
    let package = ukc_oci::read_package(&source, &Access { insecure: args.insecure }, None)?;
    let output = match &args.output {
        Some(output) => output.clone(),
        None => {
            // The name comes from the package: never let it replace a file silently.
            let title = package.title("component.wasm");
            if std::path::Path::new(&title).exists() {
                anyhow::bail!("{title} already exists; remove it, or name the output with -o FILE");
            }
            title
        }
    };
    ukc::output::write(&output, &package.component.bytes)?;
    eprintln!(
        "ukc: wrote {output} ({:.1} KiB) from {source}, manifest {}",
        package.component.bytes.len() as f64 / 1024.0,
        package.manifest.digest
    );
    if let Some(run) = package.annotations().get(ukc_oci::package::annotations::RUN) {
        eprintln!("ukc: run it with: {}", run.replace(&package.title("UNIKERNEL.wasm"), &output));
    }
    Ok(())
}
