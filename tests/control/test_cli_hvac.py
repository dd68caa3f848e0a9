"""``shopfloor hvac``: learn from a log folder, evaluate with a PNG, optimise; every bad input
is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopfloor.cli import app
from shopfloor.control.logs import record_logs

pytestmark = pytest.mark.usefixtures("fastsim_available")
runner = CliRunner()


def _error_line(output: str) -> str:
    errors = [ln for ln in output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, output
    assert "Traceback" not in output
    return errors[0]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("fastsim", reason="NREL FASTSim not installed (shopfloor[hvac])")
    root = tmp_path_factory.mktemp("hvac")
    record_logs("bolt", root / "logs", ambients=(20.0, 25.0, 30.0, 40.0), cycles=("udds",))
    result = runner.invoke(
        app, ["hvac", "learn", "--logs", str(root / "logs"), "--home", str(root / "home"), "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout.splitlines()[-1])
    assert doc["ambient_range_c"] == [20.0, 40.0]
    assert Path(doc["model"]).is_file()
    assert doc["version"] == 1
    from shopfloor.core.store import Store

    with Store.open(root / "home") as store:
        (entry,) = [m for m in store.models() if m["id"] == doc["model_id"]]
        assert entry["name"] == "hvac-simulator/bolt"
        assert "8 stored recordings" in entry["training_data"]
        assert entry["metrics"]["ambient_min_c"] == 20.0
        # the MPC guard, measured on the 25 °C drives left out of a validation fit
        assert entry["metrics"]["mpc_guard_dwell_steps"] >= 1
        assert entry["metrics"]["mpc_guard_cabin_error_k"] > 0
        assert doc["mpc_guard"]["how"]["split"].startswith("drives at logged ambients")
        assert store.load_model(doc["model_id"], trusted=True).ambient_range_ == (20.0, 40.0)
    return root / "home"


def test_evaluate_writes_png_and_json(home: Path, tmp_path: Path) -> None:
    png = tmp_path / "run.png"
    result = runner.invoke(
        app,
        ["hvac", "evaluate", "--ambient", "30", "--home", str(home), "--plot", str(png), "--json"],
    )
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout.splitlines()[-1])
    assert set(doc["scores"]) == {"stock", "band-edge", "shopfloor MPC"}
    assert doc["less_comfortable_than_stock"] == (result.exit_code == 1)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_optimize_saves_controller_and_says_it_extrapolates(home: Path) -> None:
    result = runner.invoke(
        app, ["hvac", "optimize", "--ambient", "0", "--cycle", "hwfet", "--home", str(home)]
    )
    assert result.exit_code in (0, 1), result.output
    assert "outside logged 20.0..40.0 °C: extrapolating" in result.output
    assert "registered hvac-mpc/bolt version 1" in result.output
    from shopfloor.control.policy_model import MPCPolicy
    from shopfloor.core.store import Store

    with Store.open(home) as store:
        (entry,) = [m for m in store.models() if m["name"] == "hvac-mpc/bolt"]
        (sim,) = [m for m in store.models() if m["name"] == "hvac-simulator/bolt"]
        assert sim["id"] in entry["training_data"]
        assert entry["metrics"]["margin_k"] == 0.05
        policy = store.load_model(entry["id"], trusted=True)
    assert isinstance(policy, MPCPolicy)
    assert policy.margin_k == 0.05
    assert policy.simulator_.ambient_range_ == (20.0, 40.0)
    assert policy.guard is not None
    assert policy.guard.dwell_steps >= 1
    # the cabin error per move size and mode travels with it through the registry's metrics
    assert {r["mode"] for r in policy.guard.cabin_error_table} <= {"heating", "cooling"}
    assert policy.guard.cabin_error_table


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["learn", "--vehicle", "/no/such/car.yaml"], "vehicle file not found"),
        (["evaluate", "--cycle", "us06"], "unknown drive cycle 'us06'"),
        (["evaluate", "--band", "0"], "infeasible comfort band"),
        (["evaluate", "--margin", "1.5"], "infeasible comfort band: margin 1.5 K"),
        (["evaluate", "--plot", "/no/such/dir/x.png"], "folder /no/such/dir does not exist"),
        (["optimize", "--vehicle", "model3"], "no learned simulator for vehicle 'model3'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(home: Path, args: list[str], expected: str) -> None:
    result = runner.invoke(app, ["hvac", *args, "--home", str(home)])
    assert result.exit_code == 2, result.output
    assert expected in _error_line(result.output)


def test_learn_from_a_folder_without_mapping_is_refused(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    result = runner.invoke(
        app, ["hvac", "learn", "--logs", str(tmp_path / "logs"), "--home", str(tmp_path / "h")]
    )
    assert result.exit_code == 2
    assert "folder has no mapping.yaml" in _error_line(result.output)


def test_evaluate_keeps_its_scores_when_the_plot_fails_midway(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shopfloor.control.plots as plots

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(plots, "plot_controllers", disk_full)
    png = tmp_path / "run.png"
    result = runner.invoke(
        app,
        ["hvac", "evaluate", "--ambient", "30", "--home", str(home), "--plot", str(png), "--json"],
    )
    assert result.exit_code == 2, result.output
    doc = json.loads(result.stdout.splitlines()[-1])
    assert set(doc["scores"]) == {"stock", "band-edge", "shopfloor MPC"}
    assert "No space left" in doc["plot_error"]
    assert f"--plot {png}: not written" in result.output
