//! https-fetch's reading of an HTTP response, as a server's bytes arrive in pieces.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| example_https_fetch::fuzzing::response(data));
