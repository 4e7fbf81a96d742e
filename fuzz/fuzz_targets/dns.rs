//! The dns example's untrusted inputs: any bytes as a query over UDP and TCP, and as a
//! zone file; every answer is a well-formed response with the query's ID, UDP answers fit
//! the client's buffer, and nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| example_dns::fuzzing::query_and_zone(data));
