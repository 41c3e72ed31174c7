"""The machine, the table of measurements and the targets, as text and as RESULTS.md."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path


@dataclass
class Row:
    """One line of the table."""

    name: str
    server: str
    comments: str
    generator: str
    rps: float | None
    p50: float | None
    p99: float | None
    cpu: float | None  # ms per request
    status: str
    note: str = ""


@dataclass
class Target:
    name: str
    measured: float | None
    goal: str  # e.g. ">= 100x"
    passed: bool | None  # None: could not be measured in this run
    detail: str = ""

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "n/a"}[self.passed]


def _first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else "?"


def machine(isso_version: str, wrk: str | None, postgres_url: str | None) -> dict[str, str]:
    info = {}
    cpuinfo = Path("/proc/cpuinfo").read_text()
    models = [
        line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line
    ]
    info["CPU"] = models[0] if models else platform.processor() or "unknown"
    info["cores"] = f"{os.cpu_count()} (server pinned to core 0, load generator to core 1)"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            info["RAM"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    info["OS"] = platform.platform()
    info["Python"] = platform.python_version()
    info["SQLite"] = sqlite3.sqlite_version
    info["PostgreSQL"] = _postgres_version(postgres_url)
    info["gunicorn"] = version("gunicorn")
    info["Flask / SQLAlchemy"] = f"{version('flask')} / {version('sqlalchemy')}"
    info["Isso"] = isso_version or "not installed"
    info["wrk"] = _first_line([wrk, "-v"]).split(" [")[0] if wrk else "missing (Python generator)"
    info["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return info


def _postgres_version(url: str | None) -> str:
    if not url:
        return "not used"
    argv = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"]
    return _first_line(argv).split()[0]


def commit(root: Path) -> str:
    sha = _first_line(["git", "-C", str(root), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{sha} (with uncommitted changes)" if dirty else sha


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}" if value >= 1 else f"{value:.{digits + 1}f}"


def table(rows: list[Row]) -> list[str]:
    head = (
        "| measurement | server | comments | load | req/s | p50 ms | p99 ms | CPU ms/req | status |"
    )
    lines = [head, "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        status = r.status + (f" ({r.note})" if r.note else "")
        lines.append(
            f"| {r.name} | {r.server} | {r.comments} | {r.generator} | {_num(r.rps)} "
            f"| {_num(r.p50)} | {_num(r.p99)} | {_num(r.cpu, 2)} | {status} |"
        )
    return lines


def targets_table(targets: list[Target]) -> list[str]:
    lines = ["| target | measured | goal | result | how |", "| --- | ---: | --- | --- | --- |"]
    for t in targets:
        measured = "–" if t.measured is None else f"{t.measured:,.2f}"
        lines.append(f"| {t.name} | {measured} | {t.goal} | **{t.verdict}** | {t.detail} |")
    return lines


def plain(rows: list[Row], targets: list[Target]) -> str:
    """The console version: the same tables, aligned."""

    def align(lines: list[str]) -> str:
        cells = [
            [c.strip().replace("**", "") for c in line.strip("|").split("|")] for line in lines
        ]
        cells = [cells[0]] + cells[2:]  # drop the Markdown separator
        widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
        return "\n".join(
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells
        )

    return align(table(rows)) + "\n\n" + align(targets_table(targets))


def write(
    path: Path,
    info: dict[str, str],
    measured_commit: str,
    settings: str,
    rows: list[Row],
    targets: list[Target],
    notes: list[str],
) -> None:
    passed = sum(t.passed is True for t in targets)
    lines = [
        "# `make bench`: our server against Isso 0.14 and against ceilings",
        "",
        f"Measured commit: **{measured_commit}**. Written by `bench/speed.py`; "
        "re-run `make bench` to refresh it.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in info.items()],
        "",
        "## How",
        "",
        settings,
        "",
        "## Measurements",
        "",
        *table(rows),
        "",
        f"## Targets ({passed} of {len(targets)} pass)",
        "",
        *targets_table(targets),
        "",
    ]
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    path.write_text("\n".join(lines))
