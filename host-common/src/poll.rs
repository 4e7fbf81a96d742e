//! `yield`: wait for a frame on any net device, activity on any host socket, or the
//! deadline, whichever comes first, in one `ppoll` (no busy loop).

use crate::Devices;
use crate::bindings::ukc::poll::poll::Host;
use crate::exit::TimedOut;
use crate::net::NetBackend;
use std::time::Instant;

/// The name `yield` reports for activity on the host socket stack.
const SOCKETS: &str = "tcpip";

impl Devices {
    /// Blocks until a net device has input, a host socket is ready, or the monotonic
    /// clock reaches `deadline`; returns the names of the devices with input (`tcpip`
    /// standing for the host socket stack). Fails instead of waiting past the time
    /// limit set with [`Devices::limit_time`].
    pub fn wait(&mut self, deadline: u64) -> Result<Vec<String>, TimedOut> {
        let mut fds: Vec<libc::pollfd> = self
            .nets
            .iter()
            .map(|n| libc::pollfd { fd: n.fd(), events: libc::POLLIN, revents: 0 })
            .chain(self.watched.pollfds())
            .collect();
        loop {
            // A deadline beyond the clock's range waits forever, as Solo5's does. A resting
            // listener's wake-up ends the wait early, with nothing ready, as a deadline would.
            let until = [self.clock.instant_at(deadline), self.time_limit.map(|(at, _)| at), self.watched.next_wake()]
                .into_iter()
                .flatten()
                .min();
            // A frame handed back is input already there: no waiting.
            let until = if self.nets.iter().any(NetBackend::holds_frame) { Some(Instant::now()) } else { until };
            let timeout = until.map(|when| {
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
            let mut ready: Vec<String> = fds
                .iter()
                .zip(&self.nets)
                .filter(|(fd, net)| fd.revents & libc::POLLIN != 0 || net.holds_frame())
                .map(|(_, net)| net.name().to_string())
                .collect();
            if fds[self.nets.len()..].iter().any(|fd| fd.revents != 0) {
                ready.push(SOCKETS.to_string());
            }
            if let Some((at, limit)) = self.time_limit
                && ready.is_empty()
                && Instant::now() >= at
            {
                return Err(TimedOut(limit));
            }
            return Ok(ready);
        }
    }
}

impl Host for Devices {
    fn yield_(&mut self, deadline: u64) -> wasmtime::Result<Vec<String>> {
        // A value held open for `send-value` lives one turn of the unikernel at most.
        self.kv.release_held();
        Ok(self.wait(deadline)?)
    }
}
