"""Part of section a: what the WASI bridges weigh. The same apps composed for the wasi
target and for unix, the drivers each wasi composition links (from `ukc describe
--format json`), each wasi-* driver's own size, and the WASI peer composed for unix on
the wasi-shim driver next to the file itself."""

from __future__ import annotations

import json
from pathlib import Path

from .common import SCRATCH, Context, run
from .report import kib, ratio, table

# (label, app file, target, output name)
COMPOSED = [
    ("hello", "target/components/hello.wasm", "unix", "hello.unix.wasm"),
    ("hello", "target/components/hello.wasm", "wasi", "hello.wasi.wasm"),
    ("kv-ro", "target/components/kv-ro.wasm", "unix", "kv-ro.unix.wasm"),
    ("kv-ro", "target/components/kv-ro.wasm", "wasi", "kv-ro.wasi.wasm"),
    ("WASI peer", None, "unix", "wasi-hello.unix.wasm"),
]


def drivers(ctx: Context, app: str, target: str) -> list[str]:
    """The components `ukc compose` links with `app` for `target`, in instantiation order."""
    d = json.loads(run(ctx.ukc("describe", app, "-t", target, "--format", "json")).stdout)
    return [c["name"] for c in d["manifest"]["components"] if not c["app"]]


def measure(ctx: Context) -> str:
    out = SCRATCH / "sizes"
    out.mkdir(parents=True, exist_ok=True)
    comps = Path("target/components")
    size: dict[tuple[str, str], int] = {}
    linked: dict[tuple[str, str], list[str]] = {}
    for label, app, target, name in COMPOSED:
        app = app or ctx.a.wasi_hello
        dest = out / name
        run(ctx.ukc("compose", app, "-t", target, "-q", "-o", str(dest)))
        size[(label, target)] = dest.stat().st_size
        linked[(label, target)] = drivers(ctx, app, target)
    peer = Path(ctx.a.wasi_hello).stat().st_size
    rows = []
    for label in ("hello", "kv-ro"):
        u, w = size[(label, "unix")], size[(label, "wasi")]
        rows.append([f"`{label}`", f"{u:,}", f"{w:,}", f"+{w - u:,}", ratio(w, u),
                     ", ".join(linked[(label, "wasi")]) or "none"])
        ctx.facts[f"size_{label}_unix"], ctx.facts[f"size_{label}_wasi"] = u, w
    shim = size[("WASI peer", "unix")]
    ctx.facts["wasi_peer_unix"] = shim
    t1 = table(["app", "composed for unix", "composed for wasi", "wasi − unix", "wasi / unix", "drivers linked for wasi"],
               rows, right={1, 2, 3, 4})

    uses = {}
    for (label, target), names in linked.items():
        for n in names:
            uses.setdefault(n, []).append(f"{label} for {target}")
    drows = []
    for path in sorted(comps.glob("wasi-*.wasm")):
        n = path.stem
        b = path.stat().st_size
        ctx.facts[f"driver_{n}"] = b
        drows.append([f"`{n}`", f"{b:,}", kib(b), ", ".join(uses.get(n, [])) or "—"])
    generated = {n for names in linked.values() for n in names} - {p.stem for p in comps.glob("*.wasm")}
    t2 = table(["driver (`target/components`)", "bytes", "KiB", "linked here into"], drows, right={1, 2})
    t3 = table(["the WASI peer", "bytes", "vs the file"],
               [["`wasi-hello.wasm` as built (runs under `wasmtime run`)", f"{peer:,}", ""],
                ["composed for unix: `ukc compose wasi-hello.wasm -t unix` (runs under `ukc-unix`; "
                 f"drivers: {', '.join(linked[('WASI peer', 'unix')])})", f"{shim:,}", f"+{shim - peer:,}"]],
               right={1, 2})
    return (
        "\n\nThe WASI bridges. *wasi target*: an app composed with `ukc compose APP -t wasi` gets "
        "drivers that put its ukc devices on WASI 0.2 and parse its command line, so that "
        "`wasmtime run` (or any WASI 0.2 host) runs it; the same app composed for unix "
        "imports the ukc devices that `ukc-unix` provides natively. "
        + (f"Besides the built-in drivers, `ukc compose` generates {', '.join(sorted(generated))} "
           "(the merged argument declarations, for wasi-args). " if generated else "")
        + "\n\n" + t1 + "\n\n" + t2 + "\n\n"
        "The other way round, the WASI peer (a plain Rust std program for `wasm32-wasip2`) "
        "composed for unix: wasi-shim serves its WASI imports on ukc devices and wasi-main "
        "calls its `main`.\n\n" + t3
    )
