"""Diagnosis pipelines from YAML: named components, saved with the model, same answer as the CLI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from shopfloor.core.errors import ChecksumError, InputError
from shopfloor.core.store import Store
from shopfloor.datasets import cwru
from shopfloor.manipulation.bearing_features import bearing_analysis
from shopfloor.pipelines.diagnose import DiagnoseRequest, diagnose_target
from shopfloor.pipelines.diagnosis_spec import (
    example_spec_path,
    load_pipeline,
    pipeline_from_dict,
    save_pipeline,
)
from shopfloor.testing.signals import bearing_signal
from tests.manipulation.conftest import verified

pytest.importorskip("lightgbm", reason="the fused diagnoser needs lightgbm")
SKF_6205 = cwru.skf_asset().component(cwru.DE_BEARING).bearing


PHYSICS_WITH_A_PARAMETER = [
    {"use": "features.bearing"},
    {"use": "diagnosis.physics", "with": {"a": 2}},
]


def _spec(**changes: object) -> dict[str, object]:
    spec: dict[str, object] = {
        "name": "t",
        "steps": [
            {"use": "features.bearing", "with": {"n_harmonics": 3}},
            {"use": "diagnosis.physics"},
        ],
    }
    spec.update(changes)
    return spec


def test_the_shipped_spec_names_features_and_the_fused_diagnoser() -> None:
    pipe = load_pipeline(example_spec_path())
    assert pipe.spec.name == "bearing-diagnosis"
    assert type(pipe.features).__name__ == "BearingFeatures"
    assert type(pipe.diagnoser).__name__ == "FusedDiagnoser"
    assert pipe.model == "fused"
    assert (pipe.spec.window_s, pipe.spec.speed_band) == (1.0, 0.10)


def test_the_features_step_is_the_component_the_analysis_runs() -> None:
    # the pipeline's feature component and the one evidence path give the same table
    pipe = pipeline_from_dict(_spec())
    x, _ = bearing_signal(
        "outer", geometry=SKF_6205, shaft_hz=1797.0 / 60, fs_hz=12_000.0, duration_s=2.0, seed=1
    )
    windows = x[: 2 * 12_000].reshape(2, 12_000)
    comp = pipe.features.set_params(fs_hz=12_000.0, shaft_speed_rpm=1797.0, geometry=SKF_6205)
    table = comp.fit(windows).transform(windows)
    feats, _ = bearing_analysis(windows, 12_000.0, 1797.0, SKF_6205, comp.feature_config())
    np.testing.assert_array_equal(table, feats.to_numpy())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (_spec(steps=[{"use": "features.nope"}, {"use": "diagnosis.physics"}]), "features.nope"),
        (_spec(steps=[{"use": "features.bearing"}, {"use": "diagnosis.oracle"}]), "known:"),
        (
            _spec(steps=[{"use": "features.bearing", "with": {"fs_hz": 1.0}}, {"use": "x"}]),
            "fs_hz",
        ),
        (
            _spec(steps=[{"use": "features.bearing", "with": {"tolerance": 0.5}}, {"use": "x"}]),
            "tolerance",
        ),
        (
            _spec(steps=[{"use": "features.bearing", "with": {"colour": 1}}, {"use": "x"}]),
            "colour",
        ),
        (
            _spec(
                steps=[{"use": "features.bearing"}, {"use": "diagnosis.physics", "with": {"a": 1}}]
            ),
            "no parameters",
        ),
        (_spec(windows_s=1.0), "windows_s"),
        (_spec(window_s=0), "window_s"),
        (_spec(steps=[{"use": "features.bearing"}]), "steps"),
        ([1, 2], "mapping"),
    ],
)
def test_bad_specs_are_refused_naming_the_field(spec: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        pipeline_from_dict(spec, source="spec.yaml")


def test_a_spec_file_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: p\nsteps:\n  - use: features.bearing\n  - use: diagnosis.physics\nwindw_s: 2\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        load_pipeline(path)
    assert "line 5" in str(err.value)
    assert "windw_s" in str(err.value)


def test_a_diagnoser_reading_columns_the_features_do_not_make_is_refused(tmp_path: Path) -> None:
    pipe = load_pipeline(example_spec_path())
    folder = tmp_path / "saved"
    save_pipeline(pipe, folder)
    record_path = next(folder.glob("*.json"))
    record = json.loads(record_path.read_text(encoding="utf-8"))
    record["feature_names"] = [*record["feature_names"], "spec.band_0"]  # a shape column
    record_path.write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(InputError, match=r"spec\.band_0"):
        load_pipeline(folder)


def test_a_saved_pipeline_with_a_damaged_model_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    save_pipeline(load_pipeline(example_spec_path()), folder)
    booster = next(folder.glob("*.txt"))
    booster.write_text(booster.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(ChecksumError):
        load_pipeline(folder)


# ----------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def cwru_store(
    dataset_dir: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """A store holding three CWRU recordings (outer race, inner race, the 48 kHz baseline)."""
    folder = dataset_dir("cwru")
    home = tmp_path_factory.mktemp("cwru-spec")
    asset = cwru.skf_asset()
    with Store.open(home) as store:
        with store.batch("cwru", replace=True) as batch:
            batch.add_asset(asset)
            for number in (130, 105, 97):
                entry = next(e for e in cwru.CATALOGUE if e.number == number)
                verified("cwru", folder, entry.rel_path)
                batch.add_recording(cwru.load_file(folder, entry, asset))
        yield store
    shutil.rmtree(home, ignore_errors=True)


@pytest.mark.realdata
@pytest.mark.parametrize("recording", ["cwru-130", "cwru-105"])
def test_the_shipped_spec_answers_as_shopfloor_diagnose(
    cwru_store: Store, recording: str, tmp_path: Path
) -> None:
    expected, where = diagnose_target(DiagnoseRequest(target=recording), cwru_store)
    pipe = load_pipeline(example_spec_path())
    got, got_where = pipe.run(recording, cwru_store)
    assert got_where == where
    assert got.as_dict() == expected.as_dict()
    truth = {"cwru-130": "outer_race", "cwru-105": "inner_race"}[recording]
    assert got.as_dict()["verdict"] == truth
    # saved with its model and loaded back: the same answer again
    reloaded = load_pipeline(save_pipeline(pipe, tmp_path / "bundle").parent)
    assert reloaded.diagnose(recording, cwru_store).as_dict() == expected.as_dict()


@pytest.mark.realdata
def test_a_physics_spec_answers_as_diagnose_model_physics(cwru_store: Store) -> None:
    expected, _ = diagnose_target(DiagnoseRequest(target="cwru-130", model="physics"), cwru_store)
    pipe = pipeline_from_dict(_spec(window_s=1.0))
    assert pipe.diagnose("cwru-130", cwru_store).as_dict() == expected.as_dict()
    # the spec's settings are the ones used: half-second windows, twice as many decisions
    half = pipeline_from_dict(_spec(window_s=0.5)).diagnose("cwru-130", cwru_store).as_dict()
    assert half["windows"] == 2 * expected.as_dict()["windows"]


@pytest.mark.realdata
def test_the_48_khz_baseline_runs_end_to_end(cwru_store: Store) -> None:
    result = load_pipeline(example_spec_path()).diagnose("cwru-97", cwru_store)
    expected, _ = diagnose_target(DiagnoseRequest(target="cwru-97"), cwru_store)
    assert result.as_dict() == expected.as_dict()
    assert result.as_dict()["data_checks"]["sample_rate_hz"] == 48_000.0


@pytest.mark.realdata
def test_a_healthy_motor_reads_normal_with_healthy_evidence(cwru_store: Store) -> None:
    # issue 13: "normal 40 %" on a healthy motor loses a user's trust; a high figure must come
    # from healthy evidence (no line, not impulsive, the model agrees), not a lower bar
    healthy = diagnose_target(DiagnoseRequest(target="cwru-97"), cwru_store)[0].as_dict()
    assert healthy["verdict"] == "normal"
    assert healthy["decided_by"] == "quiet-normal"
    assert healthy["confidence"] == pytest.approx(6 / 7, abs=1e-4)  # as_dict rounds
    assert "not impulsive" in healthy["reason"]
    faulty = diagnose_target(DiagnoseRequest(target="cwru-130"), cwru_store)[0].as_dict()
    # the store holds cwru-97 labelled healthy, so the fault is also judged against it
    assert (faulty["verdict"], faulty["decided_by"]) == ("outer_race", "baseline")
    before = faulty["baseline_change"]["without_baseline"]
    assert (before["verdict"], before["decided_by"]) == ("outer_race", "agree")


# ----------------------------------------------------------------------------- command line
def test_diagnose_with_the_shipped_spec_gives_the_default_answer(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shopfloor.cli import app

    x, _ = bearing_signal("outer", shaft_hz=1797 / 60, fs_hz=12_000.0, duration_s=4.0, seed=4)
    csv = tmp_path / "outer.csv"
    csv.write_text("acc\n" + "\n".join(f"{v:.6f}" for v in x) + "\n", encoding="utf-8")
    opts = ["--fs", "12000", "--rpm", "1797", "--bearing", "n=9,d=0.3126in,D=1.537in", "--json"]
    base = ["diagnose", str(csv), *opts, "--home", str(tmp_path / "h")]
    plain = CliRunner().invoke(app, base)
    piped = CliRunner().invoke(app, [*base, "--pipeline", str(example_spec_path())])
    assert plain.exit_code == piped.exit_code == 1, piped.output
    assert json.loads(piped.stdout) == json.loads(plain.stdout)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: b\nsteps: [{use: features.bearing}, {use: diagnosis.nope}]\n")
    refused = CliRunner().invoke(app, [*base, "--pipeline", str(bad)])
    assert refused.exit_code == 2
    assert "diagnosis.nope" in refused.output
    assert "Traceback" not in refused.output
