"""The text and tables of the network sections, and their bullets in "What the numbers
say", from the figures network.py measured."""

from __future__ import annotations

import os
import statistics

from .profile import Profile, pct, profile_text
from .report import display, plural, table

PAGES = {"index.html": "1 KiB `index.html`", "img/photo.bin": "64 KiB `img/photo.bin`"}
SERVER_WHAT = {
    "nginx": "nginx, loopback",
    "nginx-veth": "nginx, veth pair (MTU 1500)",
    "ukc-hvt": "ukc-hvt in-process, tcpip driver over tap0",
    "ukc-hvt-kvm": "ukc-hvt KVM (micro-VM), tcpip driver over tap0",
    "ukc-unix": "ukc-unix, host sockets, loopback",
}
ECHO_WHAT = {
    "ukc-hvt": ("ukc-hvt in-process: `network` + tcpip driver (smoltcp)", "tap0, MTU 1500"),
    "ukc-hvt-kvm": ("ukc-hvt KVM: `network` + tcpip driver, in a micro-VM", "tap0, MTU 1500"),
    "kernel": ("kernel: Python echo server, second namespace", "veth pair, MTU 1500, offloads on"),
    "kernel-1500": ("kernel: Python echo server, second namespace", "veth pair, MTU 1500, offloads off"),
    "ukc-unix": ("ukc-unix: `network` on host sockets", "loopback, MTU 65536"),
}
KVM = (
    "*ukc-hvt in-process* passes `--isolation=process`: the unikernel is compiled to machine "
    "code and runs in ukc-hvt's own process. *ukc-hvt KVM* is the same unikernel with "
    "`--isolation=kvm`, ukc-hvt's default where `/dev/kvm` opens: it runs in a micro-VM as "
    "x86-64 machine code the host compiled for it (Cranelift, with explicit bounds and trap "
    "checks), on a guest kernel (wasmtime's no_std runtime) that reaches the devices through "
    "hypercalls, frames batched through queues both ways (`ukc-hvt --help`). Its server also "
    "gets ukc-hvt's own `--timeout`, so that no VM outlives an aborted run (a watchdog thread "
    "in KVM mode; the in-process server goes without, since there it would add epoch checks "
    "to the compiled code), and its runs are bounded like the others: wrk by its duration, "
    "the echo client by its sending time. "
)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) when the section started"


def shown(cmd: list[str]) -> str:
    """A command as the reader would type it from the repository root."""
    here = os.getcwd() + "/"
    return display([os.path.basename(cmd[0]), *(w.replace(here, "") for w in cmd[1:])])


def times(x: float) -> str:
    """A ratio, with a third decimal below 0.1 so that small ones do not all read 0.0x."""
    return f"{x:.2f}×" if x >= 0.1 else f"{x:.3f}×"


def cpu_per_request(r: dict) -> float:
    """Seconds of server CPU per request served."""
    return r["cpu"] / r["rps"]


# Each server's like-for-like nginx: the one behind the same kind of link.
PEER = {"ukc-hvt": "nginx-veth", "ukc-hvt-kvm": "nginx-veth", "ukc-unix": "nginx"}


def website(ctx, results: dict, prof: Profile | None, cmds: dict, versions: dict) -> str:
    secs, servers = ctx.a.wrk_seconds, list(cmds)
    ctx.facts["net_web"] = results
    ctx.facts["net_web_profile"] = prof
    rows = []
    for page, label in PAGES.items():
        for server in servers:
            r = results[(server, page)]
            peer = results[(PEER[server], page)] if server in PEER else None
            vs = ["", "", ""] if peer is None else [
                times(r['rps'] / peer['rps']), times(r['p50'] / peer['p50']), times(r['p99'] / peer['p99'])]
            rows.append([label, SERVER_WHAT[server], f"{r['rps']:,.0f}", f"{r['mibps']:,.1f}",
                         f"{r['p50'] * 1e3:,.2f}", f"{r['p99'] * 1e3:,.2f}", r["errors_detail"], f"{r['non2xx']:,}",
                         f"{r['cpu']:.2f}", f"{cpu_per_request(r) * 1e6:,.1f}", *vs])
    head = (
        "## Static website under wrk\n\n"
        "The same generated site — a 1 KiB `index.html`, a CSS file, a 64 KiB binary "
        "`img/photo.bin` and a 1 MiB `files/big.bin` — served by each server in a network "
        "namespace of its own with `wrk` inside it: *ukc-hvt* (both modes) runs `static-website` composed "
        "for hvt (`ukc compose static-website.wasm -t hvt`: the tcpip driver over the net "
        "device, kv-tar over the block device, the sendfile driver reading each file with kv-tar and writing "
        "it with tcpip) on a GNU tar image of the site, at 10.0.0.2 "
        "behind `tap0` (10.0.0.1, MTU 1500). "
        + (KVM if "ukc-hvt-kvm" in servers else "")
        + "*ukc-unix* runs `static-website` composed for unix (TCP on the host's sockets, the "
        "kv store on the site's directory, each file sent behind its head with `sendfile(2)` through "
        f"`ukc:sendfile`) and *nginx* ({versions['nginx']}, one process: "
        "`master_process off`, `sendfile on`, `access_log off`, keep-alive with no request "
        "limit) serves the directory, both on 127.0.0.1 (loopback, MTU 65536); a second "
        "nginx, the same but listening on 10.0.0.2, serves it behind a veth pair (wrk in one "
        "namespace, nginx in another, MTU 1500 like the tap; the kernel's segmentation "
        "offloads on, as by default). Each ukc row is compared with the nginx behind the "
        "same kind of link: ukc-hvt with nginx over veth, ukc-unix with nginx on loopback. Before the "
        "load, curl fetches every file from every server and the bytes are compared with the "
        f"files. Then `wrk -t2 -c32 -d{secs}s --latency` ({versions['wrk']}) runs "
        f"{plural(ctx.a.wrk_rounds, 'time')} against each server and page ({secs} s each; the servers take turns, "
        "all of them idle but one, in an order that shifts round by round), and each row is the server's "
        "median round by requests/s, whole (its latencies and CPU with it). *Socket errors* are wrk's connect / read / write / timeout counts; *server CPU* "
        "is the server process's user + system time over the run's wall time (1.00 = one "
        "core busy throughout; wrk's two threads use the same two cores), and divided by the "
        "requests served, *CPU µs per request*; latency ratios below 1 are better; MiB/s are "
        "wrk's transfer rate (binary units, headers included). "
        f"{ctx.machine}; {load()}.\n\n"
    )
    t = table(["page", "server", "requests/s", "MiB/s", "p50 ms", "p99 ms", "socket errors", "non-2xx",
               "server CPU", "CPU µs per request", "req/s vs its nginx", "p50 vs its nginx", "p99 vs its nginx"], rows,
              right=set(range(2, 13)))
    listed = "\n".join(f"    {shown(cmds[s])}" for s in servers)
    return (head + t + profile_text(prof, "serving the 64 KiB file under a 3 s wrk run",
                                    "static-website, kv-tar, the tcpip driver with smoltcp")
            + f"\n\nThe servers, and the load (`ip netns exec` in front of each):\n\n{listed}\n"
            f"    wrk -t2 -c32 -d{secs}s --latency http://10.0.0.2:8080/img/photo.bin\n\n"
            "(ukc-unix on 127.0.0.1:8080, nginx on 127.0.0.1:8081, the second nginx on "
            "10.0.0.2:8081 behind its veth pair; `/index.html` likewise).")


def mbps(runs: list[tuple[int, float]]) -> list[float]:
    return [n / t / 1e6 for n, t in runs]


def bulk(ctx, runs: dict, usage: dict, profiles: dict, have_ethtool: bool, cmds: dict) -> str:
    rates = {r: mbps(v) for r, v in runs.items()}
    med = {r: statistics.median(v) for r, v in rates.items()}
    ctx.facts["net_bulk"] = {"median": med, "usage": usage, "profiles": profiles,
                             "runs": len(runs["ukc-hvt"])}
    rows = []
    for r, v in rates.items():
        what, link = ECHO_WHAT[r]
        sent = statistics.median(n for n, _ in runs[r]) / 1e6
        vs = "" if r == "kernel" else times(med[r] / med['kernel'])
        rows.append([what, link, f"{sent:,.0f}", f"{med[r]:,.1f}", f"{min(v):,.1f}–{max(v):,.1f}", vs])
    mb, secs = ctx.a.bulk_mb, ctx.a.bulk_seconds
    detail_rows = []
    for mode, u in usage.items():
        frames = u["frames_read"] + u["frames_written"]
        cpu = u["cpu_user"] + u["cpu_sys"]
        per_mb = 1e6 / u["bytes"]
        detail_rows.append([ECHO_WHAT[mode][0].split(":")[0], f"{u['frames_read'] * per_mb:,.0f}",
                            f"{u['frames_written'] * per_mb:,.0f}", f"{2 * u['bytes'] / frames:,.0f}",
                            f"{cpu / frames * 1e6:,.2f}", f"{cpu / u['wall']:.0%}",
                            f"{u['cpu_user'] / cpu:.0%} : {u['cpu_sys'] / cpu:.0%}"])
    detail = table(["server", "frames read per MB", "frames written per MB", "payload bytes per frame",
                    "CPU per frame µs", "CPU busy", "user : system"], detail_rows, right=set(range(1, 7)))
    offloads = (
        "A second veth pair with TSO, GSO, GRO and checksum offload turned off (`ethtool -K`) "
        "makes the kernel cut and checksum 1500-byte frames one by one (the tap's frames "
        "carry a virtio-net header, through which the tcpip driver's TCP segments of up to "
        "64 KiB cross whole both ways). "
        if have_ethtool else "(`ethtool` is missing, so the row without offloads is not measured.) "
    )
    head = (
        "## TCP bulk throughput\n\n"
        f"One client, `bench/measure/echo.py`, sends {mb} MB (10⁶ bytes) over one TCP "
        f"connection — or what it can in {secs:g} s, whichever is less — while a second thread "
        "reads the echo back and compares every byte with what was sent; MB/s is payload "
        "echoed per second, from connecting to the last byte back. Median, slowest and "
        f"fastest of {ctx.a.bulk_runs} runs per server after a warm-up run, the servers taking "
        "turns run by run. *ukc-hvt* (both modes) runs the `network` echo example composed for hvt (`ukc "
        "compose network.wasm -t hvt`: the tcpip driver, smoltcp, over the net device) at "
        "10.0.0.2 behind `tap0` in the client's namespace. "
        + (KVM if "ukc-hvt-kvm" in runs else "")
        + "The kernel's own stack cannot be put behind a tap the same way: a tap's other end "
        "is a file descriptor that a user-space program has to serve, so a kernel-to-kernel "
        "link needs a second network stack, that is a second namespace, joined to the "
        "client's by a veth pair (the kernel's virtual cable, MTU 1500 like the tap); the "
        "*kernel* rows run a Python echo server (`echo.py serve`: a thread per connection, "
        "`recv_into` and `sendall` of up to 256 KiB) there. Both ends of those rows are "
        "Python, so they are a lower bound of what the kernel's stack moves. "
        f"{offloads}*ukc-unix* runs `network` composed for unix (TCP on the host's sockets) "
        f"with the client on its loopback, for scale. {ctx.machine}; {load()}.\n\n"
    )
    t = table(["server", "link", "MB sent (median)", "MB/s median", "slowest–fastest", "vs kernel (veth)"], rows,
              right={2, 3, 4, 5})
    mid = (
        f"\n\nThe unikernels during their {ctx.a.bulk_runs} timed runs: frames on `tap0` as the "
        "kernel counts them (each one net-device `read`, `write` or `write-segments` call of "
        "the guest; a frame may be a TCP segment of up to 64 KiB), the "
        "ukc-hvt process's CPU time (`/proc/PID/stat`, all its threads) per frame, and the "
        "share of the runs' wall time it was on a CPU.\n\n"
    )
    out = head + t + mid + detail
    if "ukc-hvt" in profiles:
        out += profile_text(profiles["ukc-hvt"], "during a further run", "`network`, the tcpip driver with smoltcp")
    if profiles.get("ukc-hvt-kvm"):
        p = profiles["ukc-hvt-kvm"]
        out += (
            f"\n\nThe same profile of ukc-hvt KVM ({p.samples:,} samples): {pct(p.vm)} "
            "fall while the process runs the guest, which perf's report of the host does not "
            f"break down; the kernel {pct(p.kernel)}, ukc-hvt and libc {pct(p.host)}."
        )
    listed = "\n".join(f"    {shown(cmds[k])}" for k in cmds)
    return out + f"\n\nThe servers and the client (`ip netns exec` in front of each):\n\n{listed}"


def bullets(f: dict) -> list[str]:
    """The network sections' bullets of "What the numbers say"."""
    if "net_web" not in f:
        return []
    w, wp = f["net_web"], f["net_web_profile"]
    b = f["net_bulk"]
    m = b["median"]

    def web(server: str, page: str, key: str) -> float:
        return w[(server, page)][key]

    def vs(server: str, page: str, key: str = "rps", peer: str = "nginx") -> str:
        return times(web(server, page, key) / web(peer, page, key))

    small, big = "index.html", "img/photo.bin"
    out = [
        f"- **Website, small page: ukc-hvt in-process serves {vs('ukc-hvt', small, peer='nginx-veth')} the "
        f"request rate of nginx behind a veth pair, ukc-unix {vs('ukc-unix', small)} that of nginx on "
        f"loopback** ({web('ukc-hvt', small, 'rps'):,.0f} against {web('nginx-veth', small, 'rps'):,.0f}, "
        f"and {web('ukc-unix', small, 'rps'):,.0f} against {web('nginx', small, 'rps'):,.0f} requests/s "
        f"for the 1 KiB page; p50 {web('ukc-hvt', small, 'p50') * 1e3:.2f} against "
        f"{web('nginx-veth', small, 'p50') * 1e3:.2f} ms, and {web('ukc-unix', small, 'p50') * 1e3:.2f} "
        f"against {web('nginx', small, 'p50') * 1e3:.2f} ms). "
        "Each serves every connection from one event loop, and they used "
        f"{web('ukc-hvt', small, 'cpu'):.2f}, {web('nginx-veth', small, 'cpu'):.2f}, "
        f"{web('ukc-unix', small, 'cpu'):.2f} and {web('nginx', small, 'cpu'):.2f} of a core (wrk ran on "
        "the same two cores). Per request ukc-hvt spends "
        f"{cpu_per_request(w[('ukc-hvt', small)]) * 1e6:.0f} µs of CPU, ukc-unix "
        f"{cpu_per_request(w[('ukc-unix', small)]) * 1e6:.0f} µs, nginx "
        f"{cpu_per_request(w[('nginx', small)]) * 1e6:.0f} µs. Beyond what nginx does, the ukc "
        "servers call across the component boundary for every accept, read and write, and "
        "ukc-hvt runs TCP itself, in the guest; each response leaves in one write (head and "
        "body together) after one store call.",
        f"- **Website, 64 KiB file: ukc-hvt in-process serves {vs('ukc-hvt', big, peer='nginx-veth')} "
        f"the request rate of nginx behind a veth pair, ukc-unix {vs('ukc-unix', big)} that of nginx on "
        f"loopback** ({web('ukc-hvt', big, 'mibps'):,.0f} against {web('nginx-veth', big, 'mibps'):,.0f} "
        f"MiB/s, and {web('ukc-unix', big, 'mibps'):,.0f} against {web('nginx', big, 'mibps'):,.0f} MiB/s). "
        "ukc-hvt's responses leave the tcpip driver as TCP segments of up to 64 KiB, which "
        "the kernel takes whole through the tap (`write-segments`, behind a virtio-net header); "
        "ukc-unix copies each response out of guest memory into the host's socket, nginx "
        "hands the kernel the file."
        + (f" In ukc-hvt's profile for this file, the adapters' byte-by-byte copies between "
           f"static-website, kv-tar and the tcpip driver take {pct(wp.adapters)}, the kernel "
           f"{pct(wp.kernel)}, the components' own code {pct(wp.guest)}." if wp else ""),
    ]
    k1500 = (f", {times(m['ukc-hvt'] / m['kernel-1500'])} the kernel's with offloads off "
             f"({m['kernel-1500']:,.0f} MB/s)" if "kernel-1500" in m else "")
    out.append(
        f"- **TCP bulk: the tcpip driver (ukc-hvt in-process) echoes {m['ukc-hvt']:,.1f} MB/s, {times(m['ukc-hvt'] / m['kernel'])} "
        f"the kernel over a veth pair ({m['kernel']:,.0f} MB/s, Python at both ends){k1500}.** "
        f"ukc-unix, on the host's sockets over loopback, echoes {m['ukc-unix']:,.0f} MB/s: the same "
        "application, whose reads and writes go there straight to the host's sockets, where on "
        "ukc-hvt they go to the tcpip component (through an adapter) and from it through the "
        "tap, as TCP segments of up to 64 KiB both ways (`write-segments`, `receive-segments`)."
    )
    u, bp = b["usage"]["ukc-hvt"], b["profiles"].get("ukc-hvt")
    frames, cpu = u["frames_read"] + u["frames_written"], u["cpu_user"] + u["cpu_sys"]
    busy = cpu / u["wall"]
    limit = (
        f" At {busy:.0%} busy, ukc-hvt's CPU is what limits the rate: {cpu / frames * 1e6:.1f} µs × "
        f"{frames / u['bytes'] * 1e6:,.0f} frames per MB echoed is {cpu / u['bytes'] * 1e9:.1f} ms of "
        f"CPU per MB, {u['bytes'] / cpu / 1e6:,.0f} MB/s at most on one core."
        if busy >= 0.85 else
        f" ukc-hvt was on a CPU only {busy:.0%} of the time: part of it went to waiting for the "
        "client or for a core."
    )
    if bp:
        out.append(
            f"- **What the tcpip path spends.** Each frame costs ukc-hvt {cpu / frames * 1e6:.1f} µs "
            f"of CPU and carries {2 * u['bytes'] / frames:,.0f} payload bytes (counting both "
            f"directions and the bare ACKs; {u['cpu_user'] / cpu:.0%} user, {u['cpu_sys'] / cpu:.0%} "
            f"system time). By the profile: the adapters {pct(bp.adapters)} — the `network` app's "
            "`write` and `read` lists copied between its memory and the tcpip driver's one byte "
            "per loop iteration (wasmtime-environ 48's `translate_list`), the largest cost now "
            "that a frame carries up to 64 KiB; smoltcp and the app themselves "
            f"{pct(bp.guest)}; the kernel {pct(bp.kernel)} — the tap reads and writes, each "
            "segment taken through the kernel's TCP path for the client's socket within the "
            f"call; the host {pct(bp.host)} (wasmtime's calls into the host, and finishing the "
            "checksums the kernel leaves partial on the segments it hands over)." + limit
        )
    out.append(
        f"- **Network caveats.** {plural(f.get('wrk_rounds', 1), 'wrk run')} per page and server (the median one "
        "shown), "
        f"{plural(b['runs'], 'echo run')} per server, on two cores that the client, the server "
        "and other work share (the load average is in each section's header). The kernel echo "
        "rows are Python at both ends; the loopback rows (nginx, ukc-unix) skip Ethernet "
        "framing altogether; only the ukc-hvt (both modes), nginx-over-veth and kernel veth "
        "rows cross an Ethernet link of MTU 1500."
    )
    return out
