"""Section d: block throughput. The `block-bench` guest (components/bench/block-bench)
under `ukc-hvt` (in its own process, and in a KVM micro-VM where /dev/kvm opens) and
`ukc-unix` next to its native peer (bench/native-block), the same
sequential write / flush / read loop on the same kind of file, request size by request
size. Each program times its own phases and prints `block-bench: PHASE BYTES bytes in NS
ns`; process start and boot are not in these figures."""

from __future__ import annotations

import os
import re
import shutil
import statistics
from dataclasses import dataclass

from .common import SCRATCH, BenchError, Context, hvt_modes, note, run
from .report import Series, display, ms, plural, table

MIB = 1 << 20
DISK_MIB = 64
# (request bytes, sector bytes): three request sizes on 512-byte sectors, and 4 KiB
# requests on 4096-byte sectors.
CASES = [(4096, 512), (65536, 512), (1048576, 512), (4096, 4096)]
RUNNERS = ["native", "ukc-hvt", "ukc-hvt-kvm", "ukc-unix"]
LABEL = {"native": "native", "ukc-hvt": "ukc-hvt in-process", "ukc-hvt-kvm": "ukc-hvt KVM", "ukc-unix": "ukc-unix"}
# Every runner runs every case.
SKIP: set[tuple[str, tuple[int, int]]] = set()
# write, flush, read: every runner. memcpy: native only (one copy of every byte, for
# scale). info: the guest only (one bare `info` call per request).
PHASES = ["write", "flush", "read", "memcpy", "info"]
LINE = re.compile(r"^block-bench: (\w+) (\d+) (bytes|calls) in (\d+) ns$", re.M)


@dataclass
class Sample:
    """The seconds each phase took, run by run."""

    series: dict[str, Series]

    def med(self, phase: str) -> float:
        return self.series[phase].median

    def best(self, phase: str) -> float:
        return min(self.series[phase].values)

    def mbps(self, phase: str, fn=statistics.median) -> float:
        return DISK_MIB * MIB / fn(self.series[phase].values) / 1e6


def phases(stdout: str, cmd: list[str]) -> dict[str, float]:
    """The seconds of each phase a run printed; checks that each covered the whole disk."""
    found = {}
    for phase, nbytes, unit, ns in LINE.findall(stdout):
        if unit == "bytes" and int(nbytes) != DISK_MIB * MIB:
            raise BenchError(f"{display(cmd)}: {phase} covered {nbytes} bytes, not {DISK_MIB} MiB:\n{stdout}")
        found[phase] = int(ns) / 1e9
    missing = {"write", "flush", "read"} - found.keys()
    if missing:
        raise BenchError(f"{display(cmd)} printed no {', '.join(sorted(missing))} line:\n{stdout}")
    return found


KVM = (
    "*ukc-hvt KVM* passes `--isolation=kvm`: the guest runs in a micro-VM, as x86-64 machine "
    "code the host compiled for it, and its block calls reach the tender, which does the I/O "
    "between the file and guest memory, through the guest kernel's block cache: writes that "
    "continue one another gather in a run of up to 256 KiB, written back in one exit when it "
    "cannot grow and on `flush`; a read that continues the previous one fetches 256 KiB in one "
    "exit and the next reads are served from it; requests of 256 KiB or more go straight "
    "through, one exit each; `info` is always one exit. "
)


def fmt_mbps(x: float) -> str:
    return f"{x:,.0f}"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f}"


def measure(ctx: Context) -> str:
    out = SCRATCH / "block"
    out.mkdir(parents=True)
    disk = out / "disk.img"
    with open(disk, "wb") as f:
        f.truncate(DISK_MIB * MIB)
    hvt = out / "block-bench.hvt.wasm"
    unix = out / "block-bench.unix.wasm"
    run(ctx.ukc("compose", "target/components/block-bench.wasm", "-t", "hvt", "-q", "-o", str(hvt)))
    run(ctx.ukc("compose", "target/components/block-bench.wasm", "-t", "unix", "-q", "-o", str(unix)))
    env = {**os.environ, "UKC_CACHE_DIR": str(out / "ukc-cache")}
    modes = hvt_modes(ctx.a.ukc_hvt)
    runners = [r for r in RUNNERS if r in modes or not r.startswith("ukc-hvt")]

    def command(runner: str, request: int, sector: int) -> list[str]:
        size = [] if sector == 512 else [f"--block-sector-size:storage={sector}"]
        arg = f"--request-bytes={request}"
        if runner == "native":
            return [ctx.a.native_block, str(disk), arg]
        if runner in modes:
            return [ctx.a.ukc_hvt, *modes[runner], f"--block:storage={disk}", *size, "--", str(hvt), arg]
        return [ctx.a.ukc_unix, str(unix), f"--block:storage={disk}", *size, "--", arg]

    runs, warmup = ctx.a.block_runs, ctx.a.block_warmup
    ctx.facts["block_runs"] = runs
    note(f"block: {runs} runs of {len(runners)} runners for {len(CASES)} request sizes, {DISK_MIB} MiB each")
    results = {(c, r): Sample({p: Series() for p in PHASES}) for c in CASES for r in runners if (r, c) not in SKIP}
    for n in range(warmup + runs):
        for case in CASES:
            # Rotate which runner goes first, so that none always follows the same one.
            order = runners[n % len(runners):] + runners[: n % len(runners)]
            for runner in (r for r in order if (r, case) not in SKIP):
                cmd = command(runner, *case)
                for phase, t in phases(run(cmd, env).stdout.decode(errors="replace"), cmd).items():
                    if n >= warmup:
                        results[(case, runner)].series[phase].add(t)

    resident = page_cache_residency(disk)
    rows = []
    for case in CASES:
        native = results[(case, "native")]
        for runner in (r for r in runners if (r, case) not in SKIP):
            s = results[(case, runner)]
            vs = [f"{s.mbps(p) / native.mbps(p):.2f}×" if runner != "native" else "" for p in ("write", "read")]
            rows.append(
                [
                    f"{case[0]:,}",
                    f"{case[1]:,}",
                    LABEL[runner],
                    fmt_mbps(s.mbps("write")),
                    f"{fmt_mbps(s.mbps('write', max))}–{fmt_mbps(s.mbps('write', min))}",
                    fmt_mbps(s.mbps("read")),
                    f"{fmt_mbps(s.mbps('read', max))}–{fmt_mbps(s.mbps('read', min))}",
                    ms(s.med("flush")),
                    *vs,
                ]
            )
            key = f"block_{runner}_{case[0]}_{case[1]}"
            for p in ("write", "read"):
                ctx.facts[f"{key}_{p}_mbps"] = s.mbps(p)
            ctx.facts[f"{key}_flush"] = s.med("flush")

    per_request = []
    for request, sector in CASES:
        if sector != 512:
            continue
        count = DISK_MIB * MIB // request
        native, hvt_ = results[((request, sector), "native")], results[((request, sector), "ukc-hvt")]
        copy = native.best("memcpy") / count
        call = hvt_.best("info") / count
        ctx.facts[f"block_memcpy_{request}"] = copy
        ctx.facts[f"block_call_{request}"] = call
        kvm = results.get(((request, sector), "ukc-hvt-kvm"))
        if kvm:
            ctx.facts[f"block_kvm_call_{request}"] = kvm.best("info") / count
        for p in ("write", "read"):
            n_, h = native.best(p) / count, hvt_.best(p) / count
            extra = h - n_
            ctx.facts[f"block_extra_{p}_{request}"] = extra
            ctx.facts[f"block_native_{p}_{request}"] = n_
            ctx.facts[f"block_hvt_{p}_{request}"] = h
            k = [us(kvm.best(p) / count), us(kvm.best("info") / count)] if kvm else []
            if kvm:
                ctx.facts[f"block_kvm_{p}_{request}"] = kvm.best(p) / count
            per_request.append(
                [f"{request:,}", p, f"{count:,}", us(n_), us(h), us(extra), us(call), us(copy), f"{extra / copy:.1f}", *k]
            )

    ctx.facts["block_resident_mib"] = resident if resident is not None else -1
    cached = (
        f"`fincore` reports {resident:.0f} of its {DISK_MIB} MiB in the page cache after the runs"
        if resident is not None
        else "`fincore` is missing here, so its page-cache residency is not measured"
    )
    head = (
        "## Block throughput\n\n"
        "Sequential writes over a whole block device, one flush, then sequential reads of it, "
        f"in requests of 4 KiB, 64 KiB and 1 MiB. The device is a {DISK_MIB} MiB file in "
        "`target/bench` (sparse when created, written in full by the first "
        f"{'warm-up ' if warmup else ''}run), "
        "attached with 512-byte sectors, and once with 4096-byte sectors for 4 KiB requests. "
        "*ukc-hvt* and *ukc-unix* run the `block-bench` guest (`components/bench/block-bench`, "
        "composed with `ukc compose block-bench.wasm -t hvt` and `-t unix`): each request is "
        "one call of `ukc:block/block`'s `write` or `read` from one reused buffer, timed "
        "inside the guest with `ukc:clock/monotonic`. *ukc-hvt in-process* passes "
        "`--isolation=process` (compiled to machine code, the device code called directly); "
        + (KVM if "ukc-hvt-kvm" in runners else "")
        + "*native* is `bench/native-block`, the "
        "same loop as a plain Rust program on the same file: `pwrite`, one `fdatasync`, "
        "`pread`, timed with `Instant`, into a page-aligned buffer. Process start and boot "
        "are outside the timed phases. MB/s are 10⁶ bytes per second, from the median phase "
        f"time of {plural(runs, 'run')} after {plural(warmup, 'warm-up run')}, with the "
        "slowest and fastest run's; the runners interleaved run by run. Caches are not "
        f"dropped: the file is written just before it is read and {cached}, so reads come "
        "from memory and writes go to memory; only the flush (`fdatasync`) waits for the "
        "disk. Apart from the flush, these are figures of the I/O path's CPU cost, not of the "
        f"disk. {ctx.machine}.\n\n"
    )
    t1 = table(
        ["request bytes", "sector", "runner", "write MB/s", "range", "read MB/s", "range", "flush ms",
         "write vs native", "read vs native"],
        rows,
        right={0, 1, 3, 4, 5, 6, 7, 8, 9},
    )
    mid = (
        "\n\nPer request, 512-byte sectors: the fastest run's phase time divided by the number "
        "of requests, for native and ukc-hvt in-process (other work on the machine only ever adds time, "
        "so the fastest run is the closest to each path's own cost). *Extra* is ukc-hvt's "
        "time over native's; *bare call* is what one call of the device's `info` costs the "
        "guest (a resource method returning two integers: no list, no system call), timed in "
        "the same ukc-hvt runs as a last phase of as many calls as there were requests; "
        "*memcpy* is the time native-block takes to copy one request's bytes from one "
        "page-aligned buffer to another (`copy_from_slice`, same request size and count, "
        "timed as its own phase after the reads), for scale; *extra ÷ memcpy* says how many "
        "such copies the extra time is worth."
        + (" *KVM µs* and *KVM bare call µs* are the same two figures for ukc-hvt in the VM "
           "(requests through the guest kernel's block cache; a bare `info` call is one exit to the "
           "tender)." if "ukc-hvt-kvm" in runners
           else "")
        + "\n\n"
    )
    kvm_cols = ["KVM µs", "KVM bare call µs"] if "ukc-hvt-kvm" in runners else []
    t2 = table(
        ["request bytes", "phase", "requests", "native µs", "ukc-hvt µs", "extra µs", "bare call µs", "memcpy µs",
         "extra ÷ memcpy", *kvm_cols],
        per_request,
        right={0, 2, 3, 4, 5, 6, 7, 8, 9, 10},
    )
    cmds = "\n\nThe commands run (64 KiB requests shown; `--request-bytes` varies):\n\n" + "\n".join(
        f"    {display(command(r, 65536, 512))}" for r in runners
    ) + f"\n    {display(command('ukc-hvt', 4096, 4096))}"
    return head + t1 + mid + t2 + cmds


def page_cache_residency(path) -> float | None:
    """MiB of `path` in the page cache, as util-linux's `fincore` reports it; None without it."""
    tool = shutil.which("fincore")
    if tool is None:
        return None
    r = run([tool, "--bytes", "--noheadings", "--output", "RES", str(path)])
    return int(r.stdout.split()[0]) / MIB
