"""The bullets of "What the numbers say" about WASI: the wasi target's bridge drivers
(size, and boot under the `wasmtime` CLI next to ukc-unix) and the wasi-shim path (a
plain std program composed for unix, next to the same file under `wasmtime run`)."""

from __future__ import annotations

from .report import faster, ms


def size_bullets(f: dict) -> list[str]:
    if "size_hello_wasi" not in f:
        return []
    hu, hw, ku, kw = f["size_hello_unix"], f["size_hello_wasi"], f["size_kv-ro_unix"], f["size_kv-ro_wasi"]
    args = f.get("driver_wasi-args", 0)
    return [
        f"- **Size: the wasi target pays for its bridges.** hello composed for wasi is {hw:,} bytes, "
        f"{hw / hu:.1f}× its unix composition (+{hw - hu:,}), and {hw / f['wasi_hello']:.1f}× the WASI peer "
        f"({f['wasi_hello']:,}); kv-ro is {kw:,} against {ku:,} (+{kw - ku:,}). On unix, `ukc-unix` provides "
        "the devices and parses the command line natively; on wasi the unikernel carries that code. "
        f"wasi-args alone is {args:,} bytes ({args / (hw - hu):.0%} of hello's difference): it parses "
        "the WASI command line with the parser every ukc host uses (`ukc_manifest::cmdline`: "
        "merged `--help`, defaults, one-line errors) and reads the merged manifest, which it "
        "receives as JSON, with serde_json, on Rust std; wasi-base (console, clocks, yield on "
        f"WASI) is {f.get('driver_wasi-base', 0):,}, wasi-run (the `wasi:cli/run` entry) "
        f"{f.get('driver_wasi-run', 0):,}, and kv-ro adds wasi-kv ({f.get('driver_wasi-kv', 0):,}, a kv "
        "store on a preopened directory). The WASI peer gets its arguments from std unparsed, so "
        "it is smaller than the bridged hello.",
        f"- **Size of the wasi-shim path:** the WASI peer composed for unix is {f['wasi_peer_unix']:,} bytes, "
        f"+{f['wasi_peer_unix'] - f['wasi_hello']:,} over the file itself: wasi-shim "
        f"({f.get('driver_wasi-shim', 0):,}: the WASI 0.2 subset std uses, on ukc devices) and wasi-main "
        f"({f.get('driver_wasi-main', 0):,}).",
    ]


def boot_bullets(f: dict) -> list[str]:
    if "wasi_target_warm_fb" not in f:
        return []
    tw, tc, uw, uc = f["wasi_target_warm_fb"], f["wasi_target_cold_fb"], f["ukc_warm_fb"], f["ukc_cold_fb"]
    sw, sc, ww, wc = f["wasi_shim_warm_fb"], f["wasi_shim_cold_fb"], f["wasmtime_warm_fb"], f["wasmtime_cold_fb"]
    why_warm = (
        f" Warm, the wasmtime CLI's own start-up (a {f['wasmtime_mb']:.0f} MB binary that sets up WASI for "
        f"every run) comes on top of loading a larger artifact ({f['wasi_target_cwasm']:,} bytes "
        f"against {f['ukc_cwasm']:,})." if tw > uw else "")
    why_cold = (
        f" Cold, Cranelift compiles {f['hello_wasi_unikernel']:,} bytes of component instead of "
        f"{f['hello_unikernel']:,}, mostly the bridges." if tc > uc else "")
    shim_warm = (
        f"Warm, ukc-unix's smaller start-up wins as it does for hello ({f['wasi_shim_cwasm']:,} bytes of "
        f"compiled artifact against wasmtime's {f['wasmtime_cwasm']:,}). " if sw < ww else
        f"Warm, wasmtime is ahead here ({f['wasi_shim_cwasm']:,} bytes of compiled artifact for ukc-unix against "
        f"{f['wasmtime_cwasm']:,}). ")
    shim_cold = (
        f"Cold, ukc-unix compiles the whole composition, {f['wasi_peer_unix']:,} bytes with wasi-shim and "
        f"wasi-main in wasm, where wasmtime compiles the {f['wasi_hello']:,}-byte file and serves WASI "
        "with its own native code. " if sc > wc else
        f"Cold, ukc-unix is ahead even though it compiles the whole composition ({f['wasi_peer_unix']:,} "
        f"bytes against the {f['wasi_hello']:,}-byte file). ")
    return [
        f"- **The wasi target under `wasmtime run`, against ukc-unix with the unix hello: {faster(tw, uw)} "
        f"warm** ({ms(tw)} vs {ms(uw)} ms to first byte), {faster(tc, uc)} cold ({ms(tc)} vs {ms(uc)} ms)."
        + why_warm + why_cold
        + f" Against the WASI peer on the same CLI ({ms(ww)} ms warm, {ms(wc)} ms cold) the bridged hello "
        f"takes {tw / ww:.2f}× and {tc / wc:.2f}× as long. Peak RSS {f['wasi_target_warm_rss']:,} KiB warm "
        f"against ukc-unix's {f['ukc_warm_rss']:,}.",
        f"- **A std program on ukc-unix (wasi-shim) against the same file on wasmtime: {faster(sw, ww)} "
        f"warm** ({ms(sw)} vs {ms(ww)} ms to first byte), {faster(sc, wc)} cold ({ms(sc)} vs {ms(wc)} ms). "
        + shim_warm + shim_cold
        + f"Peak RSS {f['wasi_shim_warm_rss']:,} vs {f['wasmtime_warm_rss']:,} KiB warm.",
    ]
