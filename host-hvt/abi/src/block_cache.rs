//! A write-back and read-ahead cache in front of one block device.
//!
//! In a VM every call to the tender is an exit, which costs about as much as copying
//! several hundred KiB (about 20 µs under this machine's KVM, BENCHMARKS.md), so a
//! request of a few KiB is all exit. The cache turns runs of small requests into few large
//! ones, as an operating system's buffer cache does for a disk:
//! - writes that continue one another gather in a dirty run of up to [`WRITE_BACK`] bytes,
//!   written to the device as one request when the run cannot grow, before any read of its
//!   range, on `flush`, and when the unikernel's run ends;
//! - a read that continues the previous one (or starts the device) fetches [`READ_AHEAD`]
//!   bytes, and the next reads are served from them;
//! - any other read fetches just its range, and the last [`RECENT`] such ranges are kept,
//!   so that data read again and again (a web page served from a tar image, the same
//!   index block) costs one exit in all, not one per read.
//!
//! What the unikernel sees does not change: every read returns the latest write of its
//! range, `flush` makes every completed write durable, and a bad range or a read-only
//! device fails the call that asked, at once. The one difference: a device error in
//! writing back a run is reported by the call that caused the write-back (a later write,
//! a read of the run, or `flush`), and `flush` reports it even when another call already
//! did, since writes that were acknowledged are lost. The device is the VM's alone, so
//! nothing else can change it under the cache.
//!
//! Requests of [`WRITE_BACK`] or [`READ_AHEAD`] bytes or more go straight to the device.
//! Its unit tests (`block_cache/tests.rs`) run it against a fake device and a plain model.

use crate::block_range;
use alloc::vec::Vec;

/// The largest dirty run the cache gathers before writing it back.
pub const WRITE_BACK: usize = 256 << 10;
/// How much a sequential read fetches.
pub const READ_AHEAD: usize = 256 << 10;
/// How many recent non-sequential reads the cache keeps, each of at most [`RECENT_MAX`]
/// bytes: 4 MiB at most in all.
pub const RECENT: usize = 64;
/// The largest non-sequential read the cache keeps.
pub const RECENT_MAX: usize = 64 << 10;

/// The device under the cache: the tender, in the kernel.
pub trait Device {
    /// What the device reports when it fails.
    type Error;
    /// Appends `len` bytes read at `offset` to the empty `into`.
    fn read(&mut self, offset: u64, len: usize, into: &mut Vec<u8>) -> Result<(), Self::Error>;
    /// Writes `data` at `offset`.
    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), Self::Error>;
    /// Makes completed writes durable.
    fn flush(&mut self) -> Result<(), Self::Error>;
}

/// The device's shape, which the cache checks every request against.
#[derive(Clone, Copy, Debug)]
pub struct Geometry {
    /// Capacity in bytes, a multiple of the sector size.
    pub capacity: u64,
    /// The unit of every access, in bytes.
    pub sector_size: u64,
    /// Whether the device accepts writes.
    pub writable: bool,
}

/// Why a request failed.
#[derive(Debug, PartialEq)]
pub enum Failure<E> {
    /// The range is off the sector grid, empty, over 16 MiB or past the capacity.
    InvalidRange,
    /// A write to a read-only device.
    Denied,
    /// Writes acknowledged earlier could not be written back (reported by `flush`).
    Lost,
    /// The device failed.
    Device(E),
}

/// One device's cache.
pub struct Cache {
    geometry: Geometry,
    /// The dirty run, written at `dirty_at`; empty when there is none.
    dirty: Vec<u8>,
    dirty_at: u64,
    /// The read-ahead window, read at `clean_at` and kept up to date by writes.
    clean: Vec<u8>,
    clean_at: u64,
    /// Where a sequential read would start.
    next_read: u64,
    /// Recent non-sequential reads, where each was read and what it read, the latest last;
    /// kept up to date by writes.
    recent: Vec<(u64, Vec<u8>)>,
    /// A write-back failed since the last `flush`.
    lost: bool,
}

impl Cache {
    /// An empty cache for a device of `geometry`.
    pub fn new(geometry: Geometry) -> Cache {
        let (dirty, clean, recent) = (Vec::new(), Vec::new(), Vec::new());
        Cache { geometry, dirty, dirty_at: 0, clean, clean_at: 0, next_read: 0, recent, lost: false }
    }

    /// Reads `len` bytes at `offset`.
    pub fn read<D: Device>(&mut self, device: &mut D, offset: u64, len: u32) -> Result<Vec<u8>, Failure<D::Error>> {
        let end = self.check(offset, u64::from(len))?;
        let len = len as usize;
        let sequential = offset == self.next_read;
        self.next_read = end;
        if let Some(at) = window_offset(self.clean_at, self.clean.len(), offset, len) {
            return Ok(self.clean[at..at + len].to_vec());
        }
        if let Some(hit) =
            self.recent.iter().position(|(at, data)| window_offset(*at, data.len(), offset, len).is_some())
        {
            let entry = self.recent.remove(hit);
            let from = (offset - entry.0) as usize;
            let data = entry.1[from..from + len].to_vec();
            self.recent.push(entry);
            return Ok(data);
        }
        let fetch = (self.geometry.capacity - offset).min(READ_AHEAD as u64) as usize;
        if !sequential || len >= READ_AHEAD || fetch <= len || !reserve(&mut self.clean, READ_AHEAD) {
            self.write_back_overlapping(device, offset, len)?;
            let mut data = Vec::new();
            device.read(offset, len, &mut data).map_err(Failure::Device)?;
            if !sequential && len <= RECENT_MAX {
                self.remember(offset, &data);
            }
            return Ok(data);
        }
        self.write_back_overlapping(device, offset, fetch)?;
        self.clean.clear();
        if let Err(e) = device.read(offset, fetch, &mut self.clean) {
            self.clean.clear();
            return Err(Failure::Device(e));
        }
        self.clean_at = offset;
        Ok(self.clean[..len].to_vec())
    }

    /// Writes `data` at `offset`.
    pub fn write<D: Device>(&mut self, device: &mut D, offset: u64, data: &[u8]) -> Result<(), Failure<D::Error>> {
        self.check(offset, data.len() as u64)?;
        if !self.geometry.writable {
            return Err(Failure::Denied);
        }
        let continues = !self.dirty.is_empty() && offset == self.dirty_at + self.dirty.len() as u64;
        if !(continues && self.dirty.len() + data.len() <= WRITE_BACK) {
            self.write_back(device)?;
        }
        if data.len() >= WRITE_BACK || !reserve(&mut self.dirty, WRITE_BACK) {
            device.write(offset, data).map_err(Failure::Device)?;
        } else {
            if self.dirty.is_empty() {
                self.dirty_at = offset;
            }
            self.dirty.extend_from_slice(data);
        }
        self.patch_window(offset, data);
        Ok(())
    }

    /// Writes back the dirty run and makes every completed write durable.
    pub fn flush<D: Device>(&mut self, device: &mut D) -> Result<(), Failure<D::Error>> {
        self.write_back(device)?;
        device.flush().map_err(Failure::Device)?;
        if core::mem::take(&mut self.lost) {
            return Err(Failure::Lost);
        }
        Ok(())
    }

    /// Writes back the dirty run, as the unikernel's run ends. When that fails, the
    /// read-ahead window goes too: it holds the run's bytes, which the device may not.
    pub fn write_back<D: Device>(&mut self, device: &mut D) -> Result<(), Failure<D::Error>> {
        if self.dirty.is_empty() {
            return Ok(());
        }
        let result = device.write(self.dirty_at, &self.dirty);
        self.dirty.clear();
        result.map_err(|e| {
            self.lost = true;
            self.clean.clear();
            self.recent.clear();
            Failure::Device(e)
        })
    }

    /// Checks a request of `len` bytes at `offset` and gives its end.
    fn check<E>(&self, offset: u64, len: u64) -> Result<u64, Failure<E>> {
        block_range::end(offset, len, self.geometry.sector_size, self.geometry.capacity).ok_or(Failure::InvalidRange)
    }

    /// Writes back the dirty run if it overlaps `len` bytes at `offset`.
    fn write_back_overlapping<D: Device>(
        &mut self,
        device: &mut D,
        offset: u64,
        len: usize,
    ) -> Result<(), Failure<D::Error>> {
        if overlap(self.dirty_at, self.dirty.len(), offset, len).is_some() {
            self.write_back(device)?;
        }
        Ok(())
    }

    /// Copies the parts of a write that fall in the read-ahead window and in the recent
    /// reads into them.
    fn patch_window(&mut self, offset: u64, data: &[u8]) {
        patch(self.clean_at, &mut self.clean, offset, data);
        for (at, kept) in &mut self.recent {
            patch(*at, kept, offset, data);
        }
    }

    /// Keeps a copy of `data`, read at `offset`, as the latest recent read; the oldest goes
    /// when there are [`RECENT`], and nothing is kept when the heap has no room.
    fn remember(&mut self, offset: u64, data: &[u8]) {
        if self.recent.len() >= RECENT {
            self.recent.remove(0);
        }
        let mut copy = Vec::new();
        if copy.try_reserve_exact(data.len()).is_ok() {
            copy.extend_from_slice(data);
            self.recent.push((offset, copy));
        }
    }
}

/// Copies the part of `data` (written at `offset`) that falls in `window` (read at `at`).
fn patch(at: u64, window: &mut [u8], offset: u64, data: &[u8]) {
    if let Some((start, end)) = overlap(at, window.len(), offset, data.len()) {
        let into = (start - at) as usize..(end - at) as usize;
        let from = (start - offset) as usize..(end - offset) as usize;
        window[into].copy_from_slice(&data[from]);
    }
}

/// Where `len` bytes at `offset` start inside a window of `window_len` bytes at
/// `window_at`, if they lie wholly inside it.
fn window_offset(window_at: u64, window_len: usize, offset: u64, len: usize) -> Option<usize> {
    let at = offset.checked_sub(window_at)?;
    (at + len as u64 <= window_len as u64).then_some(at as usize)
}

/// The common byte range of two ranges, if any.
fn overlap(a_at: u64, a_len: usize, b_at: u64, b_len: usize) -> Option<(u64, u64)> {
    let start = a_at.max(b_at);
    let end = (a_at + a_len as u64).min(b_at + b_len as u64);
    (start < end).then_some((start, end))
}

/// Makes room for `capacity` bytes in `buffer` once; false when the heap has none, and
/// the cache then passes requests straight through.
fn reserve(buffer: &mut Vec<u8>, capacity: usize) -> bool {
    buffer.capacity() >= capacity || buffer.try_reserve_exact(capacity - buffer.len()).is_ok()
}

#[cfg(test)]
mod tests;
