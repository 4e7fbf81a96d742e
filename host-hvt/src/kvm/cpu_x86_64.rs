//! The x86_64 state the guest kernel starts in: long mode, identity-mapped memory (see
//! `paging.rs`), and CPL3. On this kind of KVM (`kvm_pvm`) ring 0 is emulated one
//! instruction at a time while ring 3 runs natively, so the kernel runs at CPL3 and only
//! its exception handlers run at CPL0. `out` from CPL3 needs IOPL 3 and, here, also a TSS
//! whose I/O permission bitmap allows every port. The vCPU reports those of the host
//! CPU's features that the guest uses, which the unikernel's machine code was compiled for.

use super::abi;
use super::engine_config::CPU_FEATURES;
use super::memory::{GuestMemory, OutOfBounds};
use kvm_bindings::{CpuId, kvm_cpuid_entry2, kvm_regs, kvm_segment};
use kvm_ioctls::VcpuFd;
use std::arch::x86_64::__cpuid;

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

/// Gives the vCPU a CPUID that lists only what the guest uses, after checking that this
/// CPU has it: long mode and no-execute pages (KVM refuses EFER's LME and NXE to a vCPU
/// whose CPUID lacks them), SSE (which `set_registers` turns on), the host's physical
/// address width (without it KVM assumes 36 bits), and [`CPU_FEATURES`], which the
/// unikernel's code was compiled for and the kernel checks. The guest's ring 3 runs on
/// this very CPU, and these need no state or control beyond SSE's; the kernel reads the
/// time-stamp counter, which KVM allows whatever CPUID says (CR4.TSD is clear). Asking
/// KVM for everything it supports instead costs a boot ~0.3 ms here (each CPUID it
/// executes is an exit to the outer hypervisor), and `kvm_pvm` leaves the compiled-for
/// features out of that list anyway.
pub fn set_cpuid(vcpu: &VcpuFd) -> Result<(), String> {
    let (basic, extended) = (__cpuid(0), __cpuid(0x8000_0000));
    let leaf1 = (basic.eax >= 1).then(|| __cpuid(1));
    let ext1 = (extended.eax >= 0x8000_0001).then(|| __cpuid(0x8000_0001));
    let widths = (extended.eax >= 0x8000_0008).then(|| __cpuid(0x8000_0008));
    let (ecx, edx) = leaf1.map_or((0, 0), |l| (l.ecx, l.edx));
    let ext_edx = ext1.map_or(0, |l| l.edx);
    let mut missing: Vec<&str> =
        CPU_FEATURES.iter().filter(|f| ecx & (1 << f.leaf1_ecx_bit) == 0).map(|f| f.name).collect();
    missing.extend(LEAF1_EDX.iter().filter(|(bit, _)| edx & (1 << bit) == 0).map(|(_, name)| *name));
    missing.extend(EXTENDED_EDX.iter().filter(|(bit, _)| ext_edx & (1 << bit) == 0).map(|(_, name)| *name));
    if !missing.is_empty() {
        return Err(format!(
            "this CPU lacks {}, which KVM isolation needs; use --isolation=process",
            missing.join(", ")
        ));
    }
    let leaf = |function: u32, eax: u32, ebx: u32, ecx: u32, edx: u32| kvm_cpuid_entry2 {
        function,
        eax,
        ebx,
        ecx,
        edx,
        ..Default::default()
    };
    let bits = |list: &[(u32, &str)]| list.iter().fold(0, |all, (bit, _)| all | 1 << bit);
    let features = CPU_FEATURES.iter().fold(0, |all, f| all | 1 << f.leaf1_ecx_bit);
    let version = leaf1.map_or(0, |l| l.eax);
    let mut entries = vec![
        // The highest basic leaf, and the vendor, by which KVM picks vendor-specific behaviour.
        leaf(0, 1, basic.ebx, basic.ecx, basic.edx),
        leaf(1, version, 0, features, bits(&LEAF1_EDX)),
        leaf(0x8000_0000, if widths.is_some() { 0x8000_0008 } else { 0x8000_0001 }, 0, 0, 0),
        leaf(0x8000_0001, 0, 0, 0, bits(&EXTENDED_EDX)),
    ];
    // Physical and linear address widths (eax's low 16 bits).
    entries.extend(widths.map(|w| leaf(0x8000_0008, w.eax & 0xffff, 0, 0, 0)));
    let cpuid = CpuId::from_entries(&entries).map_err(|e| format!("cannot list the vCPU's CPU features: {e:?}"))?;
    vcpu.set_cpuid2(&cpuid).map_err(|e| format!("cannot give the vCPU its CPU features: {e}"))
}

/// CPUID leaf 1's edx bits the guest uses: x87 and SSE state, as every x86-64 CPU has.
const LEAF1_EDX: [(u32, &str); 5] = [(0, "fpu"), (6, "pae"), (24, "fxsr"), (25, "sse"), (26, "sse2")];

/// CPUID leaf 0x8000_0001's edx bits the guest uses.
const EXTENDED_EDX: [(u32, &str); 2] = [(20, "no-execute pages (for W^X)"), (29, "long mode")];
