//! The hypercall handlers against a hostile guest: every address, length, index and call
//! number in guest memory is the guest's to choose, and none may make the tender read or
//! write outside guest memory, allocate without bound, panic, or misreport. Each case
//! writes a crafted argument into guest memory and serves it as the VM would.

use super::GuestError;
use super::abi::{self, call};
use super::hypercalls::Hypercalls;
use super::memory::{GuestMemory, Plain};
use ukc_host::Devices;
use ukc_host::args::RuntimeArgs;
use ukc_host::block::{BlockBackend, MAX_TRANSFER};
use ukc_host::run::Outcome;

const MIB: u64 = 1 << 20;
/// Guest memory of the tests; mapped lazily, so its size costs nothing.
const MEMORY: u64 = 64 * MIB;
/// Where the tests put argument structs, and a buffer.
const ARG: u64 = 0x10_0000;
const BUFFER: u64 = 0x20_0000;

/// A guest with `MEMORY` bytes and one 1 MiB block device, `storage`.
struct Guest {
    memory: GuestMemory,
    devices: Devices,
    _image: tempfile::NamedTempFile,
}

impl Guest {
    fn new() -> Guest {
        let image = tempfile::NamedTempFile::new().unwrap();
        image.as_file().set_len(MIB).unwrap();
        let block = BlockBackend::open("storage", image.path().to_str().unwrap(), 512, false).unwrap();
        let devices = Devices::new(RuntimeArgs::default(), vec![block], vec![]);
        Guest { memory: GuestMemory::new(MEMORY as usize).unwrap(), devices, _image: image }
    }

    /// Writes `arg` at `ARG` and serves hypercall `number` with it.
    fn call<T: Plain>(&mut self, number: u16, arg: &T) -> Result<Option<Outcome>, GuestError> {
        self.memory.write(ARG, arg).unwrap();
        self.call_at(number, ARG)
    }

    fn call_at(&mut self, number: u16, at: u64) -> Result<Option<Outcome>, GuestError> {
        Hypercalls { devices: &mut self.devices, memory: &mut self.memory }.handle(number, at)
    }
}

fn bytes(addr: u64, len: u64) -> abi::Bytes {
    abi::Bytes { addr, len }
}

/// Ranges that are not inside guest memory: past the end, straddling it, wrapping.
const OUTSIDE: [(u64, u64); 5] = [(MEMORY, 1), (MEMORY - 4, 8), (u64::MAX, 2), (BUFFER, u64::MAX), (u64::MAX - 7, 16)];

fn is_memory_error<T>(result: Result<T, GuestError>) -> bool {
    matches!(result, Err(GuestError::Memory(_)))
}

#[test]
fn every_call_refuses_an_argument_outside_guest_memory() {
    let mut guest = Guest::new();
    for number in 1..=call::NET_SEGMENTS {
        // FAULT and MEMORY are served by the run loop, before the handlers (tests.rs
        // covers them); a retired call is unknown.
        if number == call::FAULT || number == call::RETIRED_ARGUMENTS {
            continue;
        }
        for at in [MEMORY, MEMORY - 1, u64::MAX - 3, u64::MAX] {
            assert!(is_memory_error(guest.call_at(number, at)), "call {number} at {at:#x}");
        }
    }
    let retired = guest.call_at(call::RETIRED_ARGUMENTS, 0);
    assert!(matches!(retired, Err(GuestError::UnknownCall(call::RETIRED_ARGUMENTS))), "{retired:?}");
}

#[test]
fn buffers_outside_guest_memory_are_refused_whatever_the_call() {
    let mut guest = Guest::new();
    for (addr, len) in OUTSIDE {
        let range = bytes(addr, len);
        assert!(is_memory_error(guest.call(call::CONSOLE, &range)), "console {range:?}");
        // Entropy writes at most 64 KiB, whatever the length: only where that starts matters.
        if addr != BUFFER {
            assert!(is_memory_error(guest.call(call::ENTROPY, &range)), "entropy {range:?}");
        }
        let arg = abi::Arg { name: range, ..Default::default() };
        assert!(is_memory_error(guest.call(call::ARG, &arg)), "arg name {range:?}");
        let acquire = abi::Acquire { kind: abi::BLOCK, name: range, ..Default::default() };
        assert!(is_memory_error(guest.call(call::ACQUIRE, &acquire)), "acquire {range:?}");
        for number in [call::BLOCK_READ, call::BLOCK_WRITE] {
            let io = abi::BlockIo { index: 0, offset: 0, data: range, error: 0 };
            assert!(is_memory_error(guest.call(number, &io)), "block {number} {range:?}");
        }
        let net = abi::NetIo { tx: range, ..Default::default() };
        assert!(is_memory_error(guest.call(call::NET_IO, &net)), "net tx {range:?}");
        let net = abi::NetIo { rx: range, read: 1, ..Default::default() };
        assert!(is_memory_error(guest.call(call::NET_IO, &net)), "net rx {range:?}");
        let report = abi::Report { outcome: abi::outcome::code::FAILED, message: range, ..Default::default() };
        assert!(is_memory_error(guest.call(call::REPORT, &report)), "report {range:?}");
        assert!(is_memory_error(guest.call(call::PANIC, &range)), "panic {range:?}");
    }
}

/// Names and messages as long as guest memory allows: read only in part, so that a call
/// costs no more than a normal one, and answered as a short one would be.
#[test]
fn huge_names_and_messages_are_read_only_in_part() {
    let mut guest = Guest::new();
    let huge = bytes(BUFFER, 48 * MIB);
    guest.memory.slice_mut(BUFFER, 48 * MIB).unwrap().fill(b'x');
    let acquire = abi::Acquire { kind: abi::BLOCK, name: huge, ..Default::default() };
    guest.call(call::ACQUIRE, &acquire).unwrap();
    let answered: abi::Acquire = guest.memory.read(ARG).unwrap();
    assert_eq!(answered.result, abi::REFUSED);
    assert!(answered.len <= abi::SCRATCH_LEN, "the refusal fits the scratch area");
    let report = abi::Report { outcome: abi::outcome::code::FAILED, message: huge, ..Default::default() };
    let Ok(Some(Outcome::Failed(message))) = guest.call(call::REPORT, &report) else {
        panic!("a report of a failure");
    };
    assert!(
        message.len() < 70 << 10 && message.ends_with(&format!("({} bytes in all)", 48 * MIB)),
        "{}",
        message.len()
    );
}

#[test]
fn unknown_calls_devices_kinds_and_outcomes_are_refused() {
    let mut guest = Guest::new();
    for number in [0, call::NET_SEGMENTS + 1, 99, 0x7fff, u16::MAX] {
        assert!(matches!(guest.call_at(number, ARG), Err(GuestError::UnknownCall(n)) if n == number));
    }
    for index in [1, 64, u64::MAX] {
        let info = abi::BlockInfo { index, ..Default::default() };
        assert!(matches!(guest.call(call::BLOCK_INFO, &info), Err(GuestError::NoDevice("block", i)) if i == index));
        let io = abi::BlockIo { index, data: bytes(BUFFER, 512), ..Default::default() };
        assert!(matches!(guest.call(call::BLOCK_READ, &io), Err(GuestError::NoDevice("block", _))));
        let net = abi::NetInfo { index, ..Default::default() };
        assert!(matches!(guest.call(call::NET_INFO, &net), Err(GuestError::NoDevice("net", _))));
        let segments = abi::NetSegments { index, enabled: 7 };
        assert!(matches!(guest.call(call::NET_SEGMENTS, &segments), Err(GuestError::NoDevice("net", _))));
    }
    let acquire = abi::Acquire { kind: 7, name: bytes(BUFFER, 4), ..Default::default() };
    assert!(matches!(guest.call(call::ACQUIRE, &acquire), Err(GuestError::Batch(_))));
    // Unknown outcomes; a time-out or a kernel failure, which only the tender decides; an
    // exit status that is not a byte (it would end the process with status 0).
    for (outcome, status) in [(99, 0), (8, 0), (9, 0), (abi::outcome::code::EXITED, 256)] {
        let report = abi::Report { outcome, status, ..Default::default() };
        assert!(matches!(guest.call(call::REPORT, &report), Err(GuestError::Batch(_))), "{outcome} {status}");
    }
    // A frame for a device that is not attached, a truncated header, a frame past the end.
    let mut batch = [0u8; 32];
    batch[..8].copy_from_slice(&[5, 0, 0, 0, 4, 0, 0, 0]);
    guest.memory.slice_mut(BUFFER, 32).unwrap().copy_from_slice(&batch);
    for (len, frame_len) in [(16, 4), (5, 4), (16, 100)] {
        guest.memory.slice_mut(BUFFER + 4, 4).unwrap().copy_from_slice(&(frame_len as u32).to_le_bytes());
        let net = abi::NetIo { tx: bytes(BUFFER, len), ..Default::default() };
        assert!(matches!(guest.call(call::NET_IO, &net), Err(GuestError::Batch(_))), "{len} {frame_len}");
    }
}

#[test]
fn block_transfers_are_bounded_and_checked_before_any_io() {
    let mut guest = Guest::new();
    let transfer = |guest: &mut Guest, number, offset, len| {
        let io = abi::BlockIo { index: 0, offset, data: bytes(BUFFER, len), error: 0 };
        assert!(guest.call(number, &io).unwrap().is_none());
        guest.memory.read::<abi::BlockIo>(ARG).unwrap().error
    };
    for number in [call::BLOCK_READ, call::BLOCK_WRITE] {
        // Past the device's end, wrapping, longer than the device model allows, unaligned.
        for (offset, len) in [(MIB, 512), (u64::MAX - 511, 1024), (0, MAX_TRANSFER + 512), (1, 512), (0, 0)] {
            assert_eq!(transfer(&mut guest, number, offset, len), abi::BLOCK_INVALID_RANGE, "{number} {offset} {len}");
        }
        assert_eq!(transfer(&mut guest, number, MIB - 512, 512), 0);
    }
}

#[test]
fn buffers_that_overlap_their_own_argument_are_served_in_order() {
    let mut guest = Guest::new();
    // Write a pattern, then read it back into memory that holds the argument itself: the
    // data lands first, then the tender's answer over it, as the ABI says.
    guest.memory.slice_mut(BUFFER, 512).unwrap().fill(0xab);
    let write = abi::BlockIo { index: 0, offset: 0, data: bytes(BUFFER, 512), error: 0 };
    assert!(guest.call(call::BLOCK_WRITE, &write).unwrap().is_none());
    let read = abi::BlockIo { index: 0, offset: 0, data: bytes(ARG, 512), error: 0 };
    assert!(guest.call(call::BLOCK_READ, &read).unwrap().is_none());
    assert_eq!(guest.memory.read::<abi::BlockIo>(ARG).unwrap().error, 0, "the answer is written last");
    let size = std::mem::size_of::<abi::BlockIo>() as u64;
    assert!(guest.memory.slice(ARG + size, 512 - size).unwrap().iter().all(|&b| b == 0xab));
    // Entropy over its own argument, and a transmit batch that is also the receive room.
    let entropy = bytes(ARG, 16);
    assert!(guest.call(call::ENTROPY, &entropy).unwrap().is_none());
    assert_eq!(guest.memory.read::<abi::Bytes>(ARG).unwrap(), bytes(ARG, 16), "the answer is written last");
    let net = abi::NetIo { tx: bytes(BUFFER, 0), rx: bytes(BUFFER, 4096), read: u64::MAX, ..Default::default() };
    assert!(guest.call(call::NET_IO, &net).unwrap().is_none());
    assert_eq!(guest.memory.read::<abi::NetIo>(ARG).unwrap().rx_len, 0, "no device, no frames");
}

#[test]
fn lengths_the_guest_claims_never_size_an_allocation() {
    let mut guest = Guest::new();
    // An entropy request of 4 GiB gets at most the device model's 64 KiB.
    let entropy = bytes(BUFFER, u64::MAX);
    assert!(guest.call(call::ENTROPY, &entropy).unwrap().is_none());
    assert_eq!(guest.memory.read::<abi::Bytes>(ARG).unwrap().len, 65536);
    // An argument buffer larger than guest memory: only the answer is written (here a
    // refusal, with its message in the scratch area, for an undeclared name).
    guest.memory.slice_mut(BUFFER, 4).unwrap().copy_from_slice(b"name");
    let arg = abi::Arg { name: bytes(BUFFER, 4), value: bytes(BUFFER + 64, u64::MAX), ..Default::default() };
    assert!(guest.call(call::ARG, &arg).unwrap().is_none());
    let answer = guest.memory.read::<abi::Arg>(ARG).unwrap();
    assert_eq!(answer.result, abi::REFUSED);
    let message = guest.memory.slice(abi::SCRATCH, answer.len).unwrap();
    assert!(String::from_utf8_lossy(message).contains("--name, which no component declares"));
}

/// Random arguments for every call the handlers serve, many times over: each 8-byte field
/// is a small number, an address inside guest memory, one near or past its end, or any
/// 64 bits. Whatever the guest writes, a call is served or refused with a `GuestError`;
/// it never panics, and guest memory stays the only memory touched (the accessors check).
/// `CONSOLE` (which would print the noise), `YIELD` (which would wait for the deadline)
/// and `FAULT` (served before the handlers) have their own tests.
#[test]
fn random_arguments_never_panic_the_tender() {
    let mut guest = Guest::new();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let calls: Vec<u16> = (0..=20).filter(|n| ![call::CONSOLE, call::YIELD, call::FAULT].contains(n)).collect();
    let (mut served, mut refused) = (0, 0);
    for _ in 0..20_000 {
        let number = calls[(next() % calls.len() as u64) as usize];
        let fields: Vec<u64> = (0..16)
            .map(|_| match next() % 5 {
                0 => next() % 4096,
                1 => BUFFER + next() % MIB,
                2 => MEMORY - next() % 64,
                3 => next() % 8,
                _ => next(),
            })
            .collect();
        guest.memory.write(ARG, &<[u64; 16]>::try_from(fields).unwrap()).unwrap();
        match guest.call_at(number, ARG) {
            Ok(_) => served += 1,
            Err(_) => refused += 1,
        }
    }
    assert!(served > 1000 && refused > 1000, "both outcomes were exercised: {served} served, {refused} refused");
}
