//! The console, clocks, entropy, runtime arguments and `exit`.

use crate::abi;
use crate::hypercall::{self, bytes, call};
use crate::world::Kernel;
use crate::world::ukc::{args, clock, console, entropy, exit};
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

impl console::console::Host for Kernel {
    fn write(&mut self, data: Vec<u8>) -> wasmtime::Result<()> {
        let mut arg = bytes(&data);
        call(abi::call::CONSOLE, &mut arg);
        Ok(())
    }
}

impl clock::monotonic::Host for Kernel {
    fn now(&mut self) -> wasmtime::Result<u64> {
        Ok(self.clock.monotonic())
    }
}

impl clock::wall::Host for Kernel {
    fn now(&mut self) -> wasmtime::Result<u64> {
        Ok(self.clock.wall())
    }
}

/// The most bytes one `fill` returns, as the WIT documents (and the tender enforces).
const MAX_FILL: u32 = 65536;

impl entropy::entropy::Host for Kernel {
    fn fill(&mut self, len: u32) -> wasmtime::Result<Vec<u8>> {
        let mut data = vec![0; len.min(MAX_FILL) as usize];
        let mut arg = bytes(&data);
        call(abi::call::ENTROPY, &mut arg);
        // The tender wrote `data` through its address; make that visible to the compiler.
        data.truncate(arg.len as usize);
        Ok(data)
    }
}

impl args::args::Host for Kernel {
    fn get(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        if let Some(value) = abi::args_table::lookup(self.args, &name) {
            return Ok(value.map(ToString::to_string));
        }
        // Not declared: the tender refuses it, with the in-process host's message.
        let mut value = vec![0u8; 256];
        loop {
            let mut arg = abi::Arg { name: bytes(name.as_bytes()), value: bytes(&value), ..Default::default() };
            call(abi::call::ARG, &mut arg);
            match arg.result {
                abi::ARG_NONE => return Ok(None),
                abi::ARG_SOME if arg.len as usize <= value.len() => {
                    value.truncate(arg.len as usize);
                    return Ok(Some(String::from_utf8_lossy(&value).into_owned()));
                }
                abi::ARG_SOME => value.resize(arg.len as usize, 0),
                _ => return Err(hypercall::refused(arg.len)),
            }
        }
    }
}

impl args::undeclared::Host for Kernel {
    fn arguments(&mut self) -> wasmtime::Result<Vec<String>> {
        Ok(abi::args_table::argv(self.args).map(ToString::to_string).collect())
    }
}

/// The unikernel asked to stop with this status; carried as the error that unwinds it.
#[derive(Debug)]
pub struct Exit(pub u8);

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the unikernel exited with status {}", self.0)
    }
}

impl core::error::Error for Exit {}

impl exit::exit::Host for Kernel {
    fn exit(&mut self, status: u8) -> wasmtime::Result<()> {
        Err(wasmtime::Error::new(Exit(status)))
    }
}
