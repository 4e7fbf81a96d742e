//! `yield`: wait for a frame on any net device or for the deadline, whichever comes
//! first, in one `ppoll` (no busy loop).

use crate::Devices;
use crate::bindings::ukc::poll::poll::Host;
use std::time::Instant;

impl Devices {
    /// Blocks until a net device has input or the monotonic clock reaches `deadline`;
    /// returns the names of the devices with input.
    pub fn wait(&self, deadline: u64) -> Vec<String> {
        let mut fds: Vec<libc::pollfd> =
            self.nets.iter().map(|n| libc::pollfd { fd: n.fd(), events: libc::POLLIN, revents: 0 }).collect();
        loop {
            // A deadline beyond the clock's range waits forever, as Solo5's does.
            let timeout = self.clock.instant_at(deadline).map(|when| {
                let left = when.saturating_duration_since(Instant::now());
                libc::timespec { tv_sec: left.as_secs() as libc::time_t, tv_nsec: left.subsec_nanos() as libc::c_long }
            });
            let timeout_ptr = timeout.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
            // SAFETY: `fds` and `timeout` outlive the call; no signal mask is changed.
            let ready =
                unsafe { libc::ppoll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ptr, std::ptr::null()) };
            if ready < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return fds
                .iter()
                .zip(&self.nets)
                .filter(|(fd, _)| fd.revents & libc::POLLIN != 0)
                .map(|(_, net)| net.name().to_string())
                .collect();
        }
    }
}

impl Host for Devices {
    fn yield_(&mut self, deadline: u64) -> wasmtime::Result<Vec<String>> {
        Ok(self.wait(deadline))
    }
}
