"""The section "A fast network path: the goals of issue 11": each goal a ratio of two
figures measured in the same run, a ukc server over nginx behind the same kind of link
(ukc-unix and nginx on loopback, ukc-hvt and nginx each behind a link of MTU 1500), and the
tcpip driver's TCP echo over the kernel's own stack over veth with offloads off; and the
tcpip path's CPU per frame and per MB, beside the figures of the run before segmentation
offload. A figure this run could not measure (no root for the network) is shown as not
measured."""

from __future__ import annotations

from .common import Context
from .netdoc import times
from .report import table

SMALL, BIG = "index.html", "img/photo.bin"

# The tcpip path before `write-segments` and `receive-segments` (BENCHMARKS.md of
# 2026-12-06 18:59 UTC, this machine): ukc-hvt in-process echoing, every frame at most
# 1,514 bytes, one host call and one system call each.
BEFORE = {"us_per_frame": 6.70, "bytes_per_frame": 1241, "ms_per_mb": 10.8}


def rows(f: dict) -> list[list[str]]:
    web, bulk = f.get("net_web") or {}, f.get("net_bulk")
    out = []
    no_net = "not measured (the network sections need root)"
    for server, peer, label, goal, page, page_label in (
        ("ukc-unix", "nginx", "ukc-unix req/s / nginx on loopback", 0.7, SMALL, "1 KiB page"),
        ("ukc-unix", "nginx", "ukc-unix req/s / nginx on loopback", 0.7, BIG, "64 KiB page"),
        ("ukc-hvt", "nginx-veth", "ukc-hvt in-process req/s / nginx over veth", 0.5, SMALL, "1 KiB page"),
        ("ukc-hvt", "nginx-veth", "ukc-hvt in-process req/s / nginx over veth", 0.3, BIG, "64 KiB page"),
    ):
        figure = f"{label}, {page_label}"
        if (server, page) not in web or (peer, page) not in web:
            out.append([figure, no_net, "", "", f"≥ {goal}×", "not measured"])
            continue
        s, p = web[(server, page)]["rps"], web[(peer, page)]["rps"]
        out.append([figure, f"{s:,.0f} req/s", f"{p:,.0f} req/s", times(s / p), f"≥ {goal}×",
                    "yes" if s / p >= goal else "no"])
    figure = "TCP bulk, tcpip driver (in-process) / kernel over veth, offloads off"
    m = bulk["median"] if bulk else {}
    if "ukc-hvt" in m and "kernel-1500" in m:
        r = m["ukc-hvt"] / m["kernel-1500"]
        out.append([figure, f"{m['ukc-hvt']:,.1f} MB/s", f"{m['kernel-1500']:,.1f} MB/s", times(r), "≥ 0.5×",
                    "yes" if r >= 0.5 else "no"])
    else:
        out.append([figure, no_net if not bulk else "not measured (no `ethtool`)", "", "", "≥ 0.5×", "not measured"])
    return out


def cpu_rows(f: dict) -> list[list[str]]:
    bulk = f.get("net_bulk")
    if not bulk or "ukc-hvt" not in bulk["usage"]:
        return []
    u = bulk["usage"]["ukc-hvt"]
    frames, cpu = u["frames_read"] + u["frames_written"], u["cpu_user"] + u["cpu_sys"]
    return [
        ["CPU per frame on tap0", f"{BEFORE['us_per_frame']:.2f} µs", f"{cpu / frames * 1e6:,.2f} µs"],
        ["payload bytes per frame (both directions)", f"{BEFORE['bytes_per_frame']:,}",
         f"{2 * u['bytes'] / frames:,.0f}"],
        ["CPU per MB echoed", f"{BEFORE['ms_per_mb']:.1f} ms", f"{cpu / u['bytes'] * 1e9:.1f} ms"],
    ]


def section(ctx: Context) -> str:
    goals = rows(ctx.facts)
    ctx.facts["net_goals"] = {g[0]: g[5] for g in goals}
    met = sum(1 for g in goals if g[5] == "yes")
    measured = sum(1 for g in goals if g[5] != "not measured")
    head = (
        "## A fast network path: the goals of issue 11\n\n"
        "Each goal is a ratio of two figures of this run, from the sections above: the "
        "website's wrk runs, each ukc server against the nginx behind the same kind of link, "
        "and the TCP echo medians, the tcpip driver against the kernel's own stack over a veth "
        f"pair with its offloads off. {met} of the {measured} goals measured "
        f"{'is' if met == 1 else 'are'} met.\n\n"
    )
    t = table(["figure", "ukc", "against", "ratio", "goal", "met"], goals, right={3})
    cpu = cpu_rows(ctx.facts)
    if cpu:
        t += (
            "\n\nWhat a frame costs the tcpip path (ukc-hvt in-process echoing, from the TCP bulk "
            "section), before and after frames became TCP segments of up to 64 KiB each way "
            "(`write-segments`, `receive-segments`; *before* is the run of 2026-12-06 18:59 "
            "UTC on this machine, frames of at most 1,514 bytes):\n\n"
            + table(["figure", "before", "this run"], cpu, right={1, 2})
        )
    return head + t
