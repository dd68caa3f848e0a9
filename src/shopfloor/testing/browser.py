"""Debian's Chromium under Playwright, and ``shopfloor serve`` as its own process, for the
dashboard's browser test and the service benchmark.

Playwright drives the system browser (``/usr/bin/chromium``, which ``./sf test`` installs):
a browser download is neither possible nor wanted. Each launch gets a fresh profile folder.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from shopfloor.acquisition.live.mqtt import free_port

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def missing_browser() -> str | None:
    """Why the browser cannot run here (None: it can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (dev extra)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (./sf test installs Debian's chromium)"
    return None


def launch(pw: Any, profile: Path, **kwargs: Any) -> Any:
    """A headless Chromium context with a fresh profile in ``profile``."""
    return pw.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), headless=True, args=list(FLAGS), **kwargs
    )


def start_serve(
    home: Path,
    secret: str,
    args: list[str],
    log: Path,
    timeout_s: float = 60.0,
    stdout: Path | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """``shopfloor serve`` on a free loopback port; returns the process and its base URL once
    it accepts connections. Its standard error goes to ``log``, and so does its standard
    output unless ``stdout`` names another file (e.g. for ``--json``)."""
    port = free_port()
    env = {**os.environ, "SHOPFLOOR_HOME": str(home), "SHOPFLOOR_SERVICE_SECRET": secret}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    with log.open("w") as err, (stdout or Path(os.devnull)).open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "shopfloor.cli", "serve", "--port", str(port), *args],
            env=env,
            stdout=err if stdout is None else out,
            stderr=err,
        )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"serve did not listen within {timeout_s:g} s: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    """Ctrl-C, then kill if it does not stop in time."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
