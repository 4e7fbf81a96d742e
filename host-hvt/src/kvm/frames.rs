//! Net frames in batches (see `abi::NetIo`): every frame the guest queued goes out in
//! one exit, and one exit brings in every frame waiting on the devices it reads, through
//! the in-process host's own device code.

use super::GuestError;
use super::abi::{self, frames};
use super::memory::GuestMemory;
use ukc_host::net::NetBackend;

/// Sends every frame in the batch `tx` on its device. A frame the device refuses is
/// dropped, and the device code says why on standard error.
pub fn send(memory: &GuestMemory, nets: &[NetBackend], tx: abi::Bytes) -> Result<(), GuestError> {
    for record in frames::records(memory.slice(tx.addr, tx.len)?) {
        let record = record.map_err(|bad| match bad {
            frames::BadRecord::TruncatedHeader => GuestError::Batch("a truncated frame header"),
            frames::BadRecord::PastTheEnd => GuestError::Batch("a frame past the batch's end"),
        })?;
        let net = nets.get(usize::from(record.device));
        let net = net.ok_or(GuestError::Batch("a frame for a device that is not attached"))?;
        // As in process mode, a refused frame is the guest's to see; here it is only
        // reported, because the guest was already told its write succeeded.
        let _ = match record.segment {
            0 => net.write(record.frame),
            segment => net.write_segments(record.frame, u32::from(segment)),
        };
    }
    Ok(())
}

/// Reads waiting frames from the devices in the mask `read` into `rx`, each device until
/// it has none left or `rx` has no room for another frame. Returns the bytes used and the
/// mask of devices read until none was left.
pub fn receive(
    memory: &mut GuestMemory,
    nets: &[NetBackend],
    rx: abi::Bytes,
    read: u64,
) -> Result<(u64, u64), GuestError> {
    let buffer = memory.slice_mut(rx.addr, rx.len)?;
    let mut at = 0;
    let mut drained = 0;
    for (index, net) in nets.iter().enumerate().filter(|(i, _)| read & 1 << i != 0) {
        while at < buffer.len() {
            // Straight from the device into the batch while the largest frame fits.
            let device = index as u16;
            match frames::put_in_place(buffer, at, device, net.largest_frame(), |room| net.read_into(room)) {
                Some(Ok(next)) => {
                    at = next;
                    continue;
                }
                // `again`, or an error the device code reported: nothing more to take.
                Some(Err(_)) => {
                    drained |= 1 << index;
                    break;
                }
                None => {}
            }
            // Near the end of the batch, a frame read first may still fit.
            let Ok(frame) = net.read() else {
                drained |= 1 << index;
                break;
            };
            let record = frames::Record { device, segment: 0, frame: &frame };
            let Some(next) = frames::put(buffer, at, record) else {
                if at == 0 {
                    // Not even an empty buffer takes it: held, it would block the device.
                    eprintln!(
                        "ukc-hvt: net device '{}': dropped a frame of {} bytes, larger than the guest's receive room",
                        net.name(),
                        frame.len()
                    );
                    continue;
                }
                // No room left for this one: it is the first the next exit takes.
                net.unread(frame);
                break;
            };
            at = next;
        }
    }
    Ok((at as u64, drained))
}
