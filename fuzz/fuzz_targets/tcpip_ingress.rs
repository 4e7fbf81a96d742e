//! The tcpip driver's frame ingress: any frames from the wire, with a listener and a UDP
//! socket open.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| driver_tcpip::fuzzing::ingress(data));
