//! The console: the host's standard output.

use crate::Devices;
use crate::bindings::ukc::console::console::Host;
use std::io::Write;

impl Host for Devices {
    fn write(&mut self, data: Vec<u8>) -> wasmtime::Result<()> {
        // A closed or full stdout must not stop the unikernel: Solo5's console drops output.
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(&data).and_then(|()| stdout.flush());
        Ok(())
    }
}
