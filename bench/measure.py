#!/usr/bin/env python3
"""Measures ukc next to its peers and writes BENCHMARKS.md; driven by bench/run.

Three sections: sizes of components and unikernels (next to a wasm32-wasip2 hello),
compose time (`ukc compose` next to `wac compose` of the same WAC document), and boot of
the hello unikernel under `ukc-unix` (next to the `wasmtime` CLI running the WASI hello),
warm (precompiled) and cold (compiled on every boot).

Every figure is a measurement in this run; ratios compare against a peer measured in the
same run, interleaved run by run so that load from elsewhere on the machine hits both.
Nothing here is an assertion. Standard library only (Python 3.11).
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SCRATCH = Path("target/bench")
TIMEOUT = 20.0  # seconds for any single command; every one here takes milliseconds
GREETING = b"Hello World!\n" * 4


class BenchError(Exception):
    pass


def note(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


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


def peak_rss_via_time(cmd: list[str], env: dict[str, str], scratch: Path) -> int:
    """Peak RSS in KiB of `cmd`, as GNU time reports it (`%M`: ru_maxrss from its own
    wait4). GNU time is a small process; the child's ru_maxrss would otherwise include the
    address space it was spawned from (see `Bench.boot`)."""
    report = scratch / "rss.txt"
    r = subprocess.run(
        [GNU_TIME, "-f", "%M", "-o", str(report), *cmd],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, timeout=TIMEOUT,
    )
    if r.returncode != 0:
        raise BenchError(f"{shlex.join(cmd)} failed under {GNU_TIME} ({r.returncode}):\n{r.stderr.decode(errors='replace')}")
    return int(report.read_text().split()[-1])


# ---------------------------------------------------------------------------------------
# Statistics and formatting


@dataclass
class Series:
    values: list[float] = field(default_factory=list)

    def add(self, v: float) -> None:
        self.values.append(v)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def p10(self) -> float:
        return statistics.quantiles(self.values, n=10, method="inclusive")[0]

    @property
    def p90(self) -> float:
        return statistics.quantiles(self.values, n=10, method="inclusive")[-1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def kib(n: int) -> str:
    return f"{n / 1024:.1f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×"


def table(header: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    right = right if right is not None else set(range(1, len(header)))
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


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


# ---------------------------------------------------------------------------------------
# The benchmarks


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.a = args
        self.runs: int = args.runs
        self.warmup: int = args.warmup
        self.rss_runs: int = args.rss_runs
        self.machine = machine()
        self.facts: dict[str, float] = {}  # figures the interpretation refers to

    def ukc(self, *args: str) -> list[str]:
        return [self.a.ukc, *args]

    # -- a. sizes ---------------------------------------------------------------------

    def sizes(self) -> str:
        out = SCRATCH / "sizes"
        out.mkdir(parents=True)
        comps = sorted(Path("target/components").glob("*.wasm"))
        wasi = Path(self.a.wasi_hello).stat().st_size
        rows = []
        for c in comps:
            size = c.stat().st_size
            peer = ratio_cell = ""
            if c.name == "hello.wasm":
                peer, ratio_cell = f"WASI hello: {wasi:,}", ratio(size, wasi)
            rows.append([f"`{c}`", "component, as built", f"{size:,}", kib(size), peer, ratio_cell])
        unikernels = [
            ("hello", "unix", [], "hello.unix.wasm"),
            ("block", "unix", [], "block.unix.wasm"),
            ("kv-ro", "unix", [], "kv-ro.unix.wasm"),
            ("kv-ro", "hvt", [], "kv-ro.hvt.wasm"),
            ("kv-ro", "unix", ["--use", "ukc:kv/ro=kv-tar"], "kv-ro-tar.unix.wasm"),
        ]
        for app, target, extra, name in unikernels:
            dest = out / name
            cmd = self.ukc("compose", f"target/components/{app}.wasm", "-t", target, *extra, "-q", "-o", str(dest))
            run(cmd)
            size = dest.stat().st_size
            shown = shlex.join(["ukc", "compose", f"{app}.wasm", "-t", target, *extra])
            peer = ratio_cell = ""
            if app == "hello":
                peer, ratio_cell = f"WASI hello: {wasi:,}", ratio(size, wasi)
                self.facts["hello_unikernel"] = size
            rows.append([f"unikernel `{name}`", f"`{shown}`", f"{size:,}", kib(size), peer, ratio_cell])
        rows.append(
            [
                "peer: WASI hello",
                "`bench/wasi-hello`: std, `println!` ×4, wasm32-wasip2, opt-level z, LTO, strip, panic=abort",
                f"{wasi:,}",
                kib(wasi),
                "",
                "",
            ]
        )
        self.facts["wasi_hello"] = wasi
        self.facts["hello_component"] = Path("target/components/hello.wasm").stat().st_size
        wasi_imports = run([self.a.wasm_tools, "component", "wit", self.a.wasi_hello]).stdout.decode()
        self.facts["wasi_imports"] = sum(1 for l in wasi_imports.splitlines() if l.strip().startswith("import "))
        head = (
            "## Sizes\n\n"
            "File sizes in bytes (KiB = 1024 bytes) of the components `cargo build --release` "
            "writes to `target/components`, of the unikernels `ukc compose` makes from them, and "
            "of the peer: the same program (`Hello World!` four times) written as a plain Rust "
            "std program for `wasm32-wasip2`, as the `wasmtime` CLI runs it. "
            f"One measurement (sizes do not vary); {self.machine}.\n\n"
        )
        return head + table(
            ["artifact", "made by", "bytes", "KiB", "peer bytes", "ukc / peer"], rows, right={2, 3, 4, 5}
        )

    # -- b. compose time --------------------------------------------------------------

    def wac_command(self, wac_doc: Path, deps: Path, dest: Path) -> list[str]:
        """The `wac compose` command from the header of the WAC document `ukc compose
        --emit-wac` wrote, with our directories put in."""
        for line in wac_doc.read_text().splitlines():
            line = line.lstrip("/ ").strip()
            if line.startswith("wac compose"):
                words = shlex.split(line)[2:]
                break
        else:
            raise BenchError(f"{wac_doc} has no `wac compose` line in its header")
        cmd = [self.a.wac, "compose"]
        it = iter(words)
        for w in it:
            if w == "--deps-dir":
                next(it)
                cmd += [w, str(deps)]
            elif w in ("-o", "--output"):
                next(it)
                cmd += [w, str(dest)]
            elif w == "THIS_FILE":
                cmd.append(str(wac_doc))
            else:
                cmd.append(w)
        return cmd

    def wit_diff(self, a: Path, b: Path) -> tuple[bool, list[str], list[str]]:
        """Compares two components by their WIT (`wasm-tools component wit`): whether they
        import and export the same interfaces, and the lines only in one or the other,
        ignoring the order type definitions are printed in."""
        wa, wb = (run([self.a.wasm_tools, "component", "wit", str(p)]).stdout.decode() for p in (a, b))
        la, lb = ([l.strip() for l in w.splitlines() if l.strip()] for w in (wa, wb))
        world = lambda ls: sorted(l for l in ls if l.startswith(("import ", "export ")))  # noqa: E731
        only_a = sorted(set(la) - set(lb))
        only_b = sorted(set(lb) - set(la))
        return world(la) == world(lb), only_a, only_b

    def compose(self) -> str:
        out = SCRATCH / "compose"
        deps = out / "deps"
        out.mkdir(parents=True)
        run(self.ukc("drivers", "--export", str(deps)))
        cases = [("kv-ro", "hvt", "kv-tar driver"), ("hello", "unix", "no drivers")]
        timed: list[tuple[str, str, list[str], Path, list[str], Path]] = []
        for app, target, what in cases:
            wac_doc = out / f"{app}.{target}.wac"
            ukc_out = out / f"{app}.{target}.ukc.wasm"
            wac_out = out / f"{app}.{target}.wac.wasm"
            ukc_cmd = self.ukc(
                "compose", f"target/components/{app}.wasm", "-t", target, "-q", "-o", str(ukc_out)
            )
            run([*ukc_cmd, "--emit-wac", str(wac_doc)])
            wac_cmd = self.wac_command(wac_doc, deps, wac_out)
            timed.append((f"{app} for {target} ({what})", app, ukc_cmd, ukc_out, wac_cmd, wac_out))

        note(f"compose: {self.runs} runs of ukc and wac for {len(cases)} compositions")
        series = {(i, tool): Series() for i in range(len(timed)) for tool in ("ukc", "wac")}
        for n in range(self.warmup + self.runs):
            for i, (_, _, ukc_cmd, _, wac_cmd, _) in enumerate(timed):
                # Alternate which tool goes first, so neither always runs on a hotter cache.
                order = [("ukc", ukc_cmd), ("wac", wac_cmd)]
                if n % 2:
                    order.reverse()
                for tool, cmd in order:
                    t = wall(cmd)
                    if n >= self.warmup:
                        series[(i, tool)].add(t)

        rows = []
        shown_cmds = []
        wit_notes: list[str] = []
        for i, (label, app, ukc_cmd, ukc_out, wac_cmd, wac_out) in enumerate(timed):
            u, w = series[(i, "ukc")], series[(i, "wac")]
            for f in (ukc_out, wac_out):
                run([self.a.wasm_tools, "validate", str(f)])
            names, only_u, only_w = self.wit_diff(ukc_out, wac_out)
            if not names:
                same = "**different interfaces**"
            elif only_u or only_w:
                same = "same interfaces, types differ¹"
                wit_notes.append(
                    f"{label}: only in ukc's — {', '.join(f'`{l}`' for l in only_u) or 'nothing'}; "
                    f"only in wac's — {', '.join(f'`{l}`' for l in only_w) or 'nothing'}."
                )
            else:
                same = "identical"
            self.facts[f"compose_{app}_wit"] = same  # type: ignore[assignment]
            for tool, s, f in (("`ukc compose`", u, ukc_out), ("`wac compose`", w, wac_out)):
                rows.append(
                    [
                        label,
                        tool,
                        ms(s.median),
                        ms(s.p10),
                        ms(s.p90),
                        f"{f.stat().st_size:,}",
                        ratio(u.median, w.median) if s is u else "",
                        same if s is u else "",
                    ]
                )
            self.facts[f"compose_{app}_ukc"] = u.median
            self.facts[f"compose_{app}_wac"] = w.median
            self.facts[f"compose_{app}_extra_bytes"] = ukc_out.stat().st_size - wac_out.stat().st_size
            shown_cmds.append(f"    {display(ukc_cmd)}\n    {display(wac_cmd)}")
        head = (
            "## Compose time\n\n"
            "Wall time of the whole process (spawn to exit), in milliseconds, of `ukc compose` "
            "and of `wac compose` (wac-cli) building the same composition from the WAC document "
            "`ukc compose --emit-wac` writes, with the drivers from `ukc drivers --export`. "
            "Outputs of both are checked with `wasm-tools validate` and compared by their WIT "
            "(`wasm-tools component wit`). "
            f"Median, p10 and p90 of {self.runs} runs each after {plural(self.warmup, 'warm-up run')}, "
            f"ukc and wac interleaved; {self.machine}.\n\n"
        )
        cmds = "\n\nThe commands timed:\n\n" + "\n".join(shown_cmds)
        if wit_notes:
            cmds += (
                "\n\n¹ `wasm-tools component wit` of the two outputs, lines present in only one: "
                + " ".join(wit_notes)
                + " ukc gives each platform import the type of the platform's whole interface "
                "(from the `ukc:platform` WIT); wac keeps the type the importing component declared, "
                "which lists only the functions it uses."
            )
        return head + table(
            ["composition", "tool", "median ms", "p10 ms", "p90 ms", "output bytes", "ukc / wac (median)", "WIT"],
            rows,
            right={2, 3, 4, 5, 6},
        ) + cmds

    # -- c. boot ----------------------------------------------------------------------

    def boot(self) -> str:
        out = SCRATCH / "boot"
        cache = out / "ukc-cache"
        out.mkdir(parents=True)
        hello = out / "hello.unix.wasm"
        run(self.ukc("compose", "target/components/hello.wasm", "-t", "unix", "-q", "-o", str(hello)))
        cwasm = out / "hello.cwasm"
        wt = self.a.wasmtime
        run([wt, "compile", "-C", "cache=n", self.a.wasi_hello, "-o", str(cwasm)])

        base = {k: v for k, v in os.environ.items() if k != "UKC_CACHE_DIR"}
        warm_env = {**base, "UKC_CACHE_DIR": str(cache)}
        cold_env = {**base, "UKC_CACHE_DIR": ""}
        ukc_run = [self.a.ukc_unix, str(hello), "--", "--sleep-ms=0"]
        configs = [
            ("ukc warm", "`ukc-unix hello.unix.wasm -- --sleep-ms=0`, compiled artifact in `UKC_CACHE_DIR`", ukc_run, warm_env),
            ("wasmtime warm", "`wasmtime run --allow-precompiled hello.cwasm` (`wasmtime compile` output)",
             [wt, "run", "-C", "cache=n", "--allow-precompiled", str(cwasm)], base),
            ("ukc cold", "`UKC_CACHE_DIR= ukc-unix hello.unix.wasm -- --sleep-ms=0` (compiles every boot)", ukc_run, cold_env),
            ("wasmtime cold", "`wasmtime run -C cache=n wasi-hello.wasm` (compiles every run)",
             [wt, "run", "-C", "cache=n", self.a.wasi_hello], base),
            ("floor: `/bin/echo`", "process spawn and exec alone, for scale", ["/bin/echo", "Hello World!"], base),
        ]

        # The first run fills the ukc cache; check that it did.
        boot(ukc_run, warm_env)
        artifacts = list(cache.glob("*.cwasm")) if cache.is_dir() else []
        if not artifacts:
            raise BenchError(f"ukc-unix did not write a compiled artifact to {cache}")
        self.facts["ukc_cwasm"] = artifacts[0].stat().st_size
        self.facts["ukc_unix_mb"] = Path(self.a.ukc_unix).stat().st_size / 1e6
        self.facts["wasmtime_mb"] = Path(wt).stat().st_size / 1e6
        self.facts["wasmtime_cwasm"] = cwasm.stat().st_size

        note(f"boot: {self.runs} runs of {len(configs)} runners, interleaved")
        fb = {c[0]: Series() for c in configs}
        ex = {c[0]: Series() for c in configs}
        rss: dict[str, list[int]] = {c[0]: [] for c in configs}
        for n in range(self.warmup + self.runs):
            for name, _, cmd, env in configs:
                b = boot(cmd, env)
                if not name.startswith("floor") and b.stdout != GREETING:
                    raise BenchError(f"{shlex.join(cmd)} printed {b.stdout!r}, not {GREETING!r}")
                if n >= self.warmup:
                    fb[name].add(b.first_byte)
                    ex[name].add(b.exit)
                    rss[name].append(b.maxrss_kib)

        # Peak RSS. A child's ru_maxrss counts the address space it was spawned from (exec
        # folds the old mm's high-water mark into the process's maxrss, and Popen vforks
        # this Python process), so os.wait4 here reports at least Python's own RSS for
        # every runner. The RSS runs go through GNU time, a small parent, instead.
        self_rss = resource_self_kib()
        wait4_floor = min(min(v) for v in rss.values())
        if Path(GNU_TIME).is_file():
            rss_how = (
                f"peak RSS: `ru_maxrss` as GNU time (`{GNU_TIME} -f %M`) reports it, median of "
                f"{self.rss_runs} separate runs. (`os.wait4` from this Python script would report "
                f"at least {wait4_floor:,} KiB for every runner, `/bin/echo` included: a child's "
                "`ru_maxrss` includes the address space it was spawned from, here the Python "
                f"process of {self_rss:,} KiB; GNU time is a small parent.)"
            )
            note(f"boot: peak RSS, {self.rss_runs} runs of each under {GNU_TIME}")
            rss = {name: [peak_rss_via_time(cmd, env, out) for _ in range(self.rss_runs)] for name, _, cmd, env in configs}
        else:
            rss_how = (
                "peak RSS: `ru_maxrss` from `os.wait4`, median over the runs — an upper bound: "
                f"{GNU_TIME} is missing, and a child's `ru_maxrss` includes the Python process "
                f"it was spawned from ({self_rss:,} KiB)."
            )

        rows = []
        for name, what, _, _ in configs:
            f, e = fb[name], ex[name]
            r = int(statistics.median(rss[name]))
            rows.append([name, what, ms(f.median), ms(f.p10), ms(f.p90), ms(e.median), ms(e.p10), ms(e.p90), f"{r:,}"])
            key = name.split(":")[0].replace(" ", "_")
            self.facts[f"{key}_fb"] = f.median
            self.facts[f"{key}_exit"] = e.median
            self.facts[f"{key}_rss"] = r

        ratios = []
        for mode in ("warm", "cold"):
            u, w = f"ukc {mode}", f"wasmtime {mode}"
            ratios.append(
                [
                    f"{mode}: ukc / wasmtime",
                    ratio(fb[u].median, fb[w].median),
                    ratio(ex[u].median, ex[w].median),
                    ratio(statistics.median(rss[u]), statistics.median(rss[w])),
                ]
            )
        head = (
            "## Boot to first byte\n\n"
            "The `hello` example under `ukc-unix` next to the WASI hello peer under the `wasmtime` "
            "CLI (wasmtime-cli 48.0.8, the wasmtime version ukc-unix embeds). The ukc hello is a "
            "composition (`ukc compose hello.wasm -t unix`) that sleeps between its four greetings; "
            "here the sleep is set to 0 (`--sleep-ms=0`). *First byte*: from spawning the process "
            "to reading the first byte of its stdout; *exit*: from spawning to reaping it; "
            f"{rss_how} *Warm* loads a precompiled "
            "artifact (ukc's compile cache; `wasmtime compile` output), *cold* compiles the "
            "component with Cranelift on every boot (ukc's cache off; wasmtime's cache off with "
            "`-C cache=n`). Times in milliseconds from Python's `subprocess.Popen`, "
            f"median, p10 and p90 of {self.runs} runs each after {plural(self.warmup, 'warm-up run')}, the "
            f"runners interleaved run by run; {self.machine}.\n\n"
        )
        return (
            head
            + table(
                ["runner", "command", "first byte median", "p10", "p90", "exit median", "p10", "p90", "peak RSS KiB"],
                rows,
                right=set(range(2, 9)),
            )
            + "\n\n"
            + table(["comparison (medians)", "first byte", "exit", "peak RSS"], ratios)
        )

    # -- interpretation ---------------------------------------------------------------

    def interpretation(self) -> str:
        f = self.facts

        def faster(a: float, b: float) -> str:
            return f"{b / a:.1f}× faster" if a < b else f"{a / b:.1f}× slower"

        for app in ("kv-ro", "hello"):
            f[f"compose_{app}_word"] = faster(f[f"compose_{app}_ukc"], f[f"compose_{app}_wac"])  # type: ignore[assignment]

        out = []
        out.append(
            f"- **Size: ukc is smaller.** The hello unikernel is {f['hello_unikernel']:,} bytes "
            f"against {f['wasi_hello']:,} for the WASI peer "
            f"({f['hello_unikernel'] / f['wasi_hello']:.2f}×). The ukc app is built for "
            "`wasm32-unknown-unknown` and imports only the device interfaces it uses, so it carries "
            f"no WASI glue; the peer's std brings {f['wasi_imports']:.0f} WASI interface imports and "
            "the code behind them. Composing adds little: "
            f"{f['hello_unikernel'] - f['hello_component']:,} bytes for hello (the merged manifest "
            "and the wrapping), and a driver adds its own size (kv-tar for kv-ro on hvt)."
        )
        wit_note = (
            "the same WIT"
            if f["compose_kv-ro_wit"] == "identical" and f["compose_hello_wit"] == "identical"
            else "the same imports and exports (for kv-ro on hvt, ukc's import of `ukc:block/block` "
            "carries the whole platform interface, wac's only the functions kv-tar uses)"
            if "types differ" in f["compose_kv-ro_wit"] and f["compose_hello_wit"] == "identical"
            else "WIT as shown in the table"
        )
        out.append(
            f"- **Compose: ukc is {f['compose_kv-ro_word']} than wac** for kv-ro on hvt "
            f"({ms(f['compose_kv-ro_ukc'])} vs {ms(f['compose_kv-ro_wac'])} ms) and "
            f"{f['compose_hello_word']} for hello ({ms(f['compose_hello_ukc'])} vs "
            f"{ms(f['compose_hello_wac'])} ms). Both finish in milliseconds and both encode with "
            "wac-graph, but ukc does more per run: it loads and validates every built-in driver "
            "(used or not), parses the platform WIT, resolves drivers and merges manifests, "
            "while wac is handed the finished graph. The outputs have "
            f"{wit_note}; ukc's are {f['compose_kv-ro_extra_bytes']:,.0f} and "
            f"{f['compose_hello_extra_bytes']:,.0f} bytes larger, mostly its `ukc-unikernel` "
            "section (the merged manifest)."
        )
        out.append(
            f"- **Warm boot: ukc is {faster(f['ukc_warm_fb'], f['wasmtime_warm_fb'])} to first "
            f"byte** ({ms(f['ukc_warm_fb'])} vs {ms(f['wasmtime_warm_fb'])} ms). Spawning "
            f"`/bin/echo` alone takes {ms(f['floor_fb'])} ms here "
            f"({f['floor_fb'] / f['ukc_warm_fb']:.0%} of ukc's warm time); the rest is the host's "
            "own start-up (dynamic linking, engine set-up), loading the precompiled artifact and "
            f"running the guest. `ukc-unix` is a {f['ukc_unix_mb']:.0f} MB binary with only the ukc "
            f"devices; the `wasmtime` CLI is {f['wasmtime_mb']:.0f} MB with WASI and wasmtime's "
            "other default features, and its precompiled peer is larger "
            f"({f['wasmtime_cwasm']:,} vs {f['ukc_cwasm']:,} bytes of `.cwasm`). Peak RSS: "
            f"{f['ukc_warm_rss']:,} KiB vs {f['wasmtime_warm_rss']:,} KiB."
        )
        out.append(
            f"- **Cold boot: ukc is {faster(f['ukc_cold_fb'], f['wasmtime_cold_fb'])}** "
            f"({ms(f['ukc_cold_fb'])} vs {ms(f['wasmtime_cold_fb'])} ms to first byte). Both "
            "compile with Cranelift from the same wasmtime 48, on both cores, and compile time "
            "dominates, so the difference follows the amount of code: "
            f"{f['hello_unikernel']:,} bytes against {f['wasi_hello']:,}. A cold boot costs "
            f"{f['ukc_cold_fb'] / f['ukc_warm_fb']:.0f}× a warm one for ukc; `ukc-unix` keeps "
            "the compiled artifact in its cache, so only the first boot of a given unikernel "
            "is cold."
        )
        out.append(
            "- **Caveats.** Two cores shared with other work: the p10–p90 spread shows the noise, "
            "and the peers are interleaved run by run so that it hits both alike. The programs "
            "are equivalent, not identical: ukc's hello reads its runtime arguments and runs its "
            "sleep loop (0 ms), the peer is a bare `println!` loop. Sizes are those of the "
            "current build; the compose and boot times include process start of each tool."
        )
        return "## What the numbers say\n\n" + "\n".join(out)


def resource_self_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def plural(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def display(cmd: list[str]) -> str:
    """A command as a reader would type it: tools by name, paths relative to the repo."""
    shown = [os.path.basename(cmd[0]), *cmd[1:]]
    return shlex.join(shown)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ukc", required=True)
    ap.add_argument("--ukc-unix", required=True)
    ap.add_argument("--wac", required=True)
    ap.add_argument("--wasm-tools", required=True)
    ap.add_argument("--wasmtime", required=True)
    ap.add_argument("--wasi-hello", required=True)
    ap.add_argument("--out", required=True, help="the markdown file to write")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rss-runs", type=int, default=5, help="runs of each runner for peak RSS")
    args = ap.parse_args()
    if args.runs < 2:
        ap.error("--runs must be at least 2")

    if SCRATCH.exists():
        shutil.rmtree(SCRATCH)
    SCRATCH.mkdir(parents=True)

    b = Bench(args)
    versions = ", ".join(
        first_line(c)
        for c in ([args.ukc, "--version"], [args.wac, "--version"], [args.wasmtime, "--version"], [args.wasm_tools, "--version"])
    )
    started = time.perf_counter()
    try:
        note("sizes")
        sizes = b.sizes()
        compose = b.compose()
        boot_ = b.boot()
        interp = b.interpretation()
    except (BenchError, subprocess.TimeoutExpired) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    intro = (
        "# Benchmarks\n\n"
        "Sizes, compose times and boot times of ukc next to its peers — `wac` for composing, "
        "the `wasmtime` CLI for running — all measured in the same run on the same machine. "
        "These are figures, not pass/fail checks. To reproduce: `cargo build --release`, then "
        "`./bench/run` (it installs wasmtime-cli 48.0.8 into `target/peers` when missing, builds "
        "the WASI peer in `bench/wasi-hello`, uses `target/bench` as scratch space and "
        "overwrites this file).\n\n"
        f"Tools: {versions}."
    )
    doc = "\n\n".join([intro, sizes, compose, boot_, interp]) + "\n"
    Path(args.out).write_text(doc)
    print(doc, end="")
    note(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
