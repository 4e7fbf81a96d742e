//! The `ukc-hvt` tender: its command line (`cli`) and the KVM micro-VM it runs a unikernel
//! in (`kvm`). The binary (`main.rs`) only picks the isolation and hands over to the
//! shared host crate or to `kvm`. A library so that the fuzzer (`fuzz/`) reaches the
//! hypercall handlers the way a guest kernel does.

pub mod cli;
#[cfg(any(fuzzing, test))]
pub mod fuzzing;
pub mod kvm;
