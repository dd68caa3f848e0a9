"""``shopfloor diagnose --model fused|physics``: the fused default, the speed read from the signal,
and the fields a script needs (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopfloor.cli import app
from shopfloor.testing.signals import bearing_signal

pytest.importorskip("lightgbm", reason="the fused default model needs lightgbm")

runner = CliRunner()
BEARING = ["--bearing", "n=9,d=0.3126in,D=1.537in"]


def _outer_csv(path: Path) -> Path:
    x, _ = bearing_signal("outer", shaft_hz=1797 / 60, fs_hz=12_000.0, duration_s=4.0, seed=4)
    path.write_text("acc\n" + "\n".join(f"{v:.6f}" for v in x) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("model", ["fused", "physics"])
def test_wrong_speed_is_corrected_and_reported(tmp_path: Path, model: str) -> None:
    csv = _outer_csv(tmp_path / "outer.csv")
    opts = ["--fs", "12000", "--rpm", "1706", *BEARING, "--model", model, "--json"]
    result = runner.invoke(app, ["diagnose", str(csv), *opts, "--home", str(tmp_path / "h")])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "outer_race"
    assert doc["speed_source"] == "signal"
    assert doc["given_rpm"] == 1706.0
    assert abs(doc["speed_rpm"] - 1797) < 6
    assert any("differ by" in w for w in doc["warnings"])
    assert doc["decided_by"] in ({"agree", "physics"} if model == "fused" else {"physics-rules"})
    assert doc["model"].startswith("FusedDiagnoser" if model == "fused" else "Physics")
    assert doc["data_checks"]["windows"] == 4
    assert not any(line["shared"] for line in doc["evidence"] if "(shared)" not in line["line"])


def test_unknown_model_is_a_one_line_error(tmp_path: Path) -> None:
    csv = _outer_csv(tmp_path / "outer.csv")
    opts = ["--fs", "12000", "--rpm", "1797", *BEARING, "--model", "cnn"]
    result = runner.invoke(app, ["diagnose", str(csv), *opts, "--home", str(tmp_path / "h")])
    assert result.exit_code == 2
    assert "--model 'cnn'" in result.output
    assert "Traceback" not in result.output


def test_text_output_names_the_speed_and_the_deciding_side(tmp_path: Path) -> None:
    csv = _outer_csv(tmp_path / "outer.csv")
    opts = ["--fs", "12000", "--rpm", "1797", *BEARING]
    result = runner.invoke(app, ["diagnose", str(csv), *opts, "--home", str(tmp_path / "h")])
    assert result.exit_code == 1, result.output
    assert "speed used" in result.output
    assert "decided by" in result.output
