//! The cryptography both TLS drivers use: rustls's ring provider, ChaCha20-Poly1305 first.

use rustls::CipherSuite;
use rustls::crypto::CryptoProvider;
use std::sync::Arc;

/// ring's provider with the ChaCha20-Poly1305 suites ahead of AES-GCM.
pub fn provider() -> Arc<CryptoProvider> {
    // rustls deprecates ring's provider for lacking post-quantum key exchange; the other
    // provider, aws-lc-rs, does not build for wasm32. X25519 and the P-curves remain.
    #[allow(deprecated)]
    let mut provider = rustls::crypto::ring::default_provider();
    // Without AES instructions in wasm, ring's AES-GCM is a constant-time software
    // implementation (half the CPU of an HTTPS server in a profile); ChaCha20-Poly1305 is
    // several times faster in software. So it comes first: a server's order wins when
    // the server says so (ours does), a client's order tells the server what it prefers.
    provider.cipher_suites.sort_by_key(|suite| {
        !matches!(
            suite.suite(),
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
                | CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
                | CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        )
    });
    Arc::new(provider)
}
