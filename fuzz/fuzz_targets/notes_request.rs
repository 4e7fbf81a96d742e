//! The notes example's request parsing and routing, as a connection's bytes arrive.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| example_notes::fuzzing::requests(data));
