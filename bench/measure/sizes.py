"""Section a: sizes of the components, of the unikernels composed from them, of the WASI
hello peer, of the guest kernel ukc-hvt embeds for its KVM micro-VMs, of a site baked in
with `--data` next to the same site as a tar image, and (wasisizes.py) of the WASI
bridges."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from . import network, wasisizes
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
            + baked(ctx, out) + wasisizes.measure(ctx))


def baked(ctx: Context, out: Path) -> str:
    """static-website for hvt with its site baked in (`--data storage=SITE`) against the
    same unikernel that reads the site from a tar image on a block device."""
    site, image = out / "site", out / "site.tar"
    network.make_site(site)
    run(["tar", "-C", str(site), "-cf", str(image), "."])
    files = [f for f in site.rglob("*") if f.is_file()]
    data = sum(f.stat().st_size for f in files)
    plain, with_data = out / "web.hvt.wasm", out / "web-data.hvt.wasm"
    app = "target/components/static-website.wasm"
    run(ctx.ukc("compose", app, "-t", "hvt", "-q", "-o", str(plain)))
    run(ctx.ukc("compose", app, "-t", "hvt", "--data", f"storage={site}", "-q", "-o", str(with_data)))
    p, w, t = plain.stat().st_size, with_data.stat().st_size, image.stat().st_size
    driver = Path("target/components/kv-data.wasm").stat().st_size
    rows = [
        ["`static-website` for hvt", "`ukc compose static-website.wasm -t hvt`", f"{p:,}", kib(p)],
        ["the same, site baked in", "`ukc compose static-website.wasm -t hvt --data storage=SITE`", f"{w:,}", kib(w)],
        ["growth", "the second less the first", f"{w - p:,}", kib(w - p)],
        ["the site's files", f"{len(files)} files (a 1 KiB page, a 64 KiB file, a 1 MiB file, a stylesheet)", f"{data:,}", kib(data)],
        ["peer: the site as a tar image", "`tar -cf site.tar -C SITE .`, for `--block:storage=site.tar`", f"{t:,}", kib(t)],
        ["the `kv-data` driver", "`target/components/kv-data.wasm`", f"{driver:,}", kib(driver)],
    ]
    ctx.facts["baked"] = {"growth": w - p, "data": data, "tar": t, "driver": driver}
    head = (
        "\n\n### A site baked in with `--data`\n\n"
        "`ukc compose --data NAME=DIR` bakes a directory into the unikernel as a kv store (a tar "
        "per store in a generated data component, served by the `kv-data` driver). The bench's "
        f"website site, baked in: the image grows by {ratio(w - p, t)} the site's tar image "
        f"({w - p - t:,} bytes more than the tar: the kv-data driver and the component's framing).\n\n"
    )
    return head + table(["artifact", "what", "bytes", "KiB"], rows, right={2, 3})


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
