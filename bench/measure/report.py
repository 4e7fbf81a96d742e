"""Statistics and formatting: medians and percentiles, numbers, markdown tables."""

from __future__ import annotations

import os
import shlex
import statistics
from dataclasses import dataclass, field


@dataclass
class Series:
    values: list[float] = field(default_factory=list)

    def add(self, v: float) -> None:
        self.values.append(v)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def p10(self) -> float:
        return statistics.quantiles(self.values, n=10, method="inclusive")[0]

    @property
    def p90(self) -> float:
        return statistics.quantiles(self.values, n=10, method="inclusive")[-1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def faster(a: float, b: float) -> str:
    """How the time `a` compares with the time `b`: `1.9× faster`, `1.2× slower`, or
    `about as fast` within 5%."""
    if abs(a / b - 1) < 0.05:
        return "about as fast"
    return f"{b / a:.1f}× faster" if a < b else f"{a / b:.1f}× slower"


def kib(n: int) -> str:
    return f"{n / 1024:.1f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×"


def table(header: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    right = right if right is not None else set(range(1, len(header)))
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def plural(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def display(cmd: list[str]) -> str:
    """A command as a reader would type it: tools by name, paths relative to the repo."""
    shown = [os.path.basename(cmd[0]), *cmd[1:]]
    return shlex.join(shown)
