//! The VM's boundary, tested with guests of a few hand-assembled instructions: whatever
//! the guest does with memory and hypercalls, the tender stops it with a message and is
//! itself unharmed. (The guest kernel is tested end to end in tests/tests/kvm.rs.)

use super::*;
use ukc_host::args::RuntimeArgs;

const MIB: usize = 1 << 20;

/// Where `run_code` puts the page table of the code's stretch, and where data begins.
const TABLES: u64 = abi::KERNEL_BASE + 4096;
const DATA: u64 = abi::KERNEL_BASE + 2 * 4096;

/// Runs `code` at the kernel's address in a VM of `memory` bytes, as the tender runs the
/// guest kernel, and returns how it stopped.
fn run_code(code: &[u8], memory: usize) -> Outcome {
    run_code_with_data(code, &[], memory)
}

/// Runs `code` as `run_code` does, with `data` at [`DATA`].
fn run_code_with_data(code: &[u8], data: &[u8], memory: usize) -> Outcome {
    let mut vm = Making::start(GuestMemory::new(memory).unwrap()).finish().unwrap();
    vm.memory.slice_mut(abi::KERNEL_BASE, code.len() as u64).unwrap().copy_from_slice(code);
    vm.memory.slice_mut(DATA, data.len() as u64).unwrap().copy_from_slice(data);
    // The code's page is code (read+execute), then come the page table of its stretch
    // (supervisor-only), and data (read+write, not executable).
    let mut regions = layout::low_regions();
    regions.push(paging::Region::new(abi::KERNEL_BASE..TABLES, paging::Access::Execute));
    regions.push(paging::Region::new(TABLES..DATA, paging::Access::Supervisor));
    regions.push(paging::Region::new(DATA..layout::mapped_end(memory as u64), paging::Access::ReadWrite));
    paging::write(&mut vm.memory, &regions, TABLES).unwrap();
    cpu_x86_64::write_tables(&mut vm.memory, &[0; abi::IDT_ENTRIES as usize]).unwrap();
    cpu_x86_64::set_registers(vm.vcpu(), abi::KERNEL_BASE).unwrap();
    let mut devices = Devices::new(RuntimeArgs::default(), vec![], vec![]);
    serve(&mut vm, &mut devices, None)
}

/// `mov eax, value`.
fn mov_eax(value: u32) -> Vec<u8> {
    [&[0xb8][..], &value.to_le_bytes()].concat()
}

/// `mov dx, PORT_BASE + number; out dx, eax`.
fn hypercall(number: u16) -> Vec<u8> {
    [&[0x66, 0xba][..], &(abi::PORT_BASE + number).to_le_bytes(), &[0xef]].concat()
}

fn kernel_message(outcome: Outcome) -> String {
    match outcome {
        Outcome::KernelFailed(message) => message,
        other => panic!("expected the kernel to be stopped, got {other:?}"),
    }
}

#[test]
fn a_write_past_guest_memory_stops_the_vm() {
    // mov dword [rax], 1 with rax just past the end of 3 MiB of memory.
    let code = [mov_eax(3 * MIB as u32), vec![0xc7, 0x00, 1, 0, 0, 0]].concat();
    let message = kernel_message(run_code(&code, 3 * MIB));
    assert!(message.contains("touched address 0x300000, outside its 3 MiB"), "{message}");
}

#[test]
fn memory_past_the_first_part_is_the_guests_once_it_asks() {
    // mov dword [rax], 1 at 80 MiB of 128: past the first 64 MiB the VM is given.
    let store = [mov_eax(80 * MIB as u32), STORE_AT_RAX.to_vec()].concat();
    let message = kernel_message(run_code(&store, 128 * MIB));
    assert!(message.contains("touched address 0x5000000, in memory it has not asked for yet"), "{message}");
    // Asked for, the rest is there: the store goes through to the unknown call after it.
    let ask = [mov_eax(DATA as u32), hypercall(abi::call::MEMORY)].concat();
    let message = kernel_message(run_code(&[ask, store, hypercall(99)].concat(), 128 * MIB));
    assert!(message.contains("hypercall 99"), "{message}");
    // The answer names the rest; asked again, there is none. An answer outside guest
    // memory is refused.
    let mut vm = Making::start(GuestMemory::new(128 * MIB).unwrap()).finish().unwrap();
    assert_eq!(vm.give_rest().unwrap(), 64 * MIB as u64..128 * MIB as u64);
    assert_eq!(vm.give_rest().unwrap(), 128 * MIB as u64..128 * MIB as u64);
    assert!(
        matches!(give_rest(&mut vm, u64::MAX - 3), Err(Outcome::KernelFailed(m)) if m.contains("broke the hypercall ABI"))
    );
}

#[test]
fn a_hypercall_naming_memory_outside_the_guest_is_refused() {
    // The argument itself lies outside guest memory.
    let code = [mov_eax(0xffff_ff00), hypercall(abi::call::CONSOLE)].concat();
    let message = kernel_message(run_code(&code, 4 * MIB));
    assert!(message.contains("broke the hypercall ABI") && message.contains("outside guest memory"), "{message}");
    // The argument is inside, but the buffer it names reaches past the end.
    let argument = abi::KERNEL_BASE as u32 + 0x100;
    let mut code = [mov_eax(argument), hypercall(abi::call::ENTROPY)].concat();
    code.resize(0x100, 0x90);
    code.extend_from_slice(&(4 * MIB as u64 - 16).to_le_bytes());
    code.extend_from_slice(&64u64.to_le_bytes());
    let message = kernel_message(run_code(&code, 4 * MIB));
    assert!(message.contains("64 bytes at guest address 0x3ffff0 lie outside guest memory"), "{message}");
}

#[test]
fn an_unknown_hypercall_and_a_bad_device_index_are_refused() {
    let code = [mov_eax(abi::KERNEL_BASE as u32), hypercall(99)].concat();
    let message = kernel_message(run_code(&code, 4 * MIB));
    assert!(message.contains("hypercall 99, which does not exist"), "{message}");
    // BLOCK_INFO for device 5 when none is attached; the argument is the code itself.
    let code = [mov_eax(abi::KERNEL_BASE as u32 + 0x100), hypercall(abi::call::BLOCK_INFO)].concat();
    let mut code = code;
    code.resize(0x100, 0x90);
    code.extend_from_slice(&5u64.to_le_bytes());
    code.resize(0x120, 0);
    let message = kernel_message(run_code(&code, 4 * MIB));
    assert!(message.contains("block device 5, which is not attached"), "{message}");
}

/// `mov dword [rax], 1`.
const STORE_AT_RAX: [u8; 6] = [0xc7, 0x00, 1, 0, 0, 0];

#[test]
fn the_cpu_holds_the_guest_to_w_xor_x() {
    // Without handlers, a page fault ends in a triple fault; a write that goes through
    // reaches the unknown hypercall after it instead.
    let store_then_call = |at: u64| [mov_eax(at as u32), STORE_AT_RAX.to_vec(), hypercall(99)].concat();
    let message = kernel_message(run_code(&store_then_call(DATA), 4 * MIB));
    assert!(message.contains("hypercall 99"), "data is writable: {message}");
    for (at, what) in [(abi::KERNEL_BASE, "its own code"), (TABLES, "the page tables"), (abi::GDT, "the GDT")] {
        let message = kernel_message(run_code(&store_then_call(at), 4 * MIB));
        assert!(message.contains("triple-faulted"), "a write to {what} faults: {message}");
    }
    // Jumping to the same instructions in data faults; at the code page they run.
    let call = hypercall(99);
    let jump_to_data = [mov_eax(DATA as u32), vec![0xff, 0xe0]].concat(); // jmp rax
    let message = kernel_message(run_code_with_data(&jump_to_data, &call, 4 * MIB));
    assert!(message.contains("triple-faulted"), "data is not executable: {message}");
    let message = kernel_message(run_code(&call, 4 * MIB));
    assert!(message.contains("hypercall 99"), "code is: {message}");
}

#[test]
fn an_exception_without_handlers_stops_the_vm() {
    // ud2, with an IDT whose gates the guest never filled in.
    let message = kernel_message(run_code(&[0x0f, 0x0b], 4 * MIB));
    assert!(message.contains("triple-faulted"), "{message}");
}

/// Boots the real guest kernel with `artifact` as the unikernel, as `boot` does.
fn boot_artifact(artifact: &[u8]) -> Outcome {
    let mut making = Making::start(GuestMemory::new(64 * MIB).unwrap());
    let plan = load::plan(artifact, &[], &[], making.memory.size()).unwrap();
    plan.prefer_huge_pages(&making.memory);
    making.heap_first_touched(plan.first_touched());
    let (entry, info) = plan.place(&mut making.memory).unwrap();
    let mut devices = Devices::new(RuntimeArgs::default(), vec![], vec![]);
    let mut vm = ready(making, entry, info, &mut devices).unwrap();
    serve(&mut vm, &mut devices, None)
}

#[test]
fn the_guest_runs_only_artifacts_compiled_for_its_settings() {
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";
    let compile = |tweak: fn(&mut wasmtime::Config)| {
        compile::guest_engine_with(tweak).unwrap().precompile_component(EMPTY_COMPONENT).unwrap()
    };
    // Compiled as the tender compiles: it loads, and has no entry point.
    let stop = boot_artifact(&compile(|_| {}));
    assert!(matches!(stop, Outcome::NoEntryPoint), "{stop:?}");
    // A CPU feature the guest is not promised, traps that rely on signals, guard pages:
    // each is refused by the guest with a message, before any of it runs.
    type Tweak = fn(&mut wasmtime::Config);
    let others: [(Tweak, &str); 3] = [
        (
            |c| {
                unsafe { c.cranelift_flag_enable("has_avx") };
            },
            "avx",
        ),
        (
            |c| {
                c.signals_based_traps(true);
            },
            "signals",
        ),
        (
            |c| {
                c.memory_guard_size(1 << 16);
            },
            "guard",
        ),
    ];
    for (tweak, what) in others {
        let message = match boot_artifact(&compile(tweak)) {
            Outcome::CannotLoad(message) => message,
            other => panic!("{what}: expected a refusal, got {other:?}"),
        };
        assert!(message.to_lowercase().contains(what), "{what}: {message}");
    }
}
