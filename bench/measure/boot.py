"""Section c: boot to first byte, warm (precompiled) and cold (compiled on every boot), all
runners interleaved run by run: the hello unikernel under `ukc-unix`, under `ukc-hvt` in
its own process and in a KVM micro-VM, and composed for the wasi target under the
`wasmtime` CLI; the WASI hello peer (a plain std program) under the `wasmtime` CLI and,
composed for unix on the wasi-shim driver, under `ukc-unix`. kvmboot.py splits the KVM
boot into its phases."""

from __future__ import annotations

import os
import shlex
import statistics
from dataclasses import dataclass
from pathlib import Path

from . import kvmboot
from .common import (CACHE_ENTRY, CACHE_MAC, GNU_TIME, GREETING, SCRATCH, BenchError, Context, boot, hvt_modes, note,
                     resource_self_kib, run, usage_via_time)
from .report import Series, ms, plural, ratio, table


@dataclass
class Runner:
    key: str  # prefix of its figures in ctx.facts
    label: str
    what: str  # the command, as the table shows it
    cmd: list[str]
    env: dict[str, str]


# (label, numerator key, denominator key) of the comparison table, each warm and cold.
COMPARE = [
    ("ukc-unix / wasmtime", "ukc", "wasmtime"),
    ("ukc-hvt in-process / ukc-unix", "ukc_hvt", "ukc"),
    ("ukc-hvt KVM / ukc-hvt in-process", "ukc_hvt_kvm", "ukc_hvt"),
    ("wasi target on wasmtime / ukc-unix", "wasi_target", "ukc"),
    ("WASI peer: ukc-unix (wasi-shim) / wasmtime", "wasi_shim", "wasmtime"),
]


def runners(ctx: Context, out: Path, cache: Path) -> list[Runner]:
    ukc, wt = ctx.a.ukc, ctx.a.wasmtime
    files = {}
    for name, app, target in (("hello.unix", "target/components/hello.wasm", "unix"),
                              ("hello.hvt", "target/components/hello.wasm", "hvt"),
                              ("hello.wasi", "target/components/hello.wasm", "wasi"),
                              ("wasi-hello.unix", ctx.a.wasi_hello, "unix")):
        files[name] = out / f"{name}.wasm"
        run([ukc, "compose", app, "-t", target, "-q", "-o", str(files[name])])
    for name, src in (("wasi-hello.cwasm", ctx.a.wasi_hello), ("hello.wasi.cwasm", files["hello.wasi"])):
        files[name] = out / name
        run([wt, "compile", "-C", "cache=n", str(src), "-o", str(files[name])])
    ctx.facts["hello_wasi_unikernel"] = files["hello.wasi"].stat().st_size

    base = {k: v for k, v in os.environ.items() if k != "UKC_CACHE_DIR"}
    envs = {"warm": {**base, "UKC_CACHE_DIR": str(cache)}, "cold": {**base, "UKC_CACHE_DIR": ""}}
    modes = hvt_modes(ctx.a.ukc_hvt)
    ctx.facts["hvt_isolation"] = bool(modes["ukc-hvt"])
    ctx.facts["hvt_kvm"] = "ukc-hvt-kvm" in modes
    hello_unix = [ctx.a.ukc_unix, str(files["hello.unix"]), "--", "--sleep-ms=0"]
    out_: list[Runner] = []
    for mode in ("warm", "cold"):
        env = envs[mode]
        cached = ", compiled artifact in `UKC_CACHE_DIR`" if mode == "warm" else " (compiles every boot)"
        unset = "" if mode == "warm" else "UKC_CACHE_DIR= "
        out_.append(Runner(f"ukc_{mode}", f"ukc-unix {mode}", f"`{unset}ukc-unix hello.unix.wasm -- --sleep-ms=0`{cached}",
                           hello_unix, env))
        for m, flags in modes.items():
            shown = "".join(f"{f} " for f in flags)
            key, label = ("ukc_hvt_kvm", "ukc-hvt KVM") if m == "ukc-hvt-kvm" else ("ukc_hvt", "ukc-hvt in-process")
            what = ({"warm": ", compiled artifact (machine code for the guest) in `UKC_CACHE_DIR`",
                     "cold": " (compiles to machine code for the guest every boot)"}[mode] if m == "ukc-hvt-kvm" else cached)
            out_.append(Runner(f"{key}_{mode}", f"{label} {mode}",
                               f"`{unset}ukc-hvt {shown}-- hello.hvt.wasm --sleep-ms=0`{what}",
                               [ctx.a.ukc_hvt, *flags, "--", str(files["hello.hvt"]), "--sleep-ms=0"], env))
        if mode == "warm":
            out_ += [
                Runner("wasmtime_warm", "wasmtime warm", "`wasmtime run --allow-precompiled wasi-hello.cwasm` "
                       "(`wasmtime compile` output)", [wt, "run", "-C", "cache=n", "--allow-precompiled",
                                                       str(files["wasi-hello.cwasm"])], base),
                Runner("wasi_target_warm", "wasi target on wasmtime warm",
                       "`wasmtime run --allow-precompiled hello.wasi.cwasm --sleep-ms=0` (`ukc compose hello.wasm "
                       "-t wasi`, then `wasmtime compile`)",
                       [wt, "run", "-C", "cache=n", "--allow-precompiled", str(files["hello.wasi.cwasm"]),
                        "--sleep-ms=0"], base),
            ]
        else:
            out_ += [
                Runner("wasmtime_cold", "wasmtime cold", "`wasmtime run -C cache=n wasi-hello.wasm` (compiles every run)",
                       [wt, "run", "-C", "cache=n", ctx.a.wasi_hello], base),
                Runner("wasi_target_cold", "wasi target on wasmtime cold",
                       "`wasmtime run -C cache=n hello.wasi.wasm --sleep-ms=0` (compiles every run)",
                       [wt, "run", "-C", "cache=n", str(files["hello.wasi"]), "--sleep-ms=0"], base),
            ]
        out_.append(Runner(f"wasi_shim_{mode}", f"WASI peer on ukc-unix {mode}",
                           f"`{unset}ukc-unix wasi-hello.unix.wasm` (`ukc compose wasi-hello.wasm -t unix`: "
                           f"the wasi-shim driver){cached}", [ctx.a.ukc_unix, str(files["wasi-hello.unix"])], env))
    out_.append(Runner("floor", "floor: `/bin/echo`", "process spawn and exec alone, for scale",
                       ["/bin/echo", "Hello World!"], base))
    ctx.facts["wasmtime_cwasm"] = files["wasi-hello.cwasm"].stat().st_size
    ctx.facts["wasi_target_cwasm"] = files["hello.wasi.cwasm"].stat().st_size
    return out_


def fill_cache(ctx: Context, configs: list[Runner], cache: Path) -> None:
    """The first warm run of each ukc runner fills the ukc cache; checks that it did and
    notes the size of each compiled artifact (the entry less its MAC)."""
    for r in configs:
        if not r.key.endswith("_warm") or r.env.get("UKC_CACHE_DIR") != str(cache):
            continue
        before = set(cache.glob(CACHE_ENTRY)) if cache.is_dir() else set()
        boot(r.cmd, r.env)
        new = (set(cache.glob(CACHE_ENTRY)) if cache.is_dir() else set()) - before
        if not new:
            raise BenchError(f"{shlex.join(r.cmd)} did not write a compiled artifact ({CACHE_ENTRY}) to {cache}")
        ctx.facts[r.key.removesuffix("_warm") + "_cwasm"] = new.pop().stat().st_size - CACHE_MAC


def measure(ctx: Context) -> str:
    out = SCRATCH / "boot"
    cache = out / "ukc-cache"
    out.mkdir(parents=True)
    configs = runners(ctx, out, cache)
    fill_cache(ctx, configs, cache)
    hello_hvt = out / "hello.hvt.wasm"
    ctx.facts["hello_hvt_unikernel"] = hello_hvt.stat().st_size
    for tool, path in (("ukc_unix", ctx.a.ukc_unix), ("ukc_hvt", ctx.a.ukc_hvt), ("wasmtime", ctx.a.wasmtime)):
        ctx.facts[f"{tool}_mb"] = Path(path).stat().st_size / 1e6

    note(f"boot: {ctx.runs} runs of {len(configs)} runners, interleaved")
    fb = {r.key: Series() for r in configs}
    ex = {r.key: Series() for r in configs}
    wait4_rss: list[int] = []
    for n in range(ctx.warmup + ctx.runs):
        for r in configs:
            b = boot(r.cmd, r.env)
            if r.key != "floor" and b.stdout != GREETING:
                raise BenchError(f"{shlex.join(r.cmd)} printed {b.stdout!r}, not {GREETING!r}")
            if n >= ctx.warmup:
                fb[r.key].add(b.first_byte)
                ex[r.key].add(b.exit)
                wait4_rss.append(b.maxrss_kib)

    # Peak RSS. A child's ru_maxrss counts the address space it was spawned from (exec
    # folds the old mm's high-water mark into the process's maxrss, and Popen vforks
    # this Python process), so os.wait4 here reports at least Python's own RSS for
    # every runner. The RSS runs go through GNU time, a small parent, instead.
    self_rss = resource_self_kib()
    rss: dict[str, int | None] = {r.key: None for r in configs}
    faults: dict[str, int | None] = {r.key: None for r in configs}
    if Path(GNU_TIME).is_file():
        rss_how = (
            f"peak RSS and minor page faults: `ru_maxrss` and `ru_minflt` as GNU time (`{GNU_TIME} -f '%M %R'`) "
            f"reports them, median of {plural(ctx.rss_runs, 'separate run')}. (`os.wait4` from this Python script would "
            f"report at least {min(wait4_rss):,} KiB for every runner, `/bin/echo` included: a child's "
            "`ru_maxrss` includes the address space it was spawned from, here the Python "
            f"process of {self_rss:,} KiB; GNU time is a small parent.)"
        )
        note(f"boot: peak RSS, {ctx.rss_runs} runs of each under {GNU_TIME}")
        for r in configs:
            got = [usage_via_time(r.cmd, r.env, out) for _ in range(ctx.rss_runs)]
            rss[r.key] = int(statistics.median(g[0] for g in got))
            faults[r.key] = int(statistics.median(g[1] for g in got))
    else:
        rss_how = f"peak RSS and page faults are not measured: {GNU_TIME} is missing."

    rows = []
    for r in configs:
        f, e = fb[r.key], ex[r.key]
        rows.append([r.label, r.what, ms(f.median), ms(f.p10), ms(f.p90), ms(e.median), ms(e.p10), ms(e.p90),
                     f"{rss[r.key]:,}" if rss[r.key] is not None else "", f"{faults[r.key]:,}" if faults[r.key] is not None else ""])
        for suffix, v in (("fb", f.median), ("fb_p10", f.p10), ("fb_p90", f.p90), ("exit", e.median)):
            ctx.facts[f"{r.key}_{suffix}"] = v
        ctx.facts[f"{r.key}_rss"] = rss[r.key] or 0
        ctx.facts[f"{r.key}_faults"] = faults[r.key] or 0

    ratios = []
    for label, a, b in COMPARE:
        for mode in ("warm", "cold"):
            x, y = f"{a}_{mode}", f"{b}_{mode}"
            if x in fb and y in fb:
                mem = ratio(rss[x], rss[y]) if rss[x] and rss[y] else ""
                ratios.append([f"{mode}: {label}", ratio(fb[x].median, fb[y].median), ratio(ex[x].median, ex[y].median),
                               mem])
    kvm = kvmboot.measure(ctx, next((r for r in configs if r.key == "ukc_hvt_kvm_warm"), None),
                          next((r for r in configs if r.key == "ukc_hvt_warm"), None), out)
    head = (
        "## Boot to first byte\n\n"
        "The `hello` example (four greetings; composed with `ukc compose hello.wasm -t T`, its "
        "sleep between greetings set to 0 with `--sleep-ms=0`) under `ukc-unix`; under `ukc-hvt` "
        "in its own process (`--isolation=process`) and, where `/dev/kvm` opens, in a KVM "
        "micro-VM (`--isolation=kvm`: the host compiles the unikernel with Cranelift to x86-64 "
        "machine code for the guest, and a guest kernel, wasmtime's no_std runtime, loads that "
        "code in place and runs it); and composed for the wasi "
        "target under the `wasmtime` CLI (wasmtime-cli 48.0.8, the wasmtime version ukc "
        "embeds). Next to them the WASI peer, `bench/wasi-hello` (a plain std program printing "
        "the same four lines), under the `wasmtime` CLI and, composed for unix on the "
        "wasi-shim driver, under `ukc-unix`. *First byte*: from spawning the process to reading "
        "the first byte of its stdout; *exit*: from spawning to reaping it; "
        f"{rss_how} *Warm* loads a precompiled artifact (ukc's compile cache, whose entries "
        "carry an HMAC checked on every load; `wasmtime compile` output), *cold* compiles on "
        "every boot (ukc's cache off; wasmtime's cache "
        "off with `-C cache=n`). Times in milliseconds from Python's `subprocess.Popen`, "
        f"median, p10 and p90 of {ctx.runs} runs each after {plural(ctx.warmup, 'warm-up run')}, the "
        f"runners interleaved run by run; {ctx.machine}.\n\n"
    )
    return (
        head
        + table(["runner", "command", "first byte median", "p10", "p90", "exit median", "p10", "p90", "peak RSS KiB",
                 "minor faults"], rows, right=set(range(2, 10)))
        + "\n\n"
        + table(["comparison (medians)", "first byte", "exit", "peak RSS"], ratios)
        + kvm
    )
