"""The same std::net HTTP server (`bench/wasi-hello`'s `wasi-http`, a plain std program for
wasm32-wasip2: keep-alive, one connection at a time, a 1 KiB page) under `wasmtime run
-S inherit-network` and, composed with `ukc compose` (the `wasi-shim-net` driver), on
ukc-unix (the host's sockets) and ukc-hvt (the tcpip driver over a tap), under wrk with one
connection: the figure is what one request costs, round trip."""

from __future__ import annotations

import os
import statistics

from .common import SCRATCH, Context, note, run
from .netns import Lab
from .network import missing, parse_wrk, server_modes, start
from .report import ratio, table

RUNS = 3


def measure(ctx: Context) -> str:
    heading = "## A std::net server under wrk"
    why = missing()
    if why:
        note(f"wasi net: skipped: {why}")
        return f"{heading}\n\nSkipped: {why}."
    out = (SCRATCH / "wasinet").resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "UKC_CACHE_DIR": str(out / "ukc-cache")}
    program = ctx.a.wasi_http
    built = {}
    for target in ("unix", "hvt"):
        built[target] = out / f"http.{target}.wasm"
        run(ctx.ukc("compose", program, "-t", target, "-q", "-o", str(built[target])))
    secs = ctx.a.wrk_seconds
    rps: dict[str, list[float]] = {}
    with Lab(out) as lab:
        servers = {}
        ns = lab.netns("wasi-http-wasmtime")
        cmd = [ctx.a.wasmtime, "run", "-S", "inherit-network", program, "8080"]
        servers["wasmtime"] = (ns, "http://127.0.0.1:8080/", start(lab, ns, cmd, "wasmtime.log", None, "127.0.0.1", 8080))
        ns = lab.netns("wasi-http-unix")
        cmd = [ctx.a.ukc_unix, str(built["unix"]), "--", "8080"]
        servers["ukc-unix"] = (ns, "http://127.0.0.1:8080/", start(lab, ns, cmd, "unix.log", env, "127.0.0.1", 8080))
        for mode, flags in server_modes(ctx, 120 + 4 * RUNS * (secs + 5)).items():
            ns = lab.with_tap(f"wasi-http-{mode}")
            cmd = [ctx.a.ukc_hvt, *flags, "--net:service=tap0", "--", str(built["hvt"]), "--ipv4=10.0.0.2/24", "8080"]
            servers[mode] = (ns, "http://10.0.0.2:8080/", start(lab, ns, cmd, f"{mode}.log", env, "10.0.0.2", 8080))
        note(f"wasi net: wrk -t1 -c1, {RUNS} runs of {secs} s against each of {len(servers)} servers")
        for _ in range(RUNS):
            for name, (ns, url, _) in servers.items():
                r = parse_wrk(lab.run(ns, ["wrk", "-t1", "-c1", f"-d{secs}s", "--latency", url], secs + 60))
                rps.setdefault(name, []).append(r["rps"])
    peer = statistics.median(rps["wasmtime"])
    rows = []
    for name, runs in rps.items():
        median = statistics.median(runs)
        ctx.facts[f"wasi_http_{name}"] = median
        rows.append([name, f"{median:,.0f}", f"{min(runs):,.0f}–{max(runs):,.0f}",
                     "" if name == "wasmtime" else ratio(median, peer)])
    return (
        f"{heading}\n\n{__doc__.strip()} wasmtime and ukc-unix listen on their namespace's loopback, ukc-hvt "
        f"at 10.0.0.2 behind a tap; `wrk -t1 -c1 -d{secs}s`, {RUNS} runs each, the runners interleaved; "
        f"requests per second, median with the slowest and fastest run. {ctx.machine}.\n\n"
        + table(["server", "req/s", "range", "vs wasmtime"], rows, right={1, 2, 3})
    )
