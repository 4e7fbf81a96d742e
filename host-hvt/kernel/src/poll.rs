//! `yield`: one exit that sends the frames waiting to go, waits in the tender (on the
//! in-process host's own wait), and brings back every frame that arrived.

use crate::abi;
use crate::hypercall::call;
use crate::world::Kernel;
use crate::world::ukc::poll::poll::Host;
use alloc::string::String;
use alloc::vec::Vec;

impl Host for Kernel {
    fn yield_(&mut self, deadline: u64) -> wasmtime::Result<Vec<String>> {
        let queued = self.nets.queued();
        // Frames already in the kernel are input ready now, as they would be in the tap.
        if queued != 0 && !self.nets.sending() {
            return Ok(self.nets.names(queued));
        }
        let all = self.nets.all();
        let mut arg = abi::Yield {
            deadline: if queued != 0 { 0 } else { deadline },
            io: self.nets.io(all),
            ..Default::default()
        };
        call(abi::call::YIELD, &mut arg);
        self.nets.complete(&arg.io);
        self.clock.anchor(arg.clock);
        Ok(self.nets.names(arg.ready | self.nets.queued()))
    }
}
