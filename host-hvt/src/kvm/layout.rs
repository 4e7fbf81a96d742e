//! Where everything goes in guest memory, and what the kernel may do with each part:
//! the fixed low pages (descriptor tables, boot information, stacks, the first page
//! tables; see the `ukc-hvt-abi` crate), then from [`abi::KERNEL_BASE`] the kernel's segments, the
//! unikernel's artifact (its code read+execute, the rest read-only), the net device
//! names and runtime arguments, the page tables of those images, and the heap up to the end of memory.

use super::abi;
use super::elf;
use super::paging::{self, Access, LARGE_PAGE, PAGE, Region};
use std::ops::Range;

/// The places of the parts the tender copies in, and the regions to map.
pub struct Layout {
    pub artifact_at: u64,
    /// The artifact's code, rounded out to pages: mapped read+execute.
    pub code: Range<u64>,
    /// The net device names and the runtime arguments (read-only).
    pub strings_at: u64,
    /// Where the page tables beyond the fixed ones go.
    pub tables_at: u64,
    pub heap_at: u64,
    pub regions: Vec<Region>,
}

/// The regions below the kernel, the same in every VM.
pub fn low_regions() -> Vec<Region> {
    vec![
        Region::new(abi::GDT..abi::BOOT_INFO, Access::Supervisor),
        Region::new(abi::BOOT_INFO..abi::BOOT_INFO + PAGE, Access::Read),
        Region::new(abi::EXCEPTION_STACK_GUARD + PAGE..abi::EXCEPTION_STACK_TOP, Access::Supervisor),
        Region::new(abi::PAGE_TABLES..paging::FIXED_TABLES_END, Access::Supervisor),
        Region::new(abi::STACK_GUARD + PAGE..abi::STACK_TOP, Access::ReadWrite),
    ]
}

/// The end of the mapping for `memory_size` bytes of memory: whole 2 MiB pages, so that
/// an access past the end reaches no memory and KVM hands it to the tender.
pub fn mapped_end(memory_size: u64) -> u64 {
    memory_size.next_multiple_of(LARGE_PAGE)
}

/// Lays out `kernel`, `artifact` (a compiled unikernel) and `strings_len` bytes of strings in
/// `memory_size` bytes; the heap takes what is left.
pub fn lay_out(kernel: &elf::Kernel, artifact: &[u8], strings_len: u64, memory_size: u64) -> Result<Layout, String> {
    let text = elf::section_range(artifact, ".text")
        .filter(|text| text.end <= artifact.len() as u64)
        .ok_or("the compiled unikernel has no readable code section; remove it from the compile cache")?;
    let artifact_at = kernel.end().next_multiple_of(PAGE);
    let artifact_end = (artifact_at + artifact.len() as u64).next_multiple_of(PAGE);
    let code = artifact_at + text.start / PAGE * PAGE..(artifact_at + text.end).next_multiple_of(PAGE);
    let strings_at = artifact_end;
    let tables_at = (strings_at + strings_len).next_multiple_of(PAGE);
    let mut regions = low_regions();
    regions.extend(kernel.regions()?);
    for (range, access) in [
        (artifact_at..code.start, Access::Read),
        (code.clone(), Access::Execute),
        (code.end..artifact_end, Access::Read),
        (strings_at..tables_at, Access::Read),
    ] {
        if !range.is_empty() {
            regions.push(Region::new(range, access));
        }
    }
    // The heap starts on a 2 MiB boundary, so that it is mapped with 2 MiB pages only:
    // the guest touches it most (the unikernel's linear memories are zeroed in it), and
    // on this kind of KVM each 4 KiB page the guest touches first costs an exit. What is
    // left of the images' last 2 MiB stays unmapped. The tables map the stretches they
    // lie in too: find how many fit with themselves.
    let end = mapped_end(memory_size);
    let mut tables = 0;
    let with_tables = |tables: u64| {
        let tables_end = tables_at + tables * PAGE;
        let heap_at = tables_end.next_multiple_of(LARGE_PAGE);
        let mut all = regions.clone();
        all.push(Region::new(tables_at..tables_end, Access::Supervisor));
        all.push(Region::new(heap_at..end.max(heap_at), Access::ReadWrite));
        all.retain(|r| !r.range.is_empty());
        (all, heap_at)
    };
    while paging::tables_needed(&with_tables(tables).0) > tables {
        tables += 1;
    }
    let (mut regions, heap_at) = with_tables(tables);
    widen_lone_code(&mut regions);
    Ok(Layout { artifact_at, code, strings_at, tables_at, heap_at, regions })
}

/// Stretches a code region to the 2 MiB boundaries around it where nothing else lies
/// between them, so that it takes 2 MiB pages: on this kind of KVM each 4 KiB page the
/// guest touches first costs an exit, and the kernel's code is touched all over (about
/// 1.2 ms of every boot). What it takes in is memory nothing uses, still not writable.
fn widen_lone_code(regions: &mut [Region]) {
    for i in 0..regions.len() {
        if regions[i].access != Access::Execute {
            continue;
        }
        let range = &regions[i].range;
        let wide = range.start / LARGE_PAGE * LARGE_PAGE..range.end.next_multiple_of(LARGE_PAGE);
        let alone =
            regions.iter().enumerate().all(|(j, r)| j == i || r.range.end <= wide.start || r.range.start >= wide.end);
        if alone {
            regions[i].range = wide;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_sorted_apart_and_never_writable_and_executable() {
        let kernel = elf::Kernel::parse(super::super::KERNEL, abi::KERNEL_BASE).unwrap();
        // Any ELF with a `.text` section stands in for an artifact: the kernel itself.
        let layout = lay_out(&kernel, super::super::KERNEL, 100, 64 << 20).unwrap();
        for pair in layout.regions.windows(2) {
            assert!(pair[0].range.end <= pair[1].range.start, "{pair:?}");
        }
        assert!(layout.code.start >= layout.artifact_at && layout.code.start.is_multiple_of(PAGE));
        assert!(layout.regions.iter().any(|r| r.range == layout.code && r.access == Access::Execute));
        let last = layout.regions.last().unwrap();
        assert_eq!((last.range.clone(), last.access), (layout.heap_at..64 << 20, Access::ReadWrite));
        assert!(layout.heap_at > layout.tables_at, "room for the images' page tables");
        assert!(layout.heap_at.is_multiple_of(LARGE_PAGE), "the heap takes 2 MiB pages");
        // The kernel's code has its 2 MiB to itself, and takes one page.
        let kernel_code = layout.regions.iter().find(|r| r.access == Access::Execute).unwrap();
        assert!(kernel_code.range.start.is_multiple_of(LARGE_PAGE) && kernel_code.range.end.is_multiple_of(LARGE_PAGE));
    }
}
