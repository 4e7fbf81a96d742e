"""The closing section: what the numbers say, written from the figures the other sections
left in `Context.facts`."""

from __future__ import annotations

from . import kvmdoc, netdoc, wasidoc
from .common import Context
from .report import faster, ms

REQUESTS = (4096, 65536, 1048576)


def interpretation(ctx: Context) -> str:
    f = ctx.facts
    for app in ("kv-ro", "hello"):
        f[f"compose_{app}_word"] = faster(f[f"compose_{app}_ukc"], f[f"compose_{app}_wac"])  # type: ignore[assignment]

    out = []
    out.append(
        f"- **Size: on its own targets ukc is smaller.** The hello unikernel for unix is {f['hello_unikernel']:,} bytes "
        f"against {f['wasi_hello']:,} for the WASI peer "
        f"({f['hello_unikernel'] / f['wasi_hello']:.2f}×). The ukc app is built for "
        "`wasm32-unknown-unknown` and imports only the device interfaces it uses, so it carries "
        f"no WASI glue; the peer's std brings {f['wasi_imports']:.0f} WASI interface imports and "
        "the code behind them. Composing adds little: "
        f"{f['hello_unikernel'] - f['hello_component']:,} bytes for hello (the merged manifest "
        "and the wrapping), and a driver adds its own size (kv-tar for kv-ro on hvt)."
    )
    out += kvmdoc.size_bullets(f)
    out += wasidoc.size_bullets(f)
    wit_note = (
        "the same WIT"
        if f["compose_kv-ro_wit"] == "identical" and f["compose_hello_wit"] == "identical"
        else "the same imports and exports (for kv-ro on hvt, ukc's import of `ukc:block/block` "
        "carries the whole platform interface, wac's only the functions kv-tar uses)"
        if "types differ" in f["compose_kv-ro_wit"] and f["compose_hello_wit"] == "identical"
        else "WIT as shown in the table"
    )
    out.append(
        f"- **Compose, against wac: ukc is {f['compose_kv-ro_word']}** for kv-ro on hvt "
        f"({ms(f['compose_kv-ro_ukc'])} vs {ms(f['compose_kv-ro_wac'])} ms) and "
        f"{f['compose_hello_word']} for hello ({ms(f['compose_hello_ukc'])} vs "
        f"{ms(f['compose_hello_wac'])} ms). Both finish in milliseconds and both encode with "
        "wac-graph, but ukc does more per run: it validates the application, reads the "
        "imports, exports and manifest of every built-in driver (used or not), resolves "
        "drivers, merges manifests and type-checks the links against the platform's WIT "
        "(parsed when ukc was built), while wac is handed the finished graph. The outputs have "
        f"{wit_note}; ukc's are {f['compose_kv-ro_extra_bytes']:,.0f} and "
        f"{f['compose_hello_extra_bytes']:,.0f} bytes larger, mostly its `ukc-unikernel` "
        "section (the merged manifest)."
    )
    out.append(
        f"- **Warm boot: ukc-unix is {faster(f['ukc_warm_fb'], f['wasmtime_warm_fb'])} to first "
        f"byte** ({ms(f['ukc_warm_fb'])} vs {ms(f['wasmtime_warm_fb'])} ms). Spawning "
        f"`/bin/echo` alone takes {ms(f['floor_fb'])} ms here "
        f"({f['floor_fb'] / f['ukc_warm_fb']:.0%} of ukc's warm time); the rest is the host's "
        "own start-up (dynamic linking, engine set-up), loading the precompiled artifact and "
        f"running the guest. `ukc-unix` is a {f['ukc_unix_mb']:.0f} MB binary with only the ukc "
        f"devices; the `wasmtime` CLI is {f['wasmtime_mb']:.0f} MB with WASI and wasmtime's "
        "other default features, and its precompiled peer is larger "
        f"({f['wasmtime_cwasm']:,} vs {f['ukc_cwasm']:,} bytes of compiled artifact). Peak RSS: "
        f"{f['ukc_warm_rss']:,} KiB vs {f['wasmtime_warm_rss']:,} KiB."
    )
    out.append(
        f"- **Cold boot: ukc-unix is {faster(f['ukc_cold_fb'], f['wasmtime_cold_fb'])}** "
        f"({ms(f['ukc_cold_fb'])} vs {ms(f['wasmtime_cold_fb'])} ms to first byte). Both "
        "compile with Cranelift from the same wasmtime 48, on both cores, and compile time "
        "dominates, so the difference follows the amount of code: "
        f"{f['hello_unikernel']:,} bytes against {f['wasi_hello']:,}. A cold boot costs "
        f"{f['ukc_cold_fb'] / f['ukc_warm_fb']:.0f}× a warm one for ukc; `ukc-unix` keeps "
        "the compiled artifact in its cache, so only the first boot of a given unikernel "
        "is cold."
    )
    out += wasidoc.boot_bullets(f)
    out.append(kvmdoc.hvt_boot(f))
    out += kvmdoc.boot_bullets(f)
    out += blocks(f)
    out += kvmdoc.block_bullets(f)
    net = netdoc.bullets(f)  # its last bullet is the network's caveats
    out += net[:-1] + kvmdoc.net_bullets(f) + net[-1:]
    out.append(
        "- **Caveats.** Two cores shared with other work: the p10–p90 spread shows the noise, "
        "and the peers are interleaved run by run so that it hits both alike. The programs "
        "are equivalent, not identical: ukc's hello reads its runtime arguments and runs its "
        "sleep loop (0 ms), the peer is a bare `println!` loop. Sizes are those of the "
        "current build; the compose and boot times include process start of each tool. The "
        f"block figures are of the page cache, not the disk, from {f['block_runs']:.0f} runs "
        "each on a shared machine: read the range columns next to the medians."
        + (f" The KVM figures are those of this machine's KVM, {kvmdoc.kvm_kind().split(' (')[0]}: what "
           "creating a VM, an exit and a guest page fault cost depends on the host's virtualization"
           + (", and would differ on bare metal with hardware virtualization (VMX or SVM)."
              if "pvm" in kvmdoc.kvm_kind() else ".") if f.get("hvt_kvm") else "")
    )
    return "## What the numbers say\n\n" + "\n".join(out)


class BlockFacts:
    """Lookups into the figures `blocks.measure` left."""

    def __init__(self, f: dict[str, float]) -> None:
        self.f = f

    def mbps(self, runner: str, request: int, phase: str, sector: int = 512) -> float:
        return self.f[f"block_{runner}_{request}_{sector}_{phase}_mbps"]

    def shown(self, runner: str, request: int, phase: str, sector: int = 512) -> str:
        return f"{self.mbps(runner, request, phase, sector):,.0f}"

    def vs(self, runner: str, request: int, phase: str, sector: int = 512) -> float:
        return self.mbps(runner, request, phase, sector) / self.mbps("native", request, phase, sector)

    def extra(self, phase: str, request: int) -> float:
        """Seconds per request ukc-hvt spends over native."""
        return self.f[f"block_extra_{phase}_{request}"]

    def native(self, phase: str, request: int) -> float:
        return self.f[f"block_native_{phase}_{request}"]

    def memcpy(self, request: int) -> float:
        return self.f[f"block_memcpy_{request}"]

    def call(self, request: int) -> float:
        return self.f[f"block_call_{request}"]


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f}"


def blocks(f: dict[str, float]) -> list[str]:
    b = BlockFacts(f)
    sizes = ", ".join(
        f"{label}: {b.vs('ukc-hvt', r, 'write'):.2f}× write, {b.vs('ukc-hvt', r, 'read'):.2f}× read"
        for label, r in (("4 KiB", 4096), ("64 KiB", 65536), ("1 MiB", 1048576))
    )
    out = [
        "- **Block I/O through ukc-hvt against the native loop** (throughput as a fraction of "
        f"native's): {sizes}. With 64 KiB requests ukc-hvt writes "
        f"{b.shown('ukc-hvt', 65536, 'write')} MB/s and reads {b.shown('ukc-hvt', 65536, 'read')} "
        f"MB/s (native {b.shown('native', 65536, 'write')} and {b.shown('native', 65536, 'read')}). "
        "The table of requests splits ukc-hvt's extra time into what each call costs and what "
        "each byte costs."
    ]
    out.append(small_requests(b))
    out.append(large_requests(b))

    ratios = [
        b.mbps("ukc-hvt", r, p) / b.mbps("ukc-unix", r, p) for r in REQUESTS for p in ("write", "read")
    ]
    out.append(
        "- **ukc-hvt and ukc-unix run the same block code** (`host-common/src/block.rs`, the "
        "same guest, both in-process): their throughput ratio (hvt / unix) over the six "
        f"write and read medians ranges from {min(ratios):.2f}× to {max(ratios):.2f}×; compare "
        "the range columns for how much of that is run-to-run noise."
    )
    flushes = [f[f"block_{r}_{q}_512_flush"] for r in ("native", "ukc-hvt", "ukc-unix") for q in REQUESTS]
    resident = (
        f"(`fincore`: {f['block_resident_mib']:.0f} MiB of 64 resident after the runs)"
        if f["block_resident_mib"] >= 0
        else "(residency not measured: `fincore` missing)"
    )
    out.append(
        "- **Sector size and flush.** 4096-byte sectors with 4 KiB requests give ukc-hvt "
        f"{b.shown('ukc-hvt', 4096, 'write', 4096)} MB/s writing and "
        f"{b.shown('ukc-hvt', 4096, 'read', 4096)} MB/s reading "
        f"({b.vs('ukc-hvt', 4096, 'write', 4096):.2f}× and {b.vs('ukc-hvt', 4096, 'read', 4096):.2f}× "
        f"native in the same runs), against {b.shown('ukc-hvt', 4096, 'write')} and "
        f"{b.shown('ukc-hvt', 4096, 'read')} MB/s with 512-byte sectors: the sector size only "
        "changes the host's alignment check; the request size is what matters. The flush "
        f"(one `fdatasync` of 64 MiB) takes {ms(min(flushes))}–{ms(max(flushes))} ms "
        "(medians) whoever calls it: the disk's time, the same system call on every runner. "
        f"Reads come from the page cache {resident}, so no read figure includes the disk."
    )
    return out


def small_requests(b: BlockFacts) -> str:
    ew, er, m, call = b.extra("write", 4096), b.extra("read", 4096), b.memcpy(4096), b.call(4096)
    if min(ew, er) <= 0:
        return (
            "- **Small requests:** in this run ukc-hvt was not measurably slower than native at "
            "4 KiB in one of the phases (see the table of requests): the noise exceeded the "
            "difference."
        )
    not_copy = (
        "so copying the data is not what costs: the cost comes with each call"
        if min(ew, er) / m >= 5
        else "so the copying is a visible part of it"
    )
    return (
        "- **Small requests pay per call.** In the fastest runs (table of requests), at 4 KiB "
        f"ukc-hvt spends {us(ew)} µs more than native per write and {us(er)} µs more per read, "
        f"{ew / m:.0f}× and {er / m:.0f}× what "
        f"copying the 4 KiB costs ({us(m)} µs), {not_copy}. A bare call across the boundary "
        f"(`info`, no data) costs {us(call)} µs, {call / ew:.0%} of the write's extra and "
        f"{call / er:.0%} of the read's. The rest goes with what a data call does beyond a "
        "bare one, once per call: wasmtime lifts the `list<u8>` argument of `write` into a "
        "freshly allocated host `Vec`; for `read` the host allocates and zeroes a `Vec` "
        "(`host-common/src/block.rs`), then wasmtime calls back into the guest's "
        "`cabi_realloc` to place the result, which the guest later frees. The system call "
        f"itself is in both: native needs {us(b.native('write', 4096))} µs per 4 KiB `pwrite` "
        f"and {us(b.native('read', 4096))} µs per `pread`."
    )


def large_requests(b: BlockFacts) -> str:
    big = {r: (b.extra("write", r) / b.memcpy(r), b.extra("read", r) / b.memcpy(r)) for r in (65536, 1048576)}
    more = (
        " — more than those copies alone would take in isolation, here"
        if max(big[1048576]) > 4
        else ""
    )
    return (
        "- **Large requests pay per byte.** At 1 MiB the extra is "
        f"{us(b.extra('write', 1048576))} µs per write and {us(b.extra('read', 1048576))} µs per "
        f"read, {big[1048576][0]:.1f}× and {big[1048576][1]:.1f}× the time of one memcpy of 1 MiB "
        f"({us(b.memcpy(1048576))} µs), while the bare call is {us(b.call(1048576))} µs: the "
        "extra grows with the bytes, and it is the copying. The component model passes "
        "`list<u8>` by copy: per write wasmtime copies the data out of guest memory into a "
        "fresh host `Vec` before `pwrite` copies it into the page cache (native `pwrite`s "
        "straight from its buffer); per read the host zeroes a fresh `Vec`, `pread` fills it "
        f"and wasmtime copies it into guest memory{more}. The block interface has no way to "
        "lend a guest buffer to the host. 64 KiB sits between: the extra is "
        f"{us(b.extra('write', 65536))} and {us(b.extra('read', 65536))} µs "
        f"({big[65536][0]:.1f}× and {big[65536][1]:.1f}× a memcpy of 64 KiB) next to native's own "
        f"{us(b.native('write', 65536))} and {us(b.native('read', 65536))} µs per request. "
        "Copying is dearer per byte at 1 MiB than at 64 KiB on this machine (memcpy at "
        f"{65536 / b.memcpy(65536) / 1e9:.1f} vs {1048576 / b.memcpy(1048576) / 1e9:.1f} GB/s), "
        "so the copies weigh more in the largest requests."
    )
