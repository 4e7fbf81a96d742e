//! kv-tar's archive scan, index and store over any bytes: mounted or refused, and every
//! walk of what it lists ends.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ukc_kv_archive::fuzzing::mount_and_walk(data));
