//! `wasi:random`: every interface, secure or not, reads `ukc:entropy` (the platform's
//! cryptographic generator), so a program's "insecure" randomness is secure too.

use crate::Shim;
use crate::exports::wasi::random::{insecure, insecure_seed, random};
use crate::ukc::entropy::entropy;

/// The most `ukc:entropy.fill` returns at once.
const FILL_LIMIT: u64 = 65536;

/// `len` random bytes, asked for in pieces `fill` accepts.
fn bytes(len: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while (out.len() as u64) < len {
        let want = (len - out.len() as u64).min(FILL_LIMIT) as u32;
        out.extend(entropy::fill(want));
    }
    out
}

fn u64_value() -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes(8)[..8]);
    u64::from_le_bytes(word)
}

impl random::Guest for Shim {
    fn get_random_bytes(len: u64) -> Vec<u8> {
        bytes(len)
    }

    fn get_random_u64() -> u64 {
        u64_value()
    }
}

impl insecure::Guest for Shim {
    fn get_insecure_random_bytes(len: u64) -> Vec<u8> {
        bytes(len)
    }

    fn get_insecure_random_u64() -> u64 {
        u64_value()
    }
}

impl insecure_seed::Guest for Shim {
    fn insecure_seed() -> (u64, u64) {
        (u64_value(), u64_value())
    }
}
