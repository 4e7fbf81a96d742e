//! Reading and writing top-level custom sections of a WebAssembly binary.
//!
//! Hosts need exactly one thing from a composed unikernel before compiling it: its
//! manifest section. Scanning the section headers is a few dozen lines, and keeps this
//! crate free of any particular `wasmparser` version.

use std::fmt;

/// Why a binary's sections could not be scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionError {
    /// The bytes do not start with the WebAssembly magic number.
    NotWasm,
    /// A section header or length runs past the end of the bytes.
    Truncated {
        /// Byte offset at which the scan stopped.
        offset: usize,
    },
}

impl fmt::Display for SectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SectionError::NotWasm => f.write_str("not a WebAssembly binary (bad magic number)"),
            SectionError::Truncated { offset } => {
                write!(f, "truncated WebAssembly binary (section at byte {offset} runs past the end)")
            }
        }
    }
}

impl std::error::Error for SectionError {}

/// Returns the payload of the first top-level custom section called `name`, if any.
///
/// Works on core modules and components alike; nested modules and components are not
/// entered.
pub fn custom_section<'a>(wasm: &'a [u8], name: &str) -> Result<Option<&'a [u8]>, SectionError> {
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return Err(SectionError::NotWasm);
    }
    let mut pos = 8;
    while pos < wasm.len() {
        let start = pos;
        let id = wasm[pos];
        pos += 1;
        let size = read_u32(wasm, &mut pos).ok_or(SectionError::Truncated { offset: start })?;
        let end = pos
            .checked_add(size as usize)
            .filter(|&end| end <= wasm.len())
            .ok_or(SectionError::Truncated { offset: start })?;
        if id == 0 {
            let mut inner = pos;
            let name_len = read_u32(&wasm[..end], &mut inner).ok_or(SectionError::Truncated { offset: start })?;
            let name_end = inner
                .checked_add(name_len as usize)
                .filter(|&e| e <= end)
                .ok_or(SectionError::Truncated { offset: start })?;
            if &wasm[inner..name_end] == name.as_bytes() {
                return Ok(Some(&wasm[name_end..end]));
            }
        }
        pos = end;
    }
    Ok(None)
}

/// Encodes a custom section; appending it to a valid module or component keeps it valid.
pub fn encode_custom_section(name: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(name.len() + payload.len() + 5);
    write_u32(&mut body, name.len() as u32);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    let mut section = vec![0u8];
    write_u32(&mut section, body.len() as u32);
    section.extend_from_slice(&body);
    section
}

fn read_u32(bytes: &[u8], pos: &mut usize) -> Option<u32> {
    let mut result: u32 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        result |= u32::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(result);
        }
    }
    None
}

fn write_u32(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";

    #[test]
    fn round_trip() {
        let mut wasm = EMPTY_COMPONENT.to_vec();
        wasm.extend(encode_custom_section("other", b"x"));
        wasm.extend(encode_custom_section("ukc-unikernel", &[7u8; 300]));
        assert_eq!(custom_section(&wasm, "ukc-unikernel").unwrap(), Some(&[7u8; 300][..]));
        assert_eq!(custom_section(&wasm, "missing").unwrap(), None);
    }

    #[test]
    fn rejects_garbage_and_truncation() {
        assert_eq!(custom_section(b"hello world", "x"), Err(SectionError::NotWasm));
        let mut wasm = EMPTY_COMPONENT.to_vec();
        wasm.extend(encode_custom_section("ukc-unikernel", b"{}"));
        wasm.pop();
        assert_eq!(custom_section(&wasm, "x"), Err(SectionError::Truncated { offset: 8 }));
    }
}
