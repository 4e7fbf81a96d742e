//! Where the unikernel's machine code runs from. The tender maps the artifact's code
//! read+execute before the kernel starts, and the kernel can never change a mapping (the
//! page tables are the tender's, out of reach at CPL3). So when wasmtime publishes code,
//! the kernel only checks that it is code the tender mapped: anything else would fault.

use crate::abi;
use wasmtime::CustomCodeMemory;

/// The executable range the tender mapped ([`abi::BootInfo::code`]).
pub struct TenderMapped {
    code: abi::Bytes,
}

/// Pages: the granularity of the tender's mappings.
const PAGE: usize = 4096;

impl TenderMapped {
    /// The code memory of the range `code`.
    pub fn new(code: abi::Bytes) -> TenderMapped {
        TenderMapped { code }
    }
}

impl CustomCodeMemory for TenderMapped {
    fn required_alignment(&self) -> usize {
        PAGE
    }

    fn publish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
        let (start, code_end) = (ptr as u64, self.code.addr + self.code.len);
        match start.checked_add(len as u64) {
            Some(end) if start >= self.code.addr && end <= code_end => Ok(()),
            _ => Err(wasmtime::Error::msg(alloc::format!(
                "the unikernel's code ({len} bytes at {start:#x}) is not where the tender mapped code \
                 ({} bytes at {:#x}); rebuild ukc-hvt",
                self.code.len,
                self.code.addr
            ))),
        }
    }

    /// Called when the unikernel is dropped: its code stays mapped as it is, since the
    /// artifact's memory never serves anything else.
    fn unpublish_executable(&self, _ptr: *const u8, _len: usize) -> wasmtime::Result<()> {
        Ok(())
    }
}
