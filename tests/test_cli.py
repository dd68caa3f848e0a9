"""The command-line tool: help everywhere, plain errors, the demo and its offline fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from shopfloor.cli import app

runner = CliRunner()


def command_paths() -> list[list[str]]:
    root = get_command(app)
    paths: list[list[str]] = [[]]
    for name, cmd in root.commands.items():  # type: ignore[attr-defined]
        paths.append([name])
        for sub in getattr(cmd, "commands", {}):
            paths.append([name, sub])
    return paths


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "root")
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_unknown_dataset_is_a_plain_error() -> None:
    result = runner.invoke(app, ["datasets", "info", "nasa-bearings"])
    assert result.exit_code == 2
    assert "unknown dataset 'nasa-bearings'" in result.output
    assert "Traceback" not in result.output


def test_datasets_list_and_info() -> None:
    listing = runner.invoke(app, ["datasets", "list"])
    assert listing.exit_code == 0
    for name in ("cwru", "cmapss", "skab", "femto_pronostia"):
        assert name in listing.output
    info = runner.invoke(app, ["datasets", "info", "cmapss"])
    assert "Saxena" in info.output


def test_prepare_then_store_info(dataset_dir, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    result = runner.invoke(
        app,
        ["datasets", "prepare", "skab", "--home", str(home), "--source", str(dataset_dir("skab"))],
    )
    assert result.exit_code == 0, result.output
    assert "prepared skab: 1 assets, 35 recordings" in result.output
    info = runner.invoke(app, ["store", "info", "--home", str(home)])
    assert info.exit_code == 0, info.output
    assert "skab" in info.output


def test_store_info_without_store_is_a_plain_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["store", "info", "--home", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert "no store in" in result.output


def test_demo_falls_back_to_generated_signals_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPFLOOR_DATA", str(tmp_path / "no-mirror"))
    result = runner.invoke(app, ["demo", "--offline", "--home", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    assert "GENERATED SIGNALS, not real data" in result.output
    assert "healthy recordings flagged (false alarms): 0 of 1" in result.output


def test_demo_on_real_data(
    dataset_dir,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("SHOPFLOOR_DATA", str(dataset_dir("cwru").parent))
    result = runner.invoke(app, ["demo", "--home", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    assert "Health summary of cwru" in result.output
    assert "45 recordings" in result.output
    assert "GENERATED" not in result.output


def test_import_errors_keep_brackets_and_name_the_field(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[1] / "examples" / "import"
    mapping = (examples / "motor_mapping.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(mapping.replace("unit: mm/s", "unit: mm/s**2"), encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "import",
            str(examples / "motor_export.csv"),
            "--mapping",
            str(bad),
            "--home",
            str(tmp_path / "home"),
        ],
    )
    assert result.exit_code == 2
    assert "channels[2].unit" in result.output
    assert "[length]" in result.output  # rich markup must not swallow pint's dimensions
    ok = runner.invoke(
        app,
        [
            "import",
            str(examples / "motor_export.csv"),
            "--mapping",
            str(examples / "motor_mapping.yaml"),
            "--home",
            str(tmp_path / "h"),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "60 rows x 3 channels" in ok.output
