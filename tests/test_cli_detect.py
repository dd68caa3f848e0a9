"""``shopfloor detect``: a generated plant file with an injected fault, the stored asset path,
the saved model, the plot, and every bad-input path as a one-line error with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from shopfloor.cli import app
from shopfloor.core import persistence
from shopfloor.pipelines.anomaly_monitor import AnomalyMonitor

runner = CliRunner()


def _plant_csv(path: Path, fault: bool = True, sep: str = ";") -> Path:
    rng = np.random.default_rng(0)
    n = 1800
    flow = 100 + rng.normal(0, 1.0, n)
    frame = pd.DataFrame(
        {
            "time": pd.date_range("2024-05-01 08:00", periods=n, freq="s").astype(str),
            "flow": flow,
            "pressure": 2.0 + 0.01 * flow + rng.normal(0, 0.005, n),
            "vibration": 0.3 + rng.normal(0, 0.02, n),
            "label": 0,
        }
    )
    if fault:
        frame.loc[1500:, "pressure"] += 0.08
    frame.to_csv(path, sep=sep, index=False)
    return path


def _invoke(*args: str, home: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["detect", *args, "--home", str(home)])
    return result.exit_code, result.output


def test_fault_found_with_channels_plot_and_model(tmp_path: Path) -> None:
    csv = _plant_csv(tmp_path / "plant.csv")
    png, model = tmp_path / "score.png", tmp_path / "pump.sfmodel"
    code, output = _invoke(
        str(csv), "--baseline", "2024-05-01T08:00..2024-05-01T08:10", "--exclude", "label",
        "--plot", str(png), "--save-model", str(model), "--json", home=tmp_path / "h",
    )  # fmt: skip
    assert code == 1, output
    doc = json.loads(output.splitlines()[0])
    assert doc["channels"] == ["flow", "pressure", "vibration"]
    assert doc["baseline"]["n_rows"] == 601
    first = doc["events"][0]
    assert first["start"].startswith("2024-05-01T08:25:0")
    assert first["channels"][0]["channel"] == "pressure"
    assert png.stat().st_size > 10_000
    loaded = persistence.load(model, trusted=True, expected_class=AnomalyMonitor)
    assert loaded.channels_ == doc["channels"]
    assert persistence.read_record(model).training_window.n_rows == 601  # type: ignore[union-attr]


def test_normal_data_exits_zero(tmp_path: Path) -> None:
    csv = _plant_csv(tmp_path / "plant.csv", fault=False, sep=",")
    code, output = _invoke(str(csv), "--baseline-hours", "0.2", "--exclude", "label", home=tmp_path)
    assert code == 0, output
    assert "no anomaly" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "state the healthy period"),
        (["--baseline", "2024-05-01"], "expected START..END"),
        (["--baseline", "2024-05-02..2024-05-01"], "end is not after the start"),
        (["--baseline", "2030-01-01..2030-01-02"], "holds 0 rows"),
        (["--baseline-hours", "-1"], "positive number"),
        (["--baseline-hours", "100"], "nothing to score"),
        (["--baseline-hours", "0.1", "--plot", "/no/such/dir/x.png"], "does not exist"),
        (["--baseline-hours", "0.1", "--time-column", "when"], "no column 'when'"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    csv = _plant_csv(tmp_path / "plant.csv")
    code, output = _invoke(str(csv), *args, home=tmp_path)
    assert code == 2, output
    assert message in output
    assert "Traceback" not in output


def test_bad_files_are_named(tmp_path: Path) -> None:
    bad_time = tmp_path / "bad.csv"
    _plant_csv(bad_time)
    lines = bad_time.read_text().splitlines()
    lines[5] = "yesterday" + lines[5][lines[5].index(";") :]
    bad_time.write_text("\n".join(lines) + "\n")
    code, output = _invoke(str(bad_time), "--baseline-hours", "0.1", home=tmp_path)
    assert code == 2
    assert "line 6" in output and "'yesterday'" in output  # noqa: PT018
    code, output = _invoke(str(tmp_path / "none.csv"), "--baseline-hours", "1", home=tmp_path)
    assert (code, "no such file" in output) == (2, True)
    code, output = _invoke("no-such-asset", "--baseline-hours", "1", home=tmp_path)
    assert (code, "not a file and there is no store" in output) == (2, True)


@pytest.mark.realdata
def test_detect_on_a_stored_skab_asset_records_events(dataset_dir, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from shopfloor.core.store import Store

    home = tmp_path / "home"
    prepared = runner.invoke(
        app,
        ["datasets", "prepare", "skab", "--home", str(home), "--source", str(dataset_dir("skab"))],
    )
    assert prepared.exit_code == 0, prepared.output
    code, output = _invoke(
        "skab-testbed", "--baseline", "2020-02-08T13:30:47..2020-02-08T16:16:47", "--json",
        home=home,
    )  # fmt: skip
    assert code == 1, output
    doc = json.loads(output.splitlines()[0])
    assert doc["recorded"] is True
    rows = doc["events"] + doc["quality_events"]
    with Store.open(home, read_only=True) as store:
        stored = store.events(asset_id="skab-testbed")
        models = {m["id"]: m for m in store.models()}
    # repeats of one condition (same dedup key) fold into the open event, counted
    assert len(stored) == len({r["dedup_key"] for r in rows})
    assert sum(e.occurrences for e in stored) == len(rows)
    assert {e.model_id for e in stored} == {doc["model_id"]}
    assert doc["model_id"] in models


def test_saved_model_is_registered_and_events_carry_its_id(tmp_path: Path) -> None:
    from shopfloor.core.store import Store

    home = tmp_path / "home"
    Store.open(home).close()  # an empty store: a saved detector goes into its registry
    csv = _plant_csv(tmp_path / "plant.csv")
    model = tmp_path / "pump.sfmodel"
    code, output = _invoke(
        str(csv), "--baseline", "2024-05-01T08:00..2024-05-01T08:10", "--exclude", "label",
        "--save-model", str(model), "--json", home=home,
    )  # fmt: skip
    assert code == 1, output
    doc = json.loads(output.splitlines()[0])
    model_id = doc["model_id"]
    first = doc["events"][0]
    assert first["model_id"] == model_id
    assert first["channel_id"] == "pressure"
    assert first["dedup_key"] == f"plant/anomaly/{model_id}"
    assert first["evidence"]["level"] in ("high", "extreme")
    assert doc["recorded"] is False  # a file's events are not stored: its asset is not there
    with Store.open(home, read_only=True) as store:
        (registered,) = store.models()
        assert store.events() == []
        loaded = store.load_model(model_id, trusted=True)
    assert registered["id"] == model_id
    config = registered["feature_config"]
    assert config["channels"] == ["flow", "pressure", "vibration"]
    assert config["scaling"]["mean"]["flow"] == pytest.approx(100.0, abs=0.2)
    assert config["threshold"]["value"] == pytest.approx(doc["threshold"])
    assert config["threshold"]["type"] == "POTThreshold"
    assert "(601 rows)" in registered["training_data"]
    assert registered["metrics"]["healthy_rows"] == 601
    assert 0.0 <= registered["metrics"]["healthy_fraction_in_alarm_in_sample"] < 0.05
    assert isinstance(loaded, AnomalyMonitor)
    # without --record nothing is registered
    code, output = _invoke(
        str(csv), "--baseline", "2024-05-01T08:00..2024-05-01T08:10", "--exclude", "label",
        "--save-model", str(tmp_path / "again.sfmodel"), "--no-record", "--json", home=home,
    )  # fmt: skip
    assert json.loads(output.splitlines()[0])["model_id"] is None


def test_a_plot_that_fails_midway_keeps_the_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shopfloor.pipelines.detect as detect_pipeline

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(detect_pipeline, "plot_detection", disk_full)
    csv = _plant_csv(tmp_path / "plant.csv")
    png = tmp_path / "score.png"
    result = runner.invoke(
        app,
        [
            "detect", str(csv), "--baseline", "2024-05-01T08:00..2024-05-01T08:10",
            "--exclude", "label", "--plot", str(png), "--json", "--home", str(tmp_path / "h"),
        ],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    doc = json.loads(result.stdout.splitlines()[0])
    assert doc["events"], "the detection is shown before the plot error"
    assert "No space left" in doc["plot_error"]
    assert f"--plot {png}: not written" in result.output
