"""Measures ukc next to its peers and writes BENCHMARKS.md; driven by bench/run.

Sections: sizes of components and unikernels (next to a wasm32-wasip2 hello), of the guest
kernel ukc-hvt boots in KVM, and of the WASI bridges (wasisizes.py); compose time (`ukc
compose` next to `wac compose` of the same WAC document); boot of the hello unikernel
under `ukc-unix`, under `ukc-hvt` in-process and in a KVM micro-VM (kvmboot.py: where the
KVM boot goes), and composed for the wasi target under the `wasmtime` CLI, next to the
WASI hello under the `wasmtime` CLI and on ukc-unix through the wasi-shim, warm
(precompiled) and cold (compiled on every boot); block throughput of the block-bench guest
under `ukc-hvt` (in-process and KVM) and `ukc-unix` (next to a native program doing the
same I/O); and the network (network.py): a static website under wrk next to nginx, and
TCP bulk throughput of the tcpip driver next to the kernel's stack, ukc-hvt in both
modes; a soak of the website on each host under a minute of wrk, with the server's memory
sampled (soak.py); then the goals for KVM against in-process (kvmgoals.py) and for the network
path (netgoals.py), ratios of figures the
sections above measured. The closing bullets come from interpret.py, kvmdoc.py,
wasidoc.py and netdoc.py.

Every figure is a measurement in this run; ratios compare against a peer measured in the
same run, interleaved run by run so that load from elsewhere on the machine hits both.
Nothing here is an assertion. Standard library only (Python 3.11). Run as
`python3 -m measure` with `bench` on PYTHONPATH, from the repository root.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import blocks, boot, compose, dns, https, interpret, kvmgoals, netgoals, network, sizes, soak, wasifiles, wasinet
from .common import SCRATCH, BenchError, Context, first_line, note


def main() -> int:
    ap = argparse.ArgumentParser(prog="measure", description=__doc__.splitlines()[0])
    ap.add_argument("--ukc", required=True)
    ap.add_argument("--ukc-unix", required=True)
    ap.add_argument("--ukc-hvt", required=True)
    ap.add_argument("--wac", required=True)
    ap.add_argument("--wasm-tools", required=True)
    ap.add_argument("--wasmtime", required=True)
    ap.add_argument("--wasi-hello", required=True)
    ap.add_argument("--wasi-read", required=True, help="the file-read program (bench/wasi-hello's wasi-read)")
    ap.add_argument("--wasi-http", required=True, help="the std::net HTTP server (bench/wasi-hello's wasi-http)")
    ap.add_argument("--native-block", required=True, help="the native peer of block-bench")
    ap.add_argument("--out", required=True, help="the markdown file to write")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rss-runs", type=int, default=5, help="runs of each runner for peak RSS")
    ap.add_argument("--block-runs", type=int, default=5, help="runs of each block runner and request size")
    ap.add_argument("--block-warmup", type=int, default=1)
    ap.add_argument("--wrk-seconds", type=int, default=5, help="duration of each wrk run")
    ap.add_argument("--wrk-rounds", type=int, default=3, help="wrk runs of the website per server and page")
    ap.add_argument("--bulk-mb", type=int, default=50, help="MB (10^6 bytes) each TCP echo run sends")
    ap.add_argument("--bulk-runs", type=int, default=3, help="TCP echo runs per server")
    ap.add_argument("--bulk-seconds", type=float, default=5, help="longest a TCP echo run sends")
    ap.add_argument("--soak-seconds", type=int, default=60, help="duration of each host's soak under wrk")
    args = ap.parse_args()
    if args.runs < 2 or args.block_runs < 1 or args.bulk_runs < 1 or args.wrk_seconds < 1 or args.wrk_rounds < 1 or args.bulk_mb < 1:
        ap.error("--runs must be at least 2; --block-runs, --bulk-runs, --wrk-seconds, --wrk-rounds and --bulk-mb at least 1")

    if SCRATCH.exists():
        shutil.rmtree(SCRATCH)
    SCRATCH.mkdir(parents=True)

    ctx = Context.from_args(args)
    versions = ", ".join(
        first_line(c)
        for c in ([args.ukc, "--version"], [args.wac, "--version"], [args.wasmtime, "--version"], [args.wasm_tools, "--version"])
    )
    started = time.perf_counter()
    try:
        note("sizes")
        sizes_ = sizes.measure(ctx)
        compose_ = compose.measure(ctx)
        boot_ = boot.measure(ctx)
        blocks_ = blocks.measure(ctx)
        network_ = network.measure(ctx)
        soak_ = soak.measure(ctx)
        dns_ = dns.measure(ctx)
        https_ = https.measure(ctx)
        files_ = wasifiles.measure(ctx)
        wasi_net_ = wasinet.measure(ctx)
        goals = kvmgoals.section(ctx)
        net_goals = netgoals.section(ctx)
        interp = interpret.interpretation(ctx)
    except (BenchError, subprocess.TimeoutExpired) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    intro = (
        "# Benchmarks\n\n"
        "Sizes, compose times, boot times, block throughput and network figures of ukc next "
        "to its peers — `wac` for composing, the `wasmtime` CLI for running, a native program "
        "for block I/O, nginx for serving a website, the kernel's TCP/IP stack for bulk "
        "transfers, `wasmtime run --dir` for a WASI program's file reads — all measured in the same run on the same machine; `ukc-hvt` both in its "
        "own process (`--isolation=process`) and in a KVM micro-VM (`--isolation=kvm`, where "
        "`/dev/kvm` opens), and the wasi target under `wasmtime run`. These are figures, "
        "not pass/fail checks. To reproduce: `cargo build --release`, then `./bench/run` as "
        "root (it installs wasmtime-cli 48.0.8 into `target/peers` when missing, the Debian "
        "packages of wrk, nginx-light, curl, ethtool, strace, dnsperf and dnsmasq when missing, builds the WASI peer in "
        "`bench/wasi-hello` and the native block peer in `bench/native-block`, uses "
        "`target/bench` as scratch space, makes and deletes its own network namespaces, and "
        "overwrites this file).\n\n"
        f"Tools: {versions}."
    )
    doc = "\n\n".join([intro, sizes_, compose_, boot_, blocks_, network_, soak_, dns_, https_, files_, wasi_net_, goals, net_goals, interp]) + "\n"
    Path(args.out).write_text(doc)
    print(doc, end="")
    note(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")
    return 0


sys.exit(main())
