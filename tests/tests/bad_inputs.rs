//! Every failure a user can cause ends with one clear message and a non-zero exit, and
//! leaves no output file behind.

use std::path::Path;
use ukc_tests::*;

/// Which program a case runs.
#[derive(Clone, Copy, Debug)]
enum Program {
    Ukc,
    UkcUnix,
}

struct Case {
    what: &'static str,
    program: Program,
    args: Vec<String>,
    status: i32,
    message: &'static str,
}

/// Builds the inputs the cases need under `dir`.
fn inputs(dir: &Path) {
    let hello = std::fs::read(component("hello")).unwrap();
    std::fs::write(dir.join("empty.wasm"), b"").unwrap();
    std::fs::write(dir.join("truncated.wasm"), &hello[..hello.len() / 2]).unwrap();
    std::fs::write(dir.join("text.wasm"), b"this is not WebAssembly\n").unwrap();
    // The smallest core module: no component type information at all.
    std::fs::write(dir.join("bare-core.wasm"), b"\0asm\x01\x00\x00\x00").unwrap();
    for fixture in [
        "newer-console-app",
        "a-app",
        "greet-app",
        "cycle-a",
        "cycle-b",
        "greeter-one",
        "greeter-two",
        "bad-manifest-app",
    ] {
        fixtures::build(dir, fixture);
    }
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    ukc(&["compose", path_str(&component("hello")), "-t", "unix", "-o", &path("hello.unix.wasm"), "-q"]).ok();
    ukc(&["compose", path_str(&component("block")), "-t", "unix", "-o", &path("block.unix.wasm"), "-q"]).ok();
    ukc(&["compose", path_str(&component("hello")), "-t", "hvt", "-o", &path("hello.hvt.wasm"), "-q"]).ok();
    std::fs::write(dir.join("odd.img"), vec![0u8; 1000]).unwrap();
    std::fs::create_dir(dir.join("a-directory")).unwrap();
}

fn cases(dir: &Path) -> Vec<Case> {
    let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let out = p("out.wasm");
    let compose = |app: String, extra: &[&str]| {
        let mut args = vec!["compose".to_string(), app, "-o".into(), out.clone()];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let hello = path_str(&component("hello")).to_string();
    vec![
        Case {
            what: "missing file",
            program: Program::Ukc,
            args: compose(p("nope.wasm"), &[]),
            status: 1,
            message: "cannot read",
        },
        Case {
            what: "empty file",
            program: Program::Ukc,
            args: compose(p("empty.wasm"), &[]),
            status: 1,
            message: "the file is empty",
        },
        Case {
            what: "truncated component",
            program: Program::Ukc,
            args: compose(p("truncated.wasm"), &[]),
            status: 1,
            message: "invalid WebAssembly component",
        },
        Case {
            what: "not WebAssembly",
            program: Program::Ukc,
            args: compose(p("text.wasm"), &[]),
            status: 1,
            message: "not a WebAssembly file",
        },
        Case {
            what: "core module without type information",
            program: Program::Ukc,
            args: compose(p("bare-core.wasm"), &[]),
            status: 1,
            message: "core WebAssembly module without component type information",
        },
        Case {
            what: "a driver instead of an application",
            program: Program::Ukc,
            args: compose(path_str(&component("kv-tar")).into(), &[]),
            status: 1,
            message: "so it is not a ukc application",
        },
        Case {
            what: "unknown target",
            program: Program::Ukc,
            args: compose(hello.clone(), &["-t", "vmm"]),
            status: 1,
            message: "unknown target \"vmm\"; the targets are: unix, hvt",
        },
        Case {
            what: "version clash",
            program: Program::Ukc,
            args: compose(p("newer-console-app.wasm"), &[]),
            status: 1,
            message: "version clash: newer-console-app imports ukc:console/console@0.2.0, but the unix platform has ukc:console/console@0.1.0",
        },
        Case {
            what: "missing driver",
            program: Program::Ukc,
            args: compose(p("greet-app.wasm"), &[]),
            status: 1,
            message: "neither the unix platform nor any driver provides test:greet/greet",
        },
        Case {
            what: "a device the wasi target does not bridge",
            program: Program::Ukc,
            args: compose(path_str(&component("pong")).into(), &["-t", "wasi"]),
            status: 1,
            message: "neither the wasi platform nor any driver provides ukc:net/net",
        },
        Case {
            what: "cycle",
            program: Program::Ukc,
            args: compose(p("a-app.wasm"), &["--driver", &p("cycle-a.wasm"), "--driver", &p("cycle-b.wasm")]),
            status: 1,
            message: "cycle-a imports test:b/b@1.0.0 from cycle-b, cycle-b imports test:a/a@1.0.0 from cycle-a",
        },
        Case {
            what: "ambiguous drivers",
            program: Program::Ukc,
            args: compose(
                p("greet-app.wasm"),
                &["--driver", &p("greeter-one.wasm"), "--driver", &p("greeter-two.wasm")],
            ),
            status: 1,
            message: "Pick one with --use test:greet/greet=greeter-one",
        },
        Case {
            what: "--use names an unknown driver",
            program: Program::Ukc,
            args: compose(hello.clone(), &["--use", "ukc:kv/ro=kv-nope"]),
            status: 1,
            message: "there is no driver called \"kv-nope\"",
        },
        Case {
            what: "--use with bad syntax",
            program: Program::Ukc,
            args: compose(hello.clone(), &["--use", "kv-tar"]),
            status: 2,
            message: "expected INTERFACE=DRIVER",
        },
        Case {
            what: "--driver that does not exist",
            program: Program::Ukc,
            args: compose(hello.clone(), &["--driver", &p("nope.wasm")]),
            status: 1,
            message: "--driver",
        },
        Case {
            what: "invalid manifest in a component",
            program: Program::Ukc,
            args: compose(p("bad-manifest-app.wasm"), &[]),
            status: 1,
            message: "invalid ukc manifest",
        },
        Case {
            what: "output directory does not exist",
            program: Program::Ukc,
            args: vec!["compose".into(), hello.clone(), "-o".into(), p("missing-dir/out.wasm")],
            status: 1,
            message: "does not exist",
        },
        Case {
            what: "output is a directory",
            program: Program::Ukc,
            args: vec!["compose".into(), hello.clone(), "-o".into(), p("a-directory")],
            status: 1,
            message: "it is a directory",
        },
        Case {
            what: "device declared but not attached",
            program: Program::UkcUnix,
            args: vec![p("block.unix.wasm")],
            status: 1,
            message: "Device 'storage' of type block declared but not attached; attach it with --block:storage=FILE.",
        },
        Case {
            what: "device attached but not declared",
            program: Program::UkcUnix,
            args: vec![p("hello.unix.wasm"), format!("--block:disk={}", p("odd.img"))],
            status: 1,
            message: "Device 'disk' of type block attached",
        },
        Case {
            what: "unknown runtime argument",
            program: Program::UkcUnix,
            args: vec![p("hello.unix.wasm"), "--".into(), "--hallo=x".into()],
            status: 64,
            message: "unknown argument --hallo; did you mean --hello?",
        },
        Case {
            what: "runtime argument of the wrong type",
            program: Program::UkcUnix,
            args: vec![p("hello.unix.wasm"), "--".into(), "--sleep-ms=soon".into()],
            status: 64,
            message: "bad value for --sleep-ms: expected an integer",
        },
        Case {
            what: "bad sector size",
            program: Program::UkcUnix,
            args: vec![
                p("block.unix.wasm"),
                format!("--block:storage={}", p("odd.img")),
                "--block-sector-size:storage=1000".into(),
            ],
            status: 64,
            message: "power of two",
        },
        Case {
            what: "image not a multiple of the sector size",
            program: Program::UkcUnix,
            args: vec![p("block.unix.wasm"), format!("--block:storage={}", p("odd.img"))],
            status: 1,
            message: "not a multiple of the 512-byte sector size",
        },
        Case {
            what: "a component not composed by ukc",
            program: Program::UkcUnix,
            args: vec![hello.clone()],
            status: 1,
            message: "was not composed by ukc",
        },
        Case {
            what: "a unikernel for another target",
            program: Program::UkcUnix,
            args: vec![p("hello.hvt.wasm")],
            status: 1,
            message: "was composed for the hvt target",
        },
        Case {
            what: "unknown host option",
            program: Program::UkcUnix,
            args: vec!["--bogus".into(), p("hello.unix.wasm")],
            status: 64,
            message: "unknown option --bogus",
        },
        Case {
            what: "unikernel file missing",
            program: Program::UkcUnix,
            args: vec![p("nope.wasm")],
            status: 1,
            message: "cannot read",
        },
    ]
}

#[test]
fn every_bad_input_fails_clearly_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    let table = cases(dir.path());
    assert!(table.len() >= 15);
    let mut failures = Vec::new();
    for case in &table {
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let result = match case.program {
            Program::Ukc => ukc(&args),
            Program::UkcUnix => ukc_unix(&args),
        };
        let errors = result
            .stderr
            .lines()
            .filter(|l| ["ukc: error:", "error:", "ukc-unix:"].iter().any(|p| l.starts_with(p)))
            .count();
        let problems = [
            (result.status != Some(case.status))
                .then(|| format!("exit status {:?}, expected {}", result.status, case.status)),
            (!result.stderr.contains(case.message)).then(|| format!("message lacks {:?}", case.message)),
            result.stderr.contains("panicked").then(|| "panicked".to_string()),
            (errors != 1).then(|| format!("{errors} error messages, expected exactly one")),
            dir.path().join("out.wasm").exists().then(|| "left out.wasm behind".to_string()),
        ];
        for problem in problems.into_iter().flatten() {
            failures.push(format!(
                "{} ({:?} {}): {problem}\n    stderr: {}",
                case.what,
                case.program,
                args.join(" "),
                result.stderr.trim()
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), table.len(), failures.join("\n"));
}

#[test]
fn a_failed_compose_leaves_an_existing_output_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.wasm");
    std::fs::write(&out, b"previous").unwrap();
    let text = dir.path().join("text.wasm");
    std::fs::write(&text, b"not wasm").unwrap();
    let failed = ukc(&["compose", path_str(&text), "-o", path_str(&out)]);
    assert_eq!(failed.status, Some(1));
    assert_eq!(std::fs::read(&out).unwrap(), b"previous");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 2, "no temporary files left: {leftovers:?}");
}
