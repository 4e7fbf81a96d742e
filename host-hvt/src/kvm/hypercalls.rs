//! Serving the guest kernel's hypercalls with the in-process host's device code: the
//! same `Devices`, reached by index instead of through wasmtime resources.

use super::abi::{self, call};
use super::memory::{GuestMemory, Plain};
use super::{GuestError, frames};
use ukc_host::Devices;
use ukc_host::bindings::ukc::args::args;
use ukc_host::bindings::ukc::block::block::Error as BlockError;
use ukc_host::bindings::ukc::clock::{monotonic, wall};
use ukc_host::bindings::ukc::console::console;
use ukc_host::bindings::ukc::entropy::entropy;
use ukc_host::run::Outcome;

/// The tender's side of the hypercalls: the devices and the guest's memory.
pub struct Hypercalls<'a> {
    pub devices: &'a mut Devices,
    pub memory: &'a mut GuestMemory,
}

/// Reads the argument of type `T` at `at`, lets `serve` update it, and writes it back.
fn serve<T: Plain>(
    memory: &mut GuestMemory,
    at: u64,
    serve: impl FnOnce(&mut GuestMemory, &mut T) -> Result<(), GuestError>,
) -> Result<(), GuestError> {
    let mut arg: T = memory.read(at)?;
    serve(memory, &mut arg)?;
    memory.write(at, &arg)?;
    Ok(())
}

impl Hypercalls<'_> {
    /// Serves hypercall `number` with its argument at `at`; `Some` when the VM stops.
    pub fn handle(&mut self, number: u16, at: u64) -> Result<Option<Outcome>, GuestError> {
        let devices = &mut *self.devices;
        match number {
            call::CONSOLE => {
                let data: abi::Bytes = self.memory.read(at)?;
                let _ = console::Host::write(devices, self.memory.slice(data.addr, data.len)?.to_vec());
            }
            call::ENTROPY => serve(self.memory, at, |memory, arg| entropy(devices, memory, arg))?,
            call::ARG => serve(self.memory, at, |memory, arg| argument(devices, memory, arg))?,
            call::ACQUIRE => serve(self.memory, at, |memory, arg| acquire(devices, memory, arg))?,
            call::BLOCK_INFO => serve(self.memory, at, |_, arg| block_info(devices, arg))?,
            call::BLOCK_READ | call::BLOCK_WRITE | call::BLOCK_FLUSH => {
                serve(self.memory, at, |memory, arg| block_io(devices, memory, number, arg))?;
            }
            call::NET_INFO => serve(self.memory, at, |_, arg| net_info(devices, arg))?,
            call::NET_SEGMENTS => serve(self.memory, at, |_, arg| net_segments(devices, arg))?,
            call::NET_IO => serve(self.memory, at, |memory, io: &mut abi::NetIo| net_io(devices, memory, io))?,
            call::YIELD => {
                let mut arg: abi::Yield = self.memory.read(at)?;
                if let Some(stop) = yield_(devices, self.memory, &mut arg)? {
                    return Ok(Some(stop));
                }
                self.memory.write(at, &arg)?;
            }
            call::REPORT => return Ok(Some(report(self.memory, self.memory.read(at)?)?)),
            call::PANIC => {
                let message = text(self.memory, self.memory.read(at)?, MAX_MESSAGE)?;
                // The kernel allocates for the unikernel; running out is a matter of --mem.
                let hint = if message.contains("memory allocation") { "; give it more memory with --mem" } else { "" };
                return Ok(Some(Outcome::KernelFailed(format!("the guest kernel panicked: {message}{hint}"))));
            }
            other => return Err(GuestError::UnknownCall(other)),
        }
        Ok(None)
    }
}

/// Writes a refusal's `message` to the scratch area; returns its length.
fn refuse(memory: &mut GuestMemory, message: &str) -> Result<u64, GuestError> {
    let text = &message.as_bytes()[..message.len().min(abi::SCRATCH_LEN as usize)];
    memory.slice_mut(abi::SCRATCH, text.len() as u64)?.copy_from_slice(text);
    Ok(text.len() as u64)
}

/// Longest name the tender reads: device and argument names are at most 63 bytes, so a
/// longer one matches nothing whatever follows, and its first bytes say enough in an error.
const MAX_NAME: u64 = 256;
/// Longest message the tender reads from a report or a panic; the rest is left out, with
/// a note, so that a guest cannot make the tender copy and print its whole memory.
const MAX_MESSAGE: u64 = 64 << 10;

/// The text at `bytes`, of which at most `max` bytes are read (the range must still lie
/// in guest memory), with a note of how long it was when it is cut.
fn text(memory: &GuestMemory, bytes: abi::Bytes, max: u64) -> Result<String, GuestError> {
    let whole = memory.slice(bytes.addr, bytes.len)?;
    let mut text = String::from_utf8_lossy(&whole[..bytes.len.min(max) as usize]).into_owned();
    if bytes.len > max {
        text.push_str(&format!("... ({} bytes in all)", bytes.len));
    }
    Ok(text)
}

fn entropy(devices: &mut Devices, memory: &mut GuestMemory, arg: &mut abi::Bytes) -> Result<(), GuestError> {
    let random = entropy::Host::fill(devices, arg.len.min(u64::from(u32::MAX)) as u32)
        .map_err(|e| GuestError::Host(format!("{e:#}")))?;
    memory.slice_mut(arg.addr, random.len() as u64)?.copy_from_slice(&random);
    arg.len = random.len() as u64;
    Ok(())
}

fn argument(devices: &mut Devices, memory: &mut GuestMemory, arg: &mut abi::Arg) -> Result<(), GuestError> {
    match args::Host::get(devices, text(memory, arg.name, MAX_NAME)?) {
        Ok(None) => arg.result = abi::ARG_NONE,
        Ok(Some(value)) => {
            (arg.result, arg.len) = (abi::ARG_SOME, value.len() as u64);
            if arg.len <= arg.value.len {
                memory.slice_mut(arg.value.addr, arg.len)?.copy_from_slice(value.as_bytes());
            }
        }
        Err(e) => (arg.result, arg.len) = (abi::REFUSED, refuse(memory, &e.to_string())?),
    }
    Ok(())
}

fn acquire(devices: &mut Devices, memory: &mut GuestMemory, arg: &mut abi::Acquire) -> Result<(), GuestError> {
    let name = text(memory, arg.name, MAX_NAME)?;
    let index = match arg.kind {
        abi::BLOCK => devices.block_index(&name),
        abi::NET => devices.net_index(&name),
        _ => return Err(GuestError::Batch("an acquire of an unknown device kind")),
    };
    match index {
        Ok(index) => (arg.result, arg.index) = (0, index as u64),
        Err(e) => (arg.result, arg.len) = (abi::REFUSED, refuse(memory, &e.to_string())?),
    }
    Ok(())
}

fn block(devices: &Devices, index: u64) -> Result<&ukc_host::block::BlockBackend, GuestError> {
    devices.blocks().get(index as usize).ok_or(GuestError::NoDevice("block", index))
}

fn block_info(devices: &Devices, arg: &mut abi::BlockInfo) -> Result<(), GuestError> {
    let device = block(devices, arg.index)?;
    let info = device.info();
    (arg.capacity, arg.sector_size) = (info.capacity, u64::from(info.sector_size));
    arg.writable = u64::from(device.writable());
    Ok(())
}

fn net_info(devices: &Devices, arg: &mut abi::NetInfo) -> Result<(), GuestError> {
    let net = devices.nets().get(arg.index as usize).ok_or(GuestError::NoDevice("net", arg.index))?;
    let info = net.info();
    let m = info.mac;
    (arg.mac, arg.mtu) = ([m.0, m.1, m.2, m.3, m.4, m.5, 0, 0], u64::from(info.mtu));
    Ok(())
}

fn net_segments(devices: &Devices, arg: &mut abi::NetSegments) -> Result<(), GuestError> {
    let net = devices.nets().get(arg.index as usize).ok_or(GuestError::NoDevice("net", arg.index))?;
    arg.enabled = u64::from(net.receive_segments());
    Ok(())
}

fn block_io(
    devices: &Devices,
    memory: &mut GuestMemory,
    number: u16,
    arg: &mut abi::BlockIo,
) -> Result<(), GuestError> {
    let device = block(devices, arg.index)?;
    let result = match number {
        call::BLOCK_READ => device.read_into(arg.offset, memory.slice_mut(arg.data.addr, arg.data.len)?),
        call::BLOCK_WRITE => device.write(arg.offset, memory.slice(arg.data.addr, arg.data.len)?),
        _ => device.flush(),
    };
    arg.error = match result {
        Ok(()) => 0,
        Err(BlockError::InvalidRange) => abi::BLOCK_INVALID_RANGE,
        Err(BlockError::Denied) => abi::BLOCK_DENIED,
        Err(BlockError::NotFound) => abi::BLOCK_NOT_FOUND,
        Err(BlockError::Io) => abi::BLOCK_IO,
    };
    Ok(())
}

fn net_io(devices: &Devices, memory: &mut GuestMemory, io: &mut abi::NetIo) -> Result<(), GuestError> {
    frames::send(memory, devices.nets(), io.tx)?;
    (io.rx_len, io.drained) = frames::receive(memory, devices.nets(), io.rx, io.read)?;
    Ok(())
}

/// `yield`: send, wait as the in-process host waits, receive from the devices with input.
fn yield_(
    devices: &mut Devices,
    memory: &mut GuestMemory,
    arg: &mut abi::Yield,
) -> Result<Option<Outcome>, GuestError> {
    frames::send(memory, devices.nets(), arg.io.tx)?;
    let ready = match devices.wait(arg.deadline) {
        Ok(names) => names,
        Err(timed_out) => return Ok(Some(Outcome::TimedOut(timed_out.0))),
    };
    let nets = devices.nets();
    let ready =
        nets.iter().enumerate().filter(|(_, n)| ready.iter().any(|r| r == n.name())).fold(0, |m, (i, _)| m | 1 << i);
    let all = if nets.len() >= abi::MAX_NETS { u64::MAX } else { (1u64 << nets.len()) - 1 };
    let (rx_len, drained) = frames::receive(memory, nets, arg.io.rx, arg.io.read & ready)?;
    // A device without input when the wait ended has nothing waiting: drained too.
    (arg.io.rx_len, arg.io.drained, arg.ready) = (rx_len, drained | (all & !ready), ready);
    arg.clock = clock(devices, 0);
    Ok(None)
}

/// The host's clocks now, for the guest to keep time from.
pub fn clock(devices: &mut Devices, tsc_khz: u64) -> abi::Clock {
    abi::Clock {
        tsc_khz,
        monotonic_ns: monotonic::Host::now(devices).unwrap_or_default(),
        wall_ns: wall::Host::now(devices).unwrap_or_default(),
    }
}

/// The outcome a report describes.
fn report(memory: &GuestMemory, report: abi::Report) -> Result<Outcome, GuestError> {
    let component = text(memory, report.component, MAX_NAME)?;
    let message = text(memory, report.message, MAX_MESSAGE)?;
    Outcome::from_report(report.outcome, report.status, component, message)
        .ok_or(GuestError::Batch("a report of an unknown outcome"))
}
