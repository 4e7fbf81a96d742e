//! Reading the member list of a tar archive as GNU tar writes it: POSIX ustar, old GNU
//! and v7 headers, GNU long names ('L', 'K') and pax extended headers ('x', 'g').
//!
//! Only headers and the metadata members are read; a member's data stays on the device
//! and is described by its offset and size.

use crate::blocks::{Device, Window};

/// Every header and data block is a whole number of these.
pub const RECORD: u64 = 512;

/// Metadata members (long names, pax headers) larger than this are refused rather than
/// read into memory: real ones are a few hundred bytes.
const MAX_META: u64 = 1 << 20;

/// What a member is, as far as the store cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Directory,
    HardLink,
    Symlink,
    /// Devices, FIFOs, volume labels, sparse files and unknown types: not served.
    Other,
}

/// One member of the archive, with every extension header already applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The member's path exactly as recorded (not normalised).
    pub path: String,
    pub kind: Kind,
    /// The link target for hard and symbolic links, empty otherwise.
    pub link: String,
    /// Where the member's data starts on the device.
    pub offset: u64,
    /// The data's length in bytes.
    pub size: u64,
    /// Modification time in nanoseconds since the epoch (earlier times read as 0).
    pub mtime_ns: u64,
}

/// Values from pax extended headers; `None` leaves the ustar header's field in force.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Pax {
    path: Option<String>,
    linkpath: Option<String>,
    size: Option<u64>,
    mtime_ns: Option<u64>,
    /// GNU's pax sparse formats: the data is a packed map, not the file.
    sparse: bool,
}

/// Extension headers seen since the last real member, applying to the next one.
#[derive(Default)]
struct Pending {
    long_name: Option<String>,
    long_link: Option<String>,
    pax: Pax,
}

/// Reads every member header of the archive on `device`, handing each member to `each`
/// in archive order (streamed, so that only the index holds the members' names).
///
/// The archive ends at the first zero record or at the end of the device. A device whose
/// first record is neither zero nor a tar header does not hold an archive.
pub fn scan(device: &dyn Device, each: &mut dyn FnMut(Entry)) -> Result<(), String> {
    let mut window = Window::new(device);
    let capacity = device.capacity();
    let mut pending = Pending::default();
    let mut global = Pax::default();
    let mut pos = 0;
    while pos + RECORD <= capacity {
        let block = window.bytes(pos, RECORD)?;
        if block.iter().all(|&b| b == 0) {
            break;
        }
        check_header(&block, pos)?;
        let mut data = pos + RECORD;
        let typeflag = block[156];
        if typeflag == b'S' && block[482] != 0 {
            data = skip_sparse_extensions(&mut window, data)?;
        }
        let is_meta = matches!(typeflag, b'L' | b'K' | b'x' | b'g');
        // A pax size applies to the next real member, not to metadata in between.
        let size = match pending.pax.size {
            Some(size) if !is_meta => size,
            _ => number(&block[124..136]).ok_or_else(|| format!("invalid size in the tar header at offset {pos}"))?,
        };
        let end = data.checked_add(size).filter(|&end| end <= capacity);
        let end = end.ok_or_else(|| format!("the member at offset {pos} runs past the device's end"))?;
        match typeflag {
            b'L' => pending.long_name = Some(text(&meta(&mut window, pos, data, size)?)),
            b'K' => pending.long_link = Some(text(&meta(&mut window, pos, data, size)?)),
            b'x' => parse_pax(&meta(&mut window, pos, data, size)?, &mut pending.pax),
            b'g' => parse_pax(&meta(&mut window, pos, data, size)?, &mut global),
            _ => {
                let pending = std::mem::take(&mut pending);
                each(entry(&block, pending, &global, data, size));
            }
        }
        pos = end.div_ceil(RECORD) * RECORD;
    }
    Ok(())
}

/// Checks the record at `pos` is a tar header: a known magic and a matching checksum.
fn check_header(block: &[u8], pos: u64) -> Result<(), String> {
    let magic = &block[257..263];
    let known = magic == b"ustar\0" || magic == b"ustar " || block[257..265].iter().all(|&b| b == 0);
    let problem = if !checksum_ok(block) {
        "bad header checksum"
    } else if !known {
        "unknown header magic"
    } else {
        return Ok(());
    };
    if pos == 0 {
        Err(format!("the device does not hold a tar archive ({problem} at offset 0)"))
    } else {
        Err(format!("corrupt tar archive: {problem} at offset {pos}"))
    }
}

/// The checksum is the sum of the header's bytes with the checksum field read as spaces;
/// some old tars summed signed bytes, so either sum is accepted.
fn checksum_ok(block: &[u8]) -> bool {
    let Some(stored) = number(&block[148..156]) else {
        return false;
    };
    let (mut unsigned, mut signed) = (0u64, 0i64);
    for (i, &b) in block.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    stored == unsigned || i64::try_from(stored) == Ok(signed)
}

/// Skips old GNU sparse extension records (each flags whether another follows at byte
/// 504) and returns where the member's data starts.
fn skip_sparse_extensions(window: &mut Window, mut pos: u64) -> Result<u64, String> {
    loop {
        if pos + RECORD > window.capacity() {
            return Err(format!("sparse extension records run past the device at offset {pos}"));
        }
        let ext = window.bytes(pos, RECORD)?;
        pos += RECORD;
        if ext[504] == 0 {
            return Ok(pos);
        }
    }
}

/// The data of a metadata member (long name or pax header) at `data`.
fn meta(window: &mut Window, pos: u64, data: u64, size: u64) -> Result<Vec<u8>, String> {
    if size > MAX_META {
        return Err(format!("the extended header at offset {pos} is too large: {size} bytes"));
    }
    window.bytes(data, size)
}

/// Builds the member described by `block` and the extension headers before it.
fn entry(block: &[u8], pending: Pending, global: &Pax, offset: u64, size: u64) -> Entry {
    let pax = pending.pax;
    let path = pax.path.or(pending.long_name).unwrap_or_else(|| header_path(block));
    let link = pax.linkpath.or(pending.long_link).unwrap_or_else(|| text(&block[157..257]));
    let mtime = pax
        .mtime_ns
        .or(global.mtime_ns)
        .or_else(|| number(&block[136..148]).map(|s| s.saturating_mul(1_000_000_000)))
        .unwrap_or(0);
    let kind = match block[156] {
        _ if pax.sparse => Kind::Other,
        // Old archives mark directories only by a trailing slash.
        b'0' | b'\0' | b'7' if path.ends_with('/') => Kind::Directory,
        b'0' | b'\0' | b'7' => Kind::File,
        b'1' => Kind::HardLink,
        b'2' => Kind::Symlink,
        // 'D' is a GNU incremental dump's directory; its data lists the contents.
        b'5' | b'D' => Kind::Directory,
        _ => Kind::Other,
    };
    let link = if matches!(kind, Kind::HardLink | Kind::Symlink) { link } else { String::new() };
    Entry { path, kind, link, offset, size, mtime_ns: mtime }
}

/// The header's own path: POSIX ustar splits long ones into a prefix and a name. Old
/// GNU headers keep other fields where the prefix would be, so only ustar's is used.
fn header_path(block: &[u8]) -> String {
    let name = text(&block[0..100]);
    let prefix = text(&block[345..500]);
    if &block[257..263] == b"ustar\0" && !prefix.is_empty() { format!("{prefix}/{name}") } else { name }
}

/// A NUL-terminated string field.
fn text(field: &[u8]) -> String {
    let len = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    string(&field[..len])
}

/// Names are UTF-8 in practice. Other bytes read as Latin-1, one character each, rather
/// than as replacement characters: distinct names then stay distinct keys.
fn string(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// A numeric header field: octal digits padded with spaces or NULs, or GNU's base-256
/// big-endian number when the first byte is 0x80. Negative numbers (base-256 starting
/// with 0xff) are invalid here: no size is negative, and times before the epoch read as
/// the epoch anyway.
fn number(field: &[u8]) -> Option<u64> {
    let digits = match field[0] {
        0xff => return None,
        first if first & 0x80 != 0 => {
            let first = u64::from(first & 0x7f);
            return field[1..].iter().try_fold(first, |n, &b| n.checked_mul(256)?.checked_add(u64::from(b)));
        }
        _ => field,
    };
    let is_pad = |b: &u8| *b == b' ' || *b == 0;
    let start = digits.iter().position(|b| !is_pad(b)).unwrap_or(digits.len());
    let len = digits[start..].iter().take_while(|b| (b'0'..=b'7').contains(b)).count();
    if !digits[start + len..].iter().all(is_pad) {
        return None;
    }
    digits[start..start + len].iter().try_fold(0u64, |n, &d| n.checked_mul(8)?.checked_add(u64::from(d - b'0')))
}

/// Applies the records of a pax extended header ("LEN key=value\n") to `pax`. A
/// malformed record ends the header, as the records after it cannot be delimited.
fn parse_pax(mut data: &[u8], pax: &mut Pax) {
    while let Some(space) = data.iter().position(|&b| b == b' ') {
        let len = decimal(&data[..space]).and_then(|n| usize::try_from(n).ok());
        let Some(len) = len.filter(|&len| len > space + 1 && len <= data.len() && data[len - 1] == b'\n') else {
            return;
        };
        let record = &data[space + 1..len - 1];
        if let Some(eq) = record.iter().position(|&b| b == b'=') {
            apply_pax(pax, &record[..eq], &record[eq + 1..]);
        }
        data = &data[len..];
    }
}

/// One pax record. An empty value cancels the keyword, restoring the header's field.
fn apply_pax(pax: &mut Pax, key: &[u8], value: &[u8]) {
    let text = || Some(string(value)).filter(|s| !s.is_empty());
    match key {
        b"path" => pax.path = text(),
        b"linkpath" => pax.linkpath = text(),
        b"size" => pax.size = decimal(value),
        b"mtime" => pax.mtime_ns = pax_time(value),
        _ if key.starts_with(b"GNU.sparse.") => pax.sparse = true,
        _ => {}
    }
}

/// A non-empty run of ASCII digits, without overflow. (Not `str::parse`, which also
/// accepts a leading `+`.)
fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        let digit = d.checked_sub(b'0').filter(|&d| d < 10)?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// A pax time, "SECONDS[.FRACTION]", in nanoseconds.
fn pax_time(value: &[u8]) -> Option<u64> {
    if value.first() == Some(&b'-') {
        return Some(0); // Before the epoch, which is as early as the store's times go.
    }
    let dot = value.iter().position(|&b| b == b'.').unwrap_or(value.len());
    let frac = value.get(dot + 1..).unwrap_or_default();
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Nanoseconds are the finest unit kept; further digits are dropped.
    let nanos = (0..9).fold(0, |n, i| n * 10 + frac.get(i).map_or(0, |d| u64::from(d - b'0')));
    decimal(&value[..dot])?.checked_mul(1_000_000_000)?.checked_add(nanos)
}

#[cfg(test)]
mod tests;
