//! `ukc package`: a unikernel or a driver as an OCI image layout or archive.

use anyhow::{Result, bail};
use std::path::{Path, PathBuf};
use ukc::component::Component;
use ukc_oci::{Package, Source};

/// Arguments of `ukc package`.
#[derive(clap::Args)]
pub struct Args {
    /// The unikernel (from `ukc compose`) or driver component to package.
    #[arg(value_name = "COMPONENT")]
    component: String,
    /// Where to write: oci-archive:FILE[:TAG] (one tar file), oci:DIR[:TAG] (an OCI image
    /// layout), or a path: FILE.tar for an archive, anything else for a layout directory.
    /// [default: oci-archive:COMPONENT's name with .oci.tar]
    #[arg(short, long, value_name = "DEST")]
    output: Option<String>,
    /// The tag, when DEST names none. [default: the application's version, else latest]
    #[arg(long)]
    tag: Option<String>,
}

/// Runs `ukc package`.
pub fn run(args: Args) -> Result<()> {
    let (package, title) = build(&args.component)?;
    let dest = match &args.output {
        Some(text) => destination(text)?,
        None => Source::Archive { file: PathBuf::from(stem(&args.component) + ".oci.tar"), tag: None },
    };
    let tag = |given: &Option<String>| tag_for(given.as_ref().or(args.tag.as_ref()), &package);
    let shown = match &dest {
        Source::Archive { file, tag: given } => {
            let tag = tag(given)?;
            ukc_oci::layout::write_archive(file, &tag, &package)?;
            format!("oci-archive:{}:{tag}", file.display())
        }
        Source::Layout { dir, tag: given } => {
            let tag = tag(given)?;
            ukc_oci::layout::write_dir(dir, &tag, &package)?;
            format!("oci:{}:{tag}", dir.display())
        }
        _ => unreachable!("destination() returns layouts and archives only"),
    };
    eprintln!(
        "ukc: wrote {shown}: {title} ({:.1} KiB), manifest {}",
        package.component.bytes.len() as f64 / 1024.0,
        package.manifest.digest
    );
    eprintln!("ukc: push it with: ukc push {shown} oci://HOST/REPOSITORY:TAG");
    eprintln!("ukc: or copy it with: skopeo copy {shown} docker://HOST/REPOSITORY:TAG");
    Ok(())
}

/// The package of the component in the file `path`, and its title.
pub fn build(path: &str) -> Result<(Package, String)> {
    if path == "-" {
        bail!("ukc package reads a file, not standard input");
    }
    let component = Component::read(path)?;
    let title = Path::new(path).file_name().map_or("component.wasm".into(), |n| n.to_string_lossy().into_owned());
    let contents = ukc::package::contents(&component, &title)?;
    Ok((Package::build(component.bytes, &contents), title))
}

fn destination(text: &str) -> Result<Source> {
    Ok(match Source::parse(text)? {
        Source::File(path) if path.extension().is_some_and(|x| x == "tar") => Source::Archive { file: path, tag: None },
        Source::File(path) => Source::Layout { dir: path, tag: None },
        Source::Registry(_) => bail!("-o {text}: ukc package writes files; use `ukc push` for a registry"),
        other => other,
    })
}

fn tag_for(given: Option<&String>, package: &Package) -> Result<String> {
    let (tag, from_version) = match given {
        Some(tag) => (tag.clone(), false),
        None => match package.annotations().remove(ukc_oci::package::annotations::VERSION) {
            Some(version) => (version, true),
            None => ("latest".into(), false),
        },
    };
    if !ukc_oci::source::valid_tag(&tag) {
        let source =
            if from_version { " (the application's version, the default tag); give one with --tag TAG" } else { "" };
        bail!(
            "{tag:?} is not a valid tag (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-'){source}"
        );
    }
    Ok(tag)
}

fn stem(path: &str) -> String {
    Path::new(path).file_stem().map_or("component".into(), |s| s.to_string_lossy().into_owned())
}
