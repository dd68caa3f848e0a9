"""A killed import, a full disk and a read-only data directory never damage stored data.

The import runs in a real subprocess that is killed with SIGKILL at several moments (while
staging files, around the commit); the store is then re-opened and checked. Full and read-only
directories are real: a small tmpfs (when this process may mount, as in CI) or, failing that, an
OS file-size limit / file permissions.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from shopfloor.core.errors import StoreError
from shopfloor.core.store import Store
from tests.test_store import make_recording, write

WRITER = textwrap.dedent(
    """
    import sys, numpy as np, pandas as pd
    from shopfloor.core.store import Store
    from shopfloor.core.assets import Asset, Channel
    from shopfloor.core.recording import Recording, RecordingData, TimeBase
    home, dataset, replace, n = sys.argv[1], sys.argv[2], sys.argv[3] == "1", int(sys.argv[4])
    rng = np.random.default_rng(1)
    with Store.open(home) as store, store.batch(dataset, replace=replace) as batch:
        batch.add_asset(Asset(id="m1", kind="induction_motor", channels=[
            Channel(id="de", quantity="acceleration", unit="g", sample_rate_hz=1000)]))
        for i in range(n):
            rec = Recording(id=f"{dataset}-{i}", asset_id="m1", channel_ids=["de"],
                            n_samples=200_000,
                            time_base=TimeBase(kind="uniform", sample_rate_hz=1000))
            batch.add_recording(RecordingData(rec, pd.DataFrame({"de": rng.normal(size=200_000)})))
            if i == 0:
                print("STAGING", flush=True)
        batch.set_dataset(version="2", source="writer")
        print("COMMITTING", flush=True)
    print("DONE", flush=True)
    """
)


def run_writer_and_kill(
    home: Path, dataset: str, replace: bool, wait_for: str, delay_s: float, n: int = 12
) -> str:
    """Start the writer, wait for a marker line, sleep, SIGKILL. Returns the last line seen."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(home), dataset, "1" if replace else "0", str(n)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    last = ""
    for line in proc.stdout:
        last = line.strip()
        if last == wait_for:
            break
    time.sleep(delay_s)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return last


def check_consistent(home: Path) -> Store:
    store = Store.open(home)
    referenced = {r.id for r in store.recordings()}
    files = list((home / "waveforms").rglob("*.parquet"))
    assert len(files) == len(referenced), "orphan or missing waveform files"
    assert not (home / ".staging").exists()
    for rid in referenced:  # every referenced file is whole and readable
        store.load(rid)
    return store


@pytest.mark.slow
@pytest.mark.parametrize(
    ("marker", "delay_s"),
    [
        ("STAGING", 0.0),
        ("STAGING", 0.2),
        ("COMMITTING", 0.0),
        ("COMMITTING", 0.02),
        ("COMMITTING", 0.08),
    ],
)
def test_killed_import_leaves_previous_data_intact(
    tmp_path: Path, marker: str, delay_s: float
) -> None:
    home = tmp_path / "home"
    with Store.open(home) as s:
        write(s, "plant", ["p1", "p2"])
    run_writer_and_kill(home, "plant", replace=True, wait_for=marker, delay_s=delay_s)
    with check_consistent(home) as store:
        ids = sorted(r.id for r in store.recordings(dataset="plant"))
        # all-or-nothing: either the old two recordings or the complete new twelve
        assert ids in (["p1", "p2"], sorted(f"plant-{i}" for i in range(12))), ids
        if ids == ["p1", "p2"]:
            np.testing.assert_array_equal(
                store.load("p1").channel("de"), make_recording("p1").channel("de")
            )


# ------------------------------------------------------------------ full / read-only


def _can_mount() -> bool:
    if os.geteuid() != 0:
        return False
    probe = Path(f"/tmp/shopfloor-mount-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    ok = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)], capture_output=True
        ).returncode
        == 0
    )
    if ok:
        subprocess.run(["umount", str(probe)], check=False)
    probe.rmdir()
    return ok


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


FILL = textwrap.dedent(
    """
    import resource, signal, sys
    from shopfloor.core.errors import StoreError
    from shopfloor.core.store import Store
    from tests.test_store import make_asset, make_recording
    if len(sys.argv) > 2:  # no tmpfs available: emulate a full disk with a file-size limit
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        limit = int(sys.argv[2])
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        with Store.open(sys.argv[1]) as s:
            with s.batch("big") as batch:
                batch.add_asset(make_asset("m2"))
                for i in range(10):  # 10 x 4 MB of incompressible samples
                    batch.add_recording(
                        make_recording(f"b{i}", n=500_000, seed=i, asset_id="m2"))
    except StoreError as exc:
        print("STOREERROR", exc)
    """
)


@pytest.mark.slow
def test_full_data_directory_gives_clear_error_and_keeps_data(tmp_path: Path) -> None:
    home = tmp_path / "mnt" / "home"
    mounted = _can_mount()
    ctx = tmpfs(tmp_path / "mnt", "8m") if mounted else contextlib.nullcontext(tmp_path)
    with ctx:
        with Store.open(home) as s:
            write(s, "ds", ["r1"])
        extra = [] if mounted else ["3000000"]
        out = subprocess.run(
            [sys.executable, "-c", FILL, str(home), *extra],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parents[1],
        )
        assert "STOREERROR" in out.stdout, out.stdout + out.stderr
        assert str(home) in out.stdout
        assert "full" in out.stdout or "limit" in out.stdout
        with check_consistent(home) as store:
            assert [r.id for r in store.recordings()] == ["r1"]
            np.testing.assert_array_equal(
                store.load("r1").channel("de"), make_recording("r1").channel("de")
            )


def test_read_only_data_directory(tmp_path: Path) -> None:
    home = tmp_path / "mnt" / "home"
    if _can_mount():
        with tmpfs(tmp_path / "mnt", "4m"):
            with Store.open(home) as s:
                write(s, "ds", ["r1"])
            subprocess.run(["mount", "-o", "remount,ro", str(tmp_path / "mnt")], check=True)
            _assert_read_only_behaviour(home)
    elif os.geteuid() != 0:
        with Store.open(home) as s:
            write(s, "ds", ["r1"])
        for p in [home, *home.rglob("*")]:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            _assert_read_only_behaviour(home)
        finally:
            for p in [home, *home.rglob("*")]:
                p.chmod(0o755 if p.is_dir() else 0o644)
    else:
        pytest.skip("root without permission to mount: cannot make a read-only directory")


def _assert_read_only_behaviour(home: Path) -> None:
    with pytest.raises(StoreError, match="not writable"):
        Store.open(home)
    # reading what is stored still works
    with Store.open(home, read_only=True) as store:
        assert [r.id for r in store.recordings()] == ["r1"]
        store.load("r1")


def test_file_size_limit_fallback_gives_clear_error(tmp_path: Path) -> None:
    # The path used where tmpfs cannot be mounted: an OS file-size limit on the writer.
    home = tmp_path / "home"
    with Store.open(home) as s:
        write(s, "ds", ["r1"])
    out = subprocess.run(
        [sys.executable, "-c", FILL, str(home), "3000000"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[1],
    )
    assert "STOREERROR" in out.stdout, out.stdout + out.stderr
    assert "limit" in out.stdout, out.stdout
    with check_consistent(home) as store:
        assert [r.id for r in store.recordings()] == ["r1"]


# ------------------------------------------------------------------ the real import command

IMPORT_MAPPING = """\
format: csv
time:
  sample_rate_hz: 1000
  start: "2024-05-14T08:00:00+00:00"
channels:
  - {column: acc, id: acc, quantity: acceleration, unit: g}
  - {column: temp, id: temp, quantity: temperature, unit: degC}
asset: {id: pump-7, kind: pump}
recording_id: big-export
"""


@pytest.mark.slow
@pytest.mark.parametrize("delay_s", [0.0, 0.05, 0.3])
def test_killed_shopfloor_import_leaves_the_store_as_it_was(tmp_path: Path, delay_s: float) -> None:
    """``shopfloor import`` killed once it has started writing (its staging folder exists)."""
    home = tmp_path / "home"
    with Store.open(home) as s:
        write(s, "plant", ["p1", "p2"])
    rng = np.random.default_rng(0)
    big = tmp_path / "export.csv"
    n = 600_000
    with big.open("w", encoding="utf-8") as fh:
        fh.write("acc,temp\n")
        np.savetxt(
            fh,
            np.column_stack([rng.normal(size=n), 40 + rng.normal(size=n)]),
            fmt="%.6f",
            delimiter=",",
        )
    mapping = tmp_path / "map.yaml"
    mapping.write_text(IMPORT_MAPPING, encoding="utf-8")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shopfloor.cli",
            "import",
            str(big),
            "--mapping",
            str(mapping),
            "--home",
            str(home),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    staging = home / ".staging"
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if staging.is_dir() and any(staging.iterdir()):
            break  # the write has begun
        time.sleep(0.005)
    time.sleep(delay_s)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    with check_consistent(home) as store:
        ids = sorted(r.id for r in store.recordings())
        print(f"killed {delay_s} s after staging began: finished={finished}, stored={ids}")
        assert ids in (["p1", "p2"], ["big-export", "p1", "p2"]), ids
        if "big-export" in ids:  # it finished before the kill: then it is complete
            assert store.recording("big-export").n_samples == n
        else:
            assert not finished or proc.returncode != 0
        np.testing.assert_array_equal(
            store.load("p1").channel("de"), make_recording("p1").channel("de")
        )
