"""What every section shares: the run's settings, errors, running and timing commands, and
the line saying when and where a section was measured."""

from __future__ import annotations

import argparse
import datetime
import functools
import os
import resource
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SCRATCH = Path("target/bench")
TIMEOUT = 20.0  # seconds for any single command; every one here takes milliseconds
GREETING = b"Hello World!\n" * 4
# ukc's compile cache keeps each compiled unikernel as `<key>.entry`: an HMAC-SHA256 of
# 32 bytes (under a per-user secret, the file `key` next to the entries), then the
# artifact, wasmtime's serialized ELF image.
CACHE_ENTRY = "*.entry"
CACHE_MAC = 32


class BenchError(Exception):
    pass


def note(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


@dataclass
class Context:
    """The command line, and the figures the interpretation refers to, filled in by each
    section as it runs."""

    a: argparse.Namespace
    runs: int
    warmup: int
    rss_runs: int
    machine: str
    facts: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Context:
        return cls(args, args.runs, args.warmup, args.rss_runs, machine())

    def ukc(self, *args: str) -> list[str]:
        return [self.a.ukc, *args]


# ---------------------------------------------------------------------------------------
# Running things


def run(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Runs `cmd` to completion; raises with its stderr when it fails."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=TIMEOUT)
    if r.returncode != 0:
        raise BenchError(f"{shlex.join(cmd)} failed ({r.returncode}):\n{r.stderr.decode(errors='replace')}")
    return r


def wall(cmd: list[str]) -> float:
    """Wall time in seconds of `cmd`, from spawn to exit."""
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=TIMEOUT)
    t = time.perf_counter() - t0
    if r.returncode != 0:
        raise BenchError(f"{shlex.join(cmd)} failed ({r.returncode}):\n{r.stderr.decode(errors='replace')}")
    return t


@dataclass
class Boot:
    first_byte: float  # seconds from spawn to the first byte read from stdout
    exit: float  # seconds from spawn to the process reaped
    maxrss_kib: int  # peak RSS of the child (ru_maxrss, KiB on Linux)
    stdout: bytes


def boot(cmd: list[str], env: dict[str, str]) -> Boot:
    """Spawns `cmd`, times the first byte on its stdout and its exit, and reaps it with
    wait4 for its peak RSS."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, bufsize=0)
    watchdog = threading.Timer(TIMEOUT, p.kill)  # keeps a hung runner from hanging the bench
    watchdog.start()
    try:
        first = p.stdout.read(1)
        t1 = time.perf_counter()
        rest = p.stdout.read()
        _, status, usage = os.wait4(p.pid, 0)
        t2 = time.perf_counter()
        p.returncode = os.waitstatus_to_exitcode(status)
        err = p.stderr.read()
    finally:
        watchdog.cancel()
        if p.returncode is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()
    if p.returncode != 0 or not first:
        raise BenchError(f"{shlex.join(cmd)} failed ({p.returncode}):\n{err.decode(errors='replace')}")
    return Boot(t1 - t0, t2 - t0, usage.ru_maxrss, first + rest)


GNU_TIME = "/usr/bin/time"


def usage_via_time(cmd: list[str], env: dict[str, str], scratch: Path) -> tuple[int, int]:
    """Peak RSS in KiB and minor page faults of `cmd`, as GNU time reports them (`%M` and
    `%R`: ru_maxrss and ru_minflt from its own wait4). GNU time is a small process; the
    child's ru_maxrss would otherwise include the address space it was spawned from (see
    `boot`)."""
    report = scratch / "rss.txt"
    r = subprocess.run(
        [GNU_TIME, "-f", "%M %R", "-o", str(report), *cmd],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, timeout=TIMEOUT,
    )
    if r.returncode != 0:
        raise BenchError(f"{shlex.join(cmd)} failed under {GNU_TIME} ({r.returncode}):\n{r.stderr.decode(errors='replace')}")
    rss, faults = report.read_text().split()[-2:]
    return int(rss), int(faults)


def resource_self_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@functools.cache
def hvt_in_process(ukc_hvt: str) -> tuple[str, ...]:
    """The flags that make ukc-hvt run a unikernel in its own process: `--isolation=process`
    when it offers isolation modes (its default may then be a KVM VM), none otherwise."""
    r = subprocess.run([ukc_hvt, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT)
    return ("--isolation=process",) if b"--isolation=" in r.stdout else ()


def hvt_modes(ukc_hvt: str) -> dict[str, list[str]]:
    """How ukc-hvt can run a unikernel here: `ukc-hvt` in its own process and, when the
    binary offers `--isolation` and /dev/kvm opens, `ukc-hvt-kvm` in a KVM micro-VM; the
    flags for each."""
    modes = {"ukc-hvt": list(hvt_in_process(ukc_hvt))}
    if modes["ukc-hvt"] and os.access("/dev/kvm", os.R_OK | os.W_OK):
        modes["ukc-hvt-kvm"] = ["--isolation=kvm"]
    return modes


def first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT)
        return out.stdout.decode(errors="replace").strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def machine() -> str:
    nproc = first_line(["nproc"])
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"{date}; nproc {nproc}; Linux {os.uname().release}; CPU {cpu}"
