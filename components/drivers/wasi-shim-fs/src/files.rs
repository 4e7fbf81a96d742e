//! Open files, and their streams. A kv store reads a value in parts but writes it only
//! whole, so a file opened for writing holds its bytes here: every write changes them in
//! place, every descriptor and stream of the file shares them (the mount hands out one
//! `File` per key), and they go back to the store when the last holder lets go, or at
//! `sync`, which also makes them durable. A file only read is read from the store.

use crate::exports::wasi::filesystem::types::ErrorCode;
use crate::exports::wasi::io::streams::StreamError;
use crate::io::Error;
use crate::mount::Mount;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// The most one read returns, so that a program asking for a huge read does not make
/// the shim allocate it at once.
const READ_LIMIT: u64 = 16 << 20;

/// A file some descriptor or stream holds open.
pub struct File {
    mount: Rc<Mount>,
    key: RefCell<String>,
    /// The bytes, once something wrote them (or is about to).
    held: RefCell<Option<Held>>,
    /// Whether the file still has its name: an unlinked one is never written back.
    linked: Cell<bool>,
}

struct Held {
    bytes: Vec<u8>,
    /// Changed since the store last had them.
    dirty: bool,
}

impl File {
    /// The file at `key` of `mount` (see [`Mount::file`], which shares it).
    pub fn new(mount: Rc<Mount>, key: String) -> File {
        File { mount, key: RefCell::new(key), held: RefCell::new(None), linked: Cell::new(true) }
    }

    /// Its key in the store.
    pub fn key(&self) -> String {
        self.key.borrow().clone()
    }

    /// It was renamed to `key`.
    pub fn rename(&self, key: String) {
        *self.key.borrow_mut() = key;
    }

    /// Its length in bytes.
    pub fn len(&self) -> Result<u64, ErrorCode> {
        match &*self.held.borrow() {
            Some(held) => Ok(held.bytes.len() as u64),
            None => self.mount.size(&self.key()),
        }
    }

    /// Up to `len` bytes from `offset`; none at or past the end.
    pub fn read_at(&self, offset: u64, len: u64) -> Result<Vec<u8>, ErrorCode> {
        let len = len.min(READ_LIMIT);
        match &*self.held.borrow() {
            Some(held) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX).min(held.bytes.len());
                let end = start.saturating_add(len as usize).min(held.bytes.len());
                Ok(held.bytes[start..end].to_vec())
            }
            None => self.mount.get_partial(&self.key(), offset, len),
        }
    }

    /// Writes `bytes` at `offset` (zeroes fill a gap past the end); returns where the
    /// write ended.
    pub fn write_at(&self, offset: u64, bytes: &[u8]) -> Result<u64, ErrorCode> {
        let end = offset.checked_add(bytes.len() as u64).ok_or(ErrorCode::FileTooLarge)?;
        let (start, end_at) = (to_index(offset)?, to_index(end)?);
        self.with_held(|held| {
            if held.bytes.len() < end_at {
                held.bytes.resize(end_at, 0);
            }
            held.bytes[start..end_at].copy_from_slice(bytes);
        })?;
        Ok(end)
    }

    /// Cuts or extends the file to `len` bytes (to none without reading it first).
    pub fn set_len(&self, len: u64) -> Result<(), ErrorCode> {
        if len == 0 {
            self.mount.rw()?;
            *self.held.borrow_mut() = Some(Held { bytes: Vec::new(), dirty: true });
            return Ok(());
        }
        let len = to_index(len)?;
        self.with_held(|held| held.bytes.resize(len, 0))
    }

    /// Gives the store the bytes written here, if any.
    pub fn write_back(&self) -> Result<(), ErrorCode> {
        let mut held = self.held.borrow_mut();
        if let Some(held) = held.as_mut().filter(|h| h.dirty && self.linked.get()) {
            self.mount.set(&self.key(), &held.bytes)?;
            held.dirty = false;
        }
        Ok(())
    }

    /// Writes back, then makes the store durable.
    pub fn sync(&self) -> Result<(), ErrorCode> {
        self.write_back()?;
        self.mount.flush()
    }

    /// The file lost its name: whoever holds it keeps reading what it held.
    pub fn unlinked(&self) -> Result<(), ErrorCode> {
        self.with_held(|_| {})?;
        self.linked.set(false);
        Ok(())
    }

    /// Changes the bytes held here, reading them from the store first (a file created
    /// just now is empty there), and marks them changed.
    fn with_held(&self, change: impl FnOnce(&mut Held)) -> Result<(), ErrorCode> {
        self.mount.rw()?;
        let mut held = self.held.borrow_mut();
        if held.is_none() {
            *held = Some(Held { bytes: self.mount.get(&self.key())?, dirty: false });
        }
        let held = held.as_mut().expect("just filled");
        change(held);
        held.dirty = true;
        Ok(())
    }
}

impl Drop for File {
    /// The last holder let go: the bytes go back to the store. WASI has no way to report
    /// a failure here (`sync` does), so the console says what was lost.
    fn drop(&mut self) {
        if let Err(code) = self.write_back() {
            let message = format!(
                "wasi-shim-fs: the changes to /{}/{} were lost: the store refused them ({code:?})\n",
                self.mount.name,
                self.key()
            );
            crate::ukc::console::console::write(message.as_bytes());
        }
    }
}

fn to_index(offset: u64) -> Result<usize, ErrorCode> {
    usize::try_from(offset).map_err(|_| ErrorCode::FileTooLarge)
}

/// A file's input stream, from an offset on.
pub struct Reader {
    file: Rc<File>,
    offset: Cell<u64>,
}

impl Reader {
    pub fn new(file: Rc<File>, offset: u64) -> Reader {
        Reader { file, offset: Cell::new(offset) }
    }

    /// The next bytes, at most `len`; `closed` at the end of the file.
    pub fn read(&self, len: u64) -> Result<Vec<u8>, StreamError> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let bytes = self.file.read_at(self.offset.get(), len).map_err(Error::stream)?;
        if bytes.is_empty() {
            return Err(StreamError::Closed);
        }
        self.offset.set(self.offset.get() + bytes.len() as u64);
        Ok(bytes)
    }

    /// Skips at most `len` bytes; `closed` at the end of the file.
    pub fn skip(&self, len: u64) -> Result<u64, StreamError> {
        let size = self.file.len().map_err(Error::stream)?;
        let skipped = len.min(size.saturating_sub(self.offset.get()));
        if skipped == 0 && len > 0 {
            return Err(StreamError::Closed);
        }
        self.offset.set(self.offset.get() + skipped);
        Ok(skipped)
    }
}

/// A file's output stream: from an offset on, or always at the end (appending).
pub struct Writer {
    file: Rc<File>,
    /// Where the next write goes; `None` appends.
    position: Option<Cell<u64>>,
}

impl Writer {
    pub fn at(file: Rc<File>, offset: u64) -> Writer {
        Writer { file, position: Some(Cell::new(offset)) }
    }

    pub fn appending(file: Rc<File>) -> Writer {
        Writer { file, position: None }
    }

    pub fn write(&self, bytes: &[u8]) -> Result<(), StreamError> {
        let at = match &self.position {
            Some(position) => position.get(),
            None => self.file.len().map_err(Error::stream)?,
        };
        let end = self.file.write_at(at, bytes).map_err(Error::stream)?;
        if let Some(position) = &self.position {
            position.set(end);
        }
        Ok(())
    }
}
