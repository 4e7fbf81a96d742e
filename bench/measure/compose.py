"""Section b: compose time, `ukc compose` next to `wac compose` building the same
composition from the WAC document `ukc compose --emit-wac` writes."""

from __future__ import annotations

import shlex
from pathlib import Path

from .common import SCRATCH, BenchError, Context, note, run, wall
from .report import Series, display, ms, plural, ratio, table


def wac_command(ctx: Context, wac_doc: Path, deps: Path, dest: Path) -> list[str]:
    """The `wac compose` command from the header of the WAC document `ukc compose
    --emit-wac` wrote, with our directories put in."""
    for line in wac_doc.read_text().splitlines():
        line = line.lstrip("/ ").strip()
        if line.startswith("wac compose"):
            words = shlex.split(line)[2:]
            break
    else:
        raise BenchError(f"{wac_doc} has no `wac compose` line in its header")
    cmd = [ctx.a.wac, "compose"]
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


def wit_diff(ctx: Context, a: Path, b: Path) -> tuple[bool, list[str], list[str]]:
    """Compares two components by their WIT (`wasm-tools component wit`): whether they
    import and export the same interfaces, and the lines only in one or the other,
    ignoring the order type definitions are printed in."""
    wa, wb = (run([ctx.a.wasm_tools, "component", "wit", str(p)]).stdout.decode() for p in (a, b))
    la, lb = ([l.strip() for l in w.splitlines() if l.strip()] for w in (wa, wb))
    world = lambda ls: sorted(l for l in ls if l.startswith(("import ", "export ")))  # noqa: E731
    only_a = sorted(set(la) - set(lb))
    only_b = sorted(set(lb) - set(la))
    return world(la) == world(lb), only_a, only_b


def measure(ctx: Context) -> str:
    out = SCRATCH / "compose"
    deps = out / "deps"
    out.mkdir(parents=True)
    run(ctx.ukc("drivers", "--export", str(deps)))
    cases = [("kv-ro", "hvt", "kv-tar driver"), ("hello", "unix", "no drivers")]
    timed: list[tuple[str, str, list[str], Path, list[str], Path]] = []
    for app, target, what in cases:
        wac_doc = out / f"{app}.{target}.wac"
        ukc_out = out / f"{app}.{target}.ukc.wasm"
        wac_out = out / f"{app}.{target}.wac.wasm"
        ukc_cmd = ctx.ukc("compose", f"target/components/{app}.wasm", "-t", target, "-q", "-o", str(ukc_out))
        run([*ukc_cmd, "--emit-wac", str(wac_doc)])
        wac_cmd = wac_command(ctx, wac_doc, deps, wac_out)
        timed.append((f"{app} for {target} ({what})", app, ukc_cmd, ukc_out, wac_cmd, wac_out))

    note(f"compose: {ctx.runs} runs of ukc and wac for {len(cases)} compositions")
    series = {(i, tool): Series() for i in range(len(timed)) for tool in ("ukc", "wac")}
    for n in range(ctx.warmup + ctx.runs):
        for i, (_, _, ukc_cmd, _, wac_cmd, _) in enumerate(timed):
            # Alternate which tool goes first, so neither always runs on a hotter cache.
            order = [("ukc", ukc_cmd), ("wac", wac_cmd)]
            if n % 2:
                order.reverse()
            for tool, cmd in order:
                t = wall(cmd)
                if n >= ctx.warmup:
                    series[(i, tool)].add(t)

    rows = []
    shown_cmds = []
    wit_notes: list[str] = []
    for i, (label, app, ukc_cmd, ukc_out, wac_cmd, wac_out) in enumerate(timed):
        u, w = series[(i, "ukc")], series[(i, "wac")]
        for f in (ukc_out, wac_out):
            run([ctx.a.wasm_tools, "validate", str(f)])
        names, only_u, only_w = wit_diff(ctx, ukc_out, wac_out)
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
        ctx.facts[f"compose_{app}_wit"] = same  # type: ignore[assignment]
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
        ctx.facts[f"compose_{app}_ukc"] = u.median
        ctx.facts[f"compose_{app}_wac"] = w.median
        ctx.facts[f"compose_{app}_extra_bytes"] = ukc_out.stat().st_size - wac_out.stat().st_size
        shown_cmds.append(f"    {display(ukc_cmd)}\n    {display(wac_cmd)}")
    head = (
        "## Compose time\n\n"
        "Wall time of the whole process (spawn to exit), in milliseconds, of `ukc compose` "
        "and of `wac compose` (wac-cli) building the same composition from the WAC document "
        "`ukc compose --emit-wac` writes, with the drivers from `ukc drivers --export`. "
        "Outputs of both are checked with `wasm-tools validate` and compared by their WIT "
        "(`wasm-tools component wit`). "
        f"Median, p10 and p90 of {ctx.runs} runs each after {plural(ctx.warmup, 'warm-up run')}, "
        f"ukc and wac interleaved; {ctx.machine}.\n\n"
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
