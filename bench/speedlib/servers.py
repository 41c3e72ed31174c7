"""Start a gunicorn server pinned to core 0, find its workers, read their CPU time."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
NEUTRAL_CONFIG = HERE / "gunicorn_neutral.py"
SERVER_CORE = "0"
LOAD_CORE = "1"
TICKS = os.sysconf("SC_CLK_TCK")
# Pinning needs taskset and a second core; without them everything shares the CPUs.
CAN_PIN = bool(shutil.which("taskset")) and len(os.sched_getaffinity(0)) >= 2


def pinned(core: str) -> list[str]:
    """The command prefix that runs a program on one core (nothing if we cannot)."""
    return ["taskset", "-c", core] if CAN_PIN else []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_flags(port: int, workers: int, log: Path) -> list[str]:
    """The same settings for every server: sync workers, no access log."""
    return [
        "-c",
        str(NEUTRAL_CONFIG),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        "300",  # Isso takes seconds per request on the big threads
        "--graceful-timeout",
        "5",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
        "--error-logfile",
        str(log),
        "--no-control-socket",
    ]


@dataclass
class Server:
    """One gunicorn server; use as a context manager."""

    name: str
    gunicorn: Path  # the gunicorn script of the venv that has the app
    app: str  # "module:callable"
    env: dict[str, str]
    workers: int = 1
    cwd: Path = HERE
    pythonpath: str | None = None
    ready_path: str = "/"
    log_dir: Path = Path("/tmp")
    port: int = 0
    process: subprocess.Popen | None = None
    log: Path = field(default=Path("/dev/null"))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.port = free_port()
        self.log = self.log_dir / f"gunicorn-{self.name}.log"
        argv = [*pinned(SERVER_CORE), str(self.gunicorn)]
        argv += gunicorn_flags(self.port, self.workers, self.log)
        if self.pythonpath:
            argv += ["--pythonpath", self.pythonpath]
        argv.append(self.app)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN", "FORUM_"))}
        env.update(self.env)
        self.log.write_text("")
        self.process = subprocess.Popen(
            argv, cwd=self.cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        self._wait_ready()
        return self

    def _wait_ready(self, limit: float = 90) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            if len(self.workers_pids()) >= self.workers:
                try:
                    with urllib.request.urlopen(self.base + self.ready_path, timeout=300) as r:
                        r.read()
                    return
                except urllib.error.HTTPError:
                    return  # it answers; the status is the caller's business
                except OSError:
                    pass
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"{self.name} did not start: {self.log.read_text()[-2000:]}")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def workers_pids(self) -> list[int]:
        """The master's children: the worker processes that run the app."""
        pid = self.process.pid
        try:
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
            return [int(p) for p in text.split()]
        except OSError:  # a kernel without that file: scan /proc
            found = []
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        stat = (entry / "stat").read_text()
                    except OSError:
                        continue
                    if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry.name))
            return found

    @staticmethod
    def cpu_seconds_of(pid: int) -> float:
        """utime + stime of one process so far (0 if it is gone)."""
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / TICKS  # stat fields 14 and 15
