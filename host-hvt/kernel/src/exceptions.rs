//! CPU exceptions (a page fault past the stack, a bad instruction): each vector's
//! handler reports the CPU's frame to the tender, which stops the VM and says what
//! happened. The kernel runs at CPL3, so an exception switches to CPL0 and to the
//! stack the TSS names; the handlers are a few integer instructions, because ring 0 is
//! emulated one instruction at a time on this kind of KVM and has no SSE.
//!
//! The IDT is out of the kernel's reach (a kernel that could write it could give itself
//! ring 0, and with it the page tables): the tender fills it in before boot from
//! `ukc_exception_table`, which host-hvt/build.rs keeps through the linker's garbage
//! collection.

use crate::abi;

// One handler per vector: push a zero where the CPU pushes no error code, push the
// vector, and hand the address of the resulting `abi::Fault` to the tender. The stack
// is below 4 GiB, so `esp` is its address.
core::arch::global_asm!(
    ".macro ukc_exception vector, has_error",
    ".global ukc_exception_\\vector",
    "ukc_exception_\\vector:",
    ".if \\has_error == 0",
    "    push 0",
    ".endif",
    "    push \\vector",
    "    mov eax, esp",
    "    mov dx, {port}",
    "    out dx, eax",
    "2:  hlt",
    "    jmp 2b",
    ".endm",
    // Vectors 8, 10-14, 17, 21, 29 and 30 come with an error code.
    "ukc_exception 0, 0", "ukc_exception 1, 0", "ukc_exception 2, 0", "ukc_exception 3, 0",
    "ukc_exception 4, 0", "ukc_exception 5, 0", "ukc_exception 6, 0", "ukc_exception 7, 0",
    "ukc_exception 8, 1", "ukc_exception 9, 0", "ukc_exception 10, 1", "ukc_exception 11, 1",
    "ukc_exception 12, 1", "ukc_exception 13, 1", "ukc_exception 14, 1", "ukc_exception 15, 0",
    "ukc_exception 16, 0", "ukc_exception 17, 1", "ukc_exception 18, 0", "ukc_exception 19, 0",
    "ukc_exception 20, 0", "ukc_exception 21, 1", "ukc_exception 22, 0", "ukc_exception 23, 0",
    "ukc_exception 24, 0", "ukc_exception 25, 0", "ukc_exception 26, 0", "ukc_exception 27, 0",
    "ukc_exception 28, 0", "ukc_exception 29, 1", "ukc_exception 30, 1", "ukc_exception 31, 0",
    ".pushsection .rodata",
    ".balign 8",
    ".global ukc_exception_table",
    "ukc_exception_table:",
    ".irp vector, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
    "    .quad ukc_exception_\\vector",
    ".endr",
    ".popsection",
    port = const abi::PORT_BASE + abi::call::FAULT,
);
