"""Drive a server from the load core and measure it: throughput, latency, and the
CPU its workers spent per request."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from speedlib.servers import LOAD_CORE, Server, pinned

HERE = Path(__file__).resolve().parent
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass
class Measurement:
    requests: int
    seconds: float
    p50_ms: float | None
    p99_ms: float | None
    cpu_ms: float | None  # worker CPU per request
    generator: str
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def find_wrk(allow_install: bool = True) -> str | None:
    """wrk's path; installs Debian's package when root and it is missing."""
    path = shutil.which("wrk")
    if path or not allow_install or os.geteuid() != 0 or not shutil.which("apt-get"):
        return path
    print("wrk is missing: apt-get install -y wrk", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, **quiet).returncode:
        subprocess.run(["apt-get", "update"], env=env, **quiet)
        subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, **quiet)
    return shutil.which("wrk")


def probe(server: Server, path: str, headers: dict | None = None):
    """(status, headers, body) of one request."""
    request = urllib.request.Request(server.base + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _cpu(server: Server) -> dict[int, float]:
    return {pid: server.cpu_seconds_of(pid) for pid in server.workers_pids()}


def _cpu_spent(before: dict[int, float], after: dict[int, float]) -> float | None:
    if set(before) != set(after):
        return None  # a worker was replaced mid-run: its time is unknown
    return sum(after[p] - before[p] for p in after)


def _wrk_time(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def run_wrk(wrk: str, url: str, duration: float, concurrency: int, headers: dict) -> dict:
    seconds = max(1, round(duration))  # wrk takes whole seconds
    argv = [*pinned(LOAD_CORE), wrk, "-t1", f"-c{concurrency}", f"-d{seconds}s"]
    argv += ["--timeout", "60s", "--latency"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    out = subprocess.run(argv + [url], capture_output=True, text=True, check=True).stdout
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    latency = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)\s*$", out, re.M))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        # A sync worker closes each connection; wrk may count that as a read error
        # on the next reuse attempt, which is not a failed request. Timeouts are.
        errors += int(socket_errors.group(1)) + int(socket_errors.group(4))
    return {
        "count": int(done.group(1)),
        "elapsed": _wrk_time(done.group(2) + done.group(3)) / 1000,
        "p50": _wrk_time(latency["50"]) if "50" in latency else None,
        "p99": _wrk_time(latency["99"]) if "99" in latency else None,
        "errors": errors,
    }


def run_loadgen(spec: dict) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(spec, handle)
    try:
        argv = [*pinned(LOAD_CORE), sys.executable, str(HERE / "loadgen.py"), handle.name]
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(handle.name)
    return json.loads(out)


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def measure(
    server: Server,
    path: str,
    *,
    duration: float,
    wrk: str | None,
    headers: dict | None = None,
    concurrency: int = 2,
    warmup: float = 1.0,
    post: str | None = None,
    clients: list | None = None,
    run: str = "",
) -> Measurement:
    """Warm up for `warmup` seconds (0: not at all), then load `path` for
    `duration` seconds: with wrk when given one and not posting, else with the
    Python generator."""
    headers = dict(headers or {})
    use_wrk = wrk is not None and post is None
    spec = {
        "port": server.port,
        "path": path,
        "headers": headers,
        "concurrency": concurrency,
        "post": post,
        "clients": clients or [],
        "run": run,
    }
    if warmup and use_wrk:
        run_wrk(wrk, server.base + path, warmup, concurrency, headers)
    elif warmup and post is None:
        run_loadgen({**spec, "duration": warmup})
    before = _cpu(server)
    if use_wrk:
        result = run_wrk(wrk, server.base + path, duration, concurrency, headers)
        cpu = _cpu_spent(before, _cpu(server))
        return Measurement(
            requests=result["count"],
            seconds=result["elapsed"],
            p50_ms=result["p50"],
            p99_ms=result["p99"],
            cpu_ms=cpu * 1000 / result["count"] if cpu is not None and result["count"] else None,
            generator=f"wrk c={concurrency}",
            errors=result["errors"],
        )
    result = run_loadgen({**spec, "duration": duration})
    cpu = _cpu_spent(before, _cpu(server))
    latencies = result["latencies"]
    ok = ("200", "201", "304")
    return Measurement(
        requests=result["count"],
        seconds=result["elapsed"],
        p50_ms=percentile(latencies, 0.50) * 1000 if latencies else None,
        p99_ms=percentile(latencies, 0.99) * 1000 if latencies else None,
        cpu_ms=cpu * 1000 / result["count"] if cpu is not None and result["count"] else None,
        generator=f"py c={concurrency}",
        statuses=result["statuses"],
        errors=sum(n for s, n in result["statuses"].items() if s not in ok),
    )
