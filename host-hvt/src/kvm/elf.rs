//! Reading ELF files: the guest kernel, a static x86_64 executable linked at its load
//! address (so it needs no relocation), whose loadable segments are copied into guest
//! memory; and the sections of the unikernel's compiled artifact, which wasmtime writes
//! as an ELF object.

use super::memory::{GuestMemory, OutOfBounds};
use super::paging::{Access, PAGE, Region};
use std::collections::BTreeMap;
use std::ops::Range;

/// A parsed kernel: its entry point and its loadable segments.
pub struct Kernel<'a> {
    /// The entry point.
    pub entry: u64,
    segments: Vec<Segment<'a>>,
}

/// A loadable segment: bytes to copy to `address`, then zeroes up to `size`, with the
/// `PF_*` permissions in `flags`.
struct Segment<'a> {
    address: u64,
    data: &'a [u8],
    size: u64,
    flags: u32,
}

const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const SHT_SYMTAB: u32 = 2;
const ET_EXEC: u16 = 2;
const EM_X86_64: u16 = 62;

impl<'a> Kernel<'a> {
    /// Parses `elf`, whose segments must all lie at or above `lowest`.
    pub fn parse(elf: &'a [u8], lowest: u64) -> Result<Kernel<'a>, String> {
        let bad = |what: &str| format!("the embedded guest kernel is not a usable ELF file ({what}); rebuild ukc-hvt");
        if elf.get(..4) != Some(b"\x7fELF") || elf.get(4) != Some(&2) || elf.get(5) != Some(&1) {
            return Err(bad("not a little-endian ELF64 file"));
        }
        if u16_at(elf, 16) != Some(ET_EXEC) || u16_at(elf, 18) != Some(EM_X86_64) {
            return Err(bad("not an x86_64 executable linked at a fixed address"));
        }
        let header = |at: usize| u64_at(elf, at).ok_or_else(|| bad("truncated header"));
        let (entry, table) = (header(24)?, header(32)? as usize);
        let entry_size = u16_at(elf, 54).ok_or_else(|| bad("truncated header"))? as usize;
        let count = u16_at(elf, 56).ok_or_else(|| bad("truncated header"))? as usize;
        let mut segments = Vec::new();
        for i in 0..count {
            let at = table + i * entry_size;
            if u32_at(elf, at) != Some(PT_LOAD) {
                continue;
            }
            let field = |offset: usize| u64_at(elf, at + offset).ok_or_else(|| bad("truncated program header"));
            let (offset, address, file_size, size) = (field(8)?, field(24)?, field(32)?, field(40)?);
            let flags = u32_at(elf, at + 4).ok_or_else(|| bad("truncated program header"))?;
            if address < lowest || file_size > size || address.checked_add(size).is_none() {
                return Err(bad("a segment lies below the kernel's load address"));
            }
            let data = elf
                .get(offset as usize..)
                .and_then(|rest| rest.get(..file_size as usize))
                .ok_or_else(|| bad("a segment lies past the end of the file"))?;
            segments.push(Segment { address, data, size, flags });
        }
        Ok(Kernel { entry, segments })
    }

    /// The regions the segments occupy, page by page, each with the access its flags
    /// give: code read+execute, the rest readable and, where the segment says so,
    /// writable. A page that two segments share gets both accesses, and so must not
    /// need to be writable and executable at once.
    pub fn regions(&self) -> Result<Vec<Region>, String> {
        let mut pages: BTreeMap<u64, u32> = BTreeMap::new();
        for segment in &self.segments {
            let first = segment.address / PAGE * PAGE;
            for page in (first..segment.address + segment.size).step_by(PAGE as usize) {
                *pages.entry(page).or_default() |= segment.flags;
            }
        }
        let mut regions: Vec<Region> = Vec::new();
        for (page, flags) in pages {
            let access = match (flags & PF_W != 0, flags & PF_X != 0) {
                (true, true) => {
                    return Err(format!(
                        "the embedded guest kernel has a page at {page:#x} that is both writable and executable; rebuild ukc-hvt"
                    ));
                }
                (false, true) => Access::Execute,
                (true, false) => Access::ReadWrite,
                (false, false) => Access::Read,
            };
            match regions.last_mut() {
                Some(last) if last.range.end == page && last.access == access => last.range.end += PAGE,
                _ => regions.push(Region::new(page..page + PAGE, access)),
            }
        }
        Ok(regions)
    }

    /// The first byte after the highest segment.
    pub fn end(&self) -> u64 {
        self.segments.iter().map(|s| s.address + s.size).max().unwrap_or(0)
    }

    /// Copies the segments into `memory`; the rest of each (its .bss) stays zero, as
    /// guest memory is fresh.
    pub fn load(&self, memory: &mut GuestMemory) -> Result<(), OutOfBounds> {
        for segment in &self.segments {
            memory.slice_mut(segment.address, segment.data.len() as u64)?.copy_from_slice(segment.data);
        }
        Ok(())
    }
}

/// A section of an ELF64 file: its name, type, place in the file and linked section.
pub struct Section<'a> {
    pub name: &'a [u8],
    kind: u32,
    pub offset: u64,
    pub size: u64,
    link: u32,
}

/// The sections of `elf`, or `None` when its section headers are not readable.
pub fn sections(elf: &[u8]) -> Option<Vec<Section<'_>>> {
    let (table, entry_size) = (u64_at(elf, 40)? as usize, usize::from(u16_at(elf, 58)?));
    let (count, names_index) = (usize::from(u16_at(elf, 60)?), usize::from(u16_at(elf, 62)?));
    let header = |i: usize| -> Option<(u32, u32, u64, u64, u32)> {
        let at = table.checked_add(i.checked_mul(entry_size)?)?;
        Some((
            u32_at(elf, at)?,
            u32_at(elf, at + 4)?,
            u64_at(elf, at + 24)?,
            u64_at(elf, at + 32)?,
            u32_at(elf, at + 40)?,
        ))
    };
    let (_, _, names_offset, names_size, _) = header(names_index)?;
    let names = bytes_at(elf, names_offset, names_size)?;
    (0..count)
        .map(|i| {
            let (name, kind, offset, size, link) = header(i)?;
            let name = names.get(name as usize..)?;
            let name = &name[..name.iter().position(|&b| b == 0)?];
            Some(Section { name, kind, offset, size, link })
        })
        .collect()
}

/// Where `name`'s section lies in `elf`.
pub fn section_range(elf: &[u8], name: &str) -> Option<Range<u64>> {
    let section = sections(elf)?.into_iter().find(|s| s.name == name.as_bytes())?;
    Some(section.offset..section.offset.checked_add(section.size)?)
}

/// The value of the symbol `name` in `elf`'s symbol table.
pub fn symbol(elf: &[u8], name: &str) -> Option<u64> {
    const SYMBOL_SIZE: u64 = 24;
    let sections = sections(elf)?;
    let table = sections.iter().find(|s| s.kind == SHT_SYMTAB)?;
    let strings = sections.get(table.link as usize)?;
    let strings = bytes_at(elf, strings.offset, strings.size)?;
    let symbols = bytes_at(elf, table.offset, table.size)?;
    symbols.chunks_exact(SYMBOL_SIZE as usize).find_map(|symbol| {
        let at = u32_at(symbol, 0)? as usize;
        let candidate = strings.get(at..at + name.len() + 1)?;
        (candidate[..name.len()] == *name.as_bytes() && candidate[name.len()] == 0).then(|| u64_at(symbol, 8))?
    })
}

fn bytes_at(bytes: &[u8], offset: u64, len: u64) -> Option<&[u8]> {
    bytes.get(usize::try_from(offset).ok()?..)?.get(..usize::try_from(len).ok()?)
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}
