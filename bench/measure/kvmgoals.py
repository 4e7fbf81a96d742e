"""The section "KVM against in-process: the goals of issue 10": each goal a ratio of two
figures measured in the same run, ukc-hvt in a KVM micro-VM over ukc-hvt in its own
process (the guest kernel's size over that of the kernel it replaced), from what the other
sections left in `Context.facts`; for each goal missed, where the time goes. A figure this
run could not measure (no root for the network, no /dev/kvm) is shown as not measured."""

from __future__ import annotations

from dataclasses import dataclass

from .common import Context
from .kvmdoc import BOOT_RATIO, PULLEY_KERNEL, net_exits
from .netdoc import cpu_per_request, times
from .report import ms, table

SMALL, BIG = "index.html", "img/photo.bin"


@dataclass
class Goal:
    figure: str
    goal: str
    kvm: str = ""  # the KVM figure(s)
    against: str = ""  # what it is compared with
    ratio: str = ""
    met: str = ""  # "yes", "no", a partial verdict, or "not measured"
    missed: bool = False
    why: str = ""  # for a goal missed: where the time goes; for one not measured: why not


def not_measured(figure: str, goal: str, why: str) -> Goal:
    return Goal(figure, goal, "not measured", "", "", "not measured", False, why)


def pair(kvm: dict[str, float], proc: dict[str, float], at_least: float) -> tuple[str, str, str, str, bool]:
    """The cells of a write-and-read row: KVM figures, in-process figures, ratios, verdict."""
    r = {p: kvm[p] / proc[p] for p in ("write", "read")}
    ok = [p for p in r if r[p] >= at_least]
    met = "yes" if len(ok) == 2 else "no" if not ok else f"no: {ok[0]} only"
    return (f"{kvm['write']:,.0f} write, {kvm['read']:,.0f} read MB/s",
            f"in-process: {proc['write']:,.0f} write, {proc['read']:,.0f} read MB/s",
            f"{times(r['write'])} write, {times(r['read'])} read", met, len(ok) < 2)


def goals(f: dict) -> list[Goal]:
    """The rows, one per goal."""
    kvm = bool(f.get("hvt_kvm"))
    no_kvm = "no KVM micro-VM in this run (`/dev/kvm` does not open, or ukc-hvt has no `--isolation`)"
    web = f.get("net_web") or {}
    net = kvm and ("ukc-hvt-kvm", SMALL) in web
    no_net = no_kvm if not kvm else "the network sections did not run (they need root; see their sections)"
    out: list[Goal] = []

    for page, label in ((SMALL, "1 KiB page"), (BIG, "64 KiB page")):
        figure, goal = f"HTTP req/s, KVM / in-process, {label}", "≥ 0.5×"
        if not net:
            out.append(not_measured(figure, goal, no_net))
            continue
        k, p = web[("ukc-hvt-kvm", page)]["rps"], web[("ukc-hvt", page)]["rps"]
        out.append(Goal(figure, goal, f"{k:,.0f} req/s", f"in-process: {p:,.0f} req/s", times(k / p),
                        "yes" if k / p >= 0.5 else "no", k / p < 0.5, web_why(f, page)))

    figure, goal = "TCP echo MB/s, KVM / in-process", "≥ 0.5×"
    bulk = (f.get("net_bulk") or {}).get("median", {})
    if not net or "ukc-hvt-kvm" not in bulk:
        out.append(not_measured(figure, goal, no_net))
    else:
        k, p = bulk["ukc-hvt-kvm"], bulk["ukc-hvt"]
        out.append(Goal(figure, goal, f"{k:,.1f} MB/s", f"in-process: {p:,.1f} MB/s", times(k / p),
                        "yes" if k / p >= 0.5 else "no", k / p < 0.5, echo_why(f)))

    for request, label, at_least in ((4096, "4 KiB", 0.3), (1048576, "1 MiB", 0.8)):
        figure, goal = f"block MB/s at {label}, KVM / in-process (write and read)", f"≥ {at_least}× each"
        key = lambda runner, phase: f"block_{runner}_{request}_512_{phase}_mbps"  # noqa: E731
        if not kvm or key("ukc-hvt-kvm", "write") not in f:
            out.append(not_measured(figure, goal, no_kvm))
            continue
        k = {p: f[key("ukc-hvt-kvm", p)] for p in ("write", "read")}
        p_ = {p: f[key("ukc-hvt", p)] for p in ("write", "read")}
        cells = pair(k, p_, at_least)
        missed = [p for p in ("write", "read") if k[p] / p_[p] < at_least]
        out.append(Goal(figure, goal, *cells[:4], cells[4], block_why(f, request, missed)))

    figure, goal = "hello boot to first byte, KVM / in-process, warm", f"≤ {BOOT_RATIO}×"
    if not kvm or "ukc_hvt_kvm_warm_fb" not in f:
        out.append(not_measured(figure, goal, no_kvm))
    else:
        k, p = f["ukc_hvt_kvm_warm_fb"], f["ukc_hvt_warm_fb"]
        out.append(Goal(figure, goal, f"{ms(k)} ms", f"in-process: {ms(p)} ms", times(k / p),
                        "yes" if k / p <= BOOT_RATIO else "no", k / p > BOOT_RATIO, boot_why(f)))

    figure, goal = "guest kernel size", f"no larger than {PULLEY_KERNEL:,} bytes (the Pulley kernel)"
    if "kernel_bytes" not in f:
        out.append(not_measured(figure, goal, "no guest kernel under `target/hvt-kernel` matches the one in "
                                "ukc-hvt (see the sizes section)"))
    else:
        b = f["kernel_bytes"]
        out.append(Goal(figure, goal, f"{b:,} bytes", f"the Pulley kernel: {PULLEY_KERNEL:,} bytes",
                        times(b / PULLEY_KERNEL), "yes" if b <= PULLEY_KERNEL else "no", b > PULLEY_KERNEL,
                        f"the kernel is {b - PULLEY_KERNEL:,} bytes larger than the Pulley kernel; the sizes "
                        "section has its stripped size"))
    return out


def web_why(f: dict, page: str) -> str:
    w = f["net_web"]
    k, p = w[("ukc-hvt-kvm", page)], w[("ukc-hvt", page)]
    text = (f"per request the KVM server spends {cpu_per_request(k) * 1e6:,.0f} µs of CPU against "
            f"{cpu_per_request(p) * 1e6:,.0f} in-process (server CPU {k['cpu']:.2f} and {p['cpu']:.2f} of a core, "
            f"p50 latency {k['p50'] * 1e3:,.2f} against {p['p50'] * 1e3:,.2f} ms)")
    x, exit_ = net_exits(f), f.get("block_kvm_call_4096")
    if f"{page}_per_request" in x:
        n = x[f"{page}_per_request"]
        text += (f"; it exits to the tender {n:,.1f} times per request ({x[page + '_frames_per_request']:,.1f} "
                 "frames on tap0 per request, counted in a separate 3 s wrk run)")
        if exit_:
            text += (f", which at the {exit_ * 1e6:.0f} µs of a bare exit (block `info` in the VM) is "
                     f"{n * exit_ * 1e6:,.0f} µs, {n * exit_ / cpu_per_request(k):.0%} of its CPU per request; the "
                     "rest is time inside the VM")
    else:
        text += ("; its exits were not counted in this run (neither perf's `kvm:kvm_userspace_exit` tracepoint nor "
                 "strace here)")
    return text


def echo_why(f: dict) -> str:
    b = f["net_bulk"]
    uk, u = b["usage"]["ukc-hvt-kvm"], b["usage"]["ukc-hvt"]
    fk, fp = uk["frames_read"] + uk["frames_written"], u["frames_read"] + u["frames_written"]
    ck, cp = uk["cpu_user"] + uk["cpu_sys"], u["cpu_user"] + u["cpu_sys"]
    text = (f"each frame costs the KVM server {ck / fk * 1e6:,.1f} µs of CPU against {cp / fp * 1e6:,.1f} in-process, "
            f"{ck / uk['wall']:.0%} busy against {cp / u['wall']:.0%}")
    pk = b["profiles"].get("ukc-hvt-kvm")
    if pk:
        text += f"; {pk.vm:.0%} of its perf samples fall inside the VM"
    x, exit_ = net_exits(f), f.get("block_kvm_call_4096")
    if "echo_per_frame" in x:
        text += (f"; it exits to the tender {x['echo_per_frame']:.2f} times per frame ({x['echo_per_mb']:,.0f} per MB "
                 "echoed, counted in a separate run)")
        if exit_:
            text += (f", {x['echo_per_frame'] * exit_ * 1e6:,.1f} µs per frame at a bare exit's "
                     f"{exit_ * 1e6:.0f} µs, {x['echo_per_frame'] * exit_ / (ck / fk):.0%} of its CPU per frame")
    return text


def us(seconds: float) -> str:
    """Microseconds, with two decimals below 10."""
    return f"{seconds * 1e6:,.2f}" if seconds < 1e-5 else f"{seconds * 1e6:,.1f}"


def block_why(f: dict, request: int, missed: list[str]) -> str:
    """Where a block request's time goes in the VM; `missed`: the phases that missed the goal."""
    call, kcall = f.get(f"block_call_{request}"), f.get(f"block_kvm_call_{request}")
    kw, kr = f.get(f"block_kvm_write_{request}"), f.get(f"block_kvm_read_{request}")
    hw, hr = f.get(f"block_hvt_write_{request}"), f.get(f"block_hvt_read_{request}")
    if None in (call, kcall, kw, kr, hw, hr):
        return ""
    text = (f"requests reach the tender through the guest kernel's block cache (a bare call is one exit); "
            f"in the fastest runs a request takes {us(kw)} µs to "
            f"write and {us(kr)} µs to read in the VM against {us(hw)} and {us(hr)} in-process, "
            f"and a bare call (`info`, no data) {us(kcall)} µs against {us(call)}")
    extra = {p: x for p, x in (("write", kw - hw), ("read", kr - hr)) if x > 0 and p in missed}
    if not extra:
        return text
    if max(extra.values()) <= 2 * kcall:
        text += ": the exit is what the VM adds (" + " and ".join(
            f"{kcall / (kw if p == 'write' else kr):.0%} of a {p}'s time" for p in extra) + ")"
    else:
        text += ("; per request the VM adds " + " and ".join(
            f"{x * 1e6:,.0f} µs to a {p} ({x / kcall:.1f} exits' worth)" for p, x in extra.items())
            + ": beyond the exit, the data's way through the VM (the lists copied between the unikernel's "
            "memory and the guest kernel's heap by wasmtime's lifting and lowering), which this run does not split")
    return text


def boot_why(f: dict) -> str:
    p = f.get("kvm_phases")
    if not p:
        return "the phases of the KVM boot were not traced in this run (`strace` missing)"
    added = p["total"] - p["proc_total"]
    text = (f"traced (the boot section's phase table), the KVM boot reaches its first byte in {ms(p['total'])} ms "
            f"against {ms(p['proc_total'])} in-process, {ms(added)} ms more: the tender's start up to "
            f"`KVM_CREATE_VM` takes {ms(p['pre'])} ms, making the VM and filling its memory {ms(p['vm'])} ms"
            + (f" (the VM made in {ms(p['made'])} ms on one thread while the other reads the artifact and fills "
               f"guest memory in {ms(p['filled'])} ms)" if "made" in p else "")
            + f", {ms(p['setup_ioctls'])} ms in all inside KVM's ioctls, the guest from its first "
            f"instruction to the first greeting {ms(p['guest'])} ms ({ms(p['in_vm'])} ms in the VM over "
            f"{p['exits']:.0f} exits)")
    if p.get("thp", -1) >= 0 and "huge" in p:
        text += (f"; {p['thp']:.1f} huge pages faulted in per boot, about {p['thp'] * p['huge'] * 1e3:.2f} ms at "
                 "this host's cost of a huge-page fault")
    return text


def section(ctx: Context) -> str:
    rows = goals(ctx.facts)
    ctx.facts["kvm_goals"] = {g.figure: g.met for g in rows}
    missed = [g for g in rows if g.missed and g.why]
    met = sum(1 for g in rows if g.met == "yes")
    measured = sum(1 for g in rows if g.met != "not measured")
    head = (
        "## KVM against in-process: the goals of issue 10\n\n"
        "Each goal is a ratio of two figures of this run: ukc-hvt in a KVM micro-VM "
        "(`--isolation=kvm`, the unikernel as machine code in the guest) over ukc-hvt in its own "
        "process (`--isolation=process`), from the sections above (the website's wrk runs, the "
        "TCP echo medians, the block medians on 512-byte sectors, the warm boots' medians). The "
        "guest kernel's size is compared with that of the kernel it replaced, which ran the "
        f"unikernel on wasmtime's Pulley interpreter ({PULLEY_KERNEL:,} bytes). {met} of the "
        f"{measured} goals measured {'is' if met == 1 else 'are'} met"
        + (f"; {len(rows) - measured} could not be measured in this run" if measured < len(rows) else "")
        + ".\n\n"
    )
    t = table(["figure", "KVM", "against", "ratio", "goal", "met"],
              [[g.figure, g.kvm, g.against, g.ratio, g.goal, g.met] for g in rows], right={3})
    reasons: dict[str, list[str]] = {}
    for g in rows:
        if g.met == "not measured":
            reasons.setdefault(g.why, []).append(g.figure)
    if reasons:
        t += "\n\n" + " ".join(f"Not measured: {'; '.join(figures)}: {why}." for why, figures in reasons.items())
    why = ""
    if missed:
        why = "\n\nWhere the time goes, for each goal missed:\n\n" + "\n".join(
            f"- **{g.figure}** ({g.ratio}, goal {g.goal}): {g.why}." for g in missed)
    return head + t + why
