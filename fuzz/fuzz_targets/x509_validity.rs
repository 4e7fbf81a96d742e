//! The tls driver's DER walk to a certificate's validity period, over any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| driver_tls::fuzzing::certificate(data));
