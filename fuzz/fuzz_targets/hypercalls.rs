//! The KVM tender's hypercall handlers, as a hostile guest kernel reaches them: any guest
//! memory, any calls, any argument addresses.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ukc_hvt::fuzzing::serve_hypercalls(data);
});
