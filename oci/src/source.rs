//! Where a component comes from, as a user writes it: a file, an OCI layout, an OCI
//! archive or a registry reference.

use anyhow::{Result, bail};
use std::fmt;
use std::path::PathBuf;

/// The prefix of a registry reference where a file name could also be meant.
pub const REGISTRY_PREFIX: &str = "oci://";

/// A place to read a component from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A component file.
    File(PathBuf),
    /// `oci:DIR[:TAG]`: an OCI image layout.
    Layout {
        /// The layout's directory.
        dir: PathBuf,
        /// The tag; `None` when the layout holds one package.
        tag: Option<String>,
    },
    /// `oci-archive:FILE[:TAG]`: a tar of an OCI image layout.
    Archive {
        /// The archive.
        file: PathBuf,
        /// The tag; `None` when the archive holds one package.
        tag: Option<String>,
    },
    /// `oci://HOST[:PORT]/REPOSITORY[:TAG|@DIGEST]`: a registry.
    Registry(String),
}

impl Source {
    /// Reads how a user named a component. Anything without a transport prefix is a file.
    pub fn parse(text: &str) -> Result<Source> {
        if let Some(rest) = text.strip_prefix(REGISTRY_PREFIX) {
            if rest.is_empty() {
                bail!(
                    "{text:?}: no registry reference after {REGISTRY_PREFIX} (e.g. oci://localhost:5000/ukc/hello:1.0)"
                );
            }
            return Ok(Source::Registry(rest.to_string()));
        }
        if let Some(rest) = text.strip_prefix("oci-archive:") {
            let (file, tag) = split_tag(rest, text)?;
            return Ok(Source::Archive { file, tag });
        }
        if let Some(rest) = text.strip_prefix("oci:") {
            let (dir, tag) = split_tag(rest, text)?;
            return Ok(Source::Layout { dir, tag });
        }
        Ok(Source::File(PathBuf::from(text)))
    }
}

/// `PATH[:TAG]`, skopeo's way: the tag is what follows the last colon, if anything does
/// and it holds no slash.
fn split_tag(rest: &str, text: &str) -> Result<(PathBuf, Option<String>)> {
    let (path, tag) = match rest.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') => (path, Some(tag.to_string())),
        _ => (rest, None),
    };
    if path.is_empty() {
        bail!("{text:?}: no path (e.g. oci:hello.oci:1.0 or oci-archive:hello.oci.tar)");
    }
    if let Some(tag) = &tag
        && !valid_tag(tag)
    {
        bail!(
            "{text:?}: {tag:?} is not a valid tag (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')"
        );
    }
    Ok((PathBuf::from(path), tag))
}

/// The distribution spec's tag grammar: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn valid_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphanumeric() || b == b'_')
        && tag.len() <= 128
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tagged = |f: &mut fmt::Formatter<'_>, kind: &str, path: &PathBuf, tag: &Option<String>| {
            write!(f, "{kind}:{}", path.display())?;
            tag.as_ref().map_or(Ok(()), |t| write!(f, ":{t}"))
        };
        match self {
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Layout { dir, tag } => tagged(f, "oci", dir, tag),
            Source::Archive { file, tag } => tagged(f, "oci-archive", file, tag),
            Source::Registry(reference) => write!(f, "{REGISTRY_PREFIX}{reference}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_transports_skopeo_knows() {
        assert_eq!(Source::parse("app.wasm").unwrap(), Source::File("app.wasm".into()));
        assert_eq!(
            Source::parse("oci:out/hello.oci:1.0").unwrap(),
            Source::Layout { dir: "out/hello.oci".into(), tag: Some("1.0".into()) }
        );
        assert_eq!(Source::parse("oci:hello.oci").unwrap(), Source::Layout { dir: "hello.oci".into(), tag: None });
        assert_eq!(
            Source::parse("oci-archive:/tmp/a:b/hello.tar").unwrap(),
            Source::Archive { file: "/tmp/a:b/hello.tar".into(), tag: None }
        );
        assert_eq!(
            Source::parse("oci://localhost:5000/ukc/hello:1.0").unwrap(),
            Source::Registry("localhost:5000/ukc/hello:1.0".into())
        );
        for text in ["oci:d:1", "oci-archive:f.tar:latest", "oci://h/r:t", "x.wasm"] {
            assert_eq!(Source::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn refuses_what_names_nothing() {
        for bad in ["oci://", "oci:", "oci::tag", "oci:dir:-bad", "oci-archive:f:t*"] {
            assert!(Source::parse(bad).is_err(), "{bad}");
        }
    }
}
