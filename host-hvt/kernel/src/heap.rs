//! The kernel's allocator: Talc over the free memory the tender describes at boot.
//! The kernel has one thread and no interrupts, so the lock is never contended.

use crate::abi;
use spinning_top::RawSpinlock;
use talc::TalcLock;
use talc::source::Manual;

#[global_allocator]
static HEAP: TalcLock<RawSpinlock, Manual> = TalcLock::new(Manual);

/// Hands `heap` to the allocator; called once, before anything allocates.
pub fn init(heap: abi::Bytes) {
    // SAFETY: the tender reserved `heap` for the allocator: it lies inside guest memory
    // and overlaps neither the kernel image, the artifact, the stack nor the tables.
    let claimed = unsafe { HEAP.lock().claim(heap.addr as *mut u8, heap.len as usize) };
    if claimed.is_none() {
        panic!("the tender left no memory for the heap ({} bytes); raise --mem", heap.len);
    }
}
