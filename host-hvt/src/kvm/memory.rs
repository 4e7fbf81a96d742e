//! Guest memory: one anonymous mapping that KVM maps at guest-physical address 0. The
//! tender reaches it only through these bounds-checked accessors, because every address
//! the guest hands over is only a claim.

use std::fmt;
use std::ops::Range;
use std::ptr::NonNull;

/// A guest address range that does not lie inside guest memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfBounds {
    pub addr: u64,
    pub len: u64,
}

impl fmt::Display for OutOfBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bytes at guest address {:#x} lie outside guest memory", self.len, self.addr)
    }
}

/// Types read from and written to guest memory as they are: `bytemuck::Pod` proves at
/// compile time that every bit pattern is a value and that there is no padding.
pub use bytemuck::Pod as Plain;

/// The guest's memory, `size` bytes from guest-physical address 0.
pub struct GuestMemory {
    base: NonNull<u8>,
    size: usize,
}

impl GuestMemory {
    /// Maps `size` bytes of zeroed memory, committed only as the guest touches it.
    pub fn new(size: usize) -> std::io::Result<GuestMemory> {
        // SAFETY: a fresh private anonymous mapping; no existing memory is affected.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let base = NonNull::new(base.cast()).ok_or_else(|| std::io::Error::other("mmap returned null"))?;
        Ok(GuestMemory { base, size })
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.size as u64
    }

    /// The host address of guest address 0, for KVM.
    pub fn host_address(&self) -> u64 {
        self.base.as_ptr() as u64
    }

    /// Asks the host to back `range` with transparent huge pages, before anything
    /// touches it: where the guest maps 2 MiB pages, a 2 MiB page of host memory lets
    /// KVM map each with one fault, where 4 KiB pages would cost the guest a fault each
    /// (microseconds on this kind of KVM). Only a hint: without huge pages the guest
    /// runs the same, a little slower to boot.
    pub fn prefer_huge_pages(&self, range: Range<u64>) {
        self.advise(range, libc::MADV_HUGEPAGE);
    }

    /// Makes the host back `range` now, as [`Prefault::fault_in`] does.
    pub fn fault_in(&mut self, range: Range<u64>) {
        self.advise(range, libc::MADV_POPULATE_WRITE);
    }

    /// A handle that faults in parts of this memory from another thread (see [`Prefault`]).
    ///
    /// # Safety
    ///
    /// The handle must not be used once this memory is dropped: its holder must be done
    /// (a thread joined) before then.
    pub unsafe fn prefault(&self) -> Prefault {
        Prefault { base: self.base.as_ptr() as usize, size: self.size }
    }

    fn advise(&self, range: Range<u64>, advice: libc::c_int) {
        advise(self.base.as_ptr() as usize, self.size, range, advice);
    }

    fn check(&self, addr: u64, len: u64) -> Result<usize, OutOfBounds> {
        match addr.checked_add(len) {
            Some(end) if end <= self.size as u64 => Ok(addr as usize),
            _ => Err(OutOfBounds { addr, len }),
        }
    }

    /// The `len` bytes at guest address `addr`.
    pub fn slice(&self, addr: u64, len: u64) -> Result<&[u8], OutOfBounds> {
        let start = self.check(addr, len)?;
        // SAFETY: the range lies inside the mapping, which lives as long as `self`. The
        // guest cannot change it meanwhile: its only vCPU is stopped while the tender
        // handles an exit, on this thread.
        Ok(unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(start), len as usize) })
    }

    /// The `len` bytes at guest address `addr`, to write.
    pub fn slice_mut(&mut self, addr: u64, len: u64) -> Result<&mut [u8], OutOfBounds> {
        let start = self.check(addr, len)?;
        // SAFETY: as in `slice`; `&mut self` makes this the only reference.
        Ok(unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr().add(start), len as usize) })
    }

    /// Reads a `T` at guest address `addr` (any alignment).
    pub fn read<T: Plain>(&self, addr: u64) -> Result<T, OutOfBounds> {
        Ok(bytemuck::pod_read_unaligned(self.slice(addr, std::mem::size_of::<T>() as u64)?))
    }

    /// Writes `value` at guest address `addr` (any alignment).
    pub fn write<T: Plain>(&mut self, addr: u64, value: &T) -> Result<(), OutOfBounds> {
        self.slice_mut(addr, std::mem::size_of::<T>() as u64)?.copy_from_slice(bytemuck::bytes_of(value));
        Ok(())
    }
}

impl Drop for GuestMemory {
    fn drop(&mut self) {
        // SAFETY: the mapping was made in `new` with this size; nothing refers to it once
        // `self` is dropped (the VM that used it, and the start-up's helper thread that
        // faults it in, are dropped first, see `vm::Vm` and `making.rs`).
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.size) };
    }
}

/// Faults in guest memory from any thread, while the [`GuestMemory`] it came from lives.
/// It only changes how the host backs the memory, never what it holds, so it may run
/// while another thread writes the same memory.
pub struct Prefault {
    base: usize,
    size: usize,
}

impl Prefault {
    /// Makes the host back `range` now (with huge pages where asked for, in whole 2 MiB
    /// pages), as a first write would, without changing what it holds. Only a hint:
    /// where the host cannot, the first touch allocates as usual.
    pub fn fault_in(&self, range: Range<u64>) {
        advise(self.base, self.size, range, libc::MADV_POPULATE_WRITE);
    }
}

/// `madvise(advice)` on the part of `range` inside the `size` bytes of guest memory at
/// host address `base`.
fn advise(base: usize, size: usize, range: Range<u64>, advice: libc::c_int) {
    let end = range.end.min(size as u64);
    if range.start >= end {
        return;
    }
    // SAFETY: the range lies inside a mapping of guest memory that the caller keeps
    // alive, and the advices used here only change how the host backs it (huge pages,
    // allocated now), never what it holds.
    unsafe { libc::madvise((base + range.start as usize) as *mut libc::c_void, (end - range.start) as usize, advice) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accesses_stay_inside_guest_memory() {
        let mut memory = GuestMemory::new(1 << 20).unwrap();
        memory.write(0x100, &0x1122_3344_5566_7788u64).unwrap();
        assert_eq!(memory.read::<u64>(0x100).unwrap(), 0x1122_3344_5566_7788);
        assert_eq!(memory.read::<u64>(0x101).unwrap() & 0xff, 0x77, "unaligned reads work");
        assert!(memory.slice((1 << 20) - 8, 8).is_ok());
        assert_eq!(memory.slice((1 << 20) - 8, 9), Err(OutOfBounds { addr: (1 << 20) - 8, len: 9 }));
        assert!(memory.slice(u64::MAX, 2).is_err(), "no wrapping around");
        assert!(memory.read::<u64>(1 << 20).is_err());
        assert!(memory.slice_mut(1 << 40, 1).is_err());
    }
}
