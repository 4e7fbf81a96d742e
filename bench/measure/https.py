"""The HTTPS section: requests per second of `static-website-tls` (static-website over the
tls driver: rustls and ring in the unikernel) under wrk, next to nginx serving the same
page over TLS with the same certificate, each behind the same kind of link as its peer;
once on kept-alive connections (the record layer's cost) and once with a new connection,
so a new handshake, per request (`Connection: close`); and the size TLS adds to the
image. Needs root (namespaces) and openssl, wrk and nginx."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .common import SCRATCH, BenchError, Context, note, run
from .netns import Lab, stop
from .network import nginx_conf, parse_wrk, server_modes, start, tool

SECONDS = 5
PAGE = 1024


def measure(ctx: Context) -> str:
    if os.geteuid() != 0:
        return "## HTTPS\n\nSkipped: it needs root (network namespaces, TAP devices)."
    gone = [t for t in ("openssl", "wrk", "nginx", "ip", "tar") if tool(t) is None]
    if gone:
        return f"## HTTPS\n\nSkipped: {', '.join(gone)} missing (bench/run installs them)."
    if not Path("target/components/static-website-tls.wasm").exists() or not Path("target/components/tls.wasm").exists():
        return "## HTTPS\n\nSkipped: the tls driver was not built (it needs clang, llvm-ar and the wasm32-wasip2 target)."
    note("https")
    out = (SCRATCH / "https").resolve()
    out.mkdir(parents=True)
    env = {**os.environ, "UKC_CACHE_DIR": str(out / "ukc-cache")}
    site, identity = out / "site", out / "tls"
    site.mkdir()
    identity.mkdir()
    (site / "index.html").write_bytes(bytes((i * 7) % 251 for i in range(PAGE)))
    make_identity(out, identity)
    site_tar, tls_tar = out / "site.tar", out / "tls.tar"
    run(["tar", "-C", str(site), "-cf", str(site_tar), "."])
    run(["tar", "-C", str(identity), "-cf", str(tls_tar), "."])
    built = {}
    for target in ("unix", "hvt"):
        built[target] = out / f"https.{target}.wasm"
        run(ctx.ukc("compose", "target/components/static-website-tls.wasm", "-t", target, "-q", "-o", str(built[target])))
    plain = out / "http.hvt.wasm"
    run(ctx.ukc("compose", "target/components/static-website.wasm", "-t", "hvt", "-q", "-o", str(plain)))
    results: dict[tuple[str, str], dict] = {}
    with Lab(out) as lab:
        servers = {}
        ns = lab.netns("https-unix")
        cmd = [ctx.a.ukc_unix, str(built["unix"]), f"--kv:storage={site}", f"--kv:tls={identity}", "--listen-address=127.0.0.1"]
        servers["ukc-unix"] = (ns, "127.0.0.1", start(lab, ns, cmd, "https-unix.log", env, "127.0.0.1", 8443))
        ns = lab.netns("https-nginx")
        servers["nginx"] = (ns, "127.0.0.1", nginx(lab, out, ns, site, identity, "127.0.0.1", "nginx"))
        for mode, flags in server_modes(ctx, 600).items():
            ns = lab.with_tap(f"https-{mode}")
            cmd = [ctx.a.ukc_hvt, *flags, "--net:service=tap0", f"--block:storage={site_tar}", f"--block:tls={tls_tar}",
                   "--", str(built["hvt"]), "--ipv4=10.0.0.2/24"]
            servers[mode] = (ns, "10.0.0.2", start(lab, ns, cmd, f"https-{mode}.log", env, "10.0.0.2", 8443))
        client, server_ns = lab.veth_pair("https-nginx-veth")
        servers["nginx-veth"] = (client, "10.0.0.2", nginx(lab, out, server_ns, site, identity, "10.0.0.2", "nginx-veth"))
        for name, (ns, address, _) in servers.items():
            got = out / "download"
            lab.run(ns, ["curl", "-sS", "--fail", "--max-time", "20", "--cacert", str(out / "ca.pem"), "--resolve",
                         f"localhost:8443:{address}", "-o", str(got), "https://localhost:8443/index.html"], 30)
            if got.read_bytes() != (site / "index.html").read_bytes():
                raise BenchError(f"{name} served other bytes than the page")
        for mode, extra in (("keep-alive", []), ("new connection", ["-H", "Connection: close"])):
            for name, (ns, address, _) in servers.items():
                text = lab.run(ns, ["wrk", "-t2", "-c16", f"-d{SECONDS}s", "--latency", *extra,
                                    f"https://{address}:8443/index.html"], SECONDS + 60)
                results[(name, mode)] = parse_wrk(text)
        for _, _, proc in servers.values():
            if proc.poll() is not None:
                raise BenchError("a server exited during the load")
            stop(proc)
    return report(ctx, results, built, plain)


def make_identity(out: Path, identity: Path) -> None:
    """A CA and a P-256 server certificate it signed, as the tls driver and nginx read them."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run(["openssl", "req", "-x509", *ec, "-days", "30", "-subj", "/CN=bench CA", "-keyout", str(out / "ca.key"),
         "-out", str(out / "ca.pem")])
    run(["openssl", "req", *ec, "-subj", "/CN=localhost", "-keyout", str(identity / "key.pem"), "-out", str(out / "srv.csr")])
    (out / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:10.0.0.2\n")
    run(["openssl", "x509", "-req", "-in", str(out / "srv.csr"), "-CA", str(out / "ca.pem"), "-CAkey", str(out / "ca.key"),
         "-CAcreateserial", "-days", "30", "-out", str(identity / "cert.pem"), "-extfile", str(out / "ext.cnf")])


def nginx(lab: Lab, out: Path, ns: str, site: Path, identity: Path, address: str, name: str):
    conf = nginx_conf(out, site, name, f"{address}:8443 ssl")
    text = conf.read_text().replace(
        f"root {site}; }}",
        f"root {site}; ssl_certificate {identity / 'cert.pem'}; ssl_certificate_key {identity / 'key.pem'}; "
        "ssl_protocols TLSv1.2 TLSv1.3; }",
    )
    conf.write_text(text)
    cmd = [tool("nginx"), "-c", str(conf), "-p", str(conf.parent), "-e", str(conf.parent / "error.log")]
    return start(lab, ns, cmd, f"https-{name}.log", None, address, 8443)


def report(ctx: Context, results: dict, built: dict, plain: Path) -> str:
    peer_of = {"ukc-unix": "nginx", "ukc-hvt": "nginx-veth", "ukc-hvt-kvm": "nginx-veth"}
    where = {"ukc-unix": "the host's sockets, loopback", "nginx": "loopback",
             "ukc-hvt": "in-process, tcpip driver over a tap", "ukc-hvt-kvm": "KVM, tcpip driver over a tap",
             "nginx-veth": "over a veth pair (MTU 1500)"}
    rows = ["| server | link | keep-alive req/s | next to its peer | new connection req/s | next to its peer | errors |",
            "|---|---|---:|---:|---:|---:|---:|"]
    names = list(dict.fromkeys(name for name, _ in results))
    for name in names:
        cells = []
        for mode in ("keep-alive", "new connection"):
            r = results[(name, mode)]
            peer = peer_of.get(name)
            ratio = f"{r['rps'] / results[(peer, mode)]['rps']:.2f}× {peer}" if peer else "—"
            cells += [f"{r['rps']:,.0f}", ratio]
            if peer:
                ctx.facts[f"https_{name}_{mode}"] = r["rps"] / results[(peer, mode)]["rps"]
        errors = sum(results[(name, m)]["errors"] + results[(name, m)]["non2xx"] for m in ("keep-alive", "new connection"))
        rows.append(f"| {name} | {where[name]} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} | {errors} |")
    tls = Path("target/components/tls.wasm").stat().st_size
    grown = Path(built["hvt"]).stat().st_size - plain.stat().st_size
    return (
        "## HTTPS\n\n"
        f"`static-website-tls` (static-website's HTTP over the `tls` driver: rustls 0.23 with ring, built for "
        f"wasm32-wasip2, its randomness and clocks through the `wasi-shim` driver) serving a {PAGE}-byte page under "
        f"`wrk -t2 -c16 -d{SECONDS}s`, next to nginx with TLS on the same P-256 certificate (TLS 1.2 and 1.3 "
        "offered; both sides agree on TLS 1.3; the tls driver picks ChaCha20-Poly1305, which wasm runs faster than "
        "ring's software AES-GCM, nginx AES-GCM with AES-NI), each behind the same kind of link as its peer. *Keep-alive*: 16 "
        "connections reused, so the record layer's cost; *new connection*: `Connection: close` on every request, "
        f"so a full handshake (ECDHE and an ECDSA signature) per request. {ctx.machine}.\n\n"
        + "\n".join(rows)
        + f"\n\nSize: the `tls` driver is {tls:,} bytes; `static-website-tls` composed for hvt is "
        f"{grown:,} bytes larger than `static-website` composed for hvt (the driver, the `wasi-shim` driver it "
        "brings, and the example's own code)."
    )
