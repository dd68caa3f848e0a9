"""Command-line conventions a script relies on: JSON, exit codes, one-line errors, fast help.

Each bad input listed in issue 13 is tried here: the answer is one line naming the option,
file or value, exit status 2, and never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from shopfloor.cli import app
from shopfloor.cli._common import ExitCode, to_json
from shopfloor.cli.diagnose import overall_exit
from shopfloor.testing.signals import bearing_signal

runner = CliRunner()
BEARING = ["--bearing", "n=9,d=0.3126in,D=1.537in"]
FILE_OPTS = ["--fs", "12000", "--rpm", "1797", *BEARING]


def _signal_csv(path: Path, kind: str = "outer", *, decimal: str = ".", sep: str = "") -> Path:
    if kind == "healthy":  # shaft harmonics in white noise, no impacts
        t = np.arange(24_000) / 12_000.0
        noise = np.random.default_rng(3).normal(0.0, 0.2, t.size)
        x = 0.2 * np.sin(2 * np.pi * 1797 / 60 * t) + noise
    else:
        x, _ = bearing_signal(kind, shaft_hz=1797 / 60, fs_hz=12_000.0, duration_s=2.0, seed=3)
    rows = [f"{v:.6f}".replace(".", decimal) for v in x]
    if sep:
        rows = [f"{i}{sep}{r}" for i, r in enumerate(rows)]
        header = f"t{sep}acc"
    else:
        header = "acc"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _one_line_error(result_output: str) -> str:
    lines = [ln for ln in result_output.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1, result_output
    assert "Traceback" not in result_output
    return errors[0]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    pd = pytest.importorskip("pandas")
    out: dict[str, Path] = {}
    out["empty"] = tmp_path / "empty.csv"
    out["empty"].write_bytes(b"")
    out["binary"] = tmp_path / "binary.csv"
    out["binary"].write_bytes(bytes(range(256)) * 8)
    out["header_only"] = tmp_path / "header.csv"
    out["header_only"].write_text("acc\n", encoding="utf-8")
    good = pd.DataFrame({"acc": np.random.default_rng(0).normal(size=24_000)})
    parquet = tmp_path / "good.parquet"
    good.to_parquet(parquet)
    out["truncated_parquet"] = tmp_path / "truncated.parquet"
    out["truncated_parquet"].write_bytes(parquet.read_bytes()[: parquet.stat().st_size // 2])
    out["ambiguous_comma"] = tmp_path / "ambiguous.csv"
    out["ambiguous_comma"].write_text("t,acc\n1,0,012\n2,0,013\n", encoding="utf-8")
    out["text_nan"] = tmp_path / "nan.csv"
    out["text_nan"].write_text("acc\n0.1\nabc\n0.2\n", encoding="utf-8")
    return out


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("empty", "empty"),
        ("binary", "binary content"),
        ("header_only", "no data rows"),
        ("truncated_parquet", "not a readable Parquet file"),
        ("ambiguous_comma", "line 2"),
        ("text_nan", "line 3"),
    ],
)
def test_bad_files_are_one_line_errors(files: dict[str, Path], case: str, needle: str) -> None:
    result = runner.invoke(app, ["diagnose", str(files[case]), *FILE_OPTS])
    assert result.exit_code == 2, result.output
    line = _one_line_error(result.output)
    assert needle in line
    assert files[case].name in line


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (["--fs", "0", "--rpm", "1797", *BEARING], "--fs"),
        (["--fs", "nan", "--rpm", "1797", *BEARING], "--fs"),
        (["--fs", "12000", "--rpm", "-5", *BEARING], "--rpm"),
        (["--fs", "12000", "--rpm", "1797", "--window", "0", *BEARING], "--window"),
        (["--fs", "12000", "--rpm", "1797", "--bearing", "d=7.9,D=39"], "missing n"),
        (["--fs", "12000", "--rpm", "1797", "--bearing", "n=9.5,d=7.9,D=39"], "whole number"),
        (["--fs", "12000", "--rpm", "1797", "--bearing", "n=9,d=40,D=39"], "smaller than"),
        (["--fs", "12000", "--rpm", "1797", "--bearing", "n=9,d=7,D=39,q=1"], "unknown keys"),
        (["--fs", "12000", "--rpm", "1797", "--asset", "no-such-asset"], "--asset"),
        (["--fs", "12000", *BEARING], "--rpm"),
        ([*FILE_OPTS, "--plot", "/no/such/dir/x.png"], "does not exist"),
        ([*FILE_OPTS, "--plot", "spectrum.jpg"], ".png"),
        ([*FILE_OPTS, "--column", "nope"], "no column 'nope'"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path: Path, options: list[str], needle: str) -> None:
    csv = _signal_csv(tmp_path / "vib.csv")
    result = runner.invoke(app, ["diagnose", str(csv), *options, "--home", str(tmp_path / "h")])
    assert result.exit_code == 2, result.output
    assert needle in _one_line_error(result.output)
    assert not Path("/no/such/dir").exists()  # --plot never creates folders


def test_n_written_as_a_float_is_accepted(tmp_path: Path) -> None:
    csv = _signal_csv(tmp_path / "vib.csv")
    opts = ["--fs", "12000", "--rpm", "1797", "--bearing", "n=9.0,d=0.3126in,D=1.537in"]
    result = runner.invoke(app, ["diagnose", str(csv), *opts])
    assert result.exit_code == 1, result.output
    assert "outer race" in result.output


@pytest.mark.parametrize(("decimal", "sep"), [(",", ""), (",", ";"), (".", ";"), (".", "\t")])
def test_decimal_commas_and_semicolons_are_read_not_misread(
    tmp_path: Path, decimal: str, sep: str
) -> None:
    csv = _signal_csv(tmp_path / "vib.csv", decimal=decimal, sep=sep)
    result = runner.invoke(app, ["diagnose", str(csv), *FILE_OPTS, "--column", "acc", "--json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "outer_race"
    if decimal == ",":
        assert "decimal comma" in doc["source"]


def test_json_is_one_document_and_exit_codes_follow_the_verdict(tmp_path: Path) -> None:
    faulty = _signal_csv(tmp_path / "outer.csv", "outer")
    healthy = _signal_csv(tmp_path / "healthy.csv", "healthy")
    fault = runner.invoke(app, ["diagnose", str(faulty), *FILE_OPTS, "--json"])
    assert fault.exit_code == 1
    doc = json.loads(fault.stdout)
    assert doc["verdict"] == "outer_race"
    assert 0.0 <= doc["confidence"] <= 1.0
    assert doc["evidence"]
    assert {"expected_hz", "found_hz", "significance"} <= set(doc["evidence"][0])
    ok = runner.invoke(app, ["diagnose", str(healthy), *FILE_OPTS, "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["verdict"] == "normal"
    bad = runner.invoke(app, ["diagnose", str(tmp_path / "nope.csv"), *FILE_OPTS, "--json"])
    assert bad.exit_code == 2
    assert json.loads(bad.stdout) == {
        "ok": False,
        "error": f"{tmp_path / 'nope.csv'}: no such file",
        "exit_code": 2,
    }


def test_a_folder_of_files_gives_one_result_each_and_a_summary(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    _signal_csv(folder / "a_outer.csv", "outer")
    _signal_csv(folder / "b_healthy.csv", "healthy")
    (folder / "c_empty.csv").write_bytes(b"")
    (folder / "notes.md").write_text("not a signal", encoding="utf-8")
    result = runner.invoke(app, ["diagnose", str(folder), *FILE_OPTS, "--json"])
    assert result.exit_code == 1, result.output  # a fault anywhere wins
    doc = json.loads(result.stdout)
    assert [Path(r["target"]).name for r in doc["results"]] == [
        "a_outer.csv",
        "b_healthy.csv",
        "c_empty.csv",
    ]
    assert doc["counts"] == {"outer_race": 1, "normal": 1, "bad_input": 1}
    table = runner.invoke(app, ["diagnose", str(folder), *FILE_OPTS])
    assert "Diagnosis of 3 targets" in table.output
    assert "the file is empty" in table.output


def test_overall_exit_code_order() -> None:
    assert overall_exit([ExitCode.OK, ExitCode.UNKNOWN]) == ExitCode.UNKNOWN
    assert overall_exit([ExitCode.UNKNOWN, ExitCode.BAD_INPUT]) == ExitCode.BAD_INPUT
    assert overall_exit([ExitCode.BAD_INPUT, ExitCode.FINDING]) == ExitCode.FINDING
    assert overall_exit([]) == ExitCode.OK


def test_json_has_no_nan_and_keeps_dates() -> None:
    from datetime import UTC, datetime

    doc = json.loads(to_json({"x": float("nan"), "t": datetime(2026, 1, 2, tzinfo=UTC)}))
    assert doc == {"x": None, "t": "2026-01-02T00:00:00+00:00"}


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shopfloor.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
        timeout=120,
    )


def test_version_and_debug_traceback(tmp_path: Path) -> None:
    version = _run("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("shopfloor ")
    plain = _run("diagnose", str(tmp_path / "none.csv"), *FILE_OPTS)
    assert plain.returncode == 2
    assert "Traceback" not in plain.stderr
    debug = _run("--debug", "diagnose", str(tmp_path / "none.csv"), *FILE_OPTS)
    assert debug.returncode == 2
    assert "Traceback" in debug.stderr


def test_piped_output_is_not_cut_and_keeps_the_exit_status(tmp_path: Path) -> None:
    csv = _signal_csv(tmp_path / "a_rather_long_file_name_for_a_vibration_export.csv")
    result = _run("diagnose", str(csv), *FILE_OPTS, env={"COLUMNS": "80"})
    assert result.returncode == 1
    assert max(len(ln) for ln in result.stdout.splitlines()) > 80  # not wrapped at 80


def test_help_imports_nothing_heavy() -> None:
    """``shopfloor --help`` stays fast because heavy libraries load only in command bodies."""
    code = (
        "import sys, shopfloor.cli;"
        "heavy = [m for m in ('numpy', 'pandas', 'duckdb', 'matplotlib', 'lightgbm', 'scipy',"
        " 'sklearn', 'torch', 'pyarrow') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
