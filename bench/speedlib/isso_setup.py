"""Isso 0.14 from PyPI in a virtualenv of its own, its config, and its data."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENT = "isso==0.14.*"


def ensure_venv(venv: Path, log=print) -> Path:
    """The venv's python, after installing Isso and our gunicorn's version into it."""
    python = venv / "bin" / "python"
    gunicorn = f"gunicorn=={version('gunicorn')}"  # the same server as ours
    marker = venv / f".installed-{REQUIREMENT}-{gunicorn}"
    if marker.exists():
        return python
    log(f"isso: installing {REQUIREMENT} and {gunicorn} into {venv}")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        + [REQUIREMENT, gunicorn],
        check=True,
    )
    marker.write_text("")
    return python


def installed_version(python: Path) -> str:
    code = "from importlib.metadata import version; print(version('isso'))"
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True).stdout.strip()


def write_config(path: Path, dbpath: Path) -> Path:
    """Isso's settings for the benchmark.

    host names a port nothing listens on: at start Isso sends a HEAD request to
    it, and pointing it at Isso's own port would stall each worker's boot for
    the 5 s timeout (the worker is the one that would have to answer). Isso
    uses host only for that check, CORS, and fetching a new thread's title,
    and every thread here exists beforehand.
    """
    path.write_text(
        "\n".join(
            [
                "[general]",
                f"dbpath = {dbpath}",
                "host = http://127.0.0.1:9/",
                "reply-notifications = false",
                "gravatar = false",
                "[moderation]",
                "enabled = false",
                "[guard]",
                "enabled = false",  # no per-address posting limits
                "require-author = false",
                "require-email = false",
                "",
            ]
        )
    )
    return path


def load(python: Path, dataset: Path, dbpath: Path, only: str | None = None) -> None:
    """Isso's database from our dataset.json (or only the thread `only`, empty)."""
    argv = [str(python), str(HERE / "isso_load.py"), str(dataset), str(dbpath)]
    if only:
        argv.append(only)
    subprocess.run(argv, check=True)


def server_env(config: Path) -> dict[str, str]:
    return {"ISSO_SETTINGS": str(config)}


APP = "isso.run:application"
