//! Entropy from the host's cryptographic generator.

use crate::Devices;
use crate::bindings::ukc::entropy::entropy::Host;

/// The most bytes one call returns, as the WIT documents.
const MAX_FILL: u32 = 65536;

impl Host for Devices {
    fn fill(&mut self, len: u32) -> wasmtime::Result<Vec<u8>> {
        let mut bytes = vec![0; len.min(MAX_FILL) as usize];
        getrandom::fill(&mut bytes)
            .map_err(|e| wasmtime::Error::msg(format!("the host's entropy source failed: {e}")))?;
        Ok(bytes)
    }
}
