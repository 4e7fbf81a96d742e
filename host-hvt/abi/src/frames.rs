//! The frame records of a [`NetIo`](crate::NetIo) buffer, written and read the same way
//! on both sides: a [`FrameHeader`] (device index, segment size, frame length,
//! little-endian), the frame, and padding to the next multiple of
//! [`FRAME_ALIGN`](crate::FRAME_ALIGN).

use crate::{FRAME_ALIGN, FrameHeader, next_frame};
use alloc::vec::Vec;

const HEADER: usize = core::mem::size_of::<FrameHeader>();

/// One record: a frame, the device it goes to or came from, and its segment size (0: the
/// frame is sent as it is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// The net device's index.
    pub device: u16,
    /// See [`FrameHeader::segment`].
    pub segment: u16,
    /// The frame.
    pub frame: &'a [u8],
}

impl Record<'_> {
    fn header(&self) -> [u8; HEADER] {
        let mut header = [0; HEADER];
        header[..2].copy_from_slice(&self.device.to_le_bytes());
        header[2..4].copy_from_slice(&self.segment.to_le_bytes());
        header[4..].copy_from_slice(&(self.frame.len() as u32).to_le_bytes());
        header
    }
}

/// Appends `record` to `batch`.
pub fn push(batch: &mut Vec<u8>, record: Record<'_>) {
    let start = batch.len();
    batch.extend_from_slice(&record.header());
    batch.extend_from_slice(record.frame);
    batch.resize(next_frame(start as u64, record.frame.len() as u64) as usize, 0);
}

/// Writes `record` at `at` in `buffer`; the offset of the next record, or `None` (and
/// nothing written) when it does not fit.
pub fn put(buffer: &mut [u8], at: usize, record: Record<'_>) -> Option<usize> {
    let len = record.frame.len();
    let next = next_frame(at as u64, len as u64) as usize;
    let bytes = buffer.get_mut(at..next)?;
    bytes[..HEADER].copy_from_slice(&record.header());
    bytes[HEADER..HEADER + len].copy_from_slice(record.frame);
    bytes[HEADER + len..].fill(0);
    Some(next)
}

/// Writes a record at `at` in `buffer` whose frame `fill` writes in place: `fill` gets
/// all the room a frame has there (none past the last aligned record end) and returns the
/// frame's length. Returns `fill`'s error, or the offset of the next record; `None` (and
/// `fill` not called) when not even `min_room` bytes of frame fit.
pub fn put_in_place<E>(
    buffer: &mut [u8],
    at: usize,
    device: u16,
    min_room: usize,
    fill: impl FnOnce(&mut [u8]) -> Result<usize, E>,
) -> Option<Result<usize, E>> {
    let end = buffer.len() / FRAME_ALIGN as usize * FRAME_ALIGN as usize;
    let room = end.checked_sub(at)?.checked_sub(HEADER)?;
    if room < min_room {
        return None;
    }
    let len = match fill(&mut buffer[at + HEADER..end]) {
        Ok(len) => len.min(room),
        Err(e) => return Some(Err(e)),
    };
    let header = Record { device, segment: 0, frame: &buffer[at + HEADER..at + HEADER + len] }.header();
    buffer[at..at + HEADER].copy_from_slice(&header);
    let next = next_frame(at as u64, len as u64) as usize;
    buffer[at + HEADER + len..next].fill(0);
    Some(Ok(next))
}

/// Why a batch's records cannot be read: what the other side wrote is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadRecord {
    /// Fewer bytes than a header are left.
    TruncatedHeader,
    /// A frame's length reaches past the batch's end.
    PastTheEnd,
}

/// The records of `batch`, in order.
pub fn records(batch: &[u8]) -> Records<'_> {
    Records { batch, at: 0 }
}

/// An iterator over a batch's records; see [`records`].
pub struct Records<'a> {
    batch: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, BadRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.batch.len() {
            return None;
        }
        let Some(header) = self.batch.get(self.at..self.at + HEADER) else {
            self.at = self.batch.len();
            return Some(Err(BadRecord::TruncatedHeader));
        };
        let device = u16::from_le_bytes([header[0], header[1]]);
        let segment = u16::from_le_bytes([header[2], header[3]]);
        let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let start = self.at + HEADER;
        let Some(frame) = start.checked_add(len).and_then(|end| self.batch.get(start..end)) else {
            self.at = self.batch.len();
            return Some(Err(BadRecord::PastTheEnd));
        };
        self.at = next_frame(self.at as u64, len as u64) as usize;
        Some(Ok(Record { device, segment, frame }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_push_and_put() {
        let record = |device, segment, frame| Record { device, segment, frame };
        let frames = [record(0, 0, &[1; 14][..]), record(3, 1448, &[2; 61]), record(1, 0, &[3; 1514])];
        let mut pushed = Vec::new();
        let mut buffer = vec![0xee; 4096];
        let mut at = 0;
        for record in frames {
            push(&mut pushed, record);
            at = put(&mut buffer, at, record).unwrap();
        }
        assert_eq!(&buffer[..at], &pushed[..], "both writers write the same records");
        assert_eq!(pushed.len() % 8, 0);
        let read: Vec<Record> = records(&pushed).map(Result::unwrap).collect();
        assert_eq!(read, frames);
    }

    #[test]
    fn a_record_that_does_not_fit_is_not_written() {
        let mut buffer = [0u8; 32];
        let record = Record { device: 0, segment: 0, frame: &[7; 20] };
        assert_eq!(put(&mut buffer, 0, record), Some(32));
        assert_eq!(put(&mut buffer, 8, record), None);
        assert_eq!(buffer[8..16], [7; 8], "nothing was written over the first record");
    }

    #[test]
    fn a_frame_written_in_place_makes_the_record_put_would() {
        let frame = [5u8; 61];
        let mut expected = vec![0xee; 200];
        let next = put(&mut expected, 8, Record { device: 2, segment: 0, frame: &frame }).unwrap();
        let mut buffer = vec![0xee; 200];
        let fill = |room: &mut [u8]| {
            assert_eq!(room.len(), 200 - 8 - HEADER, "all the room up to the end");
            room[..61].copy_from_slice(&frame);
            Ok::<_, ()>(61)
        };
        assert_eq!(put_in_place(&mut buffer, 8, 2, 100, fill), Some(Ok(next)));
        assert_eq!(buffer[..next], expected[..next]);
        let refused = put_in_place(&mut buffer, 8, 2, 200, |_| -> Result<usize, ()> { panic!("no room to fill") });
        assert_eq!(refused, None, "less room than asked for");
        assert_eq!(put_in_place(&mut [0u8; 36], 0, 0, 1, |room| Ok::<_, ()>(room.len())), Some(Ok(32)), "aligned end");
        assert_eq!(put_in_place(&mut buffer, 0, 0, 1, |_| Err("again")), Some(Err("again")));
    }

    #[test]
    fn malformed_batches_are_reported_once_and_end_the_records() {
        let mut batch = Vec::new();
        push(&mut batch, Record { device: 0, segment: 0, frame: &[1; 14] });
        let whole = batch.len();
        batch.extend_from_slice(&[0, 0, 0]);
        let mut read = records(&batch);
        assert!(read.next().unwrap().is_ok());
        assert_eq!(read.next(), Some(Err(BadRecord::TruncatedHeader)));
        assert_eq!(read.next(), None);
        batch.truncate(whole);
        batch.extend_from_slice(&0u32.to_le_bytes());
        batch.extend_from_slice(&u32::MAX.to_le_bytes());
        let mut read = records(&batch);
        assert!(read.next().unwrap().is_ok());
        assert_eq!(read.next(), Some(Err(BadRecord::PastTheEnd)));
        assert_eq!(read.next(), None);
    }
}
