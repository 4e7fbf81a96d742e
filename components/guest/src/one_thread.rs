//! The critical section of a component: a component instance runs on one thread and is
//! never re-entered while it runs Rust code, so entering one needs no lock. Crates such as
//! hickory-proto take one without std, for their lazily built tables.

struct OneThread;

critical_section::set_impl!(OneThread);

// SAFETY: with one thread and no interrupts, nothing else can run between `acquire` and
// `release`, which is all a critical section promises.
unsafe impl critical_section::Impl for OneThread {
    unsafe fn acquire() -> critical_section::RawRestoreState {}
    unsafe fn release(_: critical_section::RawRestoreState) {}
}
