//! Small components written in WAT, for behaviours the example unikernels do not show:
//! exit statuses, traps, version clashes, cycles, ambiguous drivers.
//!
//! Each is built the way an outside author would: the WIT `ukc wit` writes, plus a
//! package of its own, and a core module, through `wasm-tools component embed` and
//! `component new`.

use crate::{wat_component, wit_dir};
use std::path::{Path, PathBuf};

/// WIT shared by the fixtures, next to ukc's own packages: two test interfaces that form
/// a cycle, a greeting interface, a newer console, and the worlds using them.
const WIT: &str = r#"
package fixture:worlds;

package ukc:console@0.2.0 {
    interface console { write: func(data: list<u8>); }
}
package test:a@1.0.0 {
    interface a { f: func() -> u32; }
}
package test:b@1.0.0 {
    interface b { g: func() -> u32; }
}
package test:greet@1.0.0 {
    interface greet { greeting: func() -> u32; }
}

world plain-app { export ukc:app/main@0.1.0; }
world exit-app { import ukc:exit/exit@0.1.0; export ukc:app/main@0.1.0; }
world newer-console-app { import ukc:console/console@0.2.0; export ukc:app/main@0.1.0; }
world a-app { import test:a/a@1.0.0; export ukc:app/main@0.1.0; }
world greet-app { import test:greet/greet@1.0.0; export ukc:app/main@0.1.0; }
world driver-a { import test:b/b@1.0.0; export test:a/a@1.0.0; }
world driver-b { import test:a/a@1.0.0; export test:b/b@1.0.0; }
world greeter { export test:greet/greet@1.0.0; }
world block-app { import ukc:block/block@0.1.0; export ukc:app/main@0.1.0; }
"#;

/// An entry point returning `ok`: the return area at address 0 holds discriminant 0.
const RUN_OK: &str = r#"(memory (export "memory") 1)"#;

/// Builds the fixture `name` in `dir` and returns its path.
pub fn build(dir: &Path, name: &str) -> PathBuf {
    let wit = dir.join("wit");
    if !wit.is_dir() {
        wit_dir(dir, &[("fixture", WIT)]);
    }
    let (world, body) = source(name);
    let wat = format!("(module ${name}\n{body}\n)");
    wat_component(dir, name, &wit, &format!("fixture:worlds/{world}"), &wat)
}

fn source(name: &str) -> (&'static str, String) {
    let run =
        |body: &str| format!(r#"{RUN_OK} (func (export "ukc:app/main@0.1.0#run") (result i32) {body} (i32.const 0))"#);
    match name {
        "trap-app" => ("plain-app", run("unreachable")),
        "exit-app" => (
            "exit-app",
            format!(r#"(import "ukc:exit/exit@0.1.0" "exit" (func $exit (param i32))) {}"#, run("(call $exit (i32.const 7))")),
        ),
        "newer-console-app" => (
            "newer-console-app",
            format!(
                r#"(import "ukc:console/console@0.2.0" "write" (func $w (param i32 i32))) {}"#,
                run("(call $w (i32.const 16) (i32.const 0))")
            ),
        ),
        "a-app" => ("a-app", format!(r#"(import "test:a/a@1.0.0" "f" (func $f (result i32))) {}"#, run("(drop (call $f))"))),
        "greet-app" => (
            "greet-app",
            format!(r#"(import "test:greet/greet@1.0.0" "greeting" (func $g (result i32))) {}"#, run("(drop (call $g))")),
        ),
        "cycle-a" => (
            "driver-a",
            r#"(import "test:b/b@1.0.0" "g" (func $g (result i32))) (func (export "test:a/a@1.0.0#f") (result i32) (call $g))"#.into(),
        ),
        "cycle-b" => (
            "driver-b",
            r#"(import "test:a/a@1.0.0" "f" (func $f (result i32))) (func (export "test:b/b@1.0.0#g") (result i32) (call $f))"#.into(),
        ),
        "greeter-one" | "greeter-two" => {
            ("greeter", r#"(func (export "test:greet/greet@1.0.0#greeting") (result i32) (i32.const 1))"#.into())
        }
        "bad-manifest-app" => ("plain-app", format!(r#"{} (@custom "ukc-manifest" "{{\"name\": 3}}")"#, run(""))),
        // Grows its memory by 16 MiB; traps when the host refuses.
        "grow-app" => ("plain-app", run("(if (i32.eq (memory.grow (i32.const 256)) (i32.const -1)) (then unreachable))")),
        // Acquires a block device it never declared: the host must stop it.
        "ghost-app" => (
            "block-app",
            format!(
                r#"(import "ukc:block/block@0.1.0" "acquire" (func $acquire (param i32 i32 i32))) (data (i32.const 64) "ghost") {}"#,
                run("(call $acquire (i32.const 64) (i32.const 5) (i32.const 128))")
            ),
        ),
        // Loops forever without calling the host: only a time limit stops it.
        "loop-app" => ("plain-app", run("(loop $forever (br $forever))")),
        // Recurses without end: the call stack runs out.
        "deep-app" => (
            "plain-app",
            format!(
                r#"(func $deeper (param i64) (result i64) (i64.add (call $deeper (i64.add (local.get 0) (i64.const 1))) (local.get 0))) {}"#,
                run("(drop (call $deeper (i64.const 0)))")
            ),
        ),
        // Grows its memory by 16 MiB until the host refuses, then traps.
        "hog-app" => ("plain-app", run("(loop $more (br_if $more (i32.ne (memory.grow (i32.const 256)) (i32.const -1)))) unreachable")),
        // Grows its memory by 192 MiB at once and writes its last word; traps when the
        // host refuses.
        "big-app" => (
            "plain-app",
            run("(if (i32.eq (memory.grow (i32.const 3072)) (i32.const -1)) (then unreachable)) (i32.store (i32.const 0x0c00fffc) (i32.const 1))"),
        ),
        // Stores far past the end of its one-page memory: a trap, whatever the host.
        "oob-app" => ("plain-app", run("(i32.store (i32.const 0x7ffffff0) (i32.const 1))")),
        other => panic!("no fixture called {other}"),
    }
}
