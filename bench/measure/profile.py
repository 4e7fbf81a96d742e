"""Where a running unikernel host spends its CPU, and the paragraph that says so: `perf
record` of its process while a load runs, split into the kernel, the host (the ukc binary
and libc), the guest's own code, and the adapters wasmtime generates between the
components of a composition (the code that copies lists from one component's memory to
another's).

The guest's compiled code is the artifact in the ukc cache's entry (an ELF image after the
entry's MAC), which ukc loads from bytes, not from a mapped file: perf sees anonymous
executable memory (`[JIT] tid PID`) and names it from /tmp/perf-PID.map, which `perf_map`
writes from the artifact's symbols just before the report. Its functions are named
`wasm[M]::function[F]`, M counting the composition's core modules in order and going on
past them with wasmtime's adapter modules.

`Exits` counts a KVM tender's exits from its VM (`KVM_RUN` returning to the tender) with
`perf stat` on the `kvm:kvm_userspace_exit` tracepoint."""

from __future__ import annotations

import re
import shutil
import signal
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .common import CACHE_ENTRY, CACHE_MAC, BenchError

LINE = re.compile(r"^\s*([\d.]+)%\s+(\d+)\s+(\[JIT\] tid \d+|\S+)\s+\[(.)\]\s+(.+?)\s*$")
WASM = re.compile(r"^wasm\[(\d+)\]::(\w+)")
EXIT_EVENT = "kvm:kvm_userspace_exit"


def available() -> bool:
    return shutil.which("perf") is not None


def tracepoint_available() -> bool:
    """Whether perf can count a tender's exits with KVM's tracepoint."""
    return available() and any(
        Path(d, "events/kvm/kvm_userspace_exit").exists() for d in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"))


def exits_available() -> bool:
    """Whether a tender's exits can be counted here: with perf and KVM's tracepoint, or else
    with strace, counting the tender's `KVM_RUN` calls (each returns on one exit)."""
    return tracepoint_available() or shutil.which("strace") is not None


def guest_code(dso: str) -> bool:
    """Whether perf's shared object is the guest's compiled code: the anonymous executable
    memory wasmtime loads it into, or (older ukc) the cache file it mapped."""
    return dso.startswith("[JIT]") or dso.endswith(".cwasm")


@dataclass
class Profile:
    samples: int
    # shares of the samples, 0..1
    kernel: float
    host: float
    guest: float
    adapters: float
    top: list[tuple[float, str, str]]  # (share, symbol, part) of the busiest symbols
    event: str  # what perf sampled on: `cpu-clock` is a timer, `cycles` the CPU's counter
    # samples perf took while the process ran a KVM guest, which its report of the host
    # leaves out: what the listed shares do not add up to
    vm: float = 0.0

    def share(self, part: str) -> float:
        return getattr(self, part)


class Recording:
    """`perf record` of `pid` from construction until `finish()`."""

    def __init__(self, pid: int, out: Path, cache: Path | None = None) -> None:
        """`cache`: the ukc cache the process loaded its unikernel from, for naming its code."""
        self.out, self.pid, self.cache = out, pid, cache
        self.p = subprocess.Popen(
            ["perf", "record", "-F", "999", "-p", str(pid), "-o", str(out), "--", "sleep", "60"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        time.sleep(1)  # perf attaches to the process some hundred ms after it starts


    def finish(self, user_modules: int) -> Profile | None:
        """The profile, or None when perf took no sample (a load too short to catch)."""
        self.p.send_signal(signal.SIGINT)
        try:
            _, err = self.p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise BenchError("perf record did not stop within 30 s")
        if not self.out.exists():
            raise BenchError(f"perf record wrote nothing:\n{err.decode(errors='replace')}")
        named = perf_map(self.pid, self.cache) if self.cache else None
        try:
            return report(self.out, user_modules)
        finally:
            if named:
                named.unlink(missing_ok=True)


class Exits:
    """Counts the exits of `pid`'s VM to its tender, from construction until `count()`:
    with perf's KVM tracepoint where the kernel has it, else with strace (which slows the
    tender's system calls: the runs that count are never the runs that are timed)."""

    def __init__(self, pid: int, out: Path) -> None:
        self.out = out
        self.traced = not tracepoint_available()
        if self.traced:
            self.method = "strace (the tender's `KVM_RUN` calls, each of which returns on one exit)"
            cmd = ["strace", "-f", "-qq", "-e", "trace=ioctl", "-e", "signal=none", "-p", str(pid), "-o", str(out)]
        else:
            self.method = "`perf stat` (`kvm:kvm_userspace_exit`)"
            cmd = ["perf", "stat", "-x,", "-e", EXIT_EVENT, "-p", str(pid), "-o", str(out)]
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)  # perf and strace attach to the process's threads some hundred ms after they start

    def count(self) -> int | None:
        """The exits counted, or None when perf counted nothing."""
        self.p.send_signal(signal.SIGINT)
        try:
            self.p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None
        try:
            lines = self.out.read_text(errors="replace").splitlines()
        except OSError:
            return None
        if self.traced:
            # A call another thread interrupts is split over two lines; its first names it.
            runs = sum(1 for line in lines if "KVM_RUN" in line)
            return runs or None
        for line in lines:
            fields = line.split(",")
            if len(fields) > 2 and fields[2].startswith(EXIT_EVENT) and fields[0].isdigit():
                return int(fields[0])
        return None


def elf_text(image: bytes) -> tuple[bytes, list[tuple[int, int, str]]] | None:
    """The `.text` of a 64-bit little-endian ELF image, and its function symbols as (offset
    in `.text`, size, name); None when `image` is no such file."""
    if image[:6] != b"\x7fELF\x02\x01" or len(image) < 64:
        return None
    shoff, = struct.unpack_from("<Q", image, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", image, 0x3A)
    try:
        heads = [struct.unpack_from("<IIQQQQIIQQ", image, shoff + i * shentsize) for i in range(shnum)]
        names = heads[shstrndx][4]
        name = lambda at: image[at:image.index(b"\0", at)].decode(errors="replace")  # noqa: E731
        text = next(i for i, h in enumerate(heads) if name(names + h[0]) == ".text")
        symtab = next(h for h in heads if h[1] == 2)  # SHT_SYMTAB
    except (struct.error, StopIteration, ValueError, IndexError):
        return None
    strings = heads[symtab[6]][4]
    symbols = []
    for at in range(symtab[4], symtab[4] + symtab[5], 24):
        st_name, info, _, shndx, value, size = struct.unpack_from("<IBBHQQ", image, at)
        if info & 0xF == 2 and shndx == text and size:  # STT_FUNC in .text
            symbols.append((value, size, name(strings + st_name)))
    off, size = heads[text][4], heads[text][5]
    return image[off:off + size], symbols


def perf_map(pid: int, cache: Path) -> Path | None:
    """Writes /tmp/perf-PID.map, where perf looks up the symbols of a process's anonymous
    executable memory: wasmtime copies the `.text` of the artifact it loads byte for byte
    into such a mapping, so the mapping that holds one cache entry's `.text` gets that
    entry's symbols at their addresses. Returns the map written, or None (no match, or a
    map of someone else's already there)."""
    out = Path(f"/tmp/perf-{pid}.map")
    if out.exists():
        return None
    texts = []
    for entry in sorted(cache.glob(CACHE_ENTRY)):
        found = elf_text(entry.read_bytes()[CACHE_MAC:])
        if found and found[0]:
            texts.append(found)
    lines = []
    try:
        maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
        with open(f"/proc/{pid}/mem", "rb") as mem:
            for line in maps:
                parts = line.split()
                if len(parts) != 5 or "x" not in parts[1]:  # anonymous and executable only
                    continue
                start, end = (int(x, 16) for x in parts[0].split("-"))
                mem.seek(start)
                code = mem.read(end - start)
                for text, symbols in texts:
                    at = code.find(text)
                    if at >= 0:
                        lines += [f"{start + at + value:x} {size:x} {name}" for value, size, name in symbols]
                        break
    except OSError:
        return None
    if not lines:
        return None
    out.write_text("\n".join(lines) + "\n")
    return out


def report(data: Path, user_modules: int) -> Profile | None:
    r = subprocess.run(
        ["perf", "report", "-i", str(data), "--no-children", "--sort", "dso,sym", "-g", "none", "--stdio", "-n", "--percent-limit", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60,
    )
    text = r.stdout.decode(errors="replace")
    samples = 0
    parts = {"kernel": 0.0, "host": 0.0, "guest": 0.0, "adapters": 0.0}
    top = []
    for line in text.splitlines():
        hit = LINE.match(line)
        if not hit:
            continue
        pct, dso, kind, sym = float(hit.group(1)) / 100, hit.group(3), hit.group(4), hit.group(5)
        samples += int(hit.group(2))
        wasm = WASM.match(sym)
        if kind == "k" or dso.startswith("[kernel"):
            part = "kernel"
        elif guest_code(dso) and wasm and int(wasm.group(1)) >= user_modules:
            part = "adapters"
        elif guest_code(dso):
            part = "guest"
        else:
            part = "host"
        parts[part] += pct
        top.append((pct, sym if not guest_code(dso) or wasm else f"{dso}:{sym}", part))
    if not top:
        return None
    top.sort(reverse=True)
    m = re.search(r"^# Samples: \S+\s+of event '([^':]+)", text, re.M)
    event = m.group(1) if m else "unknown"
    listed = sum(parts.values())
    samples = round(samples / listed) if 0 < listed < 1 else samples
    vm = max(0.0, 1 - listed)
    vm = vm if vm > 0.02 else 0.0  # rounding of the listed percentages, not a guest
    return Profile(samples, parts["kernel"], parts["host"], parts["guest"], parts["adapters"], top[:5], event, vm)


def core_modules(component: Path) -> int:
    """How many core modules a component binary holds, nested components included: the
    module index at which wasmtime's adapter modules start."""
    return _count(component.read_bytes(), 8)


def _leb(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def _count(data: bytes, i: int) -> int:
    """Core modules in the sections of the component starting at `i` (after its header)."""
    n = 0
    while i < len(data):
        section = data[i]
        size, i = _leb(data, i + 1)
        if section == 1:  # core module
            n += 1
        elif section == 4:  # nested component: its own header, then its sections
            n += _count(data[i:i + size], 8)
        i += size
    return n


def pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def profile_text(prof: Profile | None, what: str, components: str) -> str:
    if prof is None:
        return f"\n\nNo profile of {what}: `perf` is not installed, or took no sample."
    top = ", ".join(f"`{sym}` ({part}) {share * 100:.1f}%" for share, sym, part in prof.top)
    timer = (
        " perf samples on a timer here (event `cpu-clock`: the machine offers no hardware "
        "counter), so kernel time spent with interrupts off is counted where they are turned "
        "back on, in functions such as `_raw_spin_unlock_irqrestore` and `finish_task_switch`."
        if prof.event == "cpu-clock" else ""
    )
    return (
        f"\n\nWhere in-process ukc-hvt's CPU time goes, {what} (`perf record -F 999` of the ukc-hvt "
        f"process in a separate run, {prof.samples:,} samples): kernel {pct(prof.kernel)}, "
        f"host {pct(prof.host)} (the ukc-hvt binary and libc: wasmtime's calls into the host, "
        f"lifting and lowering, `memcpy`, `malloc`), guest {pct(prof.guest)} (the components' "
        f"compiled code: {components}), adapters {pct(prof.adapters)} (the "
        "code wasmtime generates between two components of a composition, which copies every "
        "`list<u8>` from one component's memory to the other's one byte per loop iteration: "
        "`translate_list` in wasmtime-environ 48's `src/fact/trampoline.rs`; they are the "
        "`wasm[M]` modules numbered past the composition's own core modules). Busiest "
        f"symbols: {top}.{timer}"
    )
