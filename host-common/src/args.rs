//! Runtime arguments, Mirage-4 style: parsed by the host against the arguments every
//! component declared, before boot (the parser lives in `ukc_manifest::cmdline`, shared
//! with the `wasi-args` driver), and served to the components through `ukc:args`.

use crate::Devices;
use crate::bindings::ukc::args::{args, undeclared};
pub use ukc_manifest::cmdline::{Parsed, RuntimeArgs, help};

impl args::Host for Devices {
    fn get(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        match self.args.get(&name) {
            Some(value) => Ok(value.map(str::to_string)),
            None => Err(wasmtime::Error::msg(format!(
                "the unikernel read the runtime argument --{name}, which no component declares in its manifest"
            ))),
        }
    }
}

impl undeclared::Host for Devices {
    fn arguments(&mut self) -> wasmtime::Result<Vec<String>> {
        Ok(self.args.argv())
    }
}
