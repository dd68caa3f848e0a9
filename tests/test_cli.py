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


def test_diagnose_a_file_with_plot(tmp_path: Path) -> None:
    import numpy as np

    from shopfloor.testing.signals import bearing_signal

    x, _ = bearing_signal("outer", shaft_hz=1797 / 60, fs_hz=12_000.0, duration_s=3.0, seed=4)
    csv = tmp_path / "vib.csv"
    csv.write_text("acc\n" + "\n".join(f"{v:.6f}" for v in x), encoding="utf-8")
    png = tmp_path / "env.png"
    result = runner.invoke(
        app,
        [
            "diagnose",
            str(csv),
            "--fs",
            "12000",
            "--rpm",
            "1797",
            "--bearing",
            "n=9,d=0.3126in,D=1.537in",
            "--plot",
            str(png),
            "--home",
            str(tmp_path / "home"),
        ],
    )
    assert result.exit_code == 1, result.output  # a fault found is a finding
    assert "outer race" in result.output
    assert "BPFO" in result.output
    assert png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = tmp_path / "bad.csv"
    bad.write_text("acc\n1.0\nnan\n" + "\n".join("0.1" for _ in range(20_000)), encoding="utf-8")
    out = runner.invoke(
        app,
        ["diagnose", str(bad), "--fs", "12000", "--rpm", "1797", "--bearing", "n=9,d=7.94,D=39.04"],
    )
    assert out.exit_code == 2
    assert "line 3" in out.output
    missing = runner.invoke(app, ["diagnose", str(csv), "--fs", "12000", "--rpm", "1797"])
    assert missing.exit_code == 2
    assert "--bearing" in missing.output
    assert np.isfinite(x).all()


def test_diagnose_recordings_from_the_store(dataset_dir, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    runner.invoke(
        app,
        ["datasets", "prepare", "cwru", "--home", str(home), "--source", str(dataset_dir("cwru"))],
    )
    outer = runner.invoke(app, ["diagnose", "cwru-130", "--home", str(home)])
    assert outer.exit_code == 1, outer.output
    assert "outer race" in outer.output
    inner = runner.invoke(app, ["diagnose", "cwru-105", "--home", str(home)])
    assert "inner race" in inner.output
    healthy = runner.invoke(app, ["diagnose", "cwru-97", "--home", str(home)])
    assert "normal" in healthy.output
    assert healthy.exit_code == 0, healthy.output
    ntn = runner.invoke(app, ["diagnose", "cwru-3001", "--home", str(home)])
    assert ntn.exit_code == 2
    assert "no bearing geometry" in ntn.output
