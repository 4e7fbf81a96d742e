"""Measures ukc next to its peers and writes BENCHMARKS.md; driven by bench/run.

Four sections: sizes of components and unikernels (next to a wasm32-wasip2 hello),
compose time (`ukc compose` next to `wac compose` of the same WAC document), boot of the
hello unikernel under `ukc-unix` and `ukc-hvt` (next to the `wasmtime` CLI running the WASI
hello), warm (precompiled) and cold (compiled on every boot), and block throughput of the
block-bench guest under `ukc-hvt` and `ukc-unix` (next to a native program doing the same
I/O).

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

from . import blocks, boot, compose, interpret, sizes
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
    ap.add_argument("--native-block", required=True, help="the native peer of block-bench")
    ap.add_argument("--out", required=True, help="the markdown file to write")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rss-runs", type=int, default=5, help="runs of each runner for peak RSS")
    ap.add_argument("--block-runs", type=int, default=5, help="runs of each block runner and request size")
    ap.add_argument("--block-warmup", type=int, default=1)
    args = ap.parse_args()
    if args.runs < 2 or args.block_runs < 1:
        ap.error("--runs must be at least 2, --block-runs at least 1")

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
        interp = interpret.interpretation(ctx)
    except (BenchError, subprocess.TimeoutExpired) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    intro = (
        "# Benchmarks\n\n"
        "Sizes, compose times, boot times and block throughput of ukc next to its peers — `wac` "
        "for composing, the `wasmtime` CLI for running, a native program for block I/O — all "
        "measured in the same run on the same machine. These are figures, not pass/fail checks. "
        "To reproduce: `cargo build --release`, then `./bench/run` (it installs wasmtime-cli "
        "48.0.8 into `target/peers` when missing, builds the WASI peer in `bench/wasi-hello` and "
        "the native block peer in `bench/native-block`, uses `target/bench` as scratch space "
        "and overwrites this file).\n\n"
        f"Tools: {versions}."
    )
    doc = "\n\n".join([intro, sizes_, compose_, boot_, blocks_, interp]) + "\n"
    Path(args.out).write_text(doc)
    print(doc, end="")
    note(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")
    return 0


sys.exit(main())
