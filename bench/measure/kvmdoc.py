"""The bullets of "What the numbers say" about ukc-hvt: in its own process next to
ukc-unix, and in a KVM micro-VM (its guest kernel's size, boot, block I/O, network), from
the figures the sections left in `Context.facts`."""

from __future__ import annotations

from pathlib import Path

from .netdoc import times
from .report import ms, plural

GOAL = 0.003  # seconds: an older goal for a warm boot to first byte in KVM, in absolute time
BOOT_RATIO = 1.5  # the goal of issue 10 for the same boot: at most this many times the in-process boot's
PULLEY_KERNEL = 1_136_360  # bytes: the guest kernel with the Pulley interpreter, the last before machine code


def kvm_kind() -> str:
    """Which KVM this machine has, as far as sysfs and /proc/cpuinfo tell."""
    try:
        flags = next((l for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("flags")), "").split()
    except OSError:
        flags = []
    if Path("/sys/module/kvm_pvm").exists():
        hw = "vmx" in flags or "svm" in flags
        return ("kvm_pvm (the `kvm_pvm` module is loaded"
                + ("" if hw else " and /proc/cpuinfo lists neither vmx nor svm: the machine is itself a VM, and "
                   "PVM runs guests without hardware virtualization, switching address spaces in software")
                + ")")
    for mod in ("kvm_intel", "kvm_amd"):
        if Path(f"/sys/module/{mod}").exists():
            return mod
    return "KVM"


def overlap(f: dict, a: str, b: str) -> bool:
    """Whether the p10–p90 ranges of two runners' first-byte times overlap."""
    return f[f"{a}_fb_p10"] <= f[f"{b}_fb_p90"] and f[f"{b}_fb_p10"] <= f[f"{a}_fb_p90"]


def size_bullets(f: dict) -> list[str]:
    if "kernel_bytes" not in f:
        return []
    stripped = (f", {f['kernel_stripped']:,} stripped ({f['kernel_stripped'] / f['kernel_bytes']:.0%}: the "
                "rest is what strip removes: symbols and any debug sections)" if "kernel_stripped" in f else "")
    return [
        f"- **The guest kernel is {f['kernel_bytes']:,} bytes**{stripped}, {f['kernel_share']:.1%} of the "
        f"{f['ukc_hvt_mb']:.0f} MB `ukc-hvt` that embeds it: wasmtime's no_std runtime with the "
        "component model for `x86_64-unknown-none`, with no compiler and no interpreter: it "
        "loads in place the machine code the host compiled for it (Cranelift, x86-64-v2, "
        "explicit bounds and trap checks instead of signals). "
        + (f"That is {PULLEY_KERNEL - f['kernel_bytes']:,} bytes ({1 - f['kernel_bytes'] / PULLEY_KERNEL:.0%}) "
           f"less than the kernel with the Pulley interpreter ({PULLEY_KERNEL:,}). "
           if f["kernel_bytes"] <= PULLEY_KERNEL else
           f"That is {f['kernel_bytes'] - PULLEY_KERNEL:,} bytes more than the kernel with the Pulley "
           f"interpreter ({PULLEY_KERNEL:,}). ")
        + "Every KVM boot copies it into the VM's memory."
    ]


def hvt_boot(f: dict) -> str:
    warm, cold = f["ukc_hvt_warm_fb"] / f["ukc_warm_fb"], f["ukc_hvt_cold_fb"] / f["ukc_cold_fb"]
    both = overlap(f, "ukc_hvt_warm", "ukc_warm") and overlap(f, "ukc_hvt_cold", "ukc_cold")
    verdict = (
        "the p10–p90 ranges overlap, so the two hosts boot alike within this run's noise"
        if both
        else "the p10–p90 ranges do not all overlap; see the table for which"
    )
    return (
        f"- **Boot under ukc-hvt in-process{': like ukc-unix' if both else ''}.** {ms(f['ukc_hvt_warm_fb'])} ms "
        f"warm and {ms(f['ukc_hvt_cold_fb'])} ms cold to first byte, against ukc-unix's "
        f"{ms(f['ukc_warm_fb'])} and {ms(f['ukc_cold_fb'])} ms ({warm:.2f}× and {cold:.2f}×); "
        f"{verdict} (p10, the fastest tenth: {ms(f['ukc_hvt_warm_fb_p10'])} vs "
        f"{ms(f['ukc_warm_fb_p10'])} ms warm, {ms(f['ukc_hvt_cold_fb_p10'])} vs "
        f"{ms(f['ukc_cold_fb_p10'])} ms cold). Both binaries are the same launcher over the "
        "shared devices of `host-common`; `ukc-unix` adds kv stores on directories and TCP/IP "
        "on the host's sockets, `ukc-hvt` has `solo5-hvt`'s command line and the guest kernel "
        f"({f['ukc_hvt_mb']:.0f} vs {f['ukc_unix_mb']:.0f} MB). hello needs no driver on "
        f"either target, so the unikernels are near twins ({f['hello_hvt_unikernel']:,} vs "
        f"{f['hello_unikernel']:,} bytes; {f['ukc_hvt_cwasm']:,} vs {f['ukc_cwasm']:,} bytes "
        f"compiled). Peak RSS {f['ukc_hvt_warm_rss']:,} vs {f['ukc_warm_rss']:,} KiB warm. "
        + ("With `--isolation=process` ukc-hvt runs the unikernel in its own process like "
           "ukc-unix does: there is no VM to create (the KVM rows are the next bullet)."
           if f.get("hvt_isolation") else "This ukc-hvt has no KVM mode.")
    )


def boot_bullets(f: dict) -> list[str]:
    if not f.get("hvt_kvm"):
        return []
    fb, p10, p90 = f["ukc_hvt_kvm_warm_fb"], f["ukc_hvt_kvm_warm_fb_p10"], f["ukc_hvt_kvm_warm_fb_p90"]
    proc = f["ukc_hvt_warm_fb"]
    met = "met" if fb / proc <= BOOT_RATIO else "not met"
    old = ("met: the median is within it" if fb <= GOAL else
           "met only by the fastest boots (p10)" if p10 <= GOAL else "not met: even the fastest tenth (p10) is above it")
    kc, pc = f["ukc_hvt_kvm_cwasm"], f["ukc_hvt_cwasm"]
    size = (f"{kc:,} bytes of artifact against {pc:,} in-process, {times(kc / pc)}: in the VM the bounds and "
            "trap checks are explicit code, where in-process wasmtime relies on guard pages and signals"
            if kc > pc else f"{kc:,} bytes of artifact against {pc:,} in-process")
    out = [
        f"- **Boot in a KVM micro-VM: {ms(fb)} ms warm to first byte, {times(fb / proc)} the in-process "
        f"boot's {ms(proc)} ms; the goal of ≤ {BOOT_RATIO}× is {met}** ({ms(fb - proc)} ms more; p10 "
        f"{ms(p10)}, p90 {ms(p90)} ms; spawning `/bin/echo` alone takes {ms(f['floor_fb'])} ms here; the "
        f"older goal of ≤ 3 ms in absolute time is {old}). KVM here is "
        f"{kvm_kind()}. Cold, {ms(f['ukc_hvt_kvm_cold_fb'])} ms against {ms(f['ukc_hvt_cold_fb'])} in-process: "
        "the host compiles with Cranelift either way, for the VM to machine code for "
        f"`x86_64-unknown-none` at the x86-64-v2 level ({size}). "
        f"Peak RSS {f['ukc_hvt_kvm_warm_rss']:,} KiB against {f['ukc_hvt_warm_rss']:,}: the guest memory "
        "the VM touched is the tender's own, in huge pages (below)."
    ]
    p = f.get("kvm_phases")
    if p:
        added_ms = f["ukc_hvt_kvm_warm_fb"] - f["ukc_hvt_warm_fb"]
        thp = (f" Page faults: {p['thp']:.1f} transparent huge pages are faulted in per boot (2 MiB each, "
               "zeroed on first touch), and the tender's minor page faults are about the in-process "
               f"boot's ({f['ukc_hvt_kvm_warm_faults']:,} vs {f['ukc_hvt_warm_faults']:,}): the tender asks for "
               "huge pages for the kernel, the artifact and the start of the heap, so that the first "
               "touches of guest memory take a few 2 MiB faults instead of thousands of 4 KiB ones "
               "(each a fault the host has to serve before the guest goes on)."
               + (f" At the {p['huge'] * 1e6:,.0f} µs a huge-page fault costs a process here, the "
                  f"{p['thp']:.0f} huge pages are about {p['thp'] * p['huge'] * 1e3:.2f} ms of the boot, "
                  + (f"{p['thp'] * p['huge'] / added_ms:.0%} of what KVM adds untraced " if added_ms > 0 else "")
                  + f"(in 4 KiB pages the same memory would cost "
                  f"{p['thp'] * 512 * p['small'] * 1e3:.1f} ms; the slowest of the 8 huge-page faults "
                  f"measured took {p['huge_max'] * 1e3:.2f} ms)." if "huge" in p else "")
               + " What the guest's own page faults cost inside the VM, this run cannot split out "
               "of the set-up and guest phases." if p["thp"] >= 0 else "")
        added = {"making the VM and filling its memory": p["vm"], "the guest's run to its first greeting": p["guest"],
                 "the tender's start": p["pre"] - p["proc_total"]}
        largest = max(added, key=added.get)
        two = (f" (two threads at once: the VM made in {ms(p['made'])} ms on one, the artifact read and guest "
               f"memory filled in {ms(p['filled'])} ms on the other)" if "made" in p else "")
        out.append(
            "- **Where the KVM boot goes** (traced boots, table under the boot section): the tender's "
            + ("start up to `KVM_CREATE_VM` " if "made" in p else "start and the artifact from the cache ")
            + f"{ms(p['pre'])} ms; making the VM and filling its memory {ms(p['vm'])} ms{two}, "
            f"{ms(p['setup_ioctls'])} ms inside KVM's ioctls (the VM, its memory slot, the vCPU); the guest "
            "from its first instruction to the first greeting "
            f"{ms(p['guest'])} ms ({ms(p['in_vm'])} ms in the VM, {plural(round(p['exits']), 'exit')}); teardown "
            f"{ms(p['teardown'])} ms against {ms(p['proc_teardown'])} in-process. Under the same tracing the "
            f"in-process boot reaches its first byte in {ms(p['proc_total'])} ms, the KVM boot in "
            f"{ms(p['total'])}; of what KVM adds, {largest} is the largest part. The guest phase "
            "covers the kernel's start, loading the artifact in place and instantiating hello "
            "(the kernel's code) and hello itself up to its first greeting (the artifact's "
            "machine code)." + thp
        )
    return out


def block_bullets(f: dict) -> list[str]:
    if "block_kvm_call_4096" not in f:
        return []
    mb = lambda r, q, p: f[f"block_{r}_{q}_512_{p}_mbps"]  # noqa: E731
    pr = ", ".join(f"{label}: {mb('ukc-hvt-kvm', q, 'write') / mb('ukc-hvt', q, 'write'):.2f}× write, "
                   f"{mb('ukc-hvt-kvm', q, 'read') / mb('ukc-hvt', q, 'read'):.2f}× read"
                   for label, q in (("4 KiB", 4096), ("64 KiB", 65536), ("1 MiB", 1048576)))
    call, kcall = f["block_call_4096"], f["block_kvm_call_4096"]
    xw = f["block_kvm_write_1048576"] - f["block_hvt_write_1048576"]
    xr = f["block_kvm_read_1048576"] - f["block_hvt_read_1048576"]
    return [
        f"- **Block I/O in the KVM VM pays an exit per device request, and the guest kernel makes few "
        f"of them** (throughput as a fraction of in-process ukc-hvt's: {pr}). A bare `info` call costs "
        f"{kcall * 1e6:.1f} µs in the VM against {call * 1e6:.2f} µs in-process ({kcall / call:.0f}×): it "
        "leaves the VM (a port write), returns from `KVM_RUN` to the tender, which serves it and re-enters "
        "the VM. Were every 4 KiB request such an exit, it would be most of the request; the guest kernel's "
        "block cache gathers continuing writes into runs of 256 KiB and reads 256 KiB ahead, so that 64 "
        f"requests share one exit: a 4 KiB request takes {f['block_kvm_write_4096'] * 1e6:.1f} µs to write "
        f"and {f['block_kvm_read_4096'] * 1e6:.1f} µs to read in the VM (native "
        f"{f['block_native_write_4096'] * 1e6:.2f} and {f['block_native_read_4096'] * 1e6:.2f}). At 1 MiB "
        f"each request is one exit and the VM moves {mb('ukc-hvt-kvm', 1048576, 'write'):,.0f} and "
        f"{mb('ukc-hvt-kvm', 1048576, 'read'):,.0f} MB/s, "
        + " and ".join(f"{x * 1e6:,.0f} µs per {p} more than in-process" if x > 0 else
                       f"{-x * 1e6:,.0f} µs per {p} less than in-process"
                       for p, x in (("write", xw), ("read", xr)))
        + f" (fastest runs) against one exit's {kcall * 1e6:.0f} µs. The tender reads and writes the "
        "file straight from and into guest memory, and the guest kernel reads written data in place from "
        "the unikernel's memory; a read's data is still copied once inside the VM, into the unikernel's "
        "memory, by wasmtime's lowering."
    ]


def net_exits(f: dict) -> dict[str, float]:
    """Exits to the tender per request (each page) and per frame and per MB echoed, from the
    separate counted runs of the KVM servers; empty where they were not counted."""
    c, out = f.get("net_kvm_exits", {}), {}
    for page in ("index.html", "img/photo.bin"):
        if page in c:
            out[f"{page}_per_request"] = c[page]["exits"] / c[page]["requests"]
            out[f"{page}_frames_per_request"] = c[page]["frames"] / c[page]["requests"]
    if "echo" in c:
        e = c["echo"]
        out["echo_per_mb"] = e["exits"] / e["bytes"] * 1e6
        if e["frames"]:
            out["echo_per_frame"] = e["exits"] / e["frames"]
    return out


def net_bullets(f: dict) -> list[str]:
    if "net_web" not in f or ("ukc-hvt-kvm", "index.html") not in f["net_web"]:
        return []
    w, b = f["net_web"], f["net_bulk"]
    m, uk, u = b["median"], b["usage"]["ukc-hvt-kvm"], b["usage"]["ukc-hvt"]
    pk = b["profiles"].get("ukc-hvt-kvm")
    frames_k, frames = uk["frames_read"] + uk["frames_written"], u["frames_read"] + u["frames_written"]
    ck, c = uk["cpu_user"] + uk["cpu_sys"], u["cpu_user"] + u["cpu_sys"]
    per_k, per = ck / frames_k, c / frames
    web = lambda s, pg, k: w[(s, pg)][k]  # noqa: E731
    small, big = "index.html", "img/photo.bin"
    exit_ = f.get("block_kvm_call_4096")
    x = net_exits(f)
    if x and exit_:
        cpu_req = web("ukc-hvt-kvm", small, "cpu") / web("ukc-hvt-kvm", small, "rps")
        parts = []
        if f"{small}_per_request" in x:
            parts.append(f"{x[small + '_per_request']:.1f} times per 1 KiB request "
                         f"({x[small + '_frames_per_request']:.1f} frames on tap0 per request; "
                         f"{x[small + '_per_request'] * exit_ / cpu_req:.0%} of the KVM server's "
                         f"{cpu_req * 1e6:,.0f} µs of CPU per request)")
        if "echo_per_frame" in x:
            parts.append(f"{x['echo_per_frame']:.2f} times per echoed frame "
                         f"({x['echo_per_frame'] * exit_ / per_k:.0%} of its CPU per frame)")
        counter = f.get("exit_counter", "`perf stat` (`kvm:kvm_userspace_exit`)")
        exits = (f" In separate runs counted with {counter}, the VM exits to the "
                 f"tender {' and '.join(parts)}, at the {exit_ * 1e6:.0f} µs a bare exit costs here (a block "
                 "`info` call in the VM); the rest is time inside the VM, which the host's view does not "
                 "break down." if parts else "")
    elif exit_:
        exits = (f" Were every frame an exit of its own, at the {exit_ * 1e6:.0f} µs a bare block call costs in "
                 f"the VM that would be {exit_ / per_k:.0%} of it; frames are batched through queues both ways, "
                 "so less; exits were not counted in this run (neither perf's `kvm:kvm_userspace_exit` "
                 "tracepoint nor strace here).")
    else:
        exits = ""
    in_vm = f"; {pk.vm:.0%} of the process's perf samples fall inside the VM" if pk else ""
    return [
        f"- **Network in the KVM VM against in-process: {times(web('ukc-hvt-kvm', small, 'rps') / web('ukc-hvt', small, 'rps'))} "
        f"the request rate for the 1 KiB page, {times(web('ukc-hvt-kvm', big, 'rps') / web('ukc-hvt', big, 'rps'))} "
        f"for the 64 KiB file, {times(m['ukc-hvt-kvm'] / m['ukc-hvt'])} the TCP echo rate.** "
        f"{web('ukc-hvt-kvm', small, 'rps'):,.0f} requests/s for the 1 KiB page (in-process "
        f"{web('ukc-hvt', small, 'rps'):,.0f}) and {web('ukc-hvt-kvm', big, 'mibps'):,.1f} MiB/s for the 64 KiB "
        f"file (in-process {web('ukc-hvt', big, 'mibps'):,.1f}; p50 {web('ukc-hvt-kvm', big, 'p50') * 1e3:,.0f} ms; "
        f"wrk socket errors {w[('ukc-hvt-kvm', small)]['errors_detail']} and "
        f"{w[('ukc-hvt-kvm', big)]['errors_detail']}), TCP echo {m['ukc-hvt-kvm']:,.1f} MB/s (in-process "
        f"{m['ukc-hvt']:,.1f}). Each echoed frame costs {per_k * 1e6:,.1f} µs of CPU against {per * 1e6:.1f} "
        f"in-process, {uk['cpu_user'] / ck:.0%} of it user time (time in the guest counts as the process's "
        f"user time){in_vm}." + exits
    ]
