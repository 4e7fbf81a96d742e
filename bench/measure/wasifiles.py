"""The same WASI program (`bench/wasi-hello`'s `wasi-read`, a plain std program for
wasm32-wasip2) reads one file, under `wasmtime run --dir` (a host
directory) and, composed with `ukc compose --preopen data`, on a kv store on each ukc
host (ukc-unix: the directory, attached with `--kv:data=DIR`; ukc-hvt: a tar image of it
through kv-tar, in its own process and in a KVM micro-VM). The program times its own reads,
so boots are not counted."""

from __future__ import annotations

import statistics
import subprocess
from pathlib import Path

from .common import SCRATCH, BenchError, Context, hvt_modes, note, run
from .report import ratio, table

FILE_MB = 64
READS = (8192, 1 << 20)
RUNS = 5


def measure(ctx: Context) -> str:
    out = SCRATCH / "files"
    out.mkdir(parents=True, exist_ok=True)
    data = out / "data"
    data.mkdir(exist_ok=True)
    target = data / "file.bin"
    if not target.exists() or target.stat().st_size != FILE_MB << 20:
        with open("/dev/urandom", "rb") as random, open(target, "wb") as f:
            f.write(random.read(FILE_MB << 20))
    tar = out / "data.tar"
    run(["tar", "-cf", str(tar), "-C", str(data), "."])
    program = ctx.a.wasi_read
    unix = out / "read.unix.wasm"
    hvt = out / "read.hvt.wasm"
    run(ctx.ukc("compose", program, "-t", "unix", "--preopen", "data", "-q", "-o", str(unix)))
    run(ctx.ukc("compose", program, "-t", "hvt", "--preopen", "data", "-q", "-o", str(hvt)))
    runners: dict[str, list[str]] = {
        "wasmtime": [ctx.a.wasmtime, "run", "--dir", f"{data}::/data", program],
        "ukc-unix": [ctx.a.ukc_unix, str(unix), f"--kv:data={data}", "--"],
    }
    for mode, flags in hvt_modes(ctx.a.ukc_hvt).items():
        runners[mode] = [ctx.a.ukc_hvt, *flags, f"--block:data={tar}", "--", str(hvt)]
    note(f"files: {RUNS} runs of {len(runners)} readers of a {FILE_MB} MiB file, in reads of "
         f"{' and '.join(str(r) for r in READS)} bytes")
    mbps: dict[tuple[str, int], list[float]] = {}
    for _ in range(RUNS):
        for size in READS:
            for name, cmd in runners.items():
                mbps.setdefault((name, size), []).append(read_once(cmd, size))
    rows = []
    for size in READS:
        peer = statistics.median(mbps[("wasmtime", size)])
        for name in runners:
            runs = mbps[(name, size)]
            median = statistics.median(runs)
            ctx.facts[f"files_{name}_{size}"] = median
            rows.append([f"{size:,}", name, f"{median:,.0f}", f"{min(runs):,.0f}–{max(runs):,.0f}",
                         "" if name == "wasmtime" else ratio(median, peer)])
    return (
        "\n\n## Files through wasi:filesystem\n\n"
        f"{__doc__.strip()} The file is {FILE_MB} MiB of random bytes in `target/bench/files/data` (in the page "
        "cache: these are figures of the read path's CPU cost); the unikernels are "
        "`ukc compose wasi-read.wasm --preopen data` for unix and hvt. MB/s are 10⁶ bytes per second of the "
        f"median of {RUNS} runs, with the slowest and fastest; the runners interleaved run by run. {ctx.machine}.\n\n"
        + table(["read bytes", "runner", "MB/s", "range", "vs wasmtime"], rows, right={0, 2, 3, 4})
    )


def read_once(cmd: list[str], size: int) -> float:
    """MB/s of one run of `wasi-read` over /data/file.bin in reads of `size` bytes."""
    r = subprocess.run([*cmd, "/data/file.bin", str(size)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    fields = r.stdout.split()
    if r.returncode != 0 or len(fields) != 3 or int(fields[0]) != FILE_MB << 20:
        raise BenchError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stdout!r}\n{r.stderr.decode(errors='replace')}")
    return int(fields[0]) / (int(fields[1]) / 1e9) / 1e6
