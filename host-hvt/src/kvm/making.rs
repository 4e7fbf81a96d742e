//! The start-up's two threads. Making the VM is ~1 ms of KVM ioctls that need only to
//! know where guest memory lies, and every boot's guest first touches the start of its
//! heap, which the host zeroes on first touch (~0.3 ms per 2 MiB page); meanwhile the
//! main thread reads the unikernel and fills guest memory. On two cores these overlap,
//! so a helper thread takes the VM and then the heap, and the main thread does whatever
//! the helper has not started when it is done itself: on this machine a new thread
//! sometimes starts milliseconds late, and then the main thread makes the VM alone, as
//! if there were no helper.

use super::memory::{GuestMemory, Prefault};
use super::paging::LARGE_PAGE;
use super::vm::{self, Made, Vm};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// A VM in the making, and the memory it will own, which this thread fills meanwhile.
pub struct Making {
    /// Declared first, so that a boot that fails before the VM runs waits for the
    /// helper before the memory goes: neither a VM nor a fault-in outlives the memory.
    helper: Helper,
    shared: Arc<Shared>,
    /// The memory the VM will own.
    pub memory: GuestMemory,
}

/// What the two threads share.
struct Shared {
    /// Set by whichever thread starts making the VM.
    vm_claimed: AtomicBool,
    /// The VM once made, if the helper made it.
    made: Mutex<Option<Made>>,
    made_changed: Condvar,
    heap: Mutex<HeapWork>,
    heap_changed: Condvar,
}

/// The heap's first-touched range, faulted in a 2 MiB page at a time by either thread.
#[derive(Default)]
struct HeapWork {
    /// Known once the unikernel is laid out.
    range: Option<Range<u64>>,
    /// The next page to fault in, once `range` is known.
    next: u64,
    /// Set when no range will come (the boot failed, or went on without one).
    closed: bool,
}

impl Making {
    /// Starts making a VM whose only memory is `memory`, with one vCPU.
    pub fn start(memory: GuestMemory) -> Making {
        let shared = Arc::new(Shared {
            vm_claimed: AtomicBool::new(false),
            made: Mutex::new(None),
            made_changed: Condvar::new(),
            heap: Mutex::new(HeapWork::default()),
            heap_changed: Condvar::new(),
        });
        // SAFETY: the helper is joined before the memory goes: `Making` and then `Vm`
        // hold it in a field that drops before their memory (and `finish` drops it first
        // when making the VM failed).
        let prefault = unsafe { memory.prefault() };
        let (address, size) = (memory.host_address(), memory.size());
        let theirs = Arc::clone(&shared);
        let thread = std::thread::spawn(move || theirs.help(address, size, &prefault));
        vm::run_elsewhere(&thread);
        Making { helper: Helper { thread: Some(thread), shared: Arc::clone(&shared) }, shared, memory }
    }

    /// Says which part of the heap every boot touches first, for either thread to fault
    /// in (see [`GuestMemory::prefault`]) before the guest does.
    pub fn heap_first_touched(&mut self, range: Range<u64>) {
        let mut heap = lock(&self.shared.heap);
        heap.next = range.start;
        heap.range = Some(range);
        self.shared.heap_changed.notify_all();
    }

    /// Waits for the VM and gives it its memory: makes it on this thread if the helper
    /// has not started to, and faults in the heap while the helper makes it. What is left
    /// of the heap, the helper faults in while the guest runs.
    pub fn finish(self) -> Result<Vm, String> {
        self.shared.close_heap();
        let made = if self.shared.claim_vm() {
            vm::make(self.memory.host_address(), self.memory.size())
        } else {
            self.wait_for_vm()
        };
        let Making { helper, memory, .. } = self;
        match made {
            Ok((kvm, vm, vcpu)) => Ok(Vm::new(kvm, vm, vcpu, helper, memory)),
            Err(e) => {
                // The helper goes before the memory it may be faulting in.
                drop(helper);
                drop(memory);
                Err(e)
            }
        }
    }

    fn wait_for_vm(&self) -> Made {
        // SAFETY: used on this thread only, while `self` holds the memory.
        let prefault = unsafe { self.memory.prefault() };
        loop {
            if let Some(made) = lock(&self.shared.made).take() {
                return made;
            }
            match self.shared.next_heap_page(false) {
                Some(page) => prefault.fault_in(page),
                None => break,
            }
        }
        let mut made = lock(&self.shared.made);
        loop {
            if let Some(made) = made.take() {
                return made;
            }
            made = self.shared.made_changed.wait(made).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Shared {
    /// The helper's work: the VM if the main thread has not claimed it, then the heap.
    fn help(&self, address: u64, size: u64, prefault: &Prefault) {
        if self.claim_vm() {
            // Whatever happens, the main thread gets an answer to wait for.
            let made = std::panic::catch_unwind(|| vm::make(address, size))
                .unwrap_or_else(|_| Err("making the VM failed".to_string()));
            *lock(&self.made) = Some(made);
            self.made_changed.notify_all();
        }
        while let Some(page) = self.next_heap_page(true) {
            prefault.fault_in(page);
        }
    }

    /// True for the first thread to ask, which then makes the VM.
    fn claim_vm(&self) -> bool {
        !self.vm_claimed.swap(true, Ordering::AcqRel)
    }

    /// The next 2 MiB of the heap to fault in; with `wait`, waits until the range is
    /// known or will not come. `None` when there is none (left).
    fn next_heap_page(&self, wait: bool) -> Option<Range<u64>> {
        let mut heap = lock(&self.heap);
        loop {
            if let Some(range) = heap.range.clone() {
                if heap.next >= range.end {
                    return None;
                }
                let page = heap.next..(heap.next + LARGE_PAGE).min(range.end);
                heap.next = page.end;
                return Some(page);
            }
            if heap.closed || !wait {
                return None;
            }
            heap = self.heap_changed.wait(heap).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// No range will come after this: a helper waiting for one stops.
    fn close_heap(&self) {
        lock(&self.heap).closed = true;
        self.heap_changed.notify_all();
    }

    /// No more of the heap is to be faulted in: the memory is about to go.
    fn stop(&self) {
        let mut heap = lock(&self.heap);
        heap.closed = true;
        heap.next = heap.range.as_ref().map_or(0, |range| range.end);
        self.heap_changed.notify_all();
    }
}

/// The helper thread, joined at the latest when dropped (by the [`Vm`] once it runs).
pub struct Helper {
    thread: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl Drop for Helper {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.shared.stop();
            let _ = thread.join();
        }
    }
}

/// The lock, also after a panic elsewhere: the data stays consistent at every step.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
