"""``shopfloor rul``: files and options, exit codes, one-line errors, plot, life reset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from shopfloor.cli import app
from shopfloor.testing.prognostics import degradation_fleet

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("rul")
    out = {"train": root / "train.csv", "test": root / "test.csv"}
    degradation_fleet(16, 0).to_csv(out["train"], index=False)
    test = degradation_fleet(2, 1)
    # cut each unit 20 steps before its failure: true RUL 20
    life = test.groupby("unit")["time"].transform("max")
    test = test[test["time"] <= life - 20].reset_index(drop=True)
    test.to_csv(out["test"], index=False)
    one = test[test.unit == 1].drop(columns=["unit"])  # no unit column: one asset
    out["single"] = root / "single.csv"
    one.to_csv(out["single"], index=False)
    back = test.copy()
    back.iloc[8, back.columns.get_loc("time")] = 3.0
    out["backwards"] = root / "backwards.csv"
    back.to_csv(out["backwards"], index=False)
    out["missing"] = root / "missing.csv"
    test.drop(columns=["c1"]).to_csv(out["missing"], index=False)
    nan = test.copy()
    nan.iloc[4, nan.columns.get_loc("c0")] = np.nan
    out["nan"] = root / "nan.csv"
    nan.to_csv(out["nan"], index=False)
    out["no_time"] = root / "no_time.csv"
    test.drop(columns=["time"]).to_csv(out["no_time"], index=False)
    out["text"] = root / "text.csv"
    out["text"].write_text("unit,time,c0,c1,c2\n1,1,0.5,abc,0.1\n", encoding="utf-8")
    return out


def _run(*args: str) -> tuple[int, dict[str, object], str]:
    result = runner.invoke(app, ["rul", *args, "--json"])
    doc = json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else {}
    return result.exit_code, doc, result.output


ARGS = ["--method", "boosted"]


def test_file_with_horizon_exit_codes_and_plot(files: dict[str, Path], tmp_path: Path) -> None:
    png = tmp_path / "trajectory.png"
    code, doc, _ = _run(
        str(files["test"]), "--train", str(files["train"]), "--plot", str(png),
        "--horizon", "40", "--home", str(tmp_path / "home"),
    )  # fmt: skip
    assert code == 1, doc  # true RUL is 20: failure is possible within 40 steps
    estimates = doc["estimates"]
    assert isinstance(estimates, list)
    assert len(estimates) == 2
    for e in estimates:
        assert e["lower"] <= e["point"] <= e["upper"]
        assert e["level"] == pytest.approx(0.9)
    assert png.stat().st_size > 1000
    code, doc, _ = _run(str(files["test"]), "--train", str(files["train"]), "--horizon", "0")
    assert code == 0


def test_single_unit_file_and_replacement_reset(files: dict[str, Path]) -> None:
    code, doc, _ = _run(str(files["single"]), "--train", str(files["train"]))
    assert code == 0
    est = doc["estimates"]
    assert isinstance(est, list)
    full_at = est[0]["at_time"]
    code, doc, _ = _run(str(files["single"]), "--train", str(files["train"]), "--replaced-at", "30")
    est = doc["estimates"]
    assert isinstance(est, list)
    assert est[0]["at_time"] == full_at - 30  # life counted from the replacement
    assert doc["replaced_at"] == 30


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("backwards", "non-monotone cycle counter"),
        ("missing", "missing channel columns ['c1']"),
        ("nan", "NaN or infinite"),
        ("no_time", "needs a 'time' or 'cycle' column"),
        ("text", "not a number: 'abc'"),
    ],
)
def test_bad_files_are_one_line_errors(files: dict[str, Path], case: str, message: str) -> None:
    code, doc, output = _run(str(files[case]), "--train", str(files["train"]))
    assert code == 2, output
    assert doc["ok"] is False
    assert message in str(doc["error"])


def test_usage_errors(files: dict[str, Path], tmp_path: Path) -> None:
    code, doc, _ = _run(str(files["test"]))
    assert code == 2
    assert "exactly one of --train" in str(doc["error"])
    code, doc, _ = _run(str(files["test"]), "--train", str(files["train"]), "--alpha", "1.5")
    assert code == 2
    code, doc, _ = _run(str(files["test"]), "--model-file", str(tmp_path / "m.sfmodel"))
    assert "--trust" in str(doc["error"])
    code, doc, _ = _run("no-such-asset", "--train", str(files["train"]), "--home", str(tmp_path))
    assert code == 2
    code, doc, _ = _run(
        str(files["test"]), "--train", str(files["train"]), "--plot", "/no/dir/x.png"
    )
    assert "does not exist" in str(doc["error"])
    for extra, message in (("--save", "store assets"), ("--component=fan", "store asset")):
        code, doc, _ = _run(str(files["test"]), "--train", str(files["train"]), extra)
        assert code == 2
        assert message in str(doc["error"])


def test_saved_model_round_trip(files: dict[str, Path], tmp_path: Path) -> None:
    model = tmp_path / "rul.sfmodel"
    home = ["--home", str(tmp_path / "home")]
    code, first, _ = _run(
        str(files["test"]), "--train", str(files["train"]), "--save-model", str(model), *home
    )
    assert code == 0
    model_id = first["model_id"]
    assert isinstance(model_id, str)
    code, again, _ = _run(str(files["test"]), "--model-file", str(model), "--trust", *home)
    assert code == 0
    assert again["model_id"] == model_id
    assert again["estimates"] == first["estimates"]
    # by its registry id as well
    code, by_id, _ = _run(str(files["test"]), "--model-file", model_id, "--trust", *home)
    assert code == 0
    assert by_id["estimates"] == first["estimates"]
    # a file whose bytes the registry does not know is not loaded
    with model.open("ab") as fh:
        fh.write(b"\0")
    code, _doc, output = _run(str(files["test"]), "--model-file", str(model), "--trust", *home)
    assert code == 2
    assert "not in the model registry" in output


def _cmapss_like(n_units: int, seed: int) -> np.ndarray:
    """A C-MAPSS-format table (unit, cycle, 3 settings, 21 sensors) with one degrading
    sensor (s2) and noise elsewhere."""
    rng = np.random.default_rng(seed)
    rows = []
    for unit in range(1, n_units + 1):
        life = int(rng.integers(60, 140))
        t = np.arange(1, life + 1, dtype=np.float64)
        block = rng.normal(0.0, 1.0, (life, 24))
        block[:, 4] = 642.0 + 3.0 * np.exp(3.0 * t / life) + rng.normal(0, 0.2, life)
        rows.append(np.column_stack([np.full(life, unit), t, block]))
    return np.vstack(rows)


def test_asset_from_the_store_and_save_keeps_the_estimate(tmp_path: Path) -> None:
    from shopfloor.core.prognostics import RemainingLife
    from shopfloor.core.recording import RecordingData
    from shopfloor.core.store import Store
    from shopfloor.datasets.cmapss import engine_records

    train = tmp_path / "train_FD001.txt"
    np.savetxt(train, _cmapss_like(12, 0), fmt="%.4f")
    test = _cmapss_like(1, 1)[:-25]  # cut 25 cycles before failure
    home = tmp_path / "home"
    with Store.open(home) as store, store.batch("cmapss") as batch:
        for record in engine_records("FD001", "test", test, path=tmp_path / "t.txt", rul=[25.0]):
            if isinstance(record, RecordingData):
                batch.add_recording(record)
            else:
                batch.add_asset(record)
        batch.set_dataset(version="test", source="generated")
    asset = "cmapss-FD001-test-001"
    code, doc, output = _run(asset, "--train", str(train), "--save", "--home", str(home))
    assert code == 0, output
    estimates = doc["estimates"]
    assert isinstance(estimates, list)
    assert estimates[0]["asset"] == asset
    with Store.open(home, read_only=True) as store:
        (event,) = store.events(asset_id=asset)
    assert RemainingLife.from_event(event).point == pytest.approx(estimates[0]["point"])


def test_store_replacement_resets_the_asset_life(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from shopfloor.core.assets import Asset, Channel, Component
    from shopfloor.core.recording import Recording, RecordingData, TimeBase, TimeBaseKind
    from shopfloor.core.store import Store

    train = tmp_path / "train.csv"
    degradation_fleet(16, 0).to_csv(train, index=False)
    fleet = degradation_fleet(2, 1)
    old, new = fleet[fleet.unit == 1], fleet[fleet.unit == 2].iloc[:-20]
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    home = tmp_path / "home"
    with Store.open(home) as store:
        store.put_asset(
            Asset(
                id="fan-3",
                kind="fan",
                components=[Component(id="bearing", kind="rolling_bearing")],
                channels=[
                    Channel(id=c, quantity="acceleration", unit="g") for c in ("c0", "c1", "c2")
                ],
            )
        )
        with store.batch() as batch:
            for rec_id, start, rows in (
                ("a", t0, old),
                ("b", t0 + timedelta(hours=1), new),
            ):
                samples = rows[["time", "c0", "c1", "c2"]].rename(columns={"time": "timestamp"})
                samples["timestamp"] -= samples["timestamp"].iloc[0]
                rec = Recording(
                    id=rec_id,
                    asset_id="fan-3",
                    channel_ids=["c0", "c1", "c2"],
                    time_base=TimeBase(kind=TimeBaseKind.TIMESTAMPS, start=start),
                    n_samples=len(samples),
                )
                batch.add_recording(RecordingData(rec, samples.reset_index(drop=True)))
        store.record_replacement("fan-3", "bearing", who="ana", at=t0 + timedelta(minutes=59))
    args = ["fan-3", "--train", str(train), "--home", str(home)]
    code, doc, output = _run(*args, "--save")
    assert code == 0, output
    (life,) = doc["estimates"]
    assert life["component"] == "bearing"
    assert doc["life_start"].startswith("2026-01-05T00:59")
    assert life["at_time"] == pytest.approx(60.0 + len(new) - 1)
    assert life["time_unit"] == "s"  # a time-stamped history counts seconds
    assert any("replacement at" in n for n in life["notes"])
    code, whole, _ = _run(*args, "--replaced-at", "0")
    assert whole["estimates"][0]["at_time"] == pytest.approx(3600.0 + len(new) - 1)
    from shopfloor.prognostics.asset_store import latest_remaining_life

    with Store.open(home, read_only=True) as store:
        kept = latest_remaining_life(store, "fan-3")
    assert kept is not None
    assert kept.point == pytest.approx(life["point"])
    assert kept.component == "bearing"


def test_a_plot_that_fails_midway_keeps_the_estimate(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shopfloor.cli.rul as rul_cli

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rul_cli, "plot_trajectory", disk_full)
    png = tmp_path / "trajectory.png"
    code, doc, output = _run(
        str(files["test"]), "--train", str(files["train"]), "--plot", str(png),
        "--home", str(tmp_path / "home"),
    )  # fmt: skip
    assert code == 2, output
    assert len(doc["estimates"]) == 2  # type: ignore[arg-type]
    assert "No space left" in str(doc["plot_error"])
    assert f"--plot {png}: not written" in output
