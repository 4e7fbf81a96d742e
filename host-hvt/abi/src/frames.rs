//! The frame records of a [`NetIo`](crate::NetIo) buffer, written and read the same way
//! on both sides: a [`FrameHeader`] (device index, frame length, little-endian), the
//! frame, and padding to the next multiple of [`FRAME_ALIGN`](crate::FRAME_ALIGN).

use crate::{FrameHeader, next_frame};
use alloc::vec::Vec;

const HEADER: usize = core::mem::size_of::<FrameHeader>();

/// Appends the record of `frame`, for device `device`, to `batch`.
pub fn push(batch: &mut Vec<u8>, device: u32, frame: &[u8]) {
    let start = batch.len();
    batch.extend_from_slice(&device.to_le_bytes());
    batch.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    batch.extend_from_slice(frame);
    batch.resize(next_frame(start as u64, frame.len() as u64) as usize, 0);
}

/// Writes the record of `frame`, for device `device`, at `at` in `buffer`; the offset of
/// the next record, or `None` (and nothing written) when it does not fit.
pub fn put(buffer: &mut [u8], at: usize, device: u32, frame: &[u8]) -> Option<usize> {
    let next = next_frame(at as u64, frame.len() as u64) as usize;
    let record = buffer.get_mut(at..next)?;
    record[..4].copy_from_slice(&device.to_le_bytes());
    record[4..HEADER].copy_from_slice(&(frame.len() as u32).to_le_bytes());
    record[HEADER..HEADER + frame.len()].copy_from_slice(frame);
    record[HEADER + frame.len()..].fill(0);
    Some(next)
}

/// Why a batch's records cannot be read: what the other side wrote is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadRecord {
    /// Fewer bytes than a header are left.
    TruncatedHeader,
    /// A frame's length reaches past the batch's end.
    PastTheEnd,
}

/// The records of `batch`, in order: each frame with its device index.
pub fn records(batch: &[u8]) -> Records<'_> {
    Records { batch, at: 0 }
}

/// An iterator over a batch's records; see [`records`].
pub struct Records<'a> {
    batch: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<(u32, &'a [u8]), BadRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.batch.len() {
            return None;
        }
        let Some(header) = self.batch.get(self.at..self.at + HEADER) else {
            self.at = self.batch.len();
            return Some(Err(BadRecord::TruncatedHeader));
        };
        let device = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let start = self.at + HEADER;
        let Some(frame) = start.checked_add(len).and_then(|end| self.batch.get(start..end)) else {
            self.at = self.batch.len();
            return Some(Err(BadRecord::PastTheEnd));
        };
        self.at = next_frame(self.at as u64, len as u64) as usize;
        Some(Ok((device, frame)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_push_and_put() {
        let frames: [(u32, &[u8]); 3] = [(0, &[1; 14]), (3, &[2; 61]), (1, &[3; 1514])];
        let mut pushed = Vec::new();
        let mut buffer = vec![0xee; 4096];
        let mut at = 0;
        for (device, frame) in frames {
            push(&mut pushed, device, frame);
            at = put(&mut buffer, at, device, frame).unwrap();
        }
        assert_eq!(&buffer[..at], &pushed[..], "both writers write the same records");
        assert_eq!(pushed.len() % 8, 0);
        let read: Vec<(u32, &[u8])> = records(&pushed).map(Result::unwrap).collect();
        assert_eq!(read, frames);
    }

    #[test]
    fn a_record_that_does_not_fit_is_not_written() {
        let mut buffer = [0u8; 32];
        assert_eq!(put(&mut buffer, 0, 0, &[7; 20]), Some(32));
        assert_eq!(put(&mut buffer, 8, 0, &[7; 20]), None);
        assert_eq!(buffer[8..16], [7; 8], "nothing was written over the first record");
    }

    #[test]
    fn malformed_batches_are_reported_once_and_end_the_records() {
        let mut batch = Vec::new();
        push(&mut batch, 0, &[1; 14]);
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
