"""What a new user met when trying the command line by hand (session 4's acceptance audit):
each case here failed before its fix.

- a headerless one-column file of decimal commas was split into two integer columns;
- an output path root may "write" to (``/proc``) passed the check and lost the verdict;
- a plot that fails while saving lost the verdict printed before it;
- ``--fs`` on a stored recording silently replaced its stored sample rate;
- the summary table of several files cut long file names when piped;
- a bad option value, unknown option or missing argument drew a box of several lines;
- ``store backup`` onto a file or an impossible place was an internal error (exit 3).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopfloor.cli import app
from shopfloor.core.store import Store
from shopfloor.testing.signals import bearing_signal
from tests.test_cli_conventions import FILE_OPTS, _one_line_error, _run, _signal_csv

runner = CliRunner()


def _home(tmp_path: Path) -> list[str]:
    """A data directory of the test's own (a plot puts matplotlib's cache there)."""
    return ["--home", str(tmp_path / "home")]


def test_a_headerless_decimal_comma_file_is_read_as_one_column(tmp_path: Path) -> None:
    x, _ = bearing_signal("outer", shaft_hz=1797 / 60, fs_hz=12_000.0, duration_s=2.0, seed=3)
    csv = tmp_path / "export.csv"
    csv.write_text("\n".join(f"{v:.6f}".replace(".", ",") for v in x) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["diagnose", str(csv), *FILE_OPTS, "--json", *_home(tmp_path)])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "outer_race"
    assert "decimal comma detected" in doc["source"]


def test_two_whole_numbers_per_line_without_a_header_are_refused(tmp_path: Path) -> None:
    csv = tmp_path / "ambiguous.csv"
    csv.write_text("1,5\n2,25\n3,75\n", encoding="utf-8")
    result = runner.invoke(app, ["diagnose", str(csv), *FILE_OPTS, *_home(tmp_path)])
    assert result.exit_code == 2, result.output
    line = _one_line_error(result.output)
    assert "ambiguous.csv, line 1" in line
    assert "add a header line" in line


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_plot_to_a_place_that_cannot_hold_a_file_is_refused_before_any_work(
    tmp_path: Path,
) -> None:
    csv = _signal_csv(tmp_path / "vib.csv")
    result = runner.invoke(
        app, ["diagnose", str(csv), *FILE_OPTS, "--plot", "/proc/x.png", *_home(tmp_path)]
    )
    assert result.exit_code == 2, result.output
    assert "--plot /proc/x.png: cannot be written" in _one_line_error(result.output)


def test_a_plot_that_fails_while_saving_keeps_the_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shopfloor.assessment.plots as plots

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(plots, "plot_envelope_spectrum", disk_full)
    csv = _signal_csv(tmp_path / "vib.csv")
    png = tmp_path / "env.png"
    result = runner.invoke(
        app, ["diagnose", str(csv), *FILE_OPTS, "--plot", str(png), *_home(tmp_path)]
    )
    assert result.exit_code == 2, result.output
    assert "outer race" in result.stdout  # the verdict came first
    line = _one_line_error(result.output)
    assert f"--plot {png}: not written (No space left on device)" in line
    as_json = runner.invoke(
        app, ["diagnose", str(csv), *FILE_OPTS, "--plot", str(png), "--json", *_home(tmp_path)]
    )
    doc = json.loads(as_json.stdout)
    assert doc["verdict"] == "outer_race"
    assert "No space left" in doc["plot_error"]


def test_long_file_names_are_not_cut_in_a_piped_summary(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    long_name = "motor_07_drive_end_bearing_after_the_regreasing_on_the_night_shift_export.csv"
    _signal_csv(folder / long_name)
    _signal_csv(folder / "b.csv")
    result = _run("diagnose", str(folder), *FILE_OPTS, env={"COLUMNS": "80"})
    assert result.returncode == 1, result.stderr
    assert long_name in result.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["demo", "--port", "0"], "Invalid value for '--port'"),
        (["diagnose", "x.csv", "--fs", "abc"], "Invalid value for '--fs'"),
        (["diagnose", "x.csv", "--frobnicate"], "No such option: --frobnicate"),
        (["diagnose"], "Missing argument 'targets'"),
        (["nosuchcommand"], "No such command 'nosuchcommand'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], needle: str) -> None:
    result = _run(*args)
    assert result.returncode == 2, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert needle in lines[0]
    assert "--help" in lines[0]


def test_a_usage_error_under_json_is_a_json_document() -> None:
    result = _run("serve", "--port", "0", "--json")
    assert result.returncode == 2
    doc = json.loads(result.stdout)
    assert doc["ok"] is False
    assert doc["exit_code"] == 2
    assert "--port" in doc["error"]


def test_backup_onto_a_file_is_bad_input(tmp_path: Path) -> None:
    with Store.open(tmp_path / "home"):
        pass
    target = tmp_path / "notes.txt"
    target.write_text("not a folder", encoding="utf-8")
    result = runner.invoke(app, ["store", "backup", str(target), "--home", str(tmp_path / "home")])
    assert result.exit_code == 2, result.output
    assert "is a file; the backup needs a new or empty folder" in _one_line_error(result.output)
    assert target.read_text(encoding="utf-8") == "not a folder"


# ----------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def cwru_130_home(
    dataset_dir: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    from shopfloor.datasets import cwru
    from tests.manipulation.conftest import verified

    folder = dataset_dir("cwru")
    home = tmp_path_factory.mktemp("cwru-130")
    asset = cwru.skf_asset()
    entry = next(e for e in cwru.CATALOGUE if e.number == 130)
    verified("cwru", folder, entry.rel_path)
    with Store.open(home) as store, store.batch("cwru", replace=True) as batch:
        batch.add_asset(asset)
        batch.add_recording(cwru.load_file(folder, entry, asset))
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.mark.realdata
def test_fs_on_a_stored_recording_is_stated_not_silent(cwru_130_home: Path) -> None:
    pytest.importorskip("lightgbm", reason="the fused diagnoser needs lightgbm")
    home = ["--home", str(cwru_130_home)]
    result = runner.invoke(app, ["diagnose", "cwru-130", "--fs", "48000", "--json", *home])
    assert result.exit_code in (0, 1, 3), result.output
    warnings = json.loads(result.stdout)["warnings"]
    assert any(
        "--fs 48000 Hz replaces the sample rate stored with cwru-130 (12000 Hz)" in w
        for w in warnings
    ), warnings
    same = runner.invoke(app, ["diagnose", "cwru-130", "--fs", "12000", "--json", *home])
    assert not any("replaces the sample rate" in w for w in json.loads(same.stdout)["warnings"])


@pytest.mark.realdata
def test_options_a_stored_recording_does_not_use_are_stated(cwru_130_home: Path) -> None:
    pytest.importorskip("lightgbm", reason="the fused diagnoser needs lightgbm")
    opts = ["--column", "acc", "--unit", "g", "--asset", "cwru-motor-ntn", "--json"]
    result = runner.invoke(app, ["diagnose", "cwru-130", *opts, "--home", str(cwru_130_home)])
    assert result.exit_code == 1, result.output
    warnings = json.loads(result.stdout)["warnings"]
    for needle in (
        "--column 'acc' is ignored: cwru-130 is a stored recording",
        "--unit 'g' is ignored",
        "--asset 'cwru-motor-ntn' is ignored: cwru-130 belongs to cwru-motor-skf",
    ):
        assert any(needle in w for w in warnings), (needle, warnings)


def test_gc_on_a_data_directory_that_does_not_exist_creates_none(tmp_path: Path) -> None:
    typo = tmp_path / "typo" / "home"
    result = runner.invoke(app, ["store", "gc", "--home", str(typo)])
    assert result.exit_code == 2, result.output
    assert f"no store in {typo}" in _one_line_error(result.output)
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("horizon", ["-5", "nan", "-inf"])
def test_a_horizon_that_is_no_time_is_refused(tmp_path: Path, horizon: str) -> None:
    # a negative horizon was accepted and never flagged anything (exit 0)
    args = ["rul", str(tmp_path / "t.txt"), "--train", str(tmp_path / "tr.txt")]
    result = runner.invoke(app, [*args, "--horizon", horizon, *_home(tmp_path)])
    assert result.exit_code == 2, result.output
    assert f"--horizon {float(horizon)}: must be a time >= 0" in _one_line_error(result.output)


def test_unit_must_be_an_acceleration(tmp_path: Path) -> None:
    # '--unit furlong' ran to the end and only the ISO line said it could not convert
    csv = _signal_csv(tmp_path / "vib.csv")
    result = runner.invoke(
        app, ["diagnose", str(csv), *FILE_OPTS, "--unit", "furlong", *_home(tmp_path)]
    )
    assert result.exit_code == 2, result.output
    assert "--unit 'furlong': unit 'furlong' is not an acceleration unit" in _one_line_error(
        result.output
    )


def test_options_a_file_does_not_use_are_stated(tmp_path: Path) -> None:
    csv = _signal_csv(tmp_path / "vib.csv")
    opts = ["--channel", "DE", "--component", "x", "--json", *_home(tmp_path)]
    result = runner.invoke(app, ["diagnose", str(csv), *FILE_OPTS, *opts])
    assert result.exit_code == 1, result.output
    warnings = json.loads(result.stdout)["warnings"]
    assert any(w.startswith("--channel 'DE' is ignored") for w in warnings), warnings
    assert any(w.startswith("--component 'x' is ignored") for w in warnings), warnings


def test_a_bearing_error_carries_no_pydantic_prefix(tmp_path: Path) -> None:
    csv = _signal_csv(tmp_path / "vib.csv")
    opts = ["--fs", "12000", "--rpm", "1797", "--bearing", "n=9,d=40,D=39.04", *_home(tmp_path)]
    result = runner.invoke(app, ["diagnose", str(csv), *opts])
    assert result.exit_code == 2, result.output
    line = _one_line_error(result.output)
    assert "geometry: element_diameter_mm (40.0) must be smaller than pitch_diameter_mm" in line
    assert "Value error" not in line
