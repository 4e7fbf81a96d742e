//! What ukc reads from registries, layouts, archives, lock files and references: any bytes
//! give an error or a package whose every blob matches its digest; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ukc_oci::fuzzing::read_untrusted(data));
