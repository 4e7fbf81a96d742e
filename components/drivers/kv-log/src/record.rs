//! The records of the log, as they lie on the device. Each starts on a sector boundary
//! with a 32-byte header (magic, the half's generation, kind, payload length, CRC-32 of
//! the header and payload) and is padded to whole sectors, so that writing one never
//! rewrites another, and a record cut short by a killed host fails its CRC.

/// The first bytes of every record.
const MAGIC: &[u8; 4] = b"UKVL";
/// Bytes of header in front of a record's payload.
pub const HEADER: u64 = 32;

/// What a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The first record of a half, which starts a generation.
    Start = 1,
    /// The end of a compaction's snapshot: the half holds the whole store from here on.
    Seal = 2,
    /// Changes applied together: one set, remove or rename, or a batch.
    Changes = 3,
}

/// A record's header.
#[derive(Debug, PartialEq, Eq)]
pub struct Header {
    /// The generation of the half it was written in.
    pub generation: u32,
    /// What it is.
    pub kind: Kind,
    /// Bytes of payload after the header.
    pub len: u64,
    /// The CRC-32 of the header's first 24 bytes and the payload.
    pub crc: u32,
}

/// Encodes a whole record, padded to `sector` bytes.
pub fn encode(generation: u32, kind: Kind, payload: &[u8], sector: u64) -> Vec<u8> {
    let mut record = Vec::with_capacity(size(payload.len() as u64, sector) as usize);
    record.extend_from_slice(MAGIC);
    record.extend_from_slice(&generation.to_le_bytes());
    record.push(kind as u8);
    record.extend_from_slice(&[0; 7]);
    record.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    let crc = crc32(crc32(!0, &record[..24]), payload);
    record.extend_from_slice(&(!crc).to_le_bytes());
    record.extend_from_slice(&[0; 4]);
    record.extend_from_slice(payload);
    record.resize(size(payload.len() as u64, sector) as usize, 0);
    record
}

/// The bytes a record with `len` bytes of payload takes on the device.
pub fn size(len: u64, sector: u64) -> u64 {
    (HEADER + len).div_ceil(sector) * sector
}

/// The header at the start of `bytes`, if it is one (its payload's CRC is checked with
/// [`Header::checks`]).
pub fn header(bytes: &[u8]) -> Option<Header> {
    let bytes = bytes.get(..HEADER as usize)?;
    if &bytes[..4] != MAGIC {
        return None;
    }
    let kind = match bytes[8] {
        1 => Kind::Start,
        2 => Kind::Seal,
        3 => Kind::Changes,
        _ => return None,
    };
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let len = u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes"));
    Some(Header { generation: word(4), kind, len, crc: word(24) })
}

impl Header {
    /// Whether `record` (header and payload) is the one this header describes, whole.
    pub fn checks(&self, record: &[u8]) -> bool {
        let Some(payload) = record.get(HEADER as usize..(HEADER + self.len) as usize) else { return false };
        !crc32(crc32(!0, &record[..24]), payload) == self.crc
    }
}

/// The running CRC-32 (IEEE) of `bytes` after `crc`.
fn crc32(mut crc: u32, bytes: &[u8]) -> u32 {
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
        }
    }
    crc
}

/// Builds a payload: length-prefixed fields.
#[derive(Default)]
pub struct Writer(pub Vec<u8>);

impl Writer {
    /// A byte.
    pub fn byte(&mut self, b: u8) {
        self.0.push(b);
    }
    /// A number.
    pub fn u64(&mut self, n: u64) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }
    /// Bytes, after their length.
    pub fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
}

/// Reads a payload's fields back; `None` when it ends early.
pub struct Reader<'a> {
    bytes: &'a [u8],
    /// Where the next field starts.
    pub at: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }
    /// Whether every field was read.
    pub fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
    /// A byte.
    pub fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }
    /// A number.
    pub fn u64(&mut self) -> Option<u64> {
        let n = u64::from_le_bytes(self.bytes.get(self.at..self.at + 8)?.try_into().ok()?);
        self.at += 8;
        Some(n)
    }
    /// Length-prefixed bytes, with where they start in the payload.
    pub fn bytes(&mut self) -> Option<(usize, &'a [u8])> {
        let len = usize::try_from(self.u64()?).ok()?;
        let start = self.at;
        let b = self.bytes.get(start..start.checked_add(len)?)?;
        self.at += len;
        Some((start, b))
    }
    /// A length-prefixed string.
    pub fn text(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.1.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_damage_is_seen() {
        let record = encode(7, Kind::Changes, b"payload", 512);
        assert_eq!(record.len(), 512);
        let h = header(&record).unwrap();
        assert_eq!((h.generation, h.kind, h.len), (7, Kind::Changes, 7));
        assert!(h.checks(&record));
        for at in [0, 4, 8, 16, 24, 32, 38] {
            let mut damaged = record.clone();
            damaged[at] ^= 1;
            assert!(header(&damaged).is_none_or(|h| !h.checks(&damaged)), "byte {at}");
        }
        assert!(!h.checks(&record[..35]), "a record cut short");
        assert_eq!(size(480, 512), 512);
        assert_eq!(size(481, 512), 1024);
        // The CRC is the standard one: "123456789" gives 0xcbf43926.
        assert_eq!(!crc32(!0, b"123456789"), 0xcbf4_3926);
    }
}
