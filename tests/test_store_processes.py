"""One writer, many readers, kill -9: the store's concurrency and crash claims, with real processes.

Writers and readers are separate Python processes (``shopfloor.testing.store_load``); the
writer is killed with SIGKILL at random moments and restarted re-sending blocks it may not
have had acknowledged, as a real sender would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from shopfloor.core.store import Store, StoreBusyError
from shopfloor.testing.store_load import ASSET, samples

CHANNELS = 4
BLOCK_S = 0.1
T0_NS = time.time_ns() - 2 * 3600 * 10**9


def start_writer(
    home: Path, *, seconds: float, start_seq: int = 0, wait_s: float = 0.0
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shopfloor.testing.store_load",
            "writer",
            str(home),
            "--channels",
            str(CHANNELS),
            "--block-s",
            str(BLOCK_S),
            "--seconds",
            str(seconds),
            "--start-seq",
            str(start_seq),
            "--t0-ns",
            str(T0_NS),
            "--wait-s",
            str(wait_s),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_for(proc: subprocess.Popen[str], marker: str) -> list[str]:
    """Read the writer's lines up to ``marker``, then keep draining them in the background (a
    full pipe would stall the writer); returns the list that collects every line."""
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line.strip())
        if line.strip() == marker:
            break
    threading.Thread(
        target=lambda: lines.extend(x.strip() for x in proc.stdout or []), daemon=True
    ).start()
    return lines


def start_reader(home: Path, out: Path, seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shopfloor.testing.store_load",
            "reader",
            str(home),
            "--seconds",
            str(seconds),
            "--last-s",
            "1.0",
            "--poll-s",
            "0.02",
            "--out",
            str(out),
        ]
    )


def test_readers_never_wait_and_a_second_writer_is_told_who_writes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    writer = start_writer(home, seconds=7.0)  # outlasts the readers on a slow machine
    wait_for(writer, "READY")
    readers = [start_reader(home, tmp_path / f"r{i}.json", 3.0) for i in range(2)]
    with pytest.raises(StoreBusyError) as busy:
        Store.open(home)
    assert f"pid {writer.pid}" in str(busy.value)
    assert "since" in str(busy.value)
    for r in readers:
        assert r.wait(timeout=60) == 0
    for i in range(2):
        result = json.loads((tmp_path / f"r{i}.json").read_text())
        assert result["errors"] == []
        assert len(result["latencies_s"]) > 10  # it really read while the writer wrote
    writer.wait(timeout=60)
    second = start_writer(home, seconds=2.0, start_seq=0)
    wait_for(second, "READY")
    told: list[StoreBusyError] = []
    with Store.open(home, wait_s=60, on_wait=told.append) as store:  # waits for the writer
        assert len(told) == 1
        assert f"pid {second.pid}" in str(told[0])
        assert store.check().clean
    assert second.wait(timeout=60) == 0


def test_backup_while_the_writer_runs_is_consistent(tmp_path: Path) -> None:
    home = tmp_path / "home"
    writer = start_writer(home, seconds=3.0)
    wait_for(writer, "ACK 3")
    with Store.open(home, read_only=True) as reader:
        done = reader.backup(tmp_path / "backup")
    assert done["files"] >= 1
    writer.wait(timeout=60)
    with Store.open(tmp_path / "backup") as copy:
        assert copy.check().clean
        (stream,) = [s for s in copy.streams() if s["channel_id"] == "ch001"]
        last = int(str(stream["last_seq"]))
        got = copy.read_last(ASSET, "ch001", BLOCK_S)
        np.testing.assert_array_equal(got.values, samples(1, last, round(25_600 * BLOCK_S)))


@pytest.mark.slow
def test_writer_killed_at_random_moments_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    rng = np.random.default_rng(19)
    acked: set[int] = set()
    for _ in range(5):
        # a sender re-sends what it is not sure was stored: from a little before its last ACK
        start = max(acked, default=-1) - 2
        writer = start_writer(home, seconds=30.0, start_seq=max(start, 0))
        lines = wait_for(writer, "READY")
        time.sleep(float(rng.uniform(0.05, 0.6)))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=60)
        time.sleep(0.1)  # let the drain thread read what the pipe still holds
        acked |= {int(line.split()[1]) for line in lines if line.startswith("ACK")}
        with Store.open(home) as store:
            assert store.check().clean
    assert acked
    with Store.open(home, read_only=True) as store:
        counts = store.sql(
            "SELECT stream_id, seq_lo, count(*) AS n FROM blocks GROUP BY stream_id, seq_lo"
        )
        assert counts["n"].max() == 1, "a committed block was stored twice"
        n = round(25_600 * BLOCK_S)
        for c in range(CHANNELS):
            stored = set(counts.loc[counts["stream_id"] == f"{ASSET}/ch{c:03d}", "seq_lo"])
            assert acked <= stored, f"acknowledged blocks lost: {sorted(acked - stored)}"
            for seq in sorted(acked)[:: max(1, len(acked) // 10)]:
                t = T0_NS + seq * round(BLOCK_S * 1e9)
                got = store.read(ASSET, f"ch{c:03d}", t, t + round(BLOCK_S * 1e9))
                np.testing.assert_array_equal(got.values, samples(c, seq, n))
