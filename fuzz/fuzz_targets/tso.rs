//! The device contract's segmentation rule (`ukc_hvt_abi::tso`) over frames and segment
//! sizes a guest chooses for `write-segments`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ukc_hvt_abi::tso::fuzzing::segments(data));
