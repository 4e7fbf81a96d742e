//! The VM: one KVM virtual machine with one vCPU, whose only memory is the guest's.

use super::memory::GuestMemory;
use kvm_bindings::kvm_userspace_memory_region;
use kvm_ioctls::{Kvm, VcpuExit, VcpuFd, VmFd};

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

/// A VM with its memory and its vCPU. Fields drop in order: the vCPU and the VM go
/// before the memory they use.
pub struct Vm {
    vcpu: VcpuFd,
    _vm: VmFd,
    _kvm: Kvm,
    /// The guest's memory, at guest-physical address 0.
    pub memory: GuestMemory,
}

impl Vm {
    /// Makes a VM whose only memory is `memory`, with one vCPU, while `fill` writes that
    /// memory on this thread: KVM only needs to know where the memory lies, and making
    /// the VM (about 1.5 ms here) costs about as much as filling it, so on two cores
    /// the two overlap. Returns the VM and what `fill` returned.
    pub fn new<R>(mut memory: GuestMemory, fill: impl FnOnce(&mut GuestMemory) -> R) -> Result<(Vm, R), String> {
        let (host_address, size) = (memory.host_address(), memory.size());
        let (made, filled) = std::thread::scope(|scope| {
            let made = scope.spawn(move || make(host_address, size));
            let filled = fill(&mut memory);
            (made.join().unwrap_or_else(|_| Err("making the VM failed".into())), filled)
        });
        let (kvm, vm, vcpu) = made?;
        Ok((Vm { vcpu, _vm: vm, _kvm: kvm, memory }, filled))
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

/// A KVM VM with one vCPU whose memory is the `size` bytes at `host_address`, which the
/// caller makes the VM own before anything runs it (see [`Vm::new`]).
fn make(host_address: u64, size: u64) -> Result<(Kvm, VmFd, VcpuFd), String> {
    let kvm = Kvm::new().map_err(|e| format!("cannot open /dev/kvm: {e}; use --isolation=process"))?;
    let vm =
        kvm.create_vm().map_err(|e| format!("cannot create a KVM virtual machine: {e}; use --isolation=process"))?;
    let region = kvm_userspace_memory_region {
        slot: 0,
        flags: 0,
        guest_phys_addr: 0,
        memory_size: size,
        userspace_addr: host_address,
    };
    // SAFETY: the region is a mapping of guest memory that `Vm::new` moves into the `Vm`
    // with these descriptors; it outlives them (see the field order of `Vm`), and KVM
    // only accesses it on behalf of this VM's vCPU.
    unsafe { vm.set_user_memory_region(region) }.map_err(|e| format!("cannot give the VM its memory: {e}"))?;
    let vcpu = vm.create_vcpu(0).map_err(|e| format!("cannot create the VM's vCPU: {e}"))?;
    super::cpu_x86_64::set_cpuid(&kvm, &vcpu)?;
    Ok((kvm, vm, vcpu))
}
