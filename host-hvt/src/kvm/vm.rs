//! The VM: one KVM virtual machine with one vCPU, whose only memory is the guest's.

use super::making::Helper;
use super::memory::GuestMemory;
use kvm_bindings::kvm_userspace_memory_region;
use kvm_ioctls::{Kvm, VcpuExit, VcpuFd, VmFd};
use std::ops::Range;
use std::os::unix::thread::JoinHandleExt;
use std::thread::JoinHandle;

/// Why the vCPU stopped running guest code, with what the tender needs to act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// A hypercall: `out` of `argument` (a guest address) to `port`.
    Hypercall { port: u16, argument: u64 },
    /// A signal interrupted `KVM_RUN` (the time limit's watchdog sends one).
    Interrupted,
    /// The guest touched guest-physical `address`, where it has no memory.
    OutsideMemory { address: u64 },
    /// A triple fault: the guest could not even report an exception.
    Shutdown,
    /// Anything else, described.
    Other(&'static str),
}

/// A VM with its memory and its vCPU. Fields drop in order: the helper that may still be
/// faulting in the heap, the vCPU and the VM go before the memory they use.
pub struct Vm {
    _helper: Helper,
    vcpu: VcpuFd,
    vm: VmFd,
    _kvm: Kvm,
    /// How much of `memory`, from address 0, KVM has been given (see [`first_part`]).
    given: u64,
    /// The guest's memory, at guest-physical address 0.
    pub memory: GuestMemory,
}

/// How much of guest memory of `size` bytes a VM is given at first: what KVM spends on a
/// memory slot grows with its size (here 0.25 ms for 64 MiB, 0.65 ms for 512 MiB), while
/// a boot touches a few MiB. The kernel asks for the rest ([`Vm::give_rest`]) when its
/// heap runs out.
pub fn first_part(size: u64) -> u64 {
    size.min(64 << 20)
}

/// What making a VM gives, or why it failed.
pub type Made = Result<(Kvm, VmFd, VcpuFd), String>;

impl Vm {
    /// The VM `make` made, owning `memory`, and the start-up's `helper`.
    pub fn new(kvm: Kvm, vm: VmFd, vcpu: VcpuFd, helper: Helper, memory: GuestMemory) -> Vm {
        let given = first_part(memory.size());
        Vm { _helper: helper, vcpu, vm, _kvm: kvm, given, memory }
    }

    /// How much of guest memory, from address 0, the guest may use now.
    pub fn given(&self) -> u64 {
        self.given
    }

    /// Gives the VM the rest of its memory and returns where it lies: empty when it has
    /// all of it already.
    pub fn give_rest(&mut self) -> Result<Range<u64>, String> {
        let rest = self.given..self.memory.size();
        if rest.is_empty() {
            return Ok(rest);
        }
        let region = kvm_userspace_memory_region {
            slot: 1,
            flags: 0,
            guest_phys_addr: rest.start,
            memory_size: rest.end - rest.start,
            userspace_addr: self.memory.host_address() + rest.start,
        };
        // SAFETY: as for the first part in `make`: the rest of the same mapping, which this
        // `Vm` owns and drops after the VM (field order).
        unsafe { self.vm.set_user_memory_region(region) }
            .map_err(|e| format!("cannot give the VM the rest of its memory: {e}"))?;
        self.given = rest.end;
        Ok(rest)
    }

    /// The vCPU, to set up or inspect its registers.
    pub fn vcpu(&self) -> &VcpuFd {
        &self.vcpu
    }

    /// Runs the guest until it exits to the tender.
    pub fn run(&mut self) -> Result<Exit, String> {
        match self.vcpu.run() {
            Ok(VcpuExit::IoOut(port, data)) if data.len() == 4 => {
                let argument = u64::from(u32::from_le_bytes([data[0], data[1], data[2], data[3]]));
                Ok(Exit::Hypercall { port, argument })
            }
            Ok(VcpuExit::IoOut(..) | VcpuExit::IoIn(..)) => Ok(Exit::Other("port I/O that is not a hypercall")),
            Ok(VcpuExit::MmioRead(address, _) | VcpuExit::MmioWrite(address, _)) => Ok(Exit::OutsideMemory { address }),
            Ok(VcpuExit::Shutdown) => Ok(Exit::Shutdown),
            Ok(VcpuExit::Intr) => Ok(Exit::Interrupted),
            Ok(VcpuExit::Hlt) => Ok(Exit::Other("hlt")),
            Ok(VcpuExit::FailEntry(..)) => Ok(Exit::Other("KVM could not enter the guest")),
            Ok(VcpuExit::InternalError) => Ok(Exit::Other("KVM internal error (an instruction it cannot emulate)")),
            Ok(_) => Ok(Exit::Other("an unexpected exit")),
            Err(e) if e.errno() == libc::EINTR => Ok(Exit::Interrupted),
            Err(e) => Err(format!("running the VM failed: {e}")),
        }
    }
}

/// Keeps `thread` off the core this thread runs on, when the process may use another.
/// Left to itself, the scheduler often queues a new thread behind its parent until the
/// parent blocks (measured here: the start-up's helper thread started 0.15 to 2.5 ms
/// late, after the memory was filled), which undoes the overlap. Only a hint: nothing fails
/// without it.
pub fn run_elsewhere<T>(thread: &JoinHandle<T>) {
    // SAFETY: plain system calls on a CPU set owned here and on a thread that is alive
    // (its handle is borrowed, so it has not been joined).
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed) != 0 {
            return;
        }
        let here = libc::sched_getcpu();
        if here < 0 {
            return;
        }
        libc::CPU_CLR(here as usize, &mut allowed);
        if libc::CPU_COUNT(&allowed) > 0 {
            libc::pthread_setaffinity_np(thread.as_pthread_t(), std::mem::size_of::<libc::cpu_set_t>(), &allowed);
        }
    }
}

/// A KVM VM with one vCPU whose memory is the `size` bytes at `host_address` (at first
/// only [`first_part`] of them), which the caller makes the VM own before anything runs
/// it (see `making.rs`).
pub fn make(host_address: u64, size: u64) -> Made {
    let kvm = Kvm::new().map_err(|e| format!("cannot open /dev/kvm: {e}; use --isolation=process"))?;
    let vm =
        kvm.create_vm().map_err(|e| format!("cannot create a KVM virtual machine: {e}; use --isolation=process"))?;
    let region = kvm_userspace_memory_region {
        slot: 0,
        flags: 0,
        guest_phys_addr: 0,
        memory_size: first_part(size),
        userspace_addr: host_address,
    };
    // SAFETY: the region is a mapping of guest memory that `Making` keeps until the VM is
    // made and then moves into the `Vm` with these descriptors; it outlives them (see the
    // field order of `Making` and `Vm`), and KVM only accesses it on behalf of this VM's
    // vCPU.
    unsafe { vm.set_user_memory_region(region) }.map_err(|e| format!("cannot give the VM its memory: {e}"))?;
    let vcpu = vm.create_vcpu(0).map_err(|e| format!("cannot create the VM's vCPU: {e}"))?;
    super::cpu_x86_64::set_cpuid(&vcpu)?;
    Ok((kvm, vm, vcpu))
}
