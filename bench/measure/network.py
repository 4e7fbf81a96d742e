"""Sections e and f: the network. A static website under wrk (static-website on ukc-hvt
through the tcpip driver over a TAP device, on ukc-unix over the host's sockets, and nginx
serving the same files), and TCP bulk throughput of the `network` echo example through
the tcpip driver next to the kernel's own stack over a veth pair, with one Python client
(echo.py) for all. Each measurement runs in network namespaces of its own (netns.py)."""

from __future__ import annotations

import os
import random
import re
import shutil
import sys
import time
from pathlib import Path

from . import netdoc, profile
from .common import SCRATCH, BenchError, Context, first_line, hvt_modes, note, run
from .netns import Lab, cpu_seconds, link_frames, stop

HERE = Path(__file__).resolve().parent
# (path in the site, bytes); wrk fetches the first two.
FILES = [("index.html", 1024), ("img/photo.bin", 65536), ("css/site.css", 0), ("files/big.bin", 1 << 20)]
PAGES = ["index.html", "img/photo.bin"]
ECHO = ["ukc-hvt", "ukc-hvt-kvm", "kernel", "kernel-1500", "ukc-unix"]


def tool(name: str) -> str | None:
    """The path of a program, looked for in /usr/sbin too (root's tools, not always on PATH)."""
    path = shutil.which(name) or f"/usr/sbin/{name}"
    return path if os.access(path, os.X_OK) else None


def missing() -> str | None:
    """Why the network sections cannot run here, or None."""
    if os.geteuid() != 0:
        return "they need root (network namespaces, TAP devices)"
    gone = [t for t in ("ip", "wrk", "nginx", "curl", "tar") if tool(t) is None]
    return f"{', '.join(gone)} missing (bench/run installs them with apt-get)" if gone else None


def measure(ctx: Context) -> str:
    why = missing()
    if why:
        note(f"network: skipped: {why}")
        return f"## Static website under wrk\n\nSkipped: {why}.\n\n## TCP bulk throughput\n\nSkipped: {why}."
    out = (SCRATCH / "network").resolve()
    out.mkdir(parents=True)
    env = {**os.environ, "UKC_CACHE_DIR": str(out / "ukc-cache")}
    built = {}
    for app, target in (("static-website", "hvt"), ("static-website", "unix"), ("network", "hvt"), ("network", "unix")):
        built[(app, target)] = out / f"{app}.{target}.wasm"
        run(ctx.ukc("compose", f"target/components/{app}.wasm", "-t", target, "-q", "-o", str(built[(app, target)])))
    with Lab(out) as lab:
        web = website(ctx, lab, out, built, env)
    with Lab(out) as lab:
        bulk = echo(ctx, lab, out, built, env)
    return web + "\n\n" + bulk


def server_modes(ctx: Context, limit: float) -> dict[str, list[str]]:
    """ukc-hvt's modes and their flags; the KVM server also gets ukc-hvt's own time limit
    (`--timeout`, a watchdog thread in KVM mode), so that a VM outlives no aborted run. The
    in-process server goes without: there `--timeout` turns on epoch checks in the compiled
    code, which would change what is measured."""
    modes = hvt_modes(ctx.a.ukc_hvt)
    if "ukc-hvt-kvm" in modes:
        modes["ukc-hvt-kvm"] = [*modes["ukc-hvt-kvm"], f"--timeout={int(limit)}"]
    return modes


def start(lab: Lab, ns: str, cmd: list[str], log: str, env: dict | None, host: str, port: int):
    """Starts a server in `ns` and waits until it listens. A unikernel boots twice: the
    first boot compiles it into the ukc cache, the second runs the cached artifact, as
    every later boot would (and perf can name its functions in that file)."""
    if env is not None:
        first = lab.spawn(ns, cmd, log, env)
        lab.wait_for_port(ns, host, port, first, log)
        stop(first)
    p = lab.spawn(ns, cmd, log, env)
    lab.wait_for_port(ns, host, port, p, log)
    return p


# ---------------------------------------------------------------------------------------
# The website


def make_site(root: Path) -> None:
    rng = random.Random(2024)
    for path, size in FILES:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        if path == "index.html":
            body = "<!doctype html><title>ukc</title><link rel=stylesheet href=css/site.css>\n"
            body += "<p>A static page served for the benchmark.</p>\n" * 40
            (root / path).write_text(body[: size - 8] + "</html>\n")
        elif path.endswith(".css"):
            (root / path).write_text("body { margin: 0 auto; max-width: 40em; font-family: sans-serif }\n")
        else:
            (root / path).write_bytes(rng.randbytes(size))


def nginx_conf(out: Path, site: Path, name: str, listen: str) -> Path:
    d = out / name
    d.mkdir()
    temp = "".join(f"    {k}_temp_path {d}/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = d / "nginx.conf"
    conf.write_text(
        f"daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n"
        f"error_log {d}/error.log warn;\nevents {{ worker_connections 1024; }}\nhttp {{\n"
        "    access_log off;\n    sendfile on;\n    tcp_nopush on;\n    keepalive_timeout 75s;\n"
        "    keepalive_requests 1000000;\n    types { text/html html; text/css css; }\n"
        f"    default_type application/octet-stream;\n{temp}"
        f"    server {{ listen {listen}; root {site}; }}\n}}\n"
    )
    return conf


WRK_LINE = {
    "p50": re.compile(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", re.M),
    "p99": re.compile(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", re.M),
    "rps": re.compile(r"^Requests/sec:\s+([\d.]+)", re.M),
    "transfer": re.compile(r"^Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)", re.M),
    "requests": re.compile(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m)", re.M),
    "errors": re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"),
    "non2xx": re.compile(r"Non-2xx or 3xx responses: (\d+)"),
}
SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}
BYTES = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}  # wrk's units are binary


def parse_wrk(text: str) -> dict[str, float]:
    got = {k: r.search(text) for k, r in WRK_LINE.items()}
    if not all(got[k] for k in ("p50", "p99", "rps", "transfer", "requests")):
        raise BenchError(f"wrk printed no figures:\n{text}")
    errors = got["errors"]
    return {
        "p50": float(got["p50"].group(1)) * SECONDS[got["p50"].group(2)],
        "p99": float(got["p99"].group(1)) * SECONDS[got["p99"].group(2)],
        "rps": float(got["rps"].group(1)),
        "mibps": float(got["transfer"].group(1)) * BYTES[got["transfer"].group(2)] / (1 << 20),
        "requests": int(got["requests"].group(1)),
        "errors": sum(int(x) for x in errors.groups()) if errors else 0,
        "errors_detail": "/".join(errors.groups()) if errors else "0/0/0/0",
        "non2xx": int(got["non2xx"].group(1)) if got["non2xx"] else 0,
    }


def website(ctx: Context, lab: Lab, out: Path, built: dict, env: dict[str, str]) -> str:
    site, image = out / "site", out / "site.tar"
    make_site(site)
    run(["tar", "-C", str(site), "-cf", str(image), "."])
    servers = {}
    conf = nginx_conf(out, site, "nginx", "127.0.0.1:8081")
    ns = lab.netns("web-nginx")
    cmd = [tool("nginx"), "-c", str(conf), "-p", str(conf.parent), "-e", str(conf.parent / "error.log")]
    servers["nginx"] = (ns, "http://127.0.0.1:8081", start(lab, ns, cmd, "web-nginx.log", None, "127.0.0.1", 8081), cmd)
    # nginx behind the same kind of link as the unikernels' tap: wrk in one namespace, nginx
    # in another, joined by a veth pair of MTU 1500 (the kernel's offloads on, as by default).
    conf = nginx_conf(out, site, "nginx-veth", "10.0.0.2:8081")
    client, ns = lab.veth_pair("web-nginx-veth")
    cmd = [tool("nginx"), "-c", str(conf), "-p", str(conf.parent), "-e", str(conf.parent / "error.log")]
    proc = start(lab, ns, cmd, "web-nginx-veth.log", None, "10.0.0.2", 8081)
    servers["nginx-veth"] = (client, "http://10.0.0.2:8081", proc, cmd)
    # The KVM server's time limit: every wrk run of every server, every curl check, and slack.
    for mode, flags in server_modes(ctx, 300 + 4 * len(PAGES) * ctx.a.wrk_rounds * (ctx.a.wrk_seconds + 5)).items():
        ns = lab.with_tap(f"web-{mode}")
        cmd = [ctx.a.ukc_hvt, *flags, "--net:service=tap0", f"--block:storage={image}", "--",
               str(built[("static-website", "hvt")]), "--ipv4=10.0.0.2/24"]
        servers[mode] = (ns, "http://10.0.0.2:8080", start(lab, ns, cmd, f"web-{mode}.log", env, "10.0.0.2", 8080), cmd)
    ns = lab.netns("web-unix")
    cmd = [ctx.a.ukc_unix, str(built[("static-website", "unix")]), f"--kv:storage={site}", "--", "--port=8080"]
    servers["ukc-unix"] = (ns, "http://127.0.0.1:8080", start(lab, ns, cmd, "web-unix.log", env, "127.0.0.1", 8080), cmd)
    for name, (ns, base, proc, _) in servers.items():
        for path, _ in FILES:  # every file, byte for byte, before any load
            got = out / "download"
            lab.run(ns, ["curl", "-sS", "--fail", "--max-time", "30", "-o", str(got), f"{base}/{path}"], 40)
            if got.read_bytes() != (site / path).read_bytes():
                raise BenchError(f"{name} served {base}/{path} with other bytes than {site / path}")

    secs, rounds, names = ctx.a.wrk_seconds, ctx.a.wrk_rounds, list(servers)
    note(f"network: wrk, {rounds} rounds of {secs} s for each of {len(names)} servers and {len(PAGES)} pages")
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    for round_ in range(rounds):
        for i, page in enumerate(PAGES):
            shift = (i + round_) % len(names)
            for name in names[shift:] + names[:shift]:
                ns, base, proc, _ = servers[name]
                before, t0 = cpu_seconds(proc.pid), time.monotonic()
                text = lab.run(ns, ["wrk", "-t2", "-c32", f"-d{secs}s", "--latency", f"{base}/{page}"], secs + 60)
                after, t1 = cpu_seconds(proc.pid), time.monotonic()
                r = parse_wrk(text)
                r["cpu"] = (after[0] - before[0] + after[1] - before[1]) / (t1 - t0)
                runs.setdefault((name, page), []).append(r)
    # Each server's median round by requests/s, whole: its latencies and CPU belong with it.
    results = {key: sorted(rs, key=lambda r: r["rps"])[len(rs) // 2] for key, rs in runs.items()}
    ctx.facts["wrk_rounds"] = rounds
    prof = None
    if profile.available():  # a separate, shorter run: perf's sampling stays out of the figures above
        ns, base, proc, _ = servers["ukc-hvt"]
        rec = profile.Recording(proc.pid, out / "web-hvt.perf", out / "ukc-cache")
        lab.run(ns, ["wrk", "-t2", "-c32", "-d3s", f"{base}/{PAGES[1]}"], 60)
        prof = rec.finish(profile.core_modules(built[("static-website", "hvt")]))
    if "ukc-hvt-kvm" in servers and profile.exits_available():  # separate runs again, counted, not timed
        ns, base, proc, _ = servers["ukc-hvt-kvm"]
        for page in PAGES:
            count, f0 = profile.Exits(proc.pid, out / "web-kvm-exits.txt"), link_frames(ns, "tap0")
            r = parse_wrk(lab.run(ns, ["wrk", "-t2", "-c32", "-d3s", "--latency", f"{base}/{page}"], 60))
            exits, f1 = count.count(), link_frames(ns, "tap0")
            ctx.facts["exit_counter"] = count.method
            if exits is not None and r["requests"]:
                ctx.facts.setdefault("net_kvm_exits", {})[page] = {
                    "exits": exits, "requests": r["requests"], "frames": f1[0] - f0[0] + f1[1] - f0[1]}
    for name, (_, _, proc, _) in servers.items():
        if proc.poll() is not None:
            raise BenchError(f"{name} exited during the load ({proc.returncode})")
    cmds = {name: servers[name][3] for name in names}
    versions = {"nginx": first_line([tool("nginx"), "-v"]).removeprefix("nginx version: "),
                "wrk": " ".join(first_line(["wrk", "-v"]).split()[:2])}
    return netdoc.website(ctx, results, prof, cmds, versions)


# ---------------------------------------------------------------------------------------
# TCP bulk throughput


def echo(ctx: Context, lab: Lab, out: Path, built: dict, env: dict[str, str]) -> str:
    total, send_secs = ctx.a.bulk_mb * 1_000_000, ctx.a.bulk_seconds
    client_ns, server, cmds = {}, {}, {}
    # The KVM server's time limit: every echo run of every server at its slowest, and slack.
    modes = server_modes(ctx, 300 + (ctx.a.bulk_runs + 2) * len(ECHO) * (ctx.a.bulk_seconds + 20))
    for mode, flags in modes.items():
        ns = lab.with_tap(f"echo-{mode}")
        cmds[mode] = [ctx.a.ukc_hvt, *flags, "--net:service=tap0", "--", str(built[("network", "hvt")]), "--ipv4=10.0.0.2/24"]
        server[mode] = start(lab, ns, cmds[mode], f"echo-{mode}.log", env, "10.0.0.2", 8080)
        client_ns[mode] = ns
    cmds["kernel"] = [sys.executable, str(HERE / "echo.py"), "serve", "8080", "900"]
    ethtool = tool("ethtool")
    for runner in ("kernel", "kernel-1500") if ethtool else ("kernel",):
        a, b = lab.veth_pair(f"echo-{runner}")
        if runner == "kernel-1500":  # no offloads: 1500-byte frames, software checksums, as on the tap
            for ns_, dev in ((a, "veth0"), (b, "veth1")):
                lab.run(ns_, [ethtool, "-K", dev, "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off"], 30)
        server[runner] = lab.spawn(b, cmds["kernel"], f"echo-{runner}.log")
        lab.wait_for_port(a, "10.0.0.2", 8080, server[runner], f"echo-{runner}.log")
        client_ns[runner] = a
    ns = lab.netns("echo-unix")
    cmds["ukc-unix"] = [ctx.a.ukc_unix, str(built[("network", "unix")]), "--", "--port=8080"]
    server["ukc-unix"] = start(lab, ns, cmds["ukc-unix"], "echo-unix.log", env, "127.0.0.1", 8080)
    client_ns["ukc-unix"] = ns
    runners = [r for r in ECHO if r in server]
    address = {r: "127.0.0.1" if r == "ukc-unix" else "10.0.0.2" for r in runners}

    def client(r: str, nbytes: int, secs: float) -> tuple[int, float]:
        cmd = [sys.executable, str(HERE / "echo.py"), "client", address[r], "8080", str(nbytes), str(secs), "90"]
        m = re.search(r"^echoed (\d+) bytes in (\d+) ns$", lab.run(client_ns[r], cmd, 120), re.M)
        if not m:
            raise BenchError(f"the echo client against {r} printed no figure")
        return int(m.group(1)), int(m.group(2)) / 1e9

    note(f"network: TCP echo, {ctx.a.bulk_runs} runs of {ctx.a.bulk_mb} MB (at most {send_secs} s of sending) "
         f"against {len(runners)} servers")
    for r in runners:
        client(r, 5_000_000, 2)  # warm-up
    runs = {r: [] for r in runners}
    usage = {m: {"cpu_user": 0.0, "cpu_sys": 0.0, "wall": 0.0, "frames_written": 0, "frames_read": 0, "bytes": 0}
             for m in modes}
    for n in range(ctx.a.bulk_runs):
        for r in runners[n % len(runners):] + runners[: n % len(runners)]:
            if r in modes:
                c0, f0 = cpu_seconds(server[r].pid), link_frames(client_ns[r], "tap0")
            nbytes, secs = client(r, total, send_secs)
            runs[r].append((nbytes, secs))
            if r in modes:
                c1, f1 = cpu_seconds(server[r].pid), link_frames(client_ns[r], "tap0")
                u = usage[r]
                u["cpu_user"] += c1[0] - c0[0]
                u["cpu_sys"] += c1[1] - c0[1]
                u["frames_written"] += f1[0] - f0[0]  # tap0's rx: frames the unikernel wrote
                u["frames_read"] += f1[1] - f0[1]  # tap0's tx: frames it read
                u["wall"] += secs
                u["bytes"] += nbytes
    profiles = {}
    if profile.available():
        for mode in modes:
            rec = profile.Recording(server[mode].pid, out / f"echo-{mode}.perf", out / "ukc-cache")
            client(mode, total, send_secs)
            profiles[mode] = rec.finish(profile.core_modules(built[("network", "hvt")]))
    if "ukc-hvt-kvm" in modes and profile.exits_available():  # a further run, counted, not timed
        mode = "ukc-hvt-kvm"
        count, f0 = profile.Exits(server[mode].pid, out / "echo-kvm-exits.txt"), link_frames(client_ns[mode], "tap0")
        nbytes, _ = client(mode, total, send_secs)
        exits, f1 = count.count(), link_frames(client_ns[mode], "tap0")
        ctx.facts["exit_counter"] = count.method
        if exits is not None and nbytes:
            ctx.facts.setdefault("net_kvm_exits", {})["echo"] = {
                "exits": exits, "bytes": nbytes, "frames": f1[0] - f0[0] + f1[1] - f0[1]}
    cmds["client"] = [sys.executable, str(HERE / "echo.py"), "client", "10.0.0.2", "8080", str(total), str(send_secs), "90"]
    return netdoc.bulk(ctx, runs, usage, profiles, ethtool is not None, cmds)
