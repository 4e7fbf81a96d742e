"""Network namespaces for the network sections: each measurement makes its own, uses
addresses inside them only, bounds every command in time, and deletes them when done —
also when it fails or is interrupted (SIGINT, SIGTERM)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from .common import BenchError, run

PREFIX = "ukcbench"


def ip(*args: str) -> None:
    run(["ip", *args])


def _interrupted(signum, frame):  # noqa: ARG001 - signal handler signature
    raise KeyboardInterrupt(f"signal {signum}")


class Lab:
    """Namespaces and the processes started in them; a context manager that kills those
    processes and deletes those namespaces on the way out, whatever the way out is."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.names: list[str] = []
        self.procs: list[tuple[subprocess.Popen, object]] = []

    def __enter__(self) -> Lab:
        self.old_term = signal.signal(signal.SIGTERM, _interrupted)
        sweep_stale()
        return self

    def __exit__(self, *exc) -> None:
        try:
            for p, log in reversed(self.procs):
                stop(p)
                log.close()
            for name in reversed(self.names):
                subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL, timeout=20)
        finally:
            signal.signal(signal.SIGTERM, self.old_term)

    def netns(self, tag: str) -> str:
        """A new namespace with its loopback interface up."""
        name = f"{PREFIX}-{os.getpid()}-{tag}"
        self.names.append(name)
        ip("netns", "add", name)
        ip("-n", name, "link", "set", "lo", "up")
        return name

    def with_tap(self, tag: str) -> str:
        """A namespace holding `tap0` with 10.0.0.1/24, for a unikernel at 10.0.0.2."""
        ns = self.netns(tag)
        ip("-n", ns, "tuntap", "add", "dev", "tap0", "mode", "tap")
        ip("-n", ns, "link", "set", "tap0", "up")
        ip("-n", ns, "addr", "add", "10.0.0.1/24", "dev", "tap0")
        return ns

    def veth_pair(self, tag: str) -> tuple[str, str]:
        """Two namespaces joined by a veth pair: `veth0` 10.0.0.1/24 in the first,
        `veth1` 10.0.0.2/24 in the second (MTU 1500, like the tap)."""
        a, b = self.netns(f"{tag}-a"), self.netns(f"{tag}-b")
        ip("link", "add", "veth0", "netns", a, "type", "veth", "peer", "name", "veth1", "netns", b)
        for ns, dev, addr in ((a, "veth0", "10.0.0.1/24"), (b, "veth1", "10.0.0.2/24")):
            ip("-n", ns, "addr", "add", addr, "dev", dev)
            ip("-n", ns, "link", "set", dev, "up")
        return a, b

    def spawn(self, ns: str, cmd: list[str], log: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """Starts `cmd` in `ns` in the background, its output to `log` in the scratch
        directory; stopped when the lab closes. `ip netns exec` execs `cmd`, so the
        process is `cmd` itself."""
        out = open(self.scratch / log, "wb")
        p = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], stdout=out, stderr=subprocess.STDOUT, env=env)
        self.procs.append((p, out))
        return p

    def log(self, name: str) -> str:
        return (self.scratch / name).read_text(errors="replace")

    def wait_for_port(self, ns: str, host: str, port: int, proc: subprocess.Popen, log: str, seconds: float = 60) -> None:
        """Waits until something in `ns` accepts TCP connections on host:port."""
        probe = ["ip", "netns", "exec", ns, "bash", "-c", f"exec 3<>/dev/tcp/{host}/{port}"]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BenchError(f"the server in {ns} exited ({proc.returncode}):\n{self.log(log)}")
            if subprocess.run(probe, stderr=subprocess.DEVNULL, timeout=5).returncode == 0:
                return
            time.sleep(0.05)
        raise BenchError(f"nothing listens on {host}:{port} in {ns} after {seconds:.0f} s:\n{self.log(log)}")

    def run(self, ns: str, cmd: list[str], seconds: float) -> str:
        """Runs `cmd` in `ns` to completion within `seconds`; its stdout."""
        r = subprocess.run(["ip", "netns", "exec", ns, *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=seconds)
        if r.returncode != 0:
            raise BenchError(f"{' '.join(cmd)} in {ns} failed ({r.returncode}):\n{r.stderr.decode(errors='replace')}")
        return r.stdout.decode(errors="replace")


def stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def sweep_stale() -> None:
    """Deletes namespaces an earlier run of this benchmark left behind when it was killed
    outright (SIGKILL leaves no chance to clean up): ours by name, of a process that is gone."""
    listed = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE, timeout=20).stdout.decode()
    for name, pid in re.findall(rf"^({PREFIX}-(\d+)-\S+)", listed, re.M):
        if not Path(f"/proc/{pid}").exists():
            subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL, timeout=20)


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU seconds `pid` has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def link_frames(ns: str, dev: str) -> tuple[int, int]:
    """Frames received and sent by interface `dev` in `ns`, as the kernel counts them."""
    base = Path(f"/sys/class/net/{dev}/statistics")
    out = subprocess.run(
        ["ip", "netns", "exec", ns, "cat", str(base / "rx_packets"), str(base / "tx_packets")],
        stdout=subprocess.PIPE, timeout=20, check=True,
    ).stdout.split()
    return int(out[0]), int(out[1])
