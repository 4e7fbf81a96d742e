//! The offloads a unikernel turns on for its TAP interface (`receive-segments`), and
//! turning them off again however the host ends. They belong to the interface, not to the
//! descriptor that set them: left on, a program attaching the interface next without
//! virtio-net headers (`solo5-hvt`, say) would be handed merged segments longer than its
//! MTU. So they go off when the device is dropped, and when SIGTERM, SIGINT or SIGHUP ends
//! the host (a handler that makes the ioctl, then lets the signal take its default course).
//! SIGKILL leaves them on until the next attach, which turns them off.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::Once;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::tap;

/// Descriptors of interfaces with offloads on, for the signal handler; -1 is a free slot.
static ON: [AtomicI32; 16] = [const { AtomicI32::new(-1) }; 16];

/// The signals whose default action ends the host and which the handler serves.
const ENDING: [libc::c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// Lets the kernel hand over TCP segments of up to 64 KiB, and remembers to turn that off.
pub fn receive_segments(tap: &File) -> io::Result<()> {
    let fd = tap.as_raw_fd();
    // Without a slot, nothing could undo it on a signal: better not to turn it on.
    let slot = ON
        .iter()
        .find(|slot| slot.compare_exchange(-1, fd, Ordering::SeqCst, Ordering::SeqCst).is_ok())
        .ok_or_else(|| io::Error::other("too many interfaces with offloads on"))?;
    static HANDLERS: Once = Once::new();
    HANDLERS.call_once(install_handlers);
    tap::set_offloads(tap, (libc::TUN_F_CSUM | libc::TUN_F_TSO4) as libc::c_uint).inspect_err(|_| {
        slot.store(-1, Ordering::SeqCst);
    })
}

/// Turns the interface's offloads off and forgets it.
pub fn turn_off(tap: &File) -> io::Result<()> {
    let fd = tap.as_raw_fd();
    let result = tap::set_offloads(tap, 0);
    for slot in &ON {
        let _ = slot.compare_exchange(fd, -1, Ordering::SeqCst, Ordering::SeqCst);
    }
    result
}

/// Installs the handler for each ending signal that has its default action (a handler the
/// embedding program set is left alone).
fn install_handlers() {
    for signal in ENDING {
        // SAFETY: the sigaction structs are initialised; the handler only makes system
        // calls that are async-signal-safe (ioctl, sigaction, raise).
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut old) != 0 || old.sa_sigaction != libc::SIG_DFL {
                continue;
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// Turns every remembered interface's offloads off, then ends the process as the signal
/// would have (the handler was reset to the default on entry: `SA_RESETHAND`).
extern "C" fn on_signal(signal: libc::c_int) {
    for slot in &ON {
        let fd = slot.load(Ordering::SeqCst);
        if fd >= 0 {
            // SAFETY: TUNSETOFFLOAD takes its flags by value; a stale descriptor fails harmlessly.
            unsafe { libc::ioctl(fd, libc::TUNSETOFFLOAD, 0 as libc::c_uint) };
        }
    }
    // SAFETY: raise is async-signal-safe; the default action now ends the process.
    unsafe { libc::raise(signal) };
}
