"""Section c: boot to first byte of the hello unikernel under `ukc-unix` and `ukc-hvt` next
to the WASI hello under the `wasmtime` CLI, warm (precompiled) and cold (compiled on every
boot)."""

from __future__ import annotations

import os
import shlex
import statistics
from pathlib import Path

from .common import GNU_TIME, GREETING, SCRATCH, BenchError, Context, boot, note, peak_rss_via_time, resource_self_kib, run
from .report import Series, ms, plural, ratio, table


def measure(ctx: Context) -> str:
    out = SCRATCH / "boot"
    cache = out / "ukc-cache"
    out.mkdir(parents=True)
    hello = out / "hello.unix.wasm"
    run(ctx.ukc("compose", "target/components/hello.wasm", "-t", "unix", "-q", "-o", str(hello)))
    hello_hvt = out / "hello.hvt.wasm"
    run(ctx.ukc("compose", "target/components/hello.wasm", "-t", "hvt", "-q", "-o", str(hello_hvt)))
    cwasm = out / "hello.cwasm"
    wt = ctx.a.wasmtime
    run([wt, "compile", "-C", "cache=n", ctx.a.wasi_hello, "-o", str(cwasm)])

    base = {k: v for k, v in os.environ.items() if k != "UKC_CACHE_DIR"}
    warm_env = {**base, "UKC_CACHE_DIR": str(cache)}
    cold_env = {**base, "UKC_CACHE_DIR": ""}
    ukc_run = [ctx.a.ukc_unix, str(hello), "--", "--sleep-ms=0"]
    hvt_run = [ctx.a.ukc_hvt, "--", str(hello_hvt), "--sleep-ms=0"]
    configs = [
        ("ukc warm", "`ukc-unix hello.unix.wasm -- --sleep-ms=0`, compiled artifact in `UKC_CACHE_DIR`", ukc_run, warm_env),
        ("ukc-hvt warm", "`ukc-hvt -- hello.hvt.wasm --sleep-ms=0`, compiled artifact in `UKC_CACHE_DIR`", hvt_run, warm_env),
        ("wasmtime warm", "`wasmtime run --allow-precompiled hello.cwasm` (`wasmtime compile` output)",
         [wt, "run", "-C", "cache=n", "--allow-precompiled", str(cwasm)], base),
        ("ukc cold", "`UKC_CACHE_DIR= ukc-unix hello.unix.wasm -- --sleep-ms=0` (compiles every boot)", ukc_run, cold_env),
        ("ukc-hvt cold", "`UKC_CACHE_DIR= ukc-hvt -- hello.hvt.wasm --sleep-ms=0` (compiles every boot)", hvt_run, cold_env),
        ("wasmtime cold", "`wasmtime run -C cache=n wasi-hello.wasm` (compiles every run)",
         [wt, "run", "-C", "cache=n", ctx.a.wasi_hello], base),
        ("floor: `/bin/echo`", "process spawn and exec alone, for scale", ["/bin/echo", "Hello World!"], base),
    ]

    # The first run of each host fills the ukc cache; check that it did.
    cwasms = {}
    for host, cmd in (("ukc-unix", ukc_run), ("ukc-hvt", hvt_run)):
        before = set(cache.glob("*.cwasm")) if cache.is_dir() else set()
        boot(cmd, warm_env)
        new = (set(cache.glob("*.cwasm")) if cache.is_dir() else set()) - before
        if not new:
            raise BenchError(f"{host} did not write a compiled artifact to {cache}")
        cwasms[host] = new.pop().stat().st_size
    ctx.facts["ukc_cwasm"] = cwasms["ukc-unix"]
    ctx.facts["ukc_hvt_cwasm"] = cwasms["ukc-hvt"]
    ctx.facts["hello_hvt_unikernel"] = hello_hvt.stat().st_size
    ctx.facts["ukc_unix_mb"] = Path(ctx.a.ukc_unix).stat().st_size / 1e6
    ctx.facts["ukc_hvt_mb"] = Path(ctx.a.ukc_hvt).stat().st_size / 1e6
    ctx.facts["wasmtime_mb"] = Path(wt).stat().st_size / 1e6
    ctx.facts["wasmtime_cwasm"] = cwasm.stat().st_size

    note(f"boot: {ctx.runs} runs of {len(configs)} runners, interleaved")
    fb = {c[0]: Series() for c in configs}
    ex = {c[0]: Series() for c in configs}
    rss: dict[str, list[int]] = {c[0]: [] for c in configs}
    for n in range(ctx.warmup + ctx.runs):
        for name, _, cmd, env in configs:
            b = boot(cmd, env)
            if not name.startswith("floor") and b.stdout != GREETING:
                raise BenchError(f"{shlex.join(cmd)} printed {b.stdout!r}, not {GREETING!r}")
            if n >= ctx.warmup:
                fb[name].add(b.first_byte)
                ex[name].add(b.exit)
                rss[name].append(b.maxrss_kib)

    # Peak RSS. A child's ru_maxrss counts the address space it was spawned from (exec
    # folds the old mm's high-water mark into the process's maxrss, and Popen vforks
    # this Python process), so os.wait4 here reports at least Python's own RSS for
    # every runner. The RSS runs go through GNU time, a small parent, instead.
    self_rss = resource_self_kib()
    wait4_floor = min(min(v) for v in rss.values())
    if Path(GNU_TIME).is_file():
        rss_how = (
            f"peak RSS: `ru_maxrss` as GNU time (`{GNU_TIME} -f %M`) reports it, median of "
            f"{ctx.rss_runs} separate runs. (`os.wait4` from this Python script would report "
            f"at least {wait4_floor:,} KiB for every runner, `/bin/echo` included: a child's "
            "`ru_maxrss` includes the address space it was spawned from, here the Python "
            f"process of {self_rss:,} KiB; GNU time is a small parent.)"
        )
        note(f"boot: peak RSS, {ctx.rss_runs} runs of each under {GNU_TIME}")
        rss = {name: [peak_rss_via_time(cmd, env, out) for _ in range(ctx.rss_runs)] for name, _, cmd, env in configs}
    else:
        rss_how = (
            "peak RSS: `ru_maxrss` from `os.wait4`, median over the runs — an upper bound: "
            f"{GNU_TIME} is missing, and a child's `ru_maxrss` includes the Python process "
            f"it was spawned from ({self_rss:,} KiB)."
        )

    rows = []
    for name, what, _, _ in configs:
        f, e = fb[name], ex[name]
        r = int(statistics.median(rss[name]))
        rows.append([name, what, ms(f.median), ms(f.p10), ms(f.p90), ms(e.median), ms(e.p10), ms(e.p90), f"{r:,}"])
        key = name.split(":")[0].replace(" ", "_").replace("-", "_")
        ctx.facts[f"{key}_fb"] = f.median
        ctx.facts[f"{key}_fb_p10"] = f.p10
        ctx.facts[f"{key}_fb_p90"] = f.p90
        ctx.facts[f"{key}_exit"] = e.median
        ctx.facts[f"{key}_rss"] = r

    ratios = []
    for mode in ("warm", "cold"):
        u, w = f"ukc {mode}", f"wasmtime {mode}"
        ratios.append(
            [
                f"{mode}: ukc / wasmtime",
                ratio(fb[u].median, fb[w].median),
                ratio(ex[u].median, ex[w].median),
                ratio(statistics.median(rss[u]), statistics.median(rss[w])),
            ]
        )
    for mode in ("warm", "cold"):
        h, u = f"ukc-hvt {mode}", f"ukc {mode}"
        ratios.append(
            [
                f"{mode}: ukc-hvt / ukc-unix",
                ratio(fb[h].median, fb[u].median),
                ratio(ex[h].median, ex[u].median),
                ratio(statistics.median(rss[h]), statistics.median(rss[u])),
            ]
        )
    head = (
        "## Boot to first byte\n\n"
        "The `hello` example under `ukc-unix` next to the WASI hello peer under the `wasmtime` "
        "CLI (wasmtime-cli 48.0.8, the wasmtime version ukc-unix embeds). The ukc hello is a "
        "composition (`ukc compose hello.wasm -t unix`) that sleeps between its four greetings; "
        "here the sleep is set to 0 (`--sleep-ms=0`). The same hello composed for hvt "
        "(`ukc compose hello.wasm -t hvt`) runs under `ukc-hvt` alongside, with the same "
        "cache settings (the *ukc* rows are `ukc-unix`). *First byte*: from spawning the process "
        "to reading the first byte of its stdout; *exit*: from spawning to reaping it; "
        f"{rss_how} *Warm* loads a precompiled "
        "artifact (ukc's compile cache; `wasmtime compile` output), *cold* compiles the "
        "component with Cranelift on every boot (ukc's cache off; wasmtime's cache off with "
        "`-C cache=n`). Times in milliseconds from Python's `subprocess.Popen`, "
        f"median, p10 and p90 of {ctx.runs} runs each after {plural(ctx.warmup, 'warm-up run')}, the "
        f"runners interleaved run by run; {ctx.machine}.\n\n"
    )
    return (
        head
        + table(
            ["runner", "command", "first byte median", "p10", "p90", "exit median", "p10", "p90", "peak RSS KiB"],
            rows,
            right=set(range(2, 9)),
        )
        + "\n\n"
        + table(["comparison (medians)", "first byte", "exit", "peak RSS"], ratios)
    )
