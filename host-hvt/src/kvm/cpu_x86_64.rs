//! The x86_64 state the guest kernel starts in: long mode, identity-mapped memory, and
//! CPL3. On this kind of KVM (`kvm_pvm`) ring 0 is emulated one instruction at a time
//! while ring 3 runs natively, so the kernel runs at CPL3 and only its exception
//! handlers run at CPL0. `out` from CPL3 needs IOPL 3 and, here, also a TSS whose I/O
//! permission bitmap allows every port.

use super::abi;
use super::memory::{GuestMemory, OutOfBounds};
use kvm_bindings::{kvm_regs, kvm_segment};
use kvm_ioctls::VcpuFd;

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

// Page-table entry bits.
const PRESENT: u64 = 1;
const WRITABLE: u64 = 1 << 1;
const USER: u64 = 1 << 2;
const HUGE: u64 = 1 << 7;
const TABLE: u64 = PRESENT | WRITABLE | USER;

const PAGE: u64 = 4096;
const LARGE_PAGE: u64 = 2 << 20;

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
    sregs.cr4 = (1 << 5) | (1 << 9) | (1 << 10); // PAE, OSFXSR, OSXMMEXCPT
    sregs.cr0 = (1 << 31) | (1 << 5) | (1 << 4) | (1 << 1) | 1; // PG, NE, ET, MP, PE
    sregs.efer = (1 << 10) | (1 << 8); // LMA, LME
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

/// Writes the descriptor tables and the page tables into guest memory.
pub fn write_tables(memory: &mut GuestMemory) -> Result<(), OutOfBounds> {
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
    write_page_tables(memory)
}

/// Identity-maps guest memory, user-accessible (the kernel runs at CPL3): the first
/// 2 MiB with 4 KiB pages, leaving page 0 and the stack's guard page unmapped, and the
/// rest with 2 MiB pages. An access past the end of memory reaches no memory: KVM
/// hands it to the tender, which stops the VM.
fn write_page_tables(memory: &mut GuestMemory) -> Result<(), OutOfBounds> {
    let pml4 = abi::PAGE_TABLES;
    let pdpt = pml4 + PAGE;
    let directories = pdpt + PAGE;
    let first_table = directories + 4 * PAGE;
    memory.write(pml4, &(pdpt | TABLE))?;
    let size = memory.size();
    for gib in 0..size.div_ceil(1 << 30) {
        memory.write(pdpt + 8 * gib, &((directories + gib * PAGE) | TABLE))?;
    }
    memory.write(directories, &(first_table | TABLE))?;
    for page in 1..LARGE_PAGE / PAGE {
        let address = page * PAGE;
        if address != abi::STACK_GUARD {
            memory.write(first_table + 8 * page, &(address | TABLE))?;
        }
    }
    for large in 1..size.div_ceil(LARGE_PAGE) {
        memory.write(directories + 8 * large, &((large * LARGE_PAGE) | TABLE | HUGE))?;
    }
    Ok(())
}
