//! Net devices, with frames batched both ways: frames the unikernel writes wait in a
//! send batch that goes out with the next exit (at the latest its next `yield`), and one
//! exit brings in every frame waiting on a device, which `read` then hands out one by one,
//! lowered into the unikernel's memory straight from the receive batch.

use crate::abi;
use crate::abi::frames;
use crate::block::acquire;
use crate::hypercall::call;
use crate::world::ukc::net::net::{Error, Host, HostDevice, Info};
use crate::world::{Kernel, in_place};
use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, WasmList};

/// Defines `read`, `write` and `write-segments` over bindgen's (see
/// `world::add_to_linker`): a frame read is lowered into the unikernel's memory from where
/// it lies in the kernel, one copied to send goes into the send batch straight from the
/// unikernel's memory. Bindgen's would copy each frame once more, into a new `Vec`.
pub fn add_in_place(linker: &mut Linker<Kernel>) -> wasmtime::Result<()> {
    let mut net = linker.instance("ukc:net/net@0.1.1")?;
    net.func_wrap(
        "[method]device.read",
        |mut store: StoreContextMut<'_, Kernel>, (device,): (Resource<NetDevice>,)| {
            let kernel = store.data_mut();
            let index = kernel.net_index(&device)?;
            let frame = kernel.nets.read(index).map(|frame| {
                let (at, len) = (frame.as_ptr(), frame.len());
                // SAFETY: the frame lies in the receive batch or in the frame last handed out,
                // neither of which changes before the next `read` or exit. Wasmtime lowers the
                // result as soon as this returns, before the unikernel runs again, and the one
                // guest code that runs meanwhile, the unikernel's `realloc`, may not call the
                // kernel (the component model forbids it, and wasmtime traps the attempt).
                unsafe { core::slice::from_raw_parts::<'static, u8>(at, len) }
            });
            Ok((frame,))
        },
    )?;
    net.func_wrap(
        "[method]device.write",
        |mut store: StoreContextMut<'_, Kernel>, (device, frame): (Resource<NetDevice>, WasmList<u8>)| {
            let (kernel, frame) = in_place(&mut store, &frame);
            let index = kernel.net_index(&device)?;
            Ok((kernel.nets.write(index, frame, None),))
        },
    )?;
    net.func_wrap(
        "[method]device.write-segments",
        |mut store: StoreContextMut<'_, Kernel>, (device, frame, segment): (Resource<NetDevice>, WasmList<u8>, u32)| {
            let (kernel, frame) = in_place(&mut store, &frame);
            let index = kernel.net_index(&device)?;
            Ok((kernel.nets.write(index, frame, Some(segment)),))
        },
    )
}

/// Room for frames to send before a batch must go out: a full queue costs an exit, and
/// at 128 KiB a website answering 32 clients 64 KiB each filled it about once per response
/// (1.0 exits per request; 1 MiB served 1.3-1.5x the requests/s in KVM).
const TX_CAPACITY: usize = 1 << 20;
/// Room for received frames in one exit (at least one of the largest segments, which
/// a device handing over merged TCP segments may deliver).
const RX_CAPACITY: usize = 512 << 10;

/// The handle a unikernel holds: the device's index in the tender.
pub struct NetDevice {
    index: usize,
}

/// The net devices' state in the kernel.
pub struct Nets {
    names: Vec<String>,
    info: Vec<Option<abi::NetInfo>>,
    queues: Vec<VecDeque<Received>>,
    /// Devices the tender read until none was left, since the last exit that read them.
    drained: u64,
    tx: Vec<u8>,
    rx: Vec<u8>,
    /// The frame `read` handed out last, when it had to be kept out of the receive batch.
    handed_out: Vec<u8>,
}

/// A received frame waiting for `read`.
enum Received {
    /// Where it lies in the receive batch.
    InBatch(Range<usize>),
    /// A copy, made before an exit that reads devices overwrote the batch.
    Kept(Vec<u8>),
}

impl Nets {
    /// The devices named in `names` (one per line, in the tender's index order).
    pub fn new(names: &str) -> Nets {
        let names: Vec<String> = names.lines().map(ToString::to_string).collect();
        assert!(names.len() <= abi::MAX_NETS, "the tender attached more than {} net devices", abi::MAX_NETS);
        // Only a unikernel with net devices pays for the receive buffer.
        let receive = if names.is_empty() { 0 } else { RX_CAPACITY };
        Nets {
            info: vec![None; names.len()],
            queues: names.iter().map(|_| VecDeque::new()).collect(),
            names,
            drained: 0,
            tx: Vec::new(),
            rx: vec![0; receive],
            handed_out: Vec::new(),
        }
    }

    /// The mask of every device.
    pub fn all(&self) -> u64 {
        if self.names.len() == abi::MAX_NETS { u64::MAX } else { (1 << self.names.len()) - 1 }
    }

    /// The mask of devices with received frames waiting in the kernel.
    pub fn queued(&self) -> u64 {
        self.queues.iter().enumerate().filter(|(_, q)| !q.is_empty()).fold(0, |mask, (i, _)| mask | 1 << i)
    }

    /// Whether frames wait to be sent.
    pub fn sending(&self) -> bool {
        !self.tx.is_empty()
    }

    /// The names of the devices in `mask`, in index order.
    pub fn names(&self, mask: u64) -> Vec<String> {
        self.names.iter().enumerate().filter(|(i, _)| mask & 1 << i != 0).map(|(_, n)| n.clone()).collect()
    }

    /// The batch for an exit that reads the devices in `read`. The tender writes the
    /// receive batch anew, so frames still waiting in it are copied out first: a device
    /// read while another still holds frames, or a `yield` that sends while frames wait.
    pub fn io(&mut self, read: u64) -> abi::NetIo {
        if read != 0 {
            for frame in self.queues.iter_mut().flatten() {
                if let Received::InBatch(range) = frame {
                    *frame = Received::Kept(self.rx[range.clone()].to_vec());
                }
            }
        }
        abi::NetIo {
            tx: crate::hypercall::bytes(&self.tx),
            rx: abi::Bytes { addr: self.rx.as_mut_ptr() as u64, len: self.rx.len() as u64 },
            read,
            rx_len: 0,
            drained: 0,
        }
    }

    /// Takes in what an exit that read the devices in `io.read` did.
    pub fn complete(&mut self, io: &abi::NetIo) {
        self.tx.clear();
        self.drained = (self.drained & !io.read) | (io.drained & io.read);
        let end = (io.rx_len as usize).min(self.rx.len());
        let base = self.rx.as_ptr() as usize;
        for record in frames::records(&self.rx[..end]) {
            let record = record.expect("the tender writes whole frame records");
            let start = record.frame.as_ptr() as usize - base;
            let queue = self.queues.get_mut(usize::from(record.device));
            let queue = queue.expect("the tender's frame names an attached device");
            queue.push_back(Received::InBatch(start..start + record.frame.len()));
        }
    }

    /// Sends the batch and reads the devices in `read`, in one exit.
    fn exchange(&mut self, read: u64) {
        let mut io = self.io(read);
        call(abi::call::NET_IO, &mut io);
        self.complete(&io);
    }

    /// Sends the frames waiting in the batch, if any (before the unikernel stops).
    pub fn flush(&mut self) {
        if self.sending() {
            self.exchange(0);
        }
    }

    /// The next frame received on device `index`, valid until the next `read` or exit.
    fn read(&mut self, index: usize) -> Result<&[u8], Error> {
        if self.queues[index].is_empty() && self.drained & 1 << index == 0 {
            self.exchange(1 << index);
        }
        match self.queues[index].pop_front().ok_or(Error::Again)? {
            Received::InBatch(range) => Ok(&self.rx[range]),
            Received::Kept(frame) => {
                self.handed_out = frame;
                Ok(&self.handed_out)
            }
        }
    }

    /// Queues `frame` to send as it is, or cut into segments of `segment` bytes by the
    /// tender; checked here as the tender will, so that the unikernel hears of a frame
    /// it refuses.
    fn write(&mut self, index: usize, frame: &[u8], segment: Option<u32>) -> Result<(), Error> {
        let mtu = self.info[index].map_or(0, |info| info.mtu as usize);
        let valid = match segment {
            None => frame.len() >= abi::net_frame::ETHERNET_HEADER && frame.len() <= abi::net_frame::largest(mtu),
            Some(segment) => abi::tso::check(frame, segment as usize, mtu).is_some(),
        };
        // 0 in a record means "as it is"; `check` refused a segment of 0 bytes above.
        let segment = u16::try_from(segment.unwrap_or(0));
        let (true, Ok(segment)) = (valid, segment) else { return Err(Error::InvalidFrame) };
        let end = abi::next_frame(self.tx.len() as u64, frame.len() as u64) as usize;
        if end > TX_CAPACITY {
            self.exchange(0);
        }
        frames::push(&mut self.tx, frames::Record { device: index as u16, segment, frame });
        Ok(())
    }

    /// Asks the tender to hand over merged TCP segments from the device; whether it will.
    fn receive_segments(&mut self, index: usize) -> bool {
        let mut arg = abi::NetSegments { index: index as u64, enabled: 0 };
        call(abi::call::NET_SEGMENTS, &mut arg);
        arg.enabled == 1
    }

    fn info(&mut self, index: usize) -> abi::NetInfo {
        *self.info[index].get_or_insert_with(|| {
            let mut arg = abi::NetInfo { index: index as u64, ..Default::default() };
            call(abi::call::NET_INFO, &mut arg);
            arg
        })
    }
}

impl Kernel {
    fn net_index(&self, device: &Resource<NetDevice>) -> wasmtime::Result<usize> {
        Ok(self.table.get(device)?.index)
    }
}

impl Host for Kernel {
    fn acquire(&mut self, name: String) -> wasmtime::Result<Result<Resource<NetDevice>, Error>> {
        let index = acquire(abi::NET, &name)? as usize;
        if index >= self.nets.names.len() {
            return Err(wasmtime::Error::msg("the tender gave a net device index past its device list"));
        }
        // The MTU is needed to check frames as the tender would, before they are sent.
        self.nets.info(index);
        Ok(Ok(self.table.push(NetDevice { index })?))
    }
}

impl HostDevice for Kernel {
    fn info(&mut self, device: Resource<NetDevice>) -> wasmtime::Result<Info> {
        let info = self.nets.info(self.net_index(&device)?);
        let m = info.mac;
        Ok(Info { mac: (m[0], m[1], m[2], m[3], m[4], m[5]), mtu: info.mtu as u32 })
    }

    /// Not what unikernels call: [`add_in_place`] replaces it (the trait requires it).
    fn read(&mut self, device: Resource<NetDevice>) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        let index = self.net_index(&device)?;
        Ok(self.nets.read(index).map(<[u8]>::to_vec))
    }

    /// Not what unikernels call: [`add_in_place`] replaces it (the trait requires it).
    fn write(&mut self, device: Resource<NetDevice>, frame: Vec<u8>) -> wasmtime::Result<Result<(), Error>> {
        let index = self.net_index(&device)?;
        Ok(self.nets.write(index, &frame, None))
    }

    /// Not what unikernels call: [`add_in_place`] replaces it (the trait requires it).
    fn write_segments(
        &mut self,
        device: Resource<NetDevice>,
        frame: Vec<u8>,
        segment: u32,
    ) -> wasmtime::Result<Result<(), Error>> {
        let index = self.net_index(&device)?;
        Ok(self.nets.write(index, &frame, Some(segment)))
    }

    fn receive_segments(&mut self, device: Resource<NetDevice>) -> wasmtime::Result<bool> {
        let index = self.net_index(&device)?;
        Ok(self.nets.receive_segments(index))
    }

    fn drop(&mut self, device: Resource<NetDevice>) -> wasmtime::Result<()> {
        self.table.delete(device)?;
        Ok(())
    }
}
