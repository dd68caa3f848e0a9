"""``shopfloor store info|check|gc|backup``: JSON output, exit codes, and a running writer."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from shopfloor.cli import app
from shopfloor.core.assets import Asset, Channel
from shopfloor.core.events import Event, EventKind
from shopfloor.core.store import Block, Store
from tests.test_store import write

runner = CliRunner()
T0 = datetime.now(UTC) - timedelta(hours=2)


def filled(home: Path) -> None:
    with Store.open(home) as store:
        write(store, "ds", ["r1", "r2"])
        store.put_asset(
            Asset(
                id="p1",
                kind="pump",
                channels=[Channel(id="de", quantity="acceleration", unit="g", sample_rate_hz=1000)],
            )
        )
        store.append(
            [Block("p1", "de", i, T0 + timedelta(seconds=i), 1000, np.ones(1000)) for i in range(5)]
        )
        store.add_events([Event(asset_id="p1", kind=EventKind.ANOMALY, start=T0)])


def test_info_lists_assets_recordings_streams_events(tmp_path: Path) -> None:
    home = tmp_path / "home"
    filled(home)
    (home / ".staging" / "leftover").mkdir(parents=True)
    (home / ".staging" / "leftover" / "big.parquet").write_bytes(b"x" * 100_000)
    result = runner.invoke(app, ["store", "info", "--home", str(home), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert [a["id"] for a in info["assets"]] == ["m1", "p1"]
    assert info["recordings"] == 2
    assert info["recordings_by_asset"] == {"m1": 2}
    assert info["streams"][0]["blocks"] == 5
    assert info["events"] == {"open": 1}
    assert info["staging_bytes"] == 100_000
    assert info["bytes_on_disk"] < sum(p.stat().st_size for p in home.rglob("*") if p.is_file())
    text = runner.invoke(app, ["store", "info", "--home", str(home)])
    assert "p1/de" in text.output
    assert "not counted: 0.1 MB in .staging" in text.output


def test_check_exit_codes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    filled(home)
    ok = runner.invoke(app, ["store", "check", "--home", str(home), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["clean"] is True
    (seg,) = (home / "streams").rglob("*.seg")
    seg.write_bytes(seg.read_bytes()[:-10])  # truncated on disk
    orphan = home / "waveforms" / "asset=m1" / "day=undated" / "stray.parquet"
    orphan.write_bytes(b"x")
    bad = runner.invoke(app, ["store", "check", "--home", str(home), "--json"])
    assert bad.exit_code == 1
    report = json.loads(bad.stdout)
    assert any("shorter" in p for p in report["problems"])
    assert report["orphans"] == [str(orphan)]
    missing = runner.invoke(app, ["store", "check", "--home", str(tmp_path / "none")])
    assert missing.exit_code == 2
    assert "no store in" in missing.output


def test_gc_waits_for_or_names_the_running_writer_and_backup_runs_beside_it(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    filled(home)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from shopfloor.core.store import Store\n"
            "s = Store.open(sys.argv[1]); print('HELD', flush=True)\n"
            "time.sleep(float(sys.argv[2]))",
            str(home),
            "8",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "HELD"
    busy = runner.invoke(app, ["store", "gc", "--home", str(home)])
    assert busy.exit_code == 3
    assert f"pid {holder.pid}" in busy.output
    backup = runner.invoke(app, ["store", "backup", str(tmp_path / "copy"), "--home", str(home)])
    assert backup.exit_code == 0, backup.output
    started = time.monotonic()
    waited = runner.invoke(app, ["store", "gc", "--home", str(home), "--wait", "60", "--json"])
    assert waited.exit_code == 0, waited.output
    assert time.monotonic() - started > 0.5
    assert "removed_files" in json.loads(waited.stdout)
    holder.wait(timeout=60)
    with Store.open(tmp_path / "copy") as copy:
        assert copy.check().clean
        assert [r.id for r in copy.recordings()] == ["r1", "r2"]
    again = runner.invoke(app, ["store", "backup", str(tmp_path / "copy"), "--home", str(home)])
    assert again.exit_code == 2
    assert "not empty" in again.output
