//! The guest's page tables: guest memory identity-mapped, with W^X. The tender writes
//! them once, before boot, and maps them supervisor-only, so the kernel (at CPL3) can
//! neither read nor change them: code stays read+execute, and nothing is ever both
//! writable and executable.
//!
//! A 2 MiB stretch that is all one kind of memory (the heap) takes one 2 MiB page;
//! any other stretch takes a page table of 4 KiB pages. The first stretch's table has a
//! fixed place next to the upper levels ([`abi::PAGE_TABLES`]); the others go where the
//! layout reserves room for them ([`tables_needed`] says how many).

use super::abi;
use super::memory::{GuestMemory, OutOfBounds};
use std::ops::Range;

/// A 4 KiB page and a 2 MiB one: the two sizes the tables map with.
pub const PAGE: u64 = 4096;
pub const LARGE_PAGE: u64 = 2 << 20;
/// One PML4 entry maps 512 GiB, one PDPT entry 1 GiB.
const GIB: u64 = 1 << 30;

// Page-table entry bits.
const PRESENT: u64 = 1;
const WRITABLE: u64 = 1 << 1;
const USER: u64 = 1 << 2;
const ACCESSED: u64 = 1 << 5;
const DIRTY: u64 = 1 << 6;
const HUGE: u64 = 1 << 7;
const NO_EXECUTE: u64 = 1 << 63;
/// Upper levels allow everything; the last level decides. Every entry is already
/// accessed, and every page dirty: nothing in the guest reads those bits, and on this
/// kind of KVM (shadow paging) a fault on an entry without them costs KVM a write to
/// set them, a second fault on the first write to a clean page, and its prefetching
/// of the neighbouring entries, which it only does for accessed ones (measured: the
/// guest loads a unikernel in half the time).
const TABLE: u64 = PRESENT | WRITABLE | USER | ACCESSED;
const LEAF: u64 = ACCESSED | DIRTY;

/// The PML4, the PDPT and four page directories come first, then the first table.
const UPPER_TABLES: u64 = 6;
const FIRST_TABLE: u64 = abi::PAGE_TABLES + UPPER_TABLES * PAGE;
/// Where the page tables after the first one may start: after the fixed ones.
pub const FIXED_TABLES_END: u64 = FIRST_TABLE + PAGE;

/// What the kernel may do with a region of guest memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Only the CPU and the exception handlers, at CPL0: descriptor tables, the
    /// exception stack, the page tables.
    Supervisor,
    /// Read.
    Read,
    /// Read and write.
    ReadWrite,
    /// Read and execute.
    Execute,
}

impl Access {
    fn bits(self) -> u64 {
        match self {
            Access::Supervisor => LEAF | PRESENT | WRITABLE | NO_EXECUTE,
            Access::Read => LEAF | PRESENT | USER | NO_EXECUTE,
            Access::ReadWrite => LEAF | PRESENT | USER | WRITABLE | NO_EXECUTE,
            Access::Execute => LEAF | PRESENT | USER,
        }
    }
}

/// A page-aligned range of guest memory and what may be done with it. Memory in no
/// region is unmapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub range: Range<u64>,
    pub access: Access,
}

impl Region {
    pub fn new(range: Range<u64>, access: Access) -> Region {
        Region { range, access }
    }
}

/// How many page tables, beyond the fixed ones, `regions` need.
pub fn tables_needed(regions: &[Region]) -> u64 {
    let top = regions.iter().map(|r| r.range.end).max().unwrap_or(0);
    (1..top.div_ceil(LARGE_PAGE)).filter(|&chunk| one_access(regions, chunk).is_none()).count() as u64
}

/// Writes page tables that map `regions` (sorted, page-aligned, not overlapping, all
/// below 4 GiB), with the tables after the first at `tables`, which has room for
/// [`tables_needed`] of them.
pub fn write(memory: &mut GuestMemory, regions: &[Region], tables: u64) -> Result<(), OutOfBounds> {
    let pml4 = abi::PAGE_TABLES;
    let pdpt = pml4 + PAGE;
    let directories = pdpt + PAGE;
    memory.write(pml4, &(pdpt | TABLE))?;
    for gib in 0..abi::MAX_MEMORY / GIB {
        memory.write(pdpt + 8 * gib, &((directories + gib * PAGE) | TABLE))?;
    }
    let top = regions.iter().map(|r| r.range.end).max().unwrap_or(0);
    let mut next_table = tables;
    for chunk in 0..top.div_ceil(LARGE_PAGE) {
        let start = chunk * LARGE_PAGE;
        let entry = directories + 8 * chunk;
        match one_access(regions, chunk) {
            Some(Some(access)) => memory.write(entry, &(start | HUGE | access.bits()))?,
            Some(None) => {}
            None => {
                let table = if chunk == 0 {
                    FIRST_TABLE
                } else {
                    next_table += PAGE;
                    next_table - PAGE
                };
                memory.write(entry, &(table | TABLE))?;
                write_table(memory, regions, table, start)?;
            }
        }
    }
    Ok(())
}

/// The 4 KiB pages of the 2 MiB stretch at `start`.
fn write_table(memory: &mut GuestMemory, regions: &[Region], table: u64, start: u64) -> Result<(), OutOfBounds> {
    for region in regions {
        let from = region.range.start.max(start);
        let to = region.range.end.min(start + LARGE_PAGE);
        for page in (from..to).step_by(PAGE as usize) {
            memory.write(table + 8 * ((page - start) / PAGE), &(page | region.access.bits()))?;
        }
    }
    Ok(())
}

/// The 2 MiB stretches below `end` that the tables map with one 2 MiB page each: the
/// only ones where a 2 MiB page of host memory spares the guest faults.
pub fn large_pages(regions: &[Region], end: u64) -> impl Iterator<Item = Range<u64>> + '_ {
    (1..end.div_ceil(LARGE_PAGE))
        .filter(|&chunk| matches!(one_access(regions, chunk), Some(Some(_))))
        .map(|chunk| chunk * LARGE_PAGE..(chunk + 1) * LARGE_PAGE)
}

/// `Some(Some(access))` when the 2 MiB stretch `chunk` lies wholly in one region,
/// `Some(None)` when it touches none, `None` when it needs 4 KiB pages. Chunk 0 always
/// does: its first page stays unmapped.
fn one_access(regions: &[Region], chunk: u64) -> Option<Option<Access>> {
    let stretch = chunk * LARGE_PAGE..(chunk + 1) * LARGE_PAGE;
    let mut touching = regions.iter().filter(|r| r.range.start < stretch.end && r.range.end > stretch.start);
    match (touching.next(), touching.next()) {
        (None, _) => Some(None),
        (Some(r), None) if chunk > 0 && r.range.start <= stretch.start && r.range.end >= stretch.end => {
            Some(Some(r.access))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    /// The leaf entry that maps `address`, walking the tables as the CPU does.
    fn walk(memory: &GuestMemory, address: u64) -> Option<u64> {
        let pml4e = memory.read::<u64>(abi::PAGE_TABLES).unwrap();
        let pdpte = memory.read::<u64>((pml4e & !0xfff) + 8 * (address / GIB)).unwrap();
        let pde = memory.read::<u64>((pdpte & !0xfff) + 8 * ((address % GIB) / LARGE_PAGE)).unwrap();
        if pde & PRESENT == 0 {
            return None;
        }
        if pde & HUGE != 0 {
            return Some(pde);
        }
        let pte = memory.read::<u64>((pde & 0x7fff_ffff_f000) + 8 * ((address % LARGE_PAGE) / PAGE)).unwrap();
        (pte & PRESENT != 0).then_some(pte)
    }

    #[test]
    fn every_page_is_mapped_as_its_region_says_and_never_writable_and_executable() {
        let mut memory = GuestMemory::new(64 << 20).unwrap();
        let regions = [
            Region::new(abi::GDT..abi::BOOT_INFO, Access::Supervisor),
            Region::new(abi::BOOT_INFO..abi::BOOT_INFO + PAGE, Access::Read),
            Region::new(abi::STACK_GUARD + PAGE..abi::STACK_TOP, Access::ReadWrite),
            Region::new(2 * MIB..2 * MIB + 3 * PAGE, Access::Execute),
            Region::new(2 * MIB + 3 * PAGE..5 * MIB, Access::Read),
            Region::new(5 * MIB..5 * MIB + 2 * PAGE, Access::Supervisor),
            Region::new(5 * MIB + 2 * PAGE..64 * MIB, Access::ReadWrite),
        ];
        assert_eq!(tables_needed(&regions), 2, "the stretches at 2 and 4 MiB; the rest is heap");
        write(&mut memory, &regions, 5 * MIB).unwrap();
        for page in (0..64 * MIB).step_by(PAGE as usize) {
            const RIGHTS: u64 = PRESENT | WRITABLE | USER | NO_EXECUTE;
            let expected = regions.iter().find(|r| r.range.contains(&page)).map(|r| r.access.bits() & RIGHTS);
            let entry = walk(&memory, page);
            assert_eq!(entry.map(|e| e & RIGHTS), expected, "page {page:#x}");
            if let Some(entry) = entry {
                assert_eq!(entry & (ACCESSED | DIRTY), ACCESSED | DIRTY, "accessed and dirty: {page:#x}");
                assert_eq!(entry & 0x7fff_ffe0_0000, page & !(LARGE_PAGE - 1), "identity-mapped: {page:#x}");
                assert!(entry & WRITABLE == 0 || entry & NO_EXECUTE != 0, "W^X at {page:#x}");
            }
        }
        assert_eq!(walk(&memory, 0), None, "page 0 is unmapped");
        assert_eq!(walk(&memory, abi::STACK_GUARD), None, "the stack's guard is unmapped");
        assert!(walk(&memory, 8 * MIB).unwrap() & HUGE != 0, "the heap takes 2 MiB pages");
        let large: Vec<_> = large_pages(&regions, 10 * MIB).collect();
        assert_eq!(large, [6 * MIB..8 * MIB, 8 * MIB..10 * MIB], "the 2 MiB pages below 10 MiB");
    }
}
