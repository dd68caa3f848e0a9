"""A real Mosquitto broker on loopback, for integration tests and the live benchmark.

Debian's ``mosquitto`` package (``./sf test`` installs it); each instance gets its own config,
port and persistence folder, so nothing outside that folder is touched.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from shopfloor.acquisition.live.mqtt import free_port


def find_mosquitto() -> str | None:
    """Path of the mosquitto executable, or None."""
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None
    )


class Mosquitto:
    """One mosquitto process with a persistent store in ``folder`` (survives a restart)."""

    def __init__(self, exe: str, folder: Path, port: int | None = None) -> None:
        self.exe = exe
        self.folder = folder
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            # started as root, mosquitto drops to user 'mosquitto', which cannot write the
            # persistence folder we own; keep the user we are
            f"user {getpass.getuser()}\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {folder}/\n"
            "autosave_interval 1\n"
            # QoS 1 messages in flight to one client; 0 = no limit (the runtime acknowledges in
            # batches after each store commit, so a low limit would throttle it)
            "max_inflight_messages 0\n"
            "max_queued_messages 0\n"
            "max_queued_bytes 0\n"
            "persistent_client_expiration 1h\n"
        )

    def start(self, timeout_s: float = 10.0) -> None:
        self.proc = subprocess.Popen(
            [self.exe, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "mosquitto.log", "ab"),  # noqa: SIM115
        )
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        log = (self.folder / "mosquitto.log").read_text(errors="replace")[-500:]
        raise RuntimeError(f"mosquitto did not start on port {self.port}: {log}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
