//! Pushing and pulling packages over the OCI distribution API.
//!
//! oci-client speaks the protocol (auth challenges, uploads); ukc decides what is sent and
//! checks what comes back: manifests are pushed byte for byte as `ukc package` wrote them,
//! and every manifest and blob pulled is checked against its digest before it is used or
//! cached.

use crate::cache::BlobCache;
use crate::digest::Digest;
use crate::package::{Blob, Descriptor, MANIFEST_MEDIA_TYPE, MAX_METADATA, Package};
use anyhow::{Context, Result, anyhow, bail};
use futures_util::StreamExt;
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use std::time::Duration;

/// How to reach registries.
#[derive(Clone, Debug, Default)]
pub struct Access {
    /// Allow plain HTTP to a registry that is not on loopback (`--insecure`). Loopback
    /// registries are always spoken to over plain HTTP.
    pub insecure: bool,
}

/// One repository of one registry, as a reference names it.
pub struct Registry {
    client: Client,
    runtime: tokio::runtime::Runtime,
    auth: RegistryAuth,
    reference: Reference,
    shown: String,
    host: String,
}

impl Registry {
    /// Prepares to talk to the registry `reference` names (`HOST[:PORT]/REPO[:TAG|@DIGEST]`,
    /// without `oci://`), with credentials from the usual docker configuration.
    pub fn connect(reference: &str, access: &Access) -> Result<Registry> {
        let shown = format!("oci://{reference}");
        let parsed: Reference = reference.parse().map_err(|e| {
            anyhow!("{shown}: not a registry reference ({e}); write HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST]")
        })?;
        if let Some(digest) = parsed.digest() {
            Digest::parse(digest).with_context(|| shown.clone())?;
        }
        let host = parsed.resolve_registry().to_string();
        // reqwest's TLS comes without a crypto provider; the first caller installs ring.
        // rustls deprecates ring's provider for lacking post-quantum key exchange; the
        // other provider (aws-lc-rs) needs cmake and minutes of C in every build.
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
        let plain = access.insecure || is_loopback(&host);
        let config = oci_client::client::ClientConfig {
            protocol: if plain {
                oci_client::client::ClientProtocol::HttpsExcept(vec![host.clone()])
            } else {
                oci_client::client::ClientProtocol::Https
            },
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(60)),
            ..Default::default()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the network runtime")?;
        let auth = credentials(parsed.registry(), &host)?;
        Ok(Registry { client: Client::new(config), runtime, auth, reference: parsed, shown, host })
    }

    /// The reference as the user wrote it, with `oci://`.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Uploads `package` (blobs the registry lacks, then the manifest under the reference's
    /// tag) and returns the manifest's digest.
    pub fn push(&self, package: &Package) -> Result<Digest> {
        if self.reference.digest().is_some() {
            bail!("{}: push to a tag (HOST/REPOSITORY:TAG), not a digest", self.shown);
        }
        self.runtime.block_on(async {
            self.client
                .auth(&self.reference, &self.auth, RegistryOperation::Push)
                .await
                .map_err(|e| self.explain(e))?;
            for blob in [&package.config, &package.component] {
                let exists = self
                    .client
                    .blob_exists(&self.reference, blob.digest.as_str())
                    .await
                    .map_err(|e| self.explain(e))?;
                if !exists {
                    self.client
                        .push_blob(&self.reference, blob.bytes.clone(), blob.digest.as_str())
                        .await
                        .map_err(|e| self.explain(e))?;
                }
            }
            let content_type = MANIFEST_MEDIA_TYPE.parse().expect("a valid header value");
            self.client
                .push_manifest_raw(&self.reference, package.manifest.bytes.clone(), content_type)
                .await
                .map_err(|e| self.explain(e))?;
            Ok(package.manifest.digest.clone())
        })
    }

    /// The digest of the manifest the reference names now: its own digest, or what its tag
    /// points to.
    pub fn resolve(&self) -> Result<Digest> {
        if let Some(digest) = self.reference.digest() {
            return Digest::parse(digest);
        }
        Ok(self.manifest()?.digest)
    }

    /// Downloads the package the reference names, or the one `pinned` names in the same
    /// repository, reading blobs the cache holds from it and keeping the others there.
    pub fn pull(&self, pinned: Option<&Digest>, cache: &BlobCache) -> Result<Package> {
        let pinned = pinned.cloned().or_else(|| self.reference.digest().and_then(|d| Digest::parse(d).ok()));
        let manifest = match &pinned {
            Some(digest) => match cache.get(digest) {
                Some(bytes) => Blob { media_type: MANIFEST_MEDIA_TYPE.to_string(), digest: digest.clone(), bytes },
                None => self.pinned_manifest(digest)?,
            },
            None => self.manifest()?,
        };
        // Package::read checks every blob against the manifest; only then are they kept.
        let package = Package::read(manifest, &self.shown, |d| self.blob(d, cache))?;
        for blob in [&package.manifest, &package.config, &package.component] {
            cache.put(&blob.digest, &blob.bytes);
        }
        Ok(package)
    }

    fn pinned_manifest(&self, digest: &Digest) -> Result<Blob> {
        let reference = Reference::with_digest(
            self.reference.registry().to_string(),
            self.reference.repository().to_string(),
            digest.to_string(),
        );
        let manifest = self.manifest_of(&reference)?;
        if manifest.digest != *digest {
            bail!(
                "{}: the registry answered {digest} with a manifest whose digest is {}; \
                 it was damaged or tampered with, and is not used",
                self.shown,
                manifest.digest
            );
        }
        Ok(manifest)
    }

    fn manifest(&self) -> Result<Blob> {
        self.manifest_of(&self.reference)
    }

    /// A manifest, named by the digest of the bytes received, never by what the registry
    /// says it is.
    fn manifest_of(&self, reference: &Reference) -> Result<Blob> {
        let (bytes, _) = self
            .runtime
            .block_on(self.client.pull_manifest_raw(reference, &self.auth, &[MANIFEST_MEDIA_TYPE]))
            .map_err(|e| self.explain(e))?;
        if bytes.len() as u64 > MAX_METADATA {
            bail!("{}: the manifest is larger than the {MAX_METADATA} bytes ukc accepts", self.shown);
        }
        Ok(Blob::new(MANIFEST_MEDIA_TYPE, bytes.to_vec()))
    }

    /// A blob, from the cache or downloaded (at most its descriptor's size); the caller
    /// checks it.
    fn blob(&self, descriptor: &Descriptor, cache: &BlobCache) -> Result<Vec<u8>> {
        if let Some(bytes) = cache.get(&descriptor.digest) {
            return Ok(bytes);
        }
        let what = format!("{}: blob {}", self.shown, descriptor.digest);
        let bytes = self.runtime.block_on(async {
            let layer = oci_client::manifest::OciDescriptor {
                media_type: descriptor.media_type.clone(),
                digest: descriptor.digest.to_string(),
                size: descriptor.size as i64,
                ..Default::default()
            };
            let mut stream =
                self.client.pull_blob_stream(&self.reference, &layer).await.map_err(|e| self.explain(e))?;
            let mut bytes = Vec::new();
            while let Some(chunk) = stream.stream.next().await {
                // oci-client checks the digest as the last chunk arrives, and reports a
                // mismatch as a failed read.
                let chunk = chunk.map_err(|e| match e.to_string() {
                    text if text.contains("digest") => anyhow!(
                        "{what}: the content does not match its digest ({text}); it was damaged or tampered with, \
                         and is not used"
                    ),
                    text => anyhow!("{what}: the download broke off: {text}"),
                })?;
                bytes.extend_from_slice(&chunk);
                if bytes.len() as u64 > descriptor.size {
                    bail!("{what}: the registry sent more than the {} bytes the manifest says", descriptor.size);
                }
            }
            Ok(bytes)
        })?;
        Ok(bytes)
    }

    /// One message a user can act on, for each way a registry conversation fails.
    fn explain(&self, error: OciDistributionError) -> anyhow::Error {
        let shown = &self.shown;
        let host = &self.host;
        let login = format!(
            "log in with `docker login {host}` (ukc reads the credentials in $DOCKER_CONFIG/config.json, \
             else ~/.docker/config.json)"
        );
        match error {
            OciDistributionError::UnauthorizedError { .. } | OciDistributionError::AuthenticationFailure(_) => {
                anyhow!("{shown}: the registry refused the credentials or asked for some (401 unauthorized): {login}")
            }
            OciDistributionError::ImageManifestNotFoundError(_) => not_found(shown, &self.reference, host),
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                let text = envelope.errors.iter().map(|e| format!("{:?}: {}", e.code, e.message)).collect::<Vec<_>>();
                if codes.iter().any(|c| matches!(c, OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown)) {
                    not_found(shown, &self.reference, host)
                } else if codes.iter().any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied)) {
                    anyhow!("{shown}: the registry denied access ({}): {login}", text.join("; "))
                } else {
                    anyhow!("{shown}: the registry refused the request: {}", text.join("; "))
                }
            }
            OciDistributionError::ServerError { code: 404, .. } => not_found(shown, &self.reference, host),
            OciDistributionError::ServerError { code: 401 | 403, .. } => {
                anyhow!("{shown}: the registry denied access: {login}")
            }
            OciDistributionError::ServerError { code, message, .. } => {
                anyhow!("{shown}: the registry answered HTTP {code}: {}", message.trim())
            }
            OciDistributionError::RequestError(e) if matches!(e.status().map(|s| s.as_u16()), Some(401 | 403)) => {
                anyhow!("{shown}: the registry refused the credentials or asked for some (401 unauthorized): {login}")
            }
            OciDistributionError::RequestError(e) if e.status().is_some_and(|s| s.as_u16() == 404) => {
                not_found(shown, &self.reference, host)
            }
            OciDistributionError::RequestError(e) => {
                let mut cause = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    cause = s.to_string();
                    source = s.source();
                }
                let hint = if is_loopback(host) || cause.contains("Connection refused") {
                    " Is the registry running, and is the address right?"
                } else {
                    " Is the registry running and reachable? (ukc speaks HTTPS to any registry not on loopback \
                     unless --insecure is given.)"
                };
                anyhow!("{shown}: cannot reach the registry at {host}: {cause}.{hint}")
            }
            other => anyhow!("{shown}: {other}"),
        }
    }
}

fn not_found(shown: &str, reference: &Reference, host: &str) -> anyhow::Error {
    let plain = if is_loopback(host) { " --tls-verify=false" } else { "" };
    anyhow!(
        "{shown}: not found in the registry (manifest unknown): check the repository and the tag \
         (`skopeo list-tags{plain} docker://{}/{}` lists the tags)",
        reference.registry(),
        reference.repository()
    )
}

/// Registries reached over plain HTTP without `--insecure`: loopback ones.
fn is_loopback(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(':') => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Credentials for `registry` from the docker configuration (`auths` or a credential
/// helper); anonymous when there are none.
fn credentials(registry: &str, host: &str) -> Result<RegistryAuth> {
    use docker_credential::{CredentialRetrievalError as E, DockerCredential};
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".docker")));
    if !dir.is_some_and(|d| d.join("config.json").exists()) {
        return Ok(RegistryAuth::Anonymous);
    }
    let mut names = vec![registry.to_string(), host.to_string()];
    if registry == "docker.io" {
        names.push("https://index.docker.io/v1/".to_string());
    }
    for name in names {
        match docker_credential::get_credential(&name) {
            Ok(DockerCredential::UsernamePassword(user, password)) => return Ok(RegistryAuth::Basic(user, password)),
            Ok(DockerCredential::IdentityToken(_)) => bail!(
                "the docker configuration holds an identity token for {name}, which ukc cannot use; \
                 log in with a user name and password or access token instead"
            ),
            Err(E::ConfigNotFound | E::NoCredentialConfigured) => {}
            Err(e) => bail!(
                "cannot read the docker credentials for {name} ($DOCKER_CONFIG/config.json, else \
                 ~/.docker/config.json): {e}"
            ),
        }
    }
    Ok(RegistryAuth::Anonymous)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_for_loopback_only() {
        for host in ["localhost:5000", "127.0.0.1:5000", "127.8.9.1", "[::1]:5000", "localhost"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["registry.example:5000", "10.0.0.1:5000", "ghcr.io", "localhost.example.com"] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
