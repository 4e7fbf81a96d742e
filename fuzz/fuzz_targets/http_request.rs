//! static-website's request parsing, as a connection's bytes arrive.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| example_static_website::fuzzing::requests(data));
