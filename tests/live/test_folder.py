"""The folder watcher: files written slowly, duplicates, restarts, bad files, decimal commas."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from shopfloor.acquisition.live.connector import Connector, DeadLetter, Record
from shopfloor.acquisition.live.fleet_config import FleetConfig, fleet_from_dict
from shopfloor.acquisition.live.folder import FolderTransport
from shopfloor.acquisition.live.folder_config import watch_from_dict
from shopfloor.cli import app
from shopfloor.core.errors import InputError
from shopfloor.core.store import Store

FS = 1000.0  # Hz: small files, whole 1-s blocks
FLEET: dict[str, Any] = {
    "plant": "p1",
    "line": "l1",
    "assets": [
        {
            "id": "m1",
            "kind": "induction_motor",
            "channels": [
                {"id": "vib", "quantity": "acceleration", "unit": "m/s^2", "sample_rate_hz": FS},
                {"id": "temp", "quantity": "temperature", "unit": "degC"},
            ],
        }
    ],
}
SIGNAL_DROP = {"pattern": "vib_*.csv", "asset": "m1", "channel": "vib"}


def _fleet() -> FleetConfig:
    return fleet_from_dict(FLEET)


def _signal(n: int, seed: int) -> np.ndarray:
    return np.round(np.random.default_rng(seed).normal(0, 1, n), 6)


def _write(path: Path, values: np.ndarray, decimal: str = ".") -> bytes:
    text = "accel\n" + "\n".join(f"{v:.6f}".replace(".", decimal) for v in values) + "\n"
    path.write_text(text)
    return text.encode()


def _transport(tmp_path: Path, **watch: Any) -> FolderTransport:
    doc = {"folder": str(tmp_path / "in"), "poll_s": 0.05, "settle_s": 0.3, **watch}
    doc.setdefault("drops", [SIGNAL_DROP])
    (tmp_path / "in").mkdir(exist_ok=True)
    return FolderTransport(watch_from_dict(doc), _fleet(), tmp_path / "state", block_s=1.0)


async def _collect(
    tr: FolderTransport, until: int, timeout_s: float = 20.0, ack: bool = True
) -> list[Record | DeadLetter]:
    """Items from the watcher until ``until`` of them came (or the timeout); acked if ``ack``."""
    conn = Connector(tr, _fleet())
    await conn.open()
    items: list[Record | DeadLetter] = []
    it = conn.records()
    end = time.monotonic() + timeout_s
    try:
        while len(items) < until and time.monotonic() < end:
            try:
                item = await asyncio.wait_for(anext(it), max(0.01, end - time.monotonic()))
            except TimeoutError:
                break
            items.append(item)
            if ack:
                await item.ack()
    finally:
        await conn.close()
    return items


def _blocks(items: list[Record | DeadLetter]) -> list[Record]:
    return [i for i in items if isinstance(i, Record) and i.kind == "block"]


def test_a_file_written_slowly_is_read_once_and_only_when_complete(tmp_path: Path) -> None:
    tr = _transport(tmp_path)
    values = _signal(3000, 1)
    text = ("accel\n" + "\n".join(f"{v:.6f}" for v in values) + "\n").encode()
    path = tmp_path / "in" / "vib_a.csv"

    def slow_writer() -> None:
        with path.open("wb") as fh:  # 6 pieces, 0.15 s apart: less than settle_s
            for k in range(6):
                fh.write(text[k * len(text) // 6 : (k + 1) * len(text) // 6])
                fh.flush()
                time.sleep(0.15)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    items = asyncio.run(_collect(tr, until=4, timeout_s=5.0))
    writer.join()
    blocks = _blocks(items)
    assert len(items) == 3, items  # three whole 1-s blocks, and nothing else
    assert [b.seq for b in blocks] == [0, 1, 2]
    np.testing.assert_array_equal(np.concatenate([b.values for b in blocks]), values)
    # the file's times: it ended at its modification time
    mtime_ns = path.stat().st_mtime_ns
    assert blocks[-1].end_ns == mtime_ns
    assert blocks[1].start_ns - blocks[0].start_ns == 1_000_000_000


def test_marker_rule_waits_for_the_done_file(tmp_path: Path) -> None:
    tr = _transport(tmp_path, completion="marker")
    _write(tmp_path / "in" / "vib_a.csv", _signal(1000, 2))
    assert asyncio.run(_collect(tr, until=1, timeout_s=0.6)) == []
    (tmp_path / "in" / "vib_a.csv.done").touch()
    tr = _transport(tmp_path, completion="marker")
    assert len(_blocks(asyncio.run(_collect(tr, until=1, timeout_s=5.0)))) == 1


def test_rename_rule_reads_on_sight_and_never_reads_temporary_names(tmp_path: Path) -> None:
    tr = _transport(tmp_path, completion="rename", drops=[{**SIGNAL_DROP, "pattern": "vib_*"}])
    _write(tmp_path / "in" / "vib_b.csv.part", _signal(1000, 3))  # still being written
    assert asyncio.run(_collect(tr, until=1, timeout_s=0.4)) == []
    os.replace(tmp_path / "in" / "vib_b.csv.part", tmp_path / "in" / "vib_b.csv")
    tr = _transport(tmp_path, completion="rename", drops=[{**SIGNAL_DROP, "pattern": "vib_*"}])
    assert len(_blocks(asyncio.run(_collect(tr, until=1, timeout_s=5.0)))) == 1


def test_duplicates_and_restarts_never_read_a_file_twice(tmp_path: Path) -> None:
    values = _signal(2000, 4)
    (tmp_path / "in").mkdir()
    _write(tmp_path / "in" / "vib_1.csv", values)
    items = asyncio.run(_collect(_transport(tmp_path, completion="rename"), until=3, timeout_s=2))
    assert [b.seq for b in _blocks(items)] == [0, 1]
    # the same content again under another name (a re-sent transfer): recorded, not read
    _write(tmp_path / "in" / "vib_2.csv", values)
    tr = _transport(tmp_path, completion="rename")
    assert asyncio.run(_collect(tr, until=1, timeout_s=1.0)) == []
    assert tr.counts["files_duplicate"] == 1
    # a new file continues the channel's sequence after a restart
    _write(tmp_path / "in" / "vib_3.csv", _signal(1000, 5))
    items = asyncio.run(_collect(_transport(tmp_path, completion="rename"), until=2, timeout_s=2))
    assert [b.seq for b in _blocks(items)] == [2]
    # a processed file rewritten in place: recorded as changed, not read again
    _write(tmp_path / "in" / "vib_1.csv", _signal(3000, 6))
    items = asyncio.run(_collect(_transport(tmp_path, completion="rename"), until=2, timeout_s=1))
    assert len(items) == 1
    assert isinstance(items[0], DeadLetter)
    assert "changed after it was processed" in items[0].reason
    events = [e["event"] for e in json.loads(f"[{_journal_lines(tmp_path)}]")]
    assert events.count("done") == 2
    assert events.count("claimed") == 2


def _journal_lines(tmp_path: Path) -> str:
    return ",".join((tmp_path / "state" / "files.jsonl").read_text().splitlines())


def test_a_crash_before_every_record_is_stored_reads_the_file_again_with_the_same_blocks(
    tmp_path: Path,
) -> None:
    values = _signal(3000, 7)
    (tmp_path / "in").mkdir()
    _write(tmp_path / "in" / "vib_1.csv", values)
    # first run: two of three blocks handed out, none acknowledged (a crash before storing)
    first = asyncio.run(
        _collect(_transport(tmp_path, completion="rename"), until=2, timeout_s=2, ack=False)
    )
    assert [b.seq for b in _blocks(first)] == [0, 1]
    # a file dropped meanwhile must not take the crashed file's sequence numbers
    _write(tmp_path / "in" / "vib_2.csv", _signal(1000, 8))
    second = asyncio.run(_collect(_transport(tmp_path, completion="rename"), until=4, timeout_s=3))
    blocks = _blocks(second)
    assert [b.seq for b in blocks] == [0, 1, 2, 3]
    np.testing.assert_array_equal(np.concatenate([b.values for b in blocks[:3]]), values)
    assert [b.start_ns for b in blocks[:2]] == [b.start_ns for b in _blocks(first)]
    # every record acknowledged: nothing comes a third time
    third = asyncio.run(_collect(_transport(tmp_path, completion="rename"), until=1, timeout_s=1))
    assert third == []


def test_a_bad_file_is_moved_aside_with_its_reason_and_the_watcher_goes_on(
    tmp_path: Path,
) -> None:
    (tmp_path / "in").mkdir()
    good = _signal(1000, 9)
    lines = ["accel", *[f"{v:.6f}" for v in good]]
    lines[5] = "n/a"  # line 6 of the file
    (tmp_path / "in" / "vib_1.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "in" / "vib_2.csv").write_text("accel\n0.1\n0.2\n")  # fewer than one block
    (tmp_path / "in" / "vib_3.csv").write_bytes(b"\x00\x01garbage\x00" * 10)  # not a CSV
    _write(tmp_path / "in" / "vib_4.csv", good)
    tr = _transport(tmp_path, completion="rename")
    items = asyncio.run(_collect(tr, until=4, timeout_s=3))
    dead = [i for i in items if isinstance(i, DeadLetter)]
    assert len(dead) == 3
    assert len(_blocks(items)) == 1  # the good file after the bad ones
    reasons = {Path(d.topic.removeprefix("file:")).name: d.reason for d in dead}
    assert "line 6" in reasons["vib_1.csv"]
    assert "vib_1.csv" in reasons["vib_1.csv"]
    assert "fewer than one block" in reasons["vib_2.csv"]
    assert "binary content" in reasons["vib_3.csv"]
    assert all("\n" not in r for r in reasons.values())
    rejected = tmp_path / "in" / "rejected"
    assert sorted(p.name for p in rejected.iterdir()) == sorted(
        [f"vib_{k}.csv{s}" for k in (1, 2, 3) for s in ("", ".reason")]
    )
    assert "line 6" in (rejected / "vib_1.csv.reason").read_text()
    assert not (tmp_path / "in" / "vib_1.csv").exists()
    assert tr.counts["files_rejected"] == 3


def test_decimal_comma_files_read_right_by_detection_and_by_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    values = _signal(1000, 10)
    _write(tmp_path / "in" / "vib_de.csv", values, decimal=",")
    # a historian export: ';' delimited, decimal commas, local time, vibration and temperature
    t0 = np.datetime64("2024-05-14T08:00:00")

    def comma(x: float, digits: int) -> str:
        return f"{x:.{digits}f}".replace(".", ",")

    stamps = [(t0 + np.timedelta64(i, "ms")).astype(str).replace("T", " ") for i in range(1000)]
    rows = [
        f"{t};{comma(v, 6)};{comma(35 + i / 1000, 3)}"
        for i, (t, v) in enumerate(zip(stamps, values, strict=True))
    ]
    (tmp_path / "in" / "hist_1.csv").write_text("Zeit;Vib;Temp\n" + "\n".join(rows) + "\n")
    mapping = {
        "delimiter": ";",
        "decimal": ",",
        "time": {"column": "Zeit", "format": "%Y-%m-%d %H:%M:%S.%f", "timezone": "Europe/Berlin"},
        "channels": [
            {"column": "Vib", "id": "vib", "quantity": "acceleration", "unit": "m/s^2"},
            {"column": "Temp", "id": "temp", "quantity": "temperature", "unit": "degC"},
        ],
        "asset": {"id": "m1", "kind": "induction_motor"},
    }
    drops = [SIGNAL_DROP, {"pattern": "hist_*.csv", "mapping": mapping}]
    items = asyncio.run(
        _collect(_transport(tmp_path, completion="rename", drops=drops), until=1002, timeout_s=5)
    )
    blocks = _blocks(items)
    assert len(blocks) == 2
    for b in blocks:
        np.testing.assert_array_equal(b.values, values)
    hist = next(b for b in blocks if b.seq == 1)
    # 08:00 in Berlin (summer time) is 06:00 UTC
    assert hist.start_ns == int(np.datetime64("2024-05-14T06:00:00", "ns").astype(np.int64))
    temps = [i for i in items if isinstance(i, Record) and i.kind == "scalar"]
    assert len(temps) == 1000
    assert temps[0].values[0] == 35.0
    assert temps[-1].start_ns - temps[0].start_ns == 999_000_000


def test_bad_watch_files_are_refused_with_the_field(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="either 'mapping' or both"):
        watch_from_dict({"folder": ".", "drops": [{"pattern": "*.csv", "asset": "m1"}]})
    with pytest.raises(InputError, match="not in the fleet file"):
        FolderTransport(
            watch_from_dict(
                {"folder": ".", "drops": [{"pattern": "*", "asset": "m9", "channel": "vib"}]}
            ),
            _fleet(),
            tmp_path,
        )
    with pytest.raises(InputError, match="needs a waveform channel"):
        FolderTransport(
            watch_from_dict(
                {"folder": ".", "drops": [{"pattern": "*", "asset": "m1", "channel": "temp"}]}
            ),
            _fleet(),
            tmp_path,
        )


def test_shopfloor_run_over_a_folder_assesses_every_window_once_across_restarts(
    tmp_path: Path,
) -> None:
    drops = tmp_path / "drops"
    drops.mkdir()
    (tmp_path / "fleet.yaml").write_text(yaml.safe_dump(FLEET))
    watch = {"folder": "drops", "poll_s": 0.1, "completion": "rename", "drops": [SIGNAL_DROP]}
    (tmp_path / "watch.yaml").write_text(yaml.safe_dump(watch))
    spec = {
        "name": "drops",
        "fleet": "fleet.yaml",
        "source": {"kind": "folder", "watch": "watch.yaml"},
        "steps": [{"use": "features.time"}],
        "sinks": [{"use": "store"}],
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    # two captures an hour apart: separate files, not contiguous; stamped in the past
    for k, name in enumerate(("vib_a.csv", "vib_b.csv")):
        _write(drops / name, _signal(2500, 20 + k))
        mtime = time.time() - 7200 + 3600 * k
        os.utime(drops / name, (mtime, mtime))
    home = tmp_path / "home"
    args = ["run", str(tmp_path / "spec.yaml"), "--home", str(home), "--duration", "2", "--json"]
    runner = CliRunner()
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    counters = json.loads(result.stdout)["counters"]
    assert counters["windows"] == 4  # 2 whole seconds per file; the half seconds are not sent
    assert counters["clock_jumps"] == 0  # the second capture is marked as a new one
    assert counters["dead_letters"] == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["counters"]["records"] == 0
    with Store.open(home, read_only=True) as store:
        windows = store.window_results(pipeline="drops")
        assert store.windows_decided_again(pipeline="drops") == 0  # none assessed twice
    assert len({(w.asset_id, w.channel_id, w.window) for w in windows}) == 4
