"""Section a: sizes of the components, of the unikernels composed from them, and of the
WASI hello peer."""

from __future__ import annotations

import shlex
from pathlib import Path

from .common import SCRATCH, Context, run
from .report import kib, ratio, table


def measure(ctx: Context) -> str:
    out = SCRATCH / "sizes"
    out.mkdir(parents=True)
    comps = sorted(Path("target/components").glob("*.wasm"))
    wasi = Path(ctx.a.wasi_hello).stat().st_size
    rows = []
    for c in comps:
        size = c.stat().st_size
        peer = ratio_cell = ""
        if c.name == "hello.wasm":
            peer, ratio_cell = f"WASI hello: {wasi:,}", ratio(size, wasi)
        rows.append([f"`{c}`", "component, as built", f"{size:,}", kib(size), peer, ratio_cell])
    unikernels = [
        ("hello", "unix", [], "hello.unix.wasm"),
        ("block", "unix", [], "block.unix.wasm"),
        ("kv-ro", "unix", [], "kv-ro.unix.wasm"),
        ("kv-ro", "hvt", [], "kv-ro.hvt.wasm"),
        ("kv-ro", "unix", ["--use", "ukc:kv/ro=kv-tar"], "kv-ro-tar.unix.wasm"),
    ]
    for app, target, extra, name in unikernels:
        dest = out / name
        cmd = ctx.ukc("compose", f"target/components/{app}.wasm", "-t", target, *extra, "-q", "-o", str(dest))
        run(cmd)
        size = dest.stat().st_size
        shown = shlex.join(["ukc", "compose", f"{app}.wasm", "-t", target, *extra])
        peer = ratio_cell = ""
        if app == "hello":
            peer, ratio_cell = f"WASI hello: {wasi:,}", ratio(size, wasi)
            ctx.facts["hello_unikernel"] = size
        rows.append([f"unikernel `{name}`", f"`{shown}`", f"{size:,}", kib(size), peer, ratio_cell])
    rows.append(
        [
            "peer: WASI hello",
            "`bench/wasi-hello`: std, `println!` ×4, wasm32-wasip2, opt-level z, LTO, strip, panic=abort",
            f"{wasi:,}",
            kib(wasi),
            "",
            "",
        ]
    )
    ctx.facts["wasi_hello"] = wasi
    ctx.facts["hello_component"] = Path("target/components/hello.wasm").stat().st_size
    wasi_imports = run([ctx.a.wasm_tools, "component", "wit", ctx.a.wasi_hello]).stdout.decode()
    ctx.facts["wasi_imports"] = sum(1 for l in wasi_imports.splitlines() if l.strip().startswith("import "))
    head = (
        "## Sizes\n\n"
        "File sizes in bytes (KiB = 1024 bytes) of the components `cargo build --release` "
        "writes to `target/components`, of the unikernels `ukc compose` makes from them, and "
        "of the peer: the same program (`Hello World!` four times) written as a plain Rust "
        "std program for `wasm32-wasip2`, as the `wasmtime` CLI runs it. "
        f"One measurement (sizes do not vary); {ctx.machine}.\n\n"
    )
    return head + table(["artifact", "made by", "bytes", "KiB", "peer bytes", "ukc / peer"], rows, right={2, 3, 4, 5})
