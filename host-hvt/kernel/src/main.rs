//! The guest kernel of `ukc-hvt --isolation=kvm`: a bare x86_64 program that the tender
//! loads into a fresh VM, already in long mode and running at CPL3 (on this kind of KVM
//! ring 0 is emulated one instruction at a time; ring 3 runs natively). It runs the
//! unikernel as machine code that the tender compiled with Cranelift and mapped
//! executable, serves the hvt platform's imports by hypercalls, and reports how the run
//! ended.
//!
//! The tender (host-hvt/src/kvm) owns the VM's layout and the hypercall ABI with this
//! kernel; both depend on the `ukc-hvt-abi` crate (host-hvt/abi) for it.

#![no_std]
#![no_main]

extern crate alloc;

mod basic;
mod block;
mod clock;
mod code;
mod cpu;
#[allow(
    dead_code,
    reason = "the tender compiles with the CPU feature list; the kernel checks features through wasmtime"
)]
mod engine_config;
// The CPU's exception handlers; the tender points the IDT at them.
mod exceptions;
mod heap;
mod hypercall;
mod net;
mod poll;
mod run;
mod tls;
mod world;

use core::fmt::Write;
// The contract with the tender, by the names the modules use.
use ukc_hvt_abi as abi;
use ukc_hvt_abi::block_cache;

/// The entry point: the tender starts the vCPU here, with the stack set up.
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    // SAFETY: the tender wrote the boot information at BOOT_INFO before starting the
    // vCPU, and nothing writes it afterwards.
    let boot = unsafe { core::ptr::read_volatile(abi::BOOT_INFO as *const abi::BootInfo) };
    if boot.magic != abi::BOOT_MAGIC {
        panic!("booted by a tender of another build (boot magic {:#x}); rebuild ukc-hvt", boot.magic);
    }
    heap::init(boot.heap);
    let clock = clock::Clock::new(boot.clock);
    // SAFETY: the tender wrote the names at `net_names`, inside guest memory, and
    // nothing writes them afterwards.
    let names = unsafe { core::slice::from_raw_parts(boot.net_names.addr as *const u8, boot.net_names.len as usize) };
    let nets = net::Nets::new(core::str::from_utf8(names).unwrap_or_default());
    // SAFETY: as for the names, at `args`.
    let args = unsafe { core::slice::from_raw_parts(boot.args.addr as *const u8, boot.args.len as usize) };
    let kernel = world::Kernel::new(clock, nets, args, boot.memory_limit as usize);
    let outcome = run::run(&boot, kernel);
    let fields = outcome.fields().expect("the kernel ends a run only with outcomes it reports");
    let mut report = abi::Report {
        outcome: fields.code,
        status: fields.status,
        component: hypercall::bytes(fields.component.as_bytes()),
        message: hypercall::bytes(fields.message.as_bytes()),
    };
    hypercall::call(abi::call::REPORT, &mut report);
    unreachable!("the tender stops the VM at a report")
}

/// A panic message in a fixed buffer: the heap may be what failed.
struct Message {
    text: [u8; 1024],
    len: usize,
}

impl Write for Message {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.text.len() - self.len;
        let take = s.len().min(room);
        self.text[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let mut message = Message { text: [0; 1024], len: 0 };
    let _ = write!(message, "{info}");
    let mut arg = hypercall::bytes(&message.text[..message.len]);
    hypercall::call(abi::call::PANIC, &mut arg);
    loop {
        core::hint::spin_loop();
    }
}
