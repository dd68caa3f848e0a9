"""``shopfloor hvac`` on the bad inputs of issue 18, tried by hand (session 4's audit):

- a NaN or impossible ambient ran the plant, then failed naming ``column 'ambient_temp'``, or
  (-80 °C) ended in FASTSim's Rust backtrace as an internal error;
- ``--band``/``--setpoint`` errors named ``column 'band_k'``/``'setpoint_c'``, not the option;
  a band the comfort supervisor cannot work in blamed a ``margin_k`` the user never gave;
- far below the logged ambients the MPC never plans (the supervisor holds stock), so nothing
  said that the learned simulator was extrapolating.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopfloor.cli import app
from tests.control.test_cli_hvac import _error_line, runner


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["optimize", "--ambient", "nan"], "--ambient nan: must be a finite number"),
        (["evaluate", "--ambient", "-80"], "--ambient -80: outside -60..60 °C"),
        (["evaluate", "--ambient", "1000"], "--ambient 1000: outside -60..60 °C"),
        (["evaluate", "--band", "0"], "--band 0: infeasible comfort band"),
        (["optimize", "--setpoint", "60"], "--setpoint 60: infeasible comfort band"),
        (["evaluate", "--band", "0.05", "--margin", "0"], "--band 0.05: infeasible comfort"),
        (["optimize", "--margin", "-0.1"], "--margin -0.1: infeasible comfort band"),
    ],
)
def test_drive_options_are_refused_by_name_before_any_work(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    # an empty data directory: the option is refused before a simulator is even looked for
    result = runner.invoke(app, ["hvac", *args, "--home", str(tmp_path / "h")])
    assert result.exit_code == 2, result.output
    line = _error_line(result.output)
    assert expected in line
    assert "column '" not in line


@pytest.fixture(scope="module")
def warm_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulator learned from warm drives only (20 and 30 °C)."""
    pytest.importorskip("fastsim", reason="NREL FASTSim not installed (shopfloor[hvac])")
    from shopfloor.control.logs import record_logs

    root = tmp_path_factory.mktemp("hvac-warm")
    record_logs("bolt", root / "logs", ambients=(20.0, 30.0), cycles=("udds",))
    result = runner.invoke(
        app, ["hvac", "learn", "--logs", str(root / "logs"), "--home", str(root / "home")]
    )
    assert result.exit_code == 0, result.output
    return root / "home"


@pytest.mark.usefixtures("fastsim_available")
def test_deep_cold_says_the_simulator_extrapolates(warm_home: Path) -> None:
    result = runner.invoke(
        app, ["hvac", "evaluate", "--ambient", "-30", "--home", str(warm_home), "--json"]
    )
    assert result.exit_code in (0, 1), result.output
    assert "ambient -30.0 °C outside logged 20.0..30.0 °C: extrapolating" in result.output


@pytest.mark.usefixtures("fastsim_available")
def test_a_plant_failure_is_one_line_without_the_rust_backtrace(
    warm_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shopfloor.control.mpc as mpc

    def solver_fails(*args: object, **kwargs: object) -> None:
        raise RuntimeError(
            "solver step failed at time step: 1 Stack backtrace: 0: anyhow 1: fastsim_core"
        )

    monkeypatch.setattr(mpc, "stock_allowance", solver_fails)
    result = runner.invoke(app, ["hvac", "evaluate", "--ambient", "10", "--home", str(warm_home)])
    assert result.exit_code == 3, result.output
    line = _error_line(result.output)
    assert "the FASTSim plant failed (bolt, udds, +10.0 °C): solver step failed" in line
    assert "backtrace" not in line


@pytest.mark.usefixtures("fastsim_available")
def test_learn_and_optimize_leave_no_orphan_in_the_data_directory(warm_home: Path) -> None:
    # the registry keeps its own copy: the file saved for it was left behind, and 'store check'
    # then reported the data directory NOT clean (exit 1) after every learn or optimize
    result = runner.invoke(
        app, ["hvac", "optimize", "--ambient", "25", "--home", str(warm_home), "--json"]
    )
    assert result.exit_code in (0, 1), result.output
    assert Path(json.loads(result.stdout.splitlines()[-1])["controller"]).is_file()
    check = runner.invoke(app, ["store", "check", "--home", str(warm_home), "--json"])
    assert check.exit_code == 0, check.output
    assert json.loads(check.stdout)["orphans"] == []


def test_evaluate_with_a_mistyped_home_creates_no_store(tmp_path: Path) -> None:
    typo = tmp_path / "typo" / "home"
    result = runner.invoke(app, ["hvac", "evaluate", "--home", str(typo)])
    assert result.exit_code == 2, result.output
    assert "no learned simulator for vehicle 'bolt'" in _error_line(result.output)
    assert not (tmp_path / "typo").exists()
