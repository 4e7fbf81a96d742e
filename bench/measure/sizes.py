"""Section a: sizes of the components, of the unikernels composed from them, of the WASI
hello peer, of the guest kernel ukc-hvt embeds for its KVM micro-VMs, and (wasisizes.py)
of the WASI bridges."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from . import wasisizes
from .common import SCRATCH, Context, note, run
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
    kernel = guest_kernel(ctx, out)
    if kernel:
        rows.append(kernel)
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
        "The guest kernel is the ELF file `ukc-hvt` embeds and boots in each KVM micro-VM "
        "(`host-hvt/kernel`: wasmtime's no_std runtime with the component model, for "
        "`x86_64-unknown-none`, with no compiler and no interpreter: it runs the machine code the "
        "host compiles for it), found "
        "under `target/hvt-kernel` and checked byte for byte against the copy inside "
        "`ukc-hvt`; its stripped size is that of `strip -o`. "
        f"One measurement (sizes do not vary); {ctx.machine}.\n\n"
    )
    return (head + table(["artifact", "made by", "bytes", "KiB", "peer bytes", "ukc / peer"], rows, right={2, 3, 4, 5})
            + wasisizes.measure(ctx))


def guest_kernel(ctx: Context, out: Path) -> list[str] | None:
    """The row of the guest kernel embedded in ukc-hvt: the build script's output under
    target/hvt-kernel (the release build for x86_64-unknown-none, else any copy), if its
    bytes are inside the ukc-hvt binary."""
    found = sorted(Path("target/hvt-kernel").glob("**/ukc-hvt-kernel"), key=lambda p: "release" not in p.parts)
    host = Path(ctx.a.ukc_hvt).read_bytes()
    kernel = next((p for p in found if p.is_file() and p.read_bytes() in host), None)
    if kernel is None:
        note("sizes: no guest kernel under target/hvt-kernel matches the one inside ukc-hvt; row left out")
        return None
    size = kernel.stat().st_size
    ctx.facts["kernel_bytes"] = size
    stripped = ""
    if shutil.which("strip"):
        run(["strip", "-o", str(out / "ukc-hvt-kernel.stripped"), str(kernel)])
        s = (out / "ukc-hvt-kernel.stripped").stat().st_size
        ctx.facts["kernel_stripped"] = s
        stripped = f"; stripped: {s:,} bytes ({s / 1024:.1f} KiB)"
    ctx.facts["kernel_share"] = size / len(host)
    return [f"guest kernel `{kernel}`", f"`host-hvt/build.rs`, embedded in `ukc-hvt` "
            f"({size / len(host):.1%} of its {len(host):,} bytes){stripped}", f"{size:,}", kib(size), "", ""]
