//! The x86_64 state the guest kernel starts in: long mode, identity-mapped memory (see
//! `paging.rs`), and CPL3. On this kind of KVM (`kvm_pvm`) ring 0 is emulated one
//! instruction at a time while ring 3 runs natively, so the kernel runs at CPL3 and only
//! its exception handlers run at CPL0. `out` from CPL3 needs IOPL 3 and, here, also a TSS
//! whose I/O permission bitmap allows every port. The vCPU reports the host CPU's
//! features, as the unikernel's machine code was compiled for them.

use super::abi;
use super::engine_config::CPU_FEATURES;
use super::memory::{GuestMemory, OutOfBounds};
use kvm_bindings::{KVM_MAX_CPUID_ENTRIES, kvm_regs, kvm_segment};
use kvm_ioctls::{Kvm, VcpuFd};

/// GDT: null, kernel code and data (DPL 0), user code and data (DPL 3), then the TSS
/// descriptor's two words.
const SEGMENTS: [u64; 5] =
    [0, 0x00af_9a00_0000_ffff, 0x00cf_9200_0000_ffff, 0x00af_fa00_0000_ffff, 0x00cf_f200_0000_ffff];
/// Selector of the TSS descriptor.
const TSS_SELECTOR: u16 = 0x28;
/// A 64-bit TSS is 104 bytes; the I/O bitmap follows it, 8 KiB plus a terminating byte.
const TSS_SIZE: u64 = 104;
const IO_BITMAP_SIZE: u64 = 8192;
const TSS_LIMIT: u64 = TSS_SIZE + IO_BITMAP_SIZE;

/// Sets the vCPU's registers so that it starts at `entry` on the kernel's stack, with
/// the tables [`write_tables`] wrote.
pub fn set_registers(vcpu: &VcpuFd, entry: u64) -> Result<(), String> {
    let mut sregs = vcpu.get_sregs().map_err(|e| format!("cannot read the vCPU's registers: {e}"))?;
    let code = segment(abi::USER_CODE, 0xb, 1, 0);
    let data = segment(abi::USER_DATA, 0x3, 0, 1);
    (sregs.cs, sregs.ds, sregs.es, sregs.fs, sregs.gs, sregs.ss) = (code, data, data, data, data, data);
    sregs.tr = kvm_segment {
        base: abi::TSS,
        limit: TSS_LIMIT as u32,
        selector: TSS_SELECTOR,
        type_: 11, // busy 64-bit TSS
        present: 1,
        ..Default::default()
    };
    sregs.gdt.base = abi::GDT;
    sregs.gdt.limit = (SEGMENTS.len() * 8 + 16 - 1) as u16;
    sregs.idt.base = abi::IDT;
    sregs.idt.limit = (abi::IDT_ENTRIES * 16 - 1) as u16;
    sregs.cr3 = abi::PAGE_TABLES;
    // SSE on (the unikernel's code uses it), x87 emulation off.
    sregs.cr4 = (1 << 5) | (1 << 9) | (1 << 10); // PAE, OSFXSR, OSXMMEXCPT
    sregs.cr0 = (1 << 31) | (1 << 5) | (1 << 4) | (1 << 1) | 1; // PG, NE, ET, MP, PE
    sregs.efer = (1 << 11) | (1 << 10) | (1 << 8); // NXE (for W^X), LMA, LME
    vcpu.set_sregs(&sregs).map_err(|e| format!("cannot set the vCPU's registers: {e}"))?;
    let regs = kvm_regs {
        rip: entry,
        // As after a call: the kernel's entry point expects rsp + 8 to be 16-byte aligned.
        rsp: abi::STACK_TOP - 8,
        rflags: 0x3002, // IOPL 3 (for `out`), interrupts off, bit 1 always set
        ..Default::default()
    };
    vcpu.set_regs(&regs).map_err(|e| format!("cannot set the vCPU's registers: {e}"))
}

/// A flat 64-bit segment of `type_`, at DPL 3.
fn segment(selector: u16, type_: u8, long: u8, db: u8) -> kvm_segment {
    kvm_segment {
        base: 0,
        limit: 0xffff_ffff,
        selector,
        type_,
        present: 1,
        dpl: 3,
        db,
        s: 1,
        l: long,
        g: 1,
        ..Default::default()
    }
}

/// Writes the descriptor tables into guest memory, with a gate in the IDT to each of
/// the kernel's exception handlers, whose addresses are `handlers` (by vector).
pub fn write_tables(memory: &mut GuestMemory, handlers: &[u64; abi::IDT_ENTRIES as usize]) -> Result<(), OutOfBounds> {
    for (i, descriptor) in SEGMENTS.iter().enumerate() {
        memory.write(abi::GDT + 8 * i as u64, descriptor)?;
    }
    // The TSS descriptor: limit, base, present available 64-bit TSS (0x89).
    let base = abi::TSS;
    let low = (TSS_LIMIT & 0xffff) | (base & 0xff_ffff) << 16 | 0x89 << 40 | ((base >> 24) & 0xff) << 56;
    memory.write(abi::GDT + 8 * SEGMENTS.len() as u64, &low)?;
    memory.write(abi::GDT + 8 * SEGMENTS.len() as u64 + 8, &(base >> 32))?;
    // RSP0, where exceptions from CPL3 switch stacks; the I/O bitmap (all zero: every
    // port allowed) right after the TSS, and its terminating byte.
    memory.write(abi::TSS + 4, &abi::EXCEPTION_STACK_TOP)?;
    memory.write(abi::TSS + 0x66, &(TSS_SIZE as u16))?;
    memory.write(abi::TSS + TSS_LIMIT, &0xffu8)?;
    for (vector, &handler) in handlers.iter().enumerate() {
        // A 64-bit interrupt gate: present, DPL 0, the kernel's code segment, no IST.
        let low =
            (handler & 0xffff) | (u64::from(abi::KERNEL_CODE) << 16) | (0x8e << 40) | ((handler >> 16) & 0xffff) << 48;
        memory.write(abi::IDT + 16 * vector as u64, &low)?;
        memory.write(abi::IDT + 16 * vector as u64 + 8, &(handler >> 32))?;
    }
    Ok(())
}

/// Gives the vCPU the CPU features KVM supports (without this its CPUID is empty, and
/// KVM refuses no-execute pages), plus those of [`CPU_FEATURES`] that this CPU has, after
/// checking that it has them all. `kvm_pvm` leaves them out of what it supports, yet the
/// guest's ring 3 runs on this very CPU, and they need no state or control beyond SSE's
/// (which every x86-64 vCPU has): the guest is told what the CPU gives it.
pub fn set_cpuid(kvm: &Kvm, vcpu: &VcpuFd) -> Result<(), String> {
    let mut cpuid = kvm
        .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
        .map_err(|e| format!("cannot read the CPU features KVM supports: {e}"))?;
    let host_ecx = std::arch::x86_64::__cpuid(1).ecx;
    let missing: Vec<&str> =
        CPU_FEATURES.iter().filter(|f| host_ecx & (1 << f.leaf1_ecx_bit) == 0).map(|f| f.name).collect();
    if !missing.is_empty() {
        return Err(format!(
            "this CPU lacks {}, which KVM isolation compiles the unikernel for; use --isolation=process",
            missing.join(", ")
        ));
    }
    let entries = cpuid.as_mut_slice();
    let leaf1 = entries.iter_mut().find(|e| e.function == 1).ok_or("KVM supports no CPUID leaf 1")?;
    leaf1.ecx |= CPU_FEATURES.iter().fold(0, |bits, f| bits | 1 << f.leaf1_ecx_bit);
    let extended = entries.iter().find(|e| e.function == 0x8000_0001);
    if extended.is_none_or(|e| e.edx & (1 << 20) == 0) {
        return Err(
            "this CPU lacks no-execute pages, which KVM isolation needs for W^X; use --isolation=process".into()
        );
    }
    vcpu.set_cpuid2(&cpuid).map_err(|e| format!("cannot give the vCPU its CPU features: {e}"))
}
