//! Loading the guest kernel: a static x86_64 ELF executable, linked at its load address
//! (so it needs no relocation), whose loadable segments are copied into guest memory.

use super::memory::{GuestMemory, OutOfBounds};

/// A parsed kernel: its entry point and its loadable segments.
pub struct Kernel<'a> {
    /// The entry point.
    pub entry: u64,
    segments: Vec<Segment<'a>>,
}

/// A loadable segment: bytes to copy to `address`, then zeroes up to `size`.
struct Segment<'a> {
    address: u64,
    data: &'a [u8],
    size: u64,
}

const PT_LOAD: u32 = 1;
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
            if address < lowest || file_size > size || address.checked_add(size).is_none() {
                return Err(bad("a segment lies below the kernel's load address"));
            }
            let data = elf
                .get(offset as usize..)
                .and_then(|rest| rest.get(..file_size as usize))
                .ok_or_else(|| bad("a segment lies past the end of the file"))?;
            segments.push(Segment { address, data, size });
        }
        Ok(Kernel { entry, segments })
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

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}
