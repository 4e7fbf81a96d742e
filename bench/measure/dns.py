"""The DNS section: queries per second of the `dns` example under dnsperf, next to dnsmasq
answering the same names from its configuration, each behind the same kind of link as
its peer (loopback for ukc-unix, a tap or a veth pair for ukc-hvt); and the size the DNS
server adds to a unikernel. Needs root (namespaces) and dnsperf and dnsmasq (bench/run
installs them)."""

from __future__ import annotations

import os
import re
import statistics
from pathlib import Path

from .common import SCRATCH, BenchError, Context, note, run
from .network import server_modes, start, tool
from .netns import Lab, stop

ZONE = """$ORIGIN example.test.
$TTL 3600
@   IN SOA ns1 hostmaster ( 2026120601 1h 15m 1w 300 )
    IN NS  ns1
    IN MX  10 mail
    IN TXT "v=spf1 -all"
ns1     A    10.0.0.2
mail    A    10.0.0.3
        AAAA fd00::3
www     CNAME mail
"""
# The same records as dnsmasq options (it serves them without being authoritative).
DNSMASQ_RECORDS = [
    "--host-record=ns1.example.test,10.0.0.2",
    "--host-record=mail.example.test,10.0.0.3,fd00::3",
    "--cname=www.example.test,mail.example.test",
    "--mx-host=example.test,mail.example.test,10",
    "--txt-record=example.test,v=spf1 -all",
]
# The query mix: every name and type both servers hold.
QUERIES = ["ns1.example.test A", "mail.example.test A", "mail.example.test AAAA", "www.example.test A",
           "example.test MX", "example.test TXT"]
SECONDS = 5
RUNS = 3
QPS = re.compile(r"Queries per second:\s+([\d.]+)")
LOST = re.compile(r"Queries lost:\s+(\d+)")
COMPLETED = re.compile(r"Queries completed:\s+(\d+)")


def measure(ctx: Context) -> str:
    if os.geteuid() != 0:
        return "## DNS queries per second\n\nSkipped: it needs root (network namespaces, TAP devices)."
    gone = [t for t in ("dnsperf", "dnsmasq", "ip", "tar") if tool(t) is None]
    if gone:
        return f"## DNS queries per second\n\nSkipped: {', '.join(gone)} missing (bench/run installs them)."
    note("dns")
    out = (SCRATCH / "dns").resolve()
    out.mkdir(parents=True)
    env = {**os.environ, "UKC_CACHE_DIR": str(out / "ukc-cache")}
    zone = out / "zone"
    zone.mkdir()
    (zone / "zone.txt").write_text(ZONE)
    image = out / "zone.tar"
    run(["tar", "-C", str(zone), "-cf", str(image), "."])
    queries = out / "queries.txt"
    queries.write_text("\n".join(QUERIES) + "\n")
    built = {}
    for target in ("unix", "hvt"):
        built[target] = out / f"dns.{target}.wasm"
        run(ctx.ukc("compose", "target/components/dns.wasm", "-t", target, "-q", "-o", str(built[target])))
    figures: dict[str, list[tuple[float, int, int]]] = {}
    with Lab(out) as lab:
        servers = {}
        ns = lab.netns("dns-unix")
        cmd = [ctx.a.ukc_unix, str(built["unix"]), f"--kv:zone={zone}", "--", "--port=53"]
        servers["ukc-unix"] = (ns, "127.0.0.1", start(lab, ns, cmd, "dns-unix.log", env, "127.0.0.1", 53))
        ns = lab.netns("dns-dnsmasq")
        servers["dnsmasq"] = (ns, "127.0.0.1", dnsmasq(lab, ns, "127.0.0.1", "dns-dnsmasq.log"))
        for mode, flags in server_modes(ctx, 600).items():
            ns = lab.with_tap(f"dns-{mode}")
            cmd = [ctx.a.ukc_hvt, *flags, "--net:service=tap0", f"--block:zone={image}", "--", str(built["hvt"]),
                   "--ipv4=10.0.0.2/24"]
            servers[mode] = (ns, "10.0.0.2", start(lab, ns, cmd, f"dns-{mode}.log", env, "10.0.0.2", 53))
        client, server_ns = lab.veth_pair("dns-dnsmasq-veth")
        servers["dnsmasq-veth"] = (client, "10.0.0.2", dnsmasq(lab, server_ns, "10.0.0.2", "dns-dnsmasq-veth.log"))
        for _ in range(RUNS):
            for name, (ns, address, _) in servers.items():
                text = lab.run(ns, ["dnsperf", "-s", address, "-p", "53", "-d", str(queries), "-l", str(SECONDS),
                                    "-q", "64", "-t", "2"], SECONDS + 30)
                got = [r.search(text) for r in (QPS, COMPLETED, LOST)]
                if not all(got):
                    raise BenchError(f"dnsperf printed no figures against {name}:\n{text}")
                figures.setdefault(name, []).append((float(got[0].group(1)), int(got[1].group(1)), int(got[2].group(1))))
        for _, _, proc in servers.values():
            stop(proc)
    return report(ctx, figures, built)


def dnsmasq(lab: Lab, ns: str, address: str, log: str):
    cmd = [tool("dnsmasq"), "--no-daemon", "--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces",
           f"--listen-address={address}", "--port=53", "--pid-file=", "--log-facility=-", *DNSMASQ_RECORDS]
    return start(lab, ns, cmd, log, None, address, 53)


def report(ctx: Context, figures: dict, built: dict) -> str:
    median = {name: statistics.median(q for q, _, _ in runs) for name, runs in figures.items()}
    peer_of = {"ukc-unix": "dnsmasq", "ukc-hvt": "dnsmasq-veth", "ukc-hvt-kvm": "dnsmasq-veth"}
    where = {
        "ukc-unix": "the host's sockets, loopback", "dnsmasq": "loopback",
        "ukc-hvt": "in-process, tcpip driver over a tap", "ukc-hvt-kvm": "KVM, tcpip driver over a tap",
        "dnsmasq-veth": "over a veth pair (MTU 1500)",
    }
    rows = ["| server | link | queries/s (median) | slowest–fastest run | lost | next to its peer |", "|---|---|---:|---:|---:|---:|"]
    for name, runs in figures.items():
        qps = [q for q, _, _ in runs]
        lost = sum(lost for _, _, lost in runs)
        peer = peer_of.get(name)
        ratio = f"{median[name] / median[peer]:.2f}× {peer}" if peer in median else "—"
        rows.append(f"| {name} | {where[name]} | {median[name]:,.0f} | {min(qps):,.0f}–{max(qps):,.0f} | {lost} | {ratio} |")
        if peer in median:
            ctx.facts[f"dns_{name}_ratio"] = median[name] / median[peer]
    component = Path("target/components/dns.wasm").stat().st_size
    sizes = ", ".join(f"{target} {Path(p).stat().st_size:,} bytes" for target, p in built.items())
    return (
        "## DNS queries per second\n\n"
        "The `dns` example (an authoritative server of a zone file: hickory-proto for messages, over UDP) under "
        f"`dnsperf -q 64` for {SECONDS} s, {RUNS} runs per server interleaved run by run, next to dnsmasq answering "
        "the same names from its configuration. The query mix cycles through "
        + ", ".join(f"`{q}`" for q in QUERIES)
        + ". Each ukc row's peer sits behind the same kind of link: loopback for ukc-unix, a veth pair of MTU 1500 "
        f"for ukc-hvt's tap. {ctx.machine}.\n\n"
        + "\n".join(rows)
        + f"\n\nSize: the `dns` component is {component:,} bytes (hickory-proto's message code and the IDNA tables it "
        f"brings make most of it); composed: {sizes}."
    )
