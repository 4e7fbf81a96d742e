//! The log on the device. The device is cut in two halves; one holds the store: a `Start`
//! record of its generation, then `Changes` records, each one set, remove, rename or a
//! whole batch, so that a batch is applied whole or not at all even when the host dies.
//! Changes go to the device at once and are durable once `flush` returns. When the half
//! is full, its live values are copied to the other half under the next generation,
//! sealed, flushed, and the other half takes over; a mount picks the sealed half of the
//! newest generation and replays it, stopping at the first record that is not whole.

use crate::record::{self, HEADER, Kind, Reader, Writer};
use crate::tree::{Change, Error, Tree, Value};

/// A sector-addressed device: the block device, or memory in tests.
pub trait Device {
    /// The unit of every access in bytes.
    fn sector_size(&self) -> u64;
    /// The capacity in bytes, a multiple of the sector size.
    fn capacity(&self) -> u64;
    /// Reads `len` bytes at `offset`, both whole sectors, at most [`MAX_TRANSFER`].
    fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, String>;
    /// Writes whole sectors at `offset`, at most [`MAX_TRANSFER`].
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), String>;
    /// Makes every write so far durable.
    fn flush(&self) -> Result<(), String>;
}

/// The largest request the block interface takes.
pub use ukc_hvt_abi::block_range::MAX_TRANSFER;

/// A change as a caller gives it: on keys, with a value's bytes.
pub enum Edit<'a> {
    /// Sets the value at a key.
    Set(&'a str, &'a [u8]),
    /// Removes what a key names.
    Remove(&'a str),
    /// Moves what a key names to another key.
    Rename(&'a str, &'a str),
}

/// The store on a device.
pub struct Log<D> {
    device: D,
    sector: u64,
    /// Bytes in each half.
    half: u64,
    /// Which half holds the store.
    active: u64,
    generation: u32,
    /// The newest generation either half ever started, sealed or not: the next one is
    /// above it, so that a compaction cut short never leaves records a later one of the
    /// same generation would take for its own.
    highest: u32,
    /// Where the next record goes.
    tail: u64,
    tree: Tree,
}

const SET: u8 = 1;
const REMOVE: u8 = 2;
const RENAME: u8 = 3;

impl<D: Device> Log<D> {
    /// Mounts the store on `device`; a device holding none (all zeros, say) gets an empty
    /// one.
    pub fn mount(device: D) -> Result<Log<D>, Error> {
        let sector = device.sector_size();
        let half = device.capacity() / sector / 2 * sector;
        if half < 2 * sector {
            return Err(Error::NoSpace(format!("the device has {} bytes: too small for a log", device.capacity())));
        }
        let mut log =
            Log { device, sector, half, active: 0, generation: 0, highest: 0, tail: 0, tree: Tree::default() };
        let mut best = None;
        for side in 0..2 {
            let Some(scan) = log.scan(side)? else { continue };
            log.highest = log.highest.max(scan.generation);
            if scan.sealed && best.as_ref().is_none_or(|b: &Scan| scan.generation > b.generation) {
                best = Some(scan);
            }
        }
        match best {
            Some(scan) => {
                (log.active, log.generation, log.tail) = (scan.side, scan.generation, scan.end);
                for (at, payload) in scan.changes {
                    // Each record applies whole or not at all; one that does not (it was
                    // never written by this driver) ends the log, as a torn one does.
                    let changes = decode(at, &payload);
                    let mut tree = log.tree.clone();
                    if changes.and_then(|changes| apply_all(&mut tree, &changes)).is_err() {
                        log.tail = at;
                        break;
                    }
                    log.tree = tree;
                }
            }
            None => log.start(0, log.highest + 1)?,
        }
        Ok(log)
    }

    /// The records of half `side` of its own generation, up to the first that is not whole.
    fn scan(&self, side: u64) -> Result<Option<Scan>, Error> {
        let base = side * self.half;
        let end = base + self.half;
        let Some((start, _)) = self.record_at(base, end, None)? else { return Ok(None) };
        if start.kind != Kind::Start {
            return Ok(None);
        }
        let mut scan =
            Scan { side, generation: start.generation, sealed: false, end: base + self.sector, changes: Vec::new() };
        while let Some((header, payload)) = self.record_at(scan.end, end, Some(start.generation))? {
            match header.kind {
                Kind::Start => break,
                Kind::Seal => scan.sealed = true,
                Kind::Changes => scan.changes.push((scan.end, payload)),
            }
            scan.end += record::size(header.len, self.sector);
        }
        Ok(Some(scan))
    }

    /// The whole record at `at` (before `end`) of `generation` (any, for `None`).
    fn record_at(
        &self,
        at: u64,
        end: u64,
        generation: Option<u32>,
    ) -> Result<Option<(record::Header, Vec<u8>)>, Error> {
        if at + self.sector > end {
            return Ok(None);
        }
        let first = self.read(at, self.sector)?;
        let Some(header) = record::header(&first) else { return Ok(None) };
        let size = record::size(header.len, self.sector);
        if generation.is_some_and(|g| g != header.generation) || size > end - at {
            return Ok(None);
        }
        let whole = if size == self.sector { first } else { self.read_range(at, size)? };
        if !header.checks(&whole) {
            return Ok(None);
        }
        let payload = whole[HEADER as usize..(HEADER + header.len) as usize].to_vec();
        Ok(Some((header, payload)))
    }

    /// Starts generation `generation` in half `side`, with no values, and makes it the store.
    fn start(&mut self, side: u64, generation: u32) -> Result<(), Error> {
        let base = side * self.half;
        self.write(base, &record::encode(generation, Kind::Start, &[], self.sector))?;
        self.write(base + self.sector, &record::encode(generation, Kind::Seal, &[], self.sector))?;
        self.flush()?;
        (self.active, self.generation, self.highest, self.tail, self.tree) =
            (side, generation, generation, base + 2 * self.sector, Tree::default());
        Ok(())
    }

    /// Applies `edits` in order, all of them or none, at time `now`.
    pub fn change(&mut self, edits: &[Edit], now: u64) -> Result<(), Error> {
        let mut payload = Writer::default();
        payload.u64(edits.len() as u64);
        for edit in edits {
            match edit {
                Edit::Set(key, value) => {
                    payload.byte(SET);
                    payload.bytes(crate::tree::path_of(key)?.as_bytes());
                    payload.u64(now);
                    payload.bytes(value);
                }
                Edit::Remove(key) => {
                    payload.byte(REMOVE);
                    payload.bytes(crate::tree::path_of(key)?.as_bytes());
                }
                Edit::Rename(from, to) => {
                    payload.byte(RENAME);
                    payload.bytes(crate::tree::path_of(from)?.as_bytes());
                    payload.bytes(crate::tree::path_of(to)?.as_bytes());
                }
            }
        }
        // Applied to a copy first: a record that is written always applies, and the copy,
        // whose values lie where the record will go, becomes the tree.
        let mut checked = self.tree.clone();
        let planned_at = self.tail;
        apply_all(&mut checked, &decode(planned_at, &payload.0)?)?;
        let size = record::size(payload.0.len() as u64, self.sector);
        if self.tail + size > (self.active + 1) * self.half {
            // Changes that set nothing are compacted in, rather than appended after the
            // compaction: a full store can always shrink.
            if !edits.iter().any(|e| matches!(e, Edit::Set(..))) {
                return self.compact(checked);
            }
            self.compact(self.tree.clone())?;
            if self.tail + size > (self.active + 1) * self.half {
                return Err(Error::NoSpace(format!(
                    "a change of {} bytes does not fit beside the store",
                    payload.0.len()
                )));
            }
        }
        let at = self.tail;
        self.write(at, &record::encode(self.generation, Kind::Changes, &payload.0, self.sector))?;
        self.tail += size;
        if at == planned_at {
            self.tree = checked;
            Ok(())
        } else {
            // A compaction moved the tail: the record's values lie elsewhere.
            apply_all(&mut self.tree, &decode(at, &payload.0)?)
        }
    }

    /// Copies the values of `live` (all on the device) to the other half under a new
    /// generation and, once that is sealed and flushed, makes it the store.
    fn compact(&mut self, live: Tree) -> Result<(), Error> {
        let side = 1 - self.active;
        self.highest += 1;
        let (base, end, generation) = (side * self.half, (side + 1) * self.half, self.highest);
        self.write(base, &record::encode(generation, Kind::Start, &[], self.sector))?;
        let mut at = base + self.sector;
        let mut tree = Tree::default();
        for (path, value) in live.0 {
            let bytes = self.read_value(&value)?;
            let mut payload = Writer::default();
            payload.u64(1);
            payload.byte(SET);
            payload.bytes(path.as_bytes());
            payload.u64(value.modified);
            let start = payload.0.len() as u64 + 8;
            payload.bytes(&bytes);
            let size = record::size(payload.0.len() as u64, self.sector);
            if at + size + self.sector > end {
                return Err(Error::NoSpace(format!(
                    "the store's values do not fit in half of the device ({} bytes)",
                    self.half
                )));
            }
            self.write(at, &record::encode(generation, Kind::Changes, &payload.0, self.sector))?;
            tree.0.insert(path, Value { at: at + HEADER + start, ..value });
            at += size;
        }
        self.write(at, &record::encode(generation, Kind::Seal, &[], self.sector))?;
        self.flush()?;
        (self.active, self.generation, self.tail, self.tree) = (side, generation, at + self.sector, tree);
        Ok(())
    }

    /// Makes every change so far durable.
    pub fn flush(&self) -> Result<(), Error> {
        self.device.flush().map_err(Error::Io)
    }

    /// The tree of values.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// The bytes of `value`.
    pub fn read_value(&self, value: &Value) -> Result<Vec<u8>, Error> {
        self.read_range(value.at, value.len)
    }

    /// `len` bytes at any `offset`, read in whole sectors.
    pub fn read_range(&self, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        let start = offset / self.sector * self.sector;
        let end = (offset + len).div_ceil(self.sector) * self.sector;
        let mut bytes = Vec::with_capacity((end - start) as usize);
        let step = MAX_TRANSFER / self.sector * self.sector;
        let mut at = start;
        while at < end {
            let n = step.min(end - at);
            bytes.extend_from_slice(&self.read(at, n)?);
            at += n;
        }
        Ok(bytes[(offset - start) as usize..(offset - start + len) as usize].to_vec())
    }

    fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        self.device.read(offset, len).map_err(Error::Io)
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), Error> {
        for (i, chunk) in data.chunks(MAX_TRANSFER as usize).enumerate() {
            self.device.write(offset + i as u64 * MAX_TRANSFER, chunk).map_err(Error::Io)?;
        }
        Ok(())
    }
}

/// What a half holds.
struct Scan {
    side: u64,
    generation: u32,
    sealed: bool,
    /// Where its last whole record ends.
    end: u64,
    /// Its `Changes` records: where each lies, and its payload.
    changes: Vec<(u64, Vec<u8>)>,
}

/// The changes of the record at `at` (whose values lie inside it on the device).
fn decode(at: u64, payload: &[u8]) -> Result<Vec<Change>, Error> {
    let corrupt = || Error::Io(format!("the record at byte {at} does not decode"));
    let mut reader = Reader::new(payload);
    let count = reader.u64().ok_or_else(corrupt)?;
    let mut changes = Vec::new();
    for _ in 0..count {
        changes.push(match reader.byte().ok_or_else(corrupt)? {
            SET => {
                let path = reader.text().ok_or_else(corrupt)?;
                let modified = reader.u64().ok_or_else(corrupt)?;
                let (start, bytes) = reader.bytes().ok_or_else(corrupt)?;
                Change::Set(path, Value { at: at + HEADER + start as u64, len: bytes.len() as u64, modified })
            }
            REMOVE => Change::Remove(reader.text().ok_or_else(corrupt)?),
            RENAME => Change::Rename(reader.text().ok_or_else(corrupt)?, reader.text().ok_or_else(corrupt)?),
            _ => return Err(corrupt()),
        });
    }
    if reader.done() { Ok(changes) } else { Err(corrupt()) }
}

/// Applies `changes` to `tree` in order, stopping at the first that fails.
fn apply_all(tree: &mut Tree, changes: &[Change]) -> Result<(), Error> {
    changes.iter().try_for_each(|change| tree.apply(change))
}
