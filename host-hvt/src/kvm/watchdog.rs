//! The time limit (`--timeout`) for a guest that never exits to the tender: a thread
//! that, once the limit has passed, interrupts `KVM_RUN` with a signal until the vCPU's
//! thread has seen it. (A guest waiting in `yield` is stopped by the devices' own time
//! limit, in the same wait the in-process host uses.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The signal that interrupts `KVM_RUN`; its handler does nothing.
const SIGNAL: libc::c_int = libc::SIGUSR1;
/// How often the watchdog repeats the signal, in case it arrived outside `KVM_RUN`.
const REPEAT: Duration = Duration::from_millis(10);

/// A running watchdog.
pub struct Watchdog {
    expired: Arc<AtomicBool>,
    done: Arc<AtomicBool>,
}

extern "C" fn ignore(_: libc::c_int) {}

impl Watchdog {
    /// Starts a watchdog that interrupts the calling thread once `limit` has passed.
    pub fn start(limit: Duration) -> Result<Watchdog, String> {
        // SAFETY: installs a handler that does nothing (async-signal-safe), without
        // SA_RESTART so that KVM_RUN returns EINTR; the sigaction struct is initialised.
        let installed = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = ignore as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(SIGNAL, &action, std::ptr::null_mut())
        };
        if installed != 0 {
            return Err(format!("cannot install the time limit's signal handler: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: pthread_self has no preconditions.
        let target = unsafe { libc::pthread_self() };
        let expired = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        let (expired_flag, done_flag) = (expired.clone(), done.clone());
        std::thread::spawn(move || {
            std::thread::sleep(limit);
            expired_flag.store(true, Ordering::SeqCst);
            while !done_flag.load(Ordering::SeqCst) {
                // SAFETY: `target` is the vCPU thread, which outlives this loop: it sets
                // `done` (in `Watchdog::drop`) before it ends.
                unsafe { libc::pthread_kill(target, SIGNAL) };
                std::thread::sleep(REPEAT);
            }
        });
        Ok(Watchdog { expired, done })
    }

    /// Whether the limit has passed.
    pub fn expired(&self) -> bool {
        self.expired.load(Ordering::SeqCst)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
    }
}
