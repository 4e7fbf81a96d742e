//! The log over a device in memory: every change read back, a remount replaying the log,
//! a record cut short by a killed host ignored, batches whole or not at all, and
//! compaction when a half fills.

use crate::log::{Device, Edit, Log};
use crate::tree::{Error, Kind};
use std::cell::RefCell;
use std::rc::Rc;

/// A device in memory whose bytes a test can copy, as a killed host leaves its file.
#[derive(Clone)]
struct Memory {
    bytes: Rc<RefCell<Vec<u8>>>,
    sector: u64,
}

impl Memory {
    fn new(capacity: usize, sector: u64) -> Memory {
        Memory { bytes: Rc::new(RefCell::new(vec![0; capacity])), sector }
    }

    /// A device holding a copy of what this one holds now.
    fn copy(&self) -> Memory {
        Memory { bytes: Rc::new(RefCell::new(self.bytes.borrow().clone())), sector: self.sector }
    }
}

impl Device for Memory {
    fn sector_size(&self) -> u64 {
        self.sector
    }

    fn capacity(&self) -> u64 {
        self.bytes.borrow().len() as u64
    }

    fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, String> {
        ukc_hvt_abi::block_range::end(offset, len, self.sector, self.capacity()).ok_or("invalid range")?;
        Ok(self.bytes.borrow()[offset as usize..(offset + len) as usize].to_vec())
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), String> {
        ukc_hvt_abi::block_range::end(offset, data.len() as u64, self.sector, self.capacity())
            .ok_or("invalid range")?;
        self.bytes.borrow_mut()[offset as usize..offset as usize + data.len()].copy_from_slice(data);
        Ok(())
    }

    fn flush(&self) -> Result<(), String> {
        Ok(())
    }
}

fn get(log: &Log<Memory>, path: &str) -> Option<String> {
    let value = log.tree().value(path).ok()?;
    Some(String::from_utf8(log.read_value(&value).unwrap()).unwrap())
}

#[test]
fn changes_read_back_and_survive_a_remount() {
    let device = Memory::new(64 << 10, 512);
    let mut log = Log::mount(device.clone()).unwrap();
    log.change(&[Edit::Set("greeting", b"hello")], 1).unwrap();
    log.change(&[Edit::Set("/drafts/one", b"first"), Edit::Set("drafts/two", b"second")], 2).unwrap();
    log.change(&[Edit::Rename("drafts/two", "published/two")], 3).unwrap();
    log.change(&[Edit::Remove("drafts")], 4).unwrap();
    let failing = [Edit::Set("greeting", b"lost"), Edit::Set("published", b"a dictionary")];
    assert_eq!(log.change(&failing, 5), Err(Error::DictionaryExpected("published".into())));
    assert_eq!(log.change(&[Edit::Set("../x", b"")], 5).map_err(|e| matches!(e, Error::InvalidKey(_))), Err(true));
    let tree = log.tree().clone();
    assert_eq!(get(&log, "greeting").as_deref(), Some("hello"));
    assert_eq!(get(&log, "published/two").as_deref(), Some("second"));
    assert_eq!(log.tree().kind("drafts"), None);
    assert_eq!(log.tree().modified("published").unwrap(), 2);

    let again = Log::mount(device.copy()).unwrap();
    assert_eq!(again.tree(), &tree, "a remount replays the same tree");
    assert_eq!(get(&again, "published/two").as_deref(), Some("second"));
}

#[test]
fn a_record_cut_short_is_left_out_and_the_log_goes_on_from_before_it() {
    let device = Memory::new(64 << 10, 512);
    let mut log = Log::mount(device.clone()).unwrap();
    log.change(&[Edit::Set("kept", b"whole")], 1).unwrap();
    let before = device.copy();
    let value = vec![7u8; 3000];
    log.change(&[Edit::Set("batch/a", &value), Edit::Set("batch/b", b"b")], 2).unwrap();
    // The host killed while the batch's record was half written: its second sector on.
    let cut = device.copy();
    let start = before.bytes.borrow().iter().rposition(|b| *b != 0).unwrap() / 512 * 512 + 512;
    cut.bytes.borrow_mut()[start + 1024..start + 4096].fill(0);
    let mut remounted = Log::mount(cut.clone()).unwrap();
    assert_eq!(remounted.tree().kind("batch"), None, "none of the batch");
    assert_eq!(get(&remounted, "kept").as_deref(), Some("whole"));
    remounted.change(&[Edit::Set("after", b"x")], 3).unwrap();
    let third = Log::mount(cut.copy()).unwrap();
    assert_eq!(get(&third, "after").as_deref(), Some("x"));
    assert_eq!(third.tree().list("").unwrap(), [("after".into(), Kind::Value), ("kept".into(), Kind::Value)]);
}

#[test]
fn a_full_half_is_compacted_and_a_store_too_large_is_refused() {
    // Two halves of 16 KiB: each set of 2 KiB takes 5 sectors.
    let device = Memory::new(32 << 10, 512);
    let mut log = Log::mount(device.clone()).unwrap();
    let value = vec![1u8; 2000];
    for round in 0..40u64 {
        log.change(&[Edit::Set("one", &value), Edit::Set("two", &round.to_le_bytes())], round).unwrap();
    }
    assert_eq!(get(&log, "two").map(|s| s.into_bytes()), Some(39u64.to_le_bytes().to_vec()));
    let again = Log::mount(device.copy()).unwrap();
    assert_eq!(again.tree(), log.tree(), "the compacted half is the one mounted");
    assert_eq!(again.tree().modified("two").unwrap(), 39);
    let big = vec![2u8; 20 << 10];
    assert!(matches!(log.change(&[Edit::Set("big", &big)], 50), Err(Error::NoSpace(_))));
    assert_eq!(get(&log, "one").map(|s| s.len()), Some(2000), "a refused change leaves the store as it was");
    assert!(matches!(Log::mount(Memory::new(1024, 512)), Err(Error::NoSpace(_))));
}

#[test]
fn a_compaction_cut_short_leaves_the_old_half_in_charge() {
    let device = Memory::new(32 << 10, 512);
    let mut log = Log::mount(device.clone()).unwrap();
    log.change(&[Edit::Set("a", b"1")], 1).unwrap();
    // The other half starts a newer generation that is never sealed.
    let half = 16 << 10;
    let start = crate::record::encode(9, crate::record::Kind::Start, &[], 512);
    device.bytes.borrow_mut()[half..half + 512].copy_from_slice(&start);
    let again = Log::mount(device.copy()).unwrap();
    assert_eq!(get(&again, "a").as_deref(), Some("1"));
}

#[test]
fn a_compaction_cut_short_never_lends_its_generation_to_the_next() {
    let device = Memory::new(32 << 10, 512);
    let mut log = Log::mount(device.clone()).unwrap();
    log.change(&[Edit::Set("a", b"1")], 1).unwrap();
    // A compaction that died in the other half: generation 2 started, a stale record of
    // a value that no longer exists, never sealed.
    let half = 16 << 10;
    let start = crate::record::encode(2, crate::record::Kind::Start, &[], 512);
    let mut stale = crate::record::Writer::default();
    stale.u64(1);
    stale.byte(1);
    stale.bytes(b"ghost");
    stale.u64(0);
    stale.bytes(b"boo");
    let stale = crate::record::encode(2, crate::record::Kind::Changes, &stale.0, 512);
    // Where the next compaction's log will end (its Start, `a`, `b`, Seal, then one more
    // `b` of three sectors): the stale record lies right after, as it would have been
    // written by the attempt that died.
    let after = half + 4608;
    device.bytes.borrow_mut()[half..half + 512].copy_from_slice(&start);
    device.bytes.borrow_mut()[after..after + 512].copy_from_slice(&stale);
    let mut again = Log::mount(device.clone()).unwrap();
    assert_eq!(again.tree().kind("ghost"), None);
    // Nine sets of `b` fill the first half; the tenth compacts into the second under a
    // fresh generation, so the stale record past the new tail is not taken for a change.
    let value = vec![3u8; 1000];
    for round in 0..10u64 {
        again.change(&[Edit::Set("b", &value)], round).unwrap();
    }
    let mounted = Log::mount(device.copy()).unwrap();
    assert_eq!(mounted.tree().kind("ghost"), None, "{:?}", mounted.tree());
    assert_eq!(mounted.tree(), again.tree());
}

#[test]
fn a_full_store_can_always_shrink() {
    // Two halves of 8 KiB; two values of 3 KiB each take 7 sectors apiece.
    let device = Memory::new(16 << 10, 512);
    let mut log = Log::mount(device.clone()).unwrap();
    let value = vec![5u8; 3000];
    log.change(&[Edit::Set("x", &value)], 1).unwrap();
    log.change(&[Edit::Set("y", &value)], 2).unwrap();
    assert!(matches!(log.change(&[Edit::Set("z", &value)], 3), Err(Error::NoSpace(_))));
    log.change(&[Edit::Remove("x")], 4).unwrap();
    assert_eq!(log.tree().kind("x"), None);
    assert_eq!(Log::mount(device.copy()).unwrap().tree(), log.tree());
    log.change(&[Edit::Set("z", &value)], 5).unwrap();
    assert_eq!(get(&log, "z").map(|s| s.len()), Some(3000));
}
