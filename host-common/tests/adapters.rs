//! Lists crossing between two components, through the adapters wasmtime generates with
//! ukc's patched wasmtime-environ (vendor/README.md): lists of plain integers are copied
//! with one `memory.copy` between the two memories. These tests hold that copy to what
//! the element loop did: the same bytes arrive, in the right memory, and a list that lies
//! outside its memory, wraps around it or is misaligned traps before anything is copied.

use wasmtime::component::{Component, Linker, Val};
use wasmtime::{Store, Trap};

/// Two components: `callee` returns the list it is given (its own copy, in its memory);
/// `caller` hands it a list at whatever pointer and length it is told, as raw core
/// values, so that the tests can give the adapter lists no well-behaved guest would.
/// `run8`/`run32` take (pointer, length) in the caller's memory, which holds the bytes
/// 0, 1, 2, ... 255 repeated over its one 64 KiB page.
const PAIR: &str = r#"
(component
  (component $callee
    (core module $m
      (memory (export "memory") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $at i32)
        ;; align up, bump, and fail when past the page
        (local.set $at (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                                (i32.sub (i32.const 0) (local.get 2))))
        (global.set $next (i32.add (local.get $at) (local.get 3)))
        (if (i32.gt_u (global.get $next) (i32.const 65536)) (then unreachable))
        (local.get $at))
      (func (export "echo") (param i32 i32) (result i32)
        (i32.store (i32.const 16) (local.get 0))
        (i32.store (i32.const 20) (local.get 1))
        (i32.const 16)))
    (core instance $i (instantiate $m))
    (func (export "echo8") (param "b" (list u8)) (result (list u8))
      (canon lift (core func $i "echo") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    (func (export "echo32") (param "b" (list u32)) (result (list u32))
      (canon lift (core func $i "echo") (memory (core memory $i "memory")) (realloc (core func $i "realloc")))))
  (instance $callee (instantiate $callee))

  (component $caller
    (import "echo8" (func $echo8 (param "b" (list u8)) (result (list u8))))
    (import "echo32" (func $echo32 (param "b" (list u32)) (result (list u32))))
    (core module $libc
      (memory (export "memory") 1)
      (global $next (mut i32) (i32.const 32768))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $at i32)
        (local.set $at (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                                (i32.sub (i32.const 0) (local.get 2))))
        (global.set $next (i32.add (local.get $at) (local.get 3)))
        (if (i32.gt_u (global.get $next) (i32.const 65536)) (then unreachable))
        (local.get $at)))
    (core instance $libc (instantiate $libc))
    (core func $echo8 (canon lower (func $echo8) (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (core func $echo32 (canon lower (func $echo32) (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (core module $m
      (import "libc" "memory" (memory 1))
      (import "host" "echo8" (func $echo8 (param i32 i32 i32)))
      (import "host" "echo32" (func $echo32 (param i32 i32 i32)))
      (func $fill (local $i i32)
        (loop $next
          (i32.store8 (local.get $i) (local.get $i))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $next (i32.lt_u (local.get $i) (i32.const 32768)))))
      (start $fill)
      (func (export "run8") (param i32 i32) (result i32)
        (call $echo8 (local.get 0) (local.get 1) (i32.const 8))
        (i32.const 8))
      (func (export "run32") (param i32 i32) (result i32)
        (call $echo32 (local.get 0) (local.get 1) (i32.const 8))
        (i32.const 8)))
    (core instance $i (instantiate $m
      (with "libc" (instance $libc))
      (with "host" (instance (export "echo8" (func $echo8)) (export "echo32" (func $echo32))))))
    (func (export "run8") (param "ptr" u32) (param "len" u32) (result (list u8))
      (canon lift (core func $i "run8") (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (func (export "run32") (param "ptr" u32) (param "len" u32) (result (list u32))
      (canon lift (core func $i "run32") (memory (core memory $libc "memory")) (realloc (core func $libc "realloc")))))
  (instance $caller (instantiate $caller
    (with "echo8" (func $callee "echo8"))
    (with "echo32" (func $callee "echo32"))))
  (export "run8" (func $caller "run8"))
  (export "run32" (func $caller "run32")))
"#;

/// Calls `name(ptr, len)` in a fresh instance of the pair: the list that came back, or
/// the trap that stopped it.
fn run(name: &str, ptr: u32, len: u32) -> Result<Vec<Val>, Trap> {
    let engine = ukc_host::engine::engine(false).unwrap();
    let wasm = wat::parse_str(PAIR).unwrap();
    let component = Component::new(&engine, &wasm).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    let func = instance.get_func(&mut store, name).unwrap();
    let mut results = [Val::Bool(false)];
    match func.call(&mut store, &[Val::U32(ptr), Val::U32(len)], &mut results) {
        Ok(()) => match &results[0] {
            Val::List(items) => Ok(items.clone()),
            other => panic!("{name} returned {other:?}"),
        },
        Err(e) => Err(*e.downcast_ref::<Trap>().unwrap_or_else(|| panic!("{name}: not a trap: {e:?}"))),
    }
}

fn bytes(items: &[Val]) -> Vec<u8> {
    items.iter().map(|v| if let Val::U8(b) = v { *b } else { panic!("not a u8: {v:?}") }).collect()
}

#[test]
fn byte_lists_arrive_whole_both_ways() {
    // Through both adapters: caller → callee and back, then lifted by the host.
    for (ptr, len) in [(0, 0), (7, 1), (3, 1000), (100, 4096), (1, 32767)] {
        let got = bytes(&run("run8", ptr, len).unwrap());
        let want: Vec<u8> = (ptr..ptr + len).map(|i| i as u8).collect();
        assert_eq!(got, want, "run8({ptr}, {len})");
    }
}

#[test]
fn word_lists_arrive_whole() {
    let got = run("run32", 64, 3).unwrap();
    let want: Vec<Val> = [0x4342_4140u32, 0x4746_4544, 0x4b4a_4948].into_iter().map(Val::U32).collect();
    assert_eq!(got, want);
}

#[test]
fn lists_outside_their_memory_trap() {
    // Past the end, ending one byte past it, wrapping around the address space, and an
    // empty list that starts past the end: each is refused as the component model says.
    for (ptr, len) in [(65536, 1), (65000, 537), (0xffff_fff0, 0x20), (70000, 0)] {
        assert_eq!(run("run8", ptr, len), Err(Trap::ListOutOfBounds), "run8({ptr}, {len})");
    }
    // A list of words whose byte length wraps 32 bits.
    assert_eq!(run("run32", 0, 0x4000_0001), Err(Trap::ListOutOfBounds));
    // The last byte of memory is still inside it.
    assert_eq!(bytes(&run("run8", 65535, 1).unwrap()), [0]);
}

#[test]
fn misaligned_word_lists_trap() {
    assert_eq!(run("run32", 2, 1), Err(Trap::UnalignedPointer));
}
