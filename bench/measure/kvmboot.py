"""Where a warm boot of ukc-hvt in a KVM micro-VM spends its time: the phases between the
tender's system calls as `strace -ttt -T` timestamps them (exec, `KVM_CREATE_VM`, the
first `KVM_RUN`, the first write to stdout, `exit_group`, the process gone), next to the
in-process boot under the same tracing, and the transparent huge pages the boot faults in
(/proc/vmstat) and, for scale, what one page fault costs on this host, huge and small. strace slows every traced call, so these phases add up to more than the
untraced first-byte times; they say where the time goes, not how much there is."""

from __future__ import annotations

import ctypes
import mmap
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from .common import BenchError, note
from .report import ms, plural, table

RUNS = 9
# pid, time, then a call (name, arguments, and its duration when it finished on this line)
# or a thread's or process's end.
LINE = re.compile(r"^(\d+)\s+(\d+\.\d+) (?:(\w+)\((.*?)(?:\)\s+= .*?(?:<(\d+\.\d+)>)?| <unfinished \.\.\.>)"
                  r"|(\+\+\+ exited).*)$")


def vmstat(key: str) -> int | None:
    try:
        for line in Path("/proc/vmstat").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except OSError:
        pass
    return None


def fault_costs(huge: int = 8) -> dict[str, float] | None:
    """Seconds one first touch of fresh anonymous memory costs this process: of a 2 MiB
    transparent huge page (madvise MADV_HUGEPAGE, 2 MiB-aligned; `huge` of them, median
    and slowest) and of a 4 KiB page (MADV_NOHUGEPAGE, 512 of them, minus the same loop
    over pages already there). None when the huge pages did not come (THP off)."""
    size = 2 << 20
    if not hasattr(mmap, "MADV_HUGEPAGE"):
        return None
    m = mmap.mmap(-1, size * (huge + 1), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        m.madvise(mmap.MADV_HUGEPAGE)
        c = ctypes.c_char.from_buffer(m)
        off = (-ctypes.addressof(c)) % size
        del c
        before, took = vmstat("thp_fault_alloc"), []
        for i in range(huge):
            t0 = time.perf_counter()
            m[off + i * size] = 1
            took.append(time.perf_counter() - t0)
        got = (vmstat("thp_fault_alloc") or 0) - (before or 0)
    finally:
        m.close()
    if before is None or got < huge:
        return None
    small = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        small.madvise(mmap.MADV_NOHUGEPAGE)
        t0 = time.perf_counter()
        for page in range(0, size, 4096):
            small[page] = 1
        t1 = time.perf_counter()
        for page in range(0, size, 4096):
            small[page] = 2
        t2 = time.perf_counter()
    finally:
        small.close()
    return {"huge": statistics.median(took), "huge_max": max(took), "small": ((t1 - t0) - (t2 - t1)) / (size // 4096)}


def trace(cmd: list[str], env: dict[str, str], out: Path) -> dict[str, float]:
    """One traced boot: the times (seconds from exec) of its landmarks, and what the KVM
    ioctls before the first byte took. Where a second thread makes the VM while the first
    fills guest memory, also when that thread's last KVM ioctl ended (`made`: the vCPU's
    CPUID set; it goes on to fault in the heap) and the first thread's first KVM ioctl
    after `KVM_CREATE_VM` (`filled`: it had the memory filled, and the VM made)."""
    log = out / "strace.txt"
    r = subprocess.run(["strace", "-f", "--seccomp-bpf", "-ttt", "-T", "-e", "trace=execve,ioctl,write,exit_group",
                        "-o", str(log), "--", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                       timeout=30)
    if r.returncode != 0:
        raise BenchError(f"strace of {' '.join(cmd)} failed ({r.returncode}):\n{r.stderr.decode(errors='replace')}")
    at: dict[str, float] = {}
    setup = in_vm = 0.0
    exits = 0
    main = maker = None
    for line in log.read_text().splitlines():
        m = LINE.match(line)
        if not m:
            continue
        pid, ts, call, args, took = m.group(1), float(m.group(2)), m.group(3), m.group(4) or "", float(m.group(5) or 0)
        if m.group(6):
            if pid == main:
                at["gone"] = ts
        elif call == "execve" and "start" not in at:
            at["start"] = ts
            main = pid
        elif call == "ioctl" and "KVM_CREATE_VM" in args:
            at["create"] = ts
            maker = pid
            setup += took
        elif call == "ioctl" and "KVM_RUN" in args:
            at.setdefault("run", ts)
            if "write" not in at:
                in_vm += took
                exits += 1
        elif call == "ioctl" and "KVM_" in args and "create" in at and "run" not in at:
            setup += took
            if pid == main and maker != main:
                at.setdefault("filled", ts)
            elif pid == maker and maker != main:
                at["made"] = ts + took
        elif call == "write" and args.startswith("1,") and "write" not in at:
            at["write"] = ts
        elif call == "exit_group":
            at["exit"] = ts
    if not {"start", "write", "exit", "gone"} <= at.keys():
        raise BenchError(f"strace of {' '.join(cmd)} shows no first write or exit:\n{log.read_text()[:3000]}")
    t0 = at.pop("start")
    marks = {k: v - t0 for k, v in at.items()}
    return {**marks, "setup_ioctls": setup, "in_vm": in_vm, "exits": exits}


def measure(ctx, kvm, proc, out: Path) -> str:
    """The paragraph and table of the KVM boot's phases; `kvm` and `proc` are boot.Runner
    of the warm KVM and in-process boots (None where KVM is not available)."""
    if kvm is None or proc is None:
        return ""
    if shutil.which("strace") is None:
        return "\n\nThe phases of the KVM boot are not measured: `strace` is not installed."
    note(f"boot: {RUNS} traced boots of ukc-hvt in KVM and in-process, for the phases")
    thp0 = vmstat("thp_fault_alloc")
    kv = [trace(kvm.cmd, kvm.env, out) for _ in range(RUNS)]
    thp1 = vmstat("thp_fault_alloc")
    pr = [trace(proc.cmd, proc.env, out) for _ in range(RUNS)]
    med = lambda runs, f: statistics.median(f(r) for r in runs)  # noqa: E731
    p = {
        "pre": med(kv, lambda r: r["create"]),
        "vm": med(kv, lambda r: r["run"] - r["create"]),
        "setup_ioctls": med(kv, lambda r: r["setup_ioctls"]),
        "guest": med(kv, lambda r: r["write"] - r["run"]),
        "in_vm": med(kv, lambda r: r["in_vm"]),
        "exits": med(kv, lambda r: r["exits"]),
        "rest": med(kv, lambda r: r["exit"] - r["write"]),
        "teardown": med(kv, lambda r: r["gone"] - r["exit"]),
        "total": med(kv, lambda r: r["write"]),
        "proc_total": med(pr, lambda r: r["write"]),
        "proc_teardown": med(pr, lambda r: r["gone"] - r["exit"]),
        "thp": (thp1 - thp0) / RUNS if thp0 is not None and thp1 is not None else -1,
    }
    if all("made" in r and "filled" in r for r in kv):  # the VM made on a thread of its own
        p["made"] = med(kv, lambda r: r["made"] - r["create"])
        p["filled"] = med(kv, lambda r: r["filled"] - r["create"])
    costs = fault_costs()
    if costs:
        p.update(costs)
    ctx.facts["kvm_phases"] = p
    thp = (f" The {RUNS} KVM boots faulted in {p['thp']:.1f} transparent huge pages each "
           "(`thp_fault_alloc` in /proc/vmstat, counted machine-wide over those boots): each "
           "is 2 MiB of host memory zeroed on first touch: the guest kernel's code and its heap, the only "
           "memory the guest maps with 2 MiB pages (the tender copies the code in, and faults in the start "
           "of the heap before the guest needs it, on whichever thread is free; what is left, the guest touches)." if p["thp"] >= 0 else "")
    if costs:
        thp += (f" For scale, a first touch of fresh memory costs this Python process {costs['huge'] * 1e6:,.0f} µs "
                f"for a 2 MiB huge page (median of 8; the slowest {costs['huge_max'] * 1e6:,.0f} µs) and "
                f"{costs['small'] * 1e6:.2f} µs for a 4 KiB page, so 2 MiB in 4 KiB pages would cost "
                f"{costs['small'] * 512 * 1e6:,.0f} µs.")
    rows = [
        ["exec → `KVM_CREATE_VM`", ms(p["pre"]), "the tender starts"
         + (", maps the guest's memory and starts a second thread (kept off the first one's core), which opens "
            "`/dev/kvm`; meanwhile the first reads the unikernel (had the second not started by the time the "
            "first is done, the first would make the VM itself)" if "made" in p else
            " and its compiled artifact (x86-64 machine code for the guest) from the ukc cache and checks the "
            "entry's HMAC")],
        ["`KVM_CREATE_VM` → first `KVM_RUN`", ms(p["vm"]), f"{ms(p['setup_ioctls'])} ms in all inside KVM's ioctls "
         "(the VM, its memory slot, the vCPU, its CPUID and registers)"
         + ("; two threads at once: the second makes the VM, the first reads the compiled artifact (x86-64 machine "
            "code for the guest) from the ukc cache, checks the entry's HMAC and fills guest memory (below), then "
            "sets the vCPU's registers" if "made" in p else
            "; the rest is the tender placing the guest kernel and the artifact in guest memory (the first "
            "touches of that memory included: huge-page faults), filling in the IDT and writing the page tables "
            "(W^X: code read+execute, data and stacks no-execute, a guard page under each stack)")],
        *([["of it, second thread: the VM made", ms(p["made"]), "from `KVM_CREATE_VM` to the end of its last KVM "
            "ioctl: the VM, its memory slot, the vCPU and its CPUID (a table of only what the guest uses: asking "
            "KVM for all it supports costs ~0.3 ms here); then it faults in the start of the heap, 2 MiB at a "
            "time, as soon as the first thread has laid out guest memory"],
           ["of it, first thread: guest memory filled", ms(p["filled"]), "from `KVM_CREATE_VM` to its first KVM ioctl "
            "after it (reading the vCPU's clock rate, once the second thread is done): the artifact read and "
            "checked, the guest kernel and the artifact placed in guest memory (the first touches of that "
            "memory included), the IDT filled in and the page tables written (W^X: code read+execute, data and "
            "stacks no-execute, a guard page under each stack; every entry already accessed and dirty, so that "
            "KVM's shadow paging sets no bits and maps neighbouring pages ahead), then, until the VM is made, "
            "whatever start of the heap the second thread has not faulted in yet"]] if "made" in p else []),
        ["first `KVM_RUN` → first `write` to stdout", ms(p["guest"]), f"{ms(p['in_vm'])} ms of it in the VM, over "
         f"{plural(round(p['exits']), 'exit')} to the tender: the guest kernel starts, loads the artifact in place, "
         "instantiates hello and runs its machine code to the first greeting (its runtime arguments are in "
         "guest memory from the start: reading them takes no exit)"],
        ["first `write` → `exit_group`", ms(p["rest"]), "three more greetings, the report, the tender's exit"],
        ["`exit_group` → process gone", ms(p["teardown"]), f"the VM and its memory freed (in-process: "
         f"{ms(p['proc_teardown'])} ms)"],
        ["exec → first `write`, KVM", ms(p["total"]), "the traced boot to first byte"],
        ["exec → first `write`, in-process", ms(p["proc_total"]), "the same, `--isolation=process`, same tracing"],
    ]
    return (
        f"\n\nWhere the warm KVM boot goes: {RUNS} more boots of each ukc-hvt warm runner under `strace -f -ttt -T` "
        "(execve, ioctl, write and exit_group traced), medians of the time between the tender's system "
        "calls. strace slows each traced call, so these add up to more than the untraced times above: "
        f"read them as shares.{thp}\n\n"
        + table(["phase", "median ms", "what happens"], rows, right={1})
    )
