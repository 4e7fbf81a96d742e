"""Section g: the soak. The static website under wrk for a minute on each host (ukc-hvt in
process and in KVM through the tcpip driver over a tap, ukc-unix on the host's sockets),
with the server's resident memory sampled every second: errors must stay at zero and the
memory flat once warm."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

from .common import SCRATCH, Context, note, run
from .netns import Lab
from .network import make_site, missing, parse_wrk, server_modes, start
from .netdoc import load, shown
from .report import table

WARM_UP = 10  # seconds of load before the memory counts as warm
LABEL = {"ukc-hvt": "ukc-hvt in-process", "ukc-hvt-kvm": "ukc-hvt KVM (micro-VM)", "ukc-unix": "ukc-unix"}


def rss_kib(pid: int) -> int | None:
    """The resident memory of `pid` in KiB, or None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def measure(ctx: Context) -> str:
    seconds = ctx.a.soak_seconds
    why = missing()
    if why or seconds <= WARM_UP:
        reason = why or f"--soak-seconds={seconds} leaves no time after the {WARM_UP} s warm-up"
        note(f"soak: skipped: {reason}")
        return f"## Soak\n\nSkipped: {reason}."
    started = load()
    out = (SCRATCH / "soak").resolve()
    out.mkdir(parents=True)
    env = {**os.environ, "UKC_CACHE_DIR": str(out / "ukc-cache")}
    site, image = out / "site", out / "site.tar"
    make_site(site)
    run(["tar", "-C", str(site), "-cf", str(image), "."])
    apps = {t: out / f"static-website.{t}.wasm" for t in ("hvt", "unix")}
    for target, path in apps.items():
        run(ctx.ukc("compose", "target/components/static-website.wasm", "-t", target, "-q", "-o", str(path)))
    rows, commands = [], []
    with Lab(out) as lab:
        servers = []
        for mode, flags in server_modes(ctx, 3 * seconds + 120).items():
            cmd = [ctx.a.ukc_hvt, *flags, "--net:service=tap0", f"--block:storage={image}", "--",
                   str(apps["hvt"]), "--ipv4=10.0.0.2/24"]
            servers.append((mode, lab.with_tap(f"soak-{mode}"), "10.0.0.2", cmd))
        cmd = [ctx.a.ukc_unix, str(apps["unix"]), f"--kv:storage={site}", "--", "--port=8080"]
        servers.append(("ukc-unix", lab.netns("soak-unix"), "127.0.0.1", cmd))
        note(f"soak: wrk for {seconds} s against each of {len(servers)} servers")
        for name, ns, host, cmd in servers:
            proc = start(lab, ns, cmd, f"soak-{name}.log", env, host, 8080)
            samples: list[tuple[float, int]] = []
            done = threading.Event()

            def sample(pid: int = proc.pid) -> None:
                t0 = time.monotonic()
                while not done.wait(1.0):
                    kib = rss_kib(pid)
                    if kib is not None:
                        samples.append((time.monotonic() - t0, kib))

            sampler = threading.Thread(target=sample)
            sampler.start()
            url = f"http://{host}:8080/index.html"
            try:
                text = lab.run(ns, ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", url], seconds + 60)
            finally:
                done.set()
                sampler.join()
            alive = proc.poll() is None
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
            r = parse_wrk(text)
            warm = [kib for t, kib in samples if t >= WARM_UP]
            first, last, peak = warm[0], warm[-1], max(warm)
            rows.append([LABEL[name], f"{r['requests']:,}", f"{r['rps']:,.0f}", r["errors_detail"], str(r["non2xx"]),
                         f"{first:,}", f"{last:,}", f"{peak:,}", f"{last - first:+,}", "yes" if alive else "no"])
            commands.append(shown(cmd))
            ctx.facts.setdefault("soak", {})[name] = {"errors": r["errors"], "non2xx": r["non2xx"],
                                                      "rss_growth_kib": last - first, "alive": alive}
    head = (
        f"## Soak\n\n`wrk -t2 -c32 -d{seconds}s` against the static website's 1 KiB page on each host, the "
        f"same site as above: *ukc-hvt* in process and in KVM through the tcpip driver over a tap (the site "
        "as a GNU tar image on a block device), *ukc-unix* on the host's sockets (the site's directory as a "
        f"kv store). The server's resident memory (VmRSS) is sampled every second; *warm* is its first "
        f"sample after {WARM_UP} s of load, *end* its last, *growth* the difference. For the KVM server the "
        "figure is the tender's, guest memory included as the VM touches it. One run each; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; nproc {os.cpu_count()}; {started}.\n\n"
    )
    body = table(["server", "requests", "req/s", "socket errors", "non-2xx", "warm RSS KiB", "end RSS KiB",
                  "peak RSS KiB", "growth KiB", "still serving"], rows)
    return head + body + "\n\nThe servers:\n\n" + "\n".join(f"    {c}" for c in commands)
