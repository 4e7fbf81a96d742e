//! The kernel's allocator: Talc over the free memory the tender describes at boot, which
//! is only the start of guest memory (giving a VM all of it at once costs the tender
//! more, the bigger it is); when that runs out, the allocator asks the tender for the
//! rest, once, and grows the heap over it. The kernel has one thread and no interrupts,
//! so the lock is never contended.

use crate::abi;
use crate::hypercall;
use core::alloc::Layout;
use core::ptr::NonNull;
use spinning_top::RawSpinlock;
use talc::TalcLock;
use talc::base::Talc;
use talc::base::binning::Binning;
use talc::source::Source;

#[global_allocator]
static HEAP: TalcLock<RawSpinlock, RestOfMemory> = TalcLock::new(RestOfMemory { heap_end: 0, given_end: 0 });

/// Where more memory comes from: the tender, once.
#[derive(Debug)]
struct RestOfMemory {
    /// The end of the heap the allocator keeps, while the rest has not been asked for;
    /// 0 before `init` and after asking.
    heap_end: usize,
    /// The end of the memory the tender gave at boot, where the rest begins.
    given_end: u64,
}

// SAFETY: `acquire` touches the allocator only through the `Talc` it is given, and
// neither allocates nor takes the lock (a hypercall needs neither).
unsafe impl Source for RestOfMemory {
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, _layout: Layout) -> Result<(), ()> {
        let heap_end = core::mem::replace(&mut talc.source.heap_end, 0);
        let Some(heap_end) = NonNull::new(heap_end as *mut u8) else {
            return Err(());
        };
        let mut rest = abi::Bytes::default();
        hypercall::call(abi::call::MEMORY, &mut rest);
        if rest.len == 0 || rest.addr != talc.source.given_end {
            return Err(());
        }
        // SAFETY: from the heap's end (the allocator keeps it a little short of
        // `given_end` when that is not aligned to its unit) to the end of the rest is
        // memory the tender gave the VM for the allocator alone.
        unsafe { talc.extend(heap_end, (rest.addr + rest.len) as *mut u8) };
        Ok(())
    }
}

/// Hands `heap` to the allocator; called once, before anything allocates.
pub fn init(heap: abi::Bytes) {
    let mut talc = HEAP.lock();
    // SAFETY: the tender reserved `heap` for the allocator: it lies inside guest memory
    // and overlaps neither the kernel image, the artifact, the stack nor the tables.
    let claimed = unsafe { talc.claim(heap.addr as *mut u8, heap.len as usize) };
    let Some(heap_end) = claimed else {
        drop(talc);
        panic!("the tender left no memory for the heap ({} bytes); raise --mem", heap.len);
    };
    talc.source = RestOfMemory { heap_end: heap_end.as_ptr() as usize, given_end: heap.addr + heap.len };
}
