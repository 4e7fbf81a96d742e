//! The tender's hypercall handlers over any bytes, for `fuzz/` (built with `--cfg fuzzing`,
//! as cargo-fuzz does) and for the test suite's smoke of it.
//!
//! The input is what a hostile guest kernel controls: its memory and the hypercalls it
//! makes. The first byte says how many calls follow (at most 16), three bytes each: the
//! call number (low five bits, so unknown numbers come too; the high bit counts the
//! argument's address down from the top of the address space) and a 16-bit address of its
//! argument. The rest is guest memory from address 0, 64 KiB of it, so every field the
//! guest sets may point inside memory, across its end or far past it. The unikernel has
//! one block device (`storage`), one net device (`service`, over a socket pair with two
//! frames waiting) and one runtime argument with a value (`--greeting`).

use crate::kvm::hypercalls::Hypercalls;
use crate::kvm::memory::GuestMemory;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixDatagram;
use ukc_host::Devices;
use ukc_host::args::{Parsed, RuntimeArgs};
use ukc_host::block::BlockBackend;
use ukc_host::net::NetBackend;
use ukc_hvt_abi::{self as abi, call};
use ukc_manifest::UnikernelManifest;

/// Guest memory of each input.
const MEMORY: usize = 64 << 10;
/// The block device `storage`: 32 sectors of 512 bytes, zeroed for each input.
const IMAGE: u64 = 16 << 10;
/// Calls an input makes at most.
const MAX_CALLS: usize = 16;

/// Serves the calls `input` describes against fresh guest memory holding the rest of it
/// and a fresh block device, as the VM would, until one stops the VM; returns how many
/// were served without stopping it. Panics when the tender panics, or when a call changed
/// the size of the block device's image.
pub fn serve_hypercalls(input: &[u8]) -> usize {
    let Some((&count, rest)) = input.split_first() else { return 0 };
    let count = usize::from(count) % (MAX_CALLS + 1);
    let (script, contents) = rest.split_at((count * 3).min(rest.len()));
    let mut memory = GuestMemory::new(MEMORY).expect("64 KiB of guest memory maps");
    let len = contents.len().min(MEMORY);
    memory.slice_mut(0, len as u64).expect("inside guest memory").copy_from_slice(&contents[..len]);
    let image = Image::new();
    let block = BlockBackend::open("storage", &image.path(), 512, false).expect("the image opens");
    let (net, _peer) = net_device();
    let mut devices = Devices::new(runtime_args(), vec![block], vec![net]);
    let mut served_calls = 0;
    for step in script.chunks_exact(3) {
        let number = u16::from(step[0] & 0x1f);
        let offset = u64::from(u16::from_le_bytes([step[1], step[2]]));
        let at = if step[0] & 0x80 != 0 { u64::MAX - offset } else { offset };
        // The console writes to this process's standard output, which would only be noise;
        // its argument is one `Bytes`, as the entropy call's. A fault is the run loop's.
        if number == call::CONSOLE || number == call::FAULT {
            continue;
        }
        if number == call::YIELD {
            // A deadline in the past: the wait returns at once rather than sleep.
            if let Ok(mut arg) = memory.read::<abi::Yield>(at) {
                arg.deadline = 0;
                memory.write(at, &arg).expect("it was just read there");
            }
        }
        let served = Hypercalls { devices: &mut devices, memory: &mut memory }.handle(number, at);
        assert_eq!(image.len(), IMAGE, "call {number} at {at:#x} resized the block device");
        if !matches!(served, Ok(None)) {
            break; // the VM stops, on a report, a panic or a broken call
        }
        served_calls += 1;
    }
    served_calls
}

/// The arguments of a unikernel that declares `--greeting`, with its default value.
fn runtime_args() -> RuntimeArgs {
    let manifest = UnikernelManifest::from_json(
        br#"{"schema": 1, "target": "hvt", "components": [], "devices": [],
             "args": [{"name": "greeting", "type": "string", "default": "hello", "doc": "", "by": ["app"]}]}"#,
        "the fuzzer",
    )
    .expect("the fuzzer's manifest is valid");
    match RuntimeArgs::parse(&manifest, &[]) {
        Ok(Parsed::Run(args)) => args,
        _ => unreachable!("no arguments parse"),
    }
}

/// The net device `service` over one end of a socket pair that keeps frames apart, as a
/// TAP interface does, with two frames waiting on it; and the other end, which the frames
/// the guest sends reach.
fn net_device() -> (NetBackend, UnixDatagram) {
    let mut fds = [0; 2];
    let kind = libc::SOCK_SEQPACKET | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: `fds` has room for the two descriptors; the result is checked.
    let made = unsafe { libc::socketpair(libc::AF_UNIX, kind, 0, fds.as_mut_ptr()) };
    assert_eq!(made, 0, "socketpair: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just created and nothing else owns them.
    let (device, peer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let peer = UnixDatagram::from(peer);
    for len in [60, 1514] {
        peer.send(&vec![0xa5; len]).expect("room for two frames");
    }
    (NetBackend::over("service", device.into(), [2, 0, 0, 0, 0, 1], 1500), peer)
}

/// The block device's image: a memory file, so that inputs leave nothing on disk and
/// each starts from zeros.
struct Image(std::fs::File);

impl Image {
    fn new() -> Image {
        // SAFETY: the name is a NUL-terminated string; the result is checked.
        let fd = unsafe { libc::memfd_create(c"ukc-fuzz-block".as_ptr(), libc::MFD_CLOEXEC) };
        assert!(fd >= 0, "memfd_create: {}", std::io::Error::last_os_error());
        // SAFETY: `fd` was just created and nothing else owns it.
        let file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        file.set_len(IMAGE).expect("the memory file takes its size");
        Image(file)
    }

    /// A path that opens the same file.
    fn path(&self) -> String {
        use std::os::fd::AsRawFd;
        format!("/proc/self/fd/{}", self.0.as_raw_fd())
    }

    fn len(&self) -> u64 {
        self.0.metadata().expect("the memory file has metadata").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One call: its number and the address of its argument.
    fn step(number: u16, at: u16) -> [u8; 3] {
        let [low, high] = at.to_le_bytes();
        [number as u8, low, high]
    }

    /// Guest memory holding `arg` at `at`.
    fn memory_with<T: bytemuck::Pod>(at: usize, arg: &T) -> Vec<u8> {
        let mut memory = vec![0; at];
        memory.extend_from_slice(bytemuck::bytes_of(arg));
        memory
    }

    #[test]
    fn well_formed_and_damaged_inputs_are_served_or_refused() {
        let write = abi::BlockIo { index: 0, offset: 512, data: abi::Bytes { addr: 0x8000, len: 1024 }, error: 0 };
        let mut input = vec![3];
        input.extend(step(call::BLOCK_WRITE, 0x100));
        input.extend(step(call::BLOCK_READ, 0x100));
        input.extend(step(call::BLOCK_FLUSH, 0x100));
        input.extend(memory_with(0x100, &write));
        assert_eq!(serve_hypercalls(&input), 3);
        // An argument across the end of guest memory stops the VM at the first call.
        let mut across = vec![1];
        across.extend(step(call::BLOCK_WRITE, (MEMORY - 8) as u16));
        assert_eq!(serve_hypercalls(&across), 0);
        // Cut anywhere, and with every byte in turn flipped.
        for end in 0..input.len() {
            serve_hypercalls(&input[..end]);
        }
        for at in 0..input.len() {
            let mut damaged = input.clone();
            damaged[at] ^= 0xa5;
            serve_hypercalls(&damaged);
        }
    }

    #[test]
    fn the_fuzzers_seeds_are_served_whole() {
        let seeds: [(&[u8], usize); 4] = [
            (include_bytes!("../../fuzz/seeds/hypercalls/block_session"), 5),
            (include_bytes!("../../fuzz/seeds/hypercalls/entropy_args"), 3),
            // A yield with nothing to send, a batch that sends a frame and receives the
            // two waiting, the device's address.
            (include_bytes!("../../fuzz/seeds/hypercalls/yield_net"), 3),
            // A report stops the VM.
            (include_bytes!("../../fuzz/seeds/hypercalls/report"), 0),
        ];
        for (seed, served) in seeds {
            assert_eq!(serve_hypercalls(seed), served);
        }
    }

    #[test]
    fn random_inputs_never_panic_the_tender() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2_000 {
            let len = (next() % 512) as usize;
            let input: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            serve_hypercalls(&input);
        }
    }
}
