//! `ukc-hvt --isolation=kvm`: the unikernel runs in a micro-VM, as Solo5's hvt tender
//! runs a unikernel. The tender (this module) makes a KVM virtual machine whose only
//! memory is `--mem`, loads the guest kernel (host-hvt/kernel: wasmtime's runtime) and
//! the unikernel compiled to machine code for it, and serves the kernel's hypercalls
//! with the in-process host's own device code. One file per concern: `vm` (KVM),
//! `making` (the start-up's two threads), `memory` (bounds-checked guest memory),
//! `cpu_x86_64` (long mode at CPL3), `layout` and `paging` (where things go, mapped W^X),
//! `elf` (reading the kernel and the artifact), `load` (placing them), `hypercalls` and
//! `frames` (serving the guest), `compile` (compiling), `watchdog` (`--timeout`).

mod compile;
mod cpu_x86_64;
mod elf;
#[path = "../../kernel/src/engine_config.rs"]
mod engine_config;
mod frames;
pub(crate) mod hypercalls;
mod layout;
mod load;
mod making;
pub(crate) mod memory;
mod paging;
mod vm;
mod watchdog;

#[cfg(test)]
mod hostile;
#[cfg(test)]
mod tests;

use hypercalls::Hypercalls;
use making::Making;
use memory::{GuestMemory, OutOfBounds};
use std::fmt;
use std::time::Duration;
use ukc_host::Devices;
use ukc_host::exit;
use ukc_host::launch::{self, HostInfo, Invocation};
use ukc_host::run::Outcome;
use ukc_hvt_abi as abi;
use vm::{Exit, Vm};
use watchdog::Watchdog;

/// The guest kernel, built for x86_64-unknown-none by build.rs.
static KERNEL: &[u8] = include_bytes!(env!("UKC_HVT_KERNEL"));

/// Whether this machine can run VMs: `/dev/kvm` opens for reading and writing.
pub fn available() -> bool {
    std::fs::OpenOptions::new().read(true).write(true).open("/dev/kvm").is_ok()
}

/// A hypercall the tender cannot serve: the guest kernel broke the ABI.
#[derive(Debug)]
pub enum GuestError {
    /// An address outside guest memory.
    Memory(OutOfBounds),
    /// A malformed request.
    Batch(&'static str),
    /// A device index past the attached devices.
    NoDevice(&'static str, u64),
    /// An unknown hypercall number.
    UnknownCall(u16),
    /// The host failed to serve it.
    Host(String),
}

impl From<OutOfBounds> for GuestError {
    fn from(e: OutOfBounds) -> GuestError {
        GuestError::Memory(e)
    }
}

impl fmt::Display for GuestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GuestError::Memory(e) => write!(f, "{e}"),
            GuestError::Batch(what) => write!(f, "it sent {what}"),
            GuestError::NoDevice(kind, index) => write!(f, "it named {kind} device {index}, which is not attached"),
            GuestError::UnknownCall(number) => write!(f, "it made hypercall {number}, which does not exist"),
            GuestError::Host(message) => write!(f, "{message}"),
        }
    }
}

/// Boots `invocation` in a VM and returns the process's exit status; every failure is
/// reported on standard error in one message.
pub fn run(host: &HostInfo, invocation: &Invocation) -> u8 {
    match boot(host, invocation) {
        Ok(Some(outcome)) => ukc_host::run::report(&outcome, host.name),
        Ok(None) => 0,
        Err((status, message)) => {
            eprintln!("{}: {message}", host.name);
            status
        }
    }
}

/// Makes the VM while it reads the unikernel, compiles it and fills guest memory, then
/// serves the VM until it stops. `None` when only help was asked for (and printed).
fn boot(host: &HostInfo, invocation: &Invocation) -> Result<Option<Outcome>, (u8, String)> {
    let setup = |message: String| (exit::SETUP, message);
    let memory_size = invocation.attachments.mem_mb << 20;
    if memory_size > abi::MAX_MEMORY {
        return Err(setup(format!(
            "--mem={}: a VM has at most {} MiB (hypercall arguments are 32-bit addresses); lower --mem or use --isolation=process",
            memory_size >> 20,
            abi::MAX_MEMORY >> 20
        )));
    }
    let memory = GuestMemory::new(memory_size as usize)
        .map_err(|e| setup(format!("cannot map {} MiB of guest memory: {e}; lower --mem", memory_size >> 20)))?;
    let mut making = Making::start(memory);
    let Some(mut unikernel) = launch::open(host, invocation)? else {
        return Ok(None);
    };
    let nets = unikernel.devices.nets();
    if nets.len() > abi::MAX_NETS {
        return Err(setup(format!("a VM takes at most {} net devices; use --isolation=process", abi::MAX_NETS)));
    }
    let artifact = compile::precompile(&unikernel.bytes).map_err(|e| setup(format!("{}: {e}", unikernel.path)))?;
    let args = unikernel.devices.args();
    let args = abi::args_table::encode(args.declared(), args.argv().iter().map(String::as_str));
    let plan = load::plan(&artifact, nets, &args, making.memory.size()).map_err(setup)?;
    plan.prefer_huge_pages(&making.memory);
    making.heap_first_touched(plan.first_touched());
    let (entry, info) = plan.place(&mut making.memory).map_err(setup)?;
    let mut vm = ready(making, entry, info, &mut unikernel.devices).map_err(setup)?;
    let timeout = invocation.attachments.timeout;
    let watchdog = timeout.map(Watchdog::start).transpose().map_err(setup)?;
    Ok(Some(serve(&mut vm, &mut unikernel.devices, watchdog.as_ref().zip(timeout))))
}

/// Waits for the VM, then gives the guest its clock and boot information and points the
/// vCPU at `entry`.
fn ready(making: Making, entry: u64, mut info: abi::BootInfo, devices: &mut Devices) -> Result<Vm, String> {
    let mut vm = making.finish()?;
    // The heap starts with the memory the VM was given first, the kernel asks for the
    // rest when it runs out; a unikernel too big for that first part gets all of it now.
    if vm.given() < info.heap.addr + load::MIN_HEAP {
        vm.give_rest()?;
    }
    info.heap.len = vm.given() - info.heap.addr;
    let tsc_khz = vm.vcpu().get_tsc_khz().map_err(|e| format!("cannot read the vCPU's clock rate: {e}"))?;
    info.clock = hypercalls::clock(devices, u64::from(tsc_khz));
    vm.memory.write(abi::BOOT_INFO, &info).map_err(|e| format!("guest memory too small: {e}"))?;
    cpu_x86_64::set_registers(vm.vcpu(), entry)?;
    Ok(vm)
}

/// Runs the vCPU and serves its exits until the VM stops.
fn serve(vm: &mut Vm, devices: &mut Devices, watchdog: Option<(&Watchdog, Duration)>) -> Outcome {
    loop {
        if let Some((watchdog, limit)) = watchdog
            && watchdog.expired()
        {
            return Outcome::TimedOut(limit);
        }
        let exit = match vm.run() {
            Ok(exit) => exit,
            Err(message) => return Outcome::KernelFailed(message),
        };
        let (port, argument) = match exit {
            Exit::Hypercall { port, argument } => (port, argument),
            Exit::Interrupted => continue,
            Exit::OutsideMemory { address } if address < vm.memory.size() => {
                return Outcome::KernelFailed(format!(
                    "the guest touched address {address:#x}, in memory it has not asked for yet{}",
                    where_(vm)
                ));
            }
            Exit::OutsideMemory { address } => {
                let size = vm.memory.size() >> 20;
                return Outcome::KernelFailed(format!(
                    "the guest touched address {address:#x}, outside its {size} MiB of memory"
                ));
            }
            Exit::Shutdown => return Outcome::KernelFailed(format!("the guest kernel triple-faulted{}", where_(vm))),
            Exit::Other(what) => return Outcome::KernelFailed(format!("the VM stopped: {what}{}", where_(vm))),
        };
        let number = port.wrapping_sub(abi::PORT_BASE);
        if number == abi::call::FAULT {
            return fault(vm, argument);
        }
        if number == abi::call::MEMORY {
            if let Err(stop) = give_rest(vm, argument) {
                return stop;
            }
            continue;
        }
        let mut calls = Hypercalls { devices: &mut *devices, memory: &mut vm.memory };
        match calls.handle(number, argument) {
            Ok(None) => {}
            Ok(Some(stop)) => return stop,
            Err(e) => return Outcome::KernelFailed(format!("the guest kernel broke the hypercall ABI: {e}")),
        }
    }
}

/// Serves [`abi::call::MEMORY`]: gives the VM the rest of its memory and tells the
/// kernel where it lies, in the [`abi::Bytes`] at guest address `at`.
fn give_rest(vm: &mut Vm, at: u64) -> Result<(), Outcome> {
    let broke = |e: OutOfBounds| Outcome::KernelFailed(format!("the guest kernel broke the hypercall ABI: {e}"));
    vm.memory.read::<abi::Bytes>(at).map_err(broke)?;
    let rest = vm.give_rest().map_err(Outcome::KernelFailed)?;
    vm.memory.write(at, &abi::Bytes { addr: rest.start, len: rest.end - rest.start }).map_err(broke)
}

/// Where the vCPU stopped, for messages.
fn where_(vm: &Vm) -> String {
    vm.vcpu().get_regs().map(|r| format!(" at rip {:#x}, rsp {:#x}", r.rip, r.rsp)).unwrap_or_default()
}

/// The stop for an exception the kernel's handler reported.
fn fault(vm: &Vm, at: u64) -> Outcome {
    let Ok(frame) = vm.memory.read::<abi::Fault>(at) else {
        return Outcome::KernelFailed("the guest kernel faulted, and its report lies outside its memory".into());
    };
    let name = match frame.vector {
        0 => "division error",
        6 => "invalid opcode",
        8 => "double fault",
        13 => "general protection fault",
        14 => "page fault",
        _ => "exception",
    };
    let address = match (frame.vector, vm.vcpu().get_sregs()) {
        (14, Ok(sregs)) if sregs.cr2 >= abi::STACK_GUARD && sregs.cr2 < abi::STACK_GUARD + paging::PAGE => {
            format!(" at address {:#x} (its stack overflowed)", sregs.cr2)
        }
        (14, Ok(sregs)) => format!(" at address {:#x}", sregs.cr2),
        _ => String::new(),
    };
    Outcome::KernelFailed(format!(
        "the guest kernel stopped on a {name} (vector {}, error code {:#x}){address}, at rip {:#x}",
        frame.vector, frame.error_code, frame.rip
    ))
}
