"""Issue 13, item 2: diagnosis against the asset's own healthy baseline."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import t as student_t
from typer.testing import CliRunner

from shopfloor.acquisition.synthetic_signals import bearing_signal, cwru_drive_end_bearing
from shopfloor.assessment.baseline import compare_to_baseline, line_heights
from shopfloor.assessment.baseline_diagnosis import apply_baseline, learn_baseline, snapshots
from shopfloor.assessment.baseline_model import INDICATORS, HealthyBaseline
from shopfloor.assessment.diagnosis import FaultClass
from shopfloor.assessment.recording_diagnosis import diagnose_signal
from shopfloor.cli import app
from shopfloor.core.errors import InputError

FS = 12_000.0
RPM = 1797.0
SNAP = 1200  # 0.1 s at 12 kHz
runner = CliRunner()


def noise(seconds: float, seed: int, scale: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, scale, round(seconds * FS))


def with_random_impacts(x: np.ndarray, seed: int, rate_hz: float = 60.0) -> np.ndarray:
    """Impacts ringing a 3 kHz resonance at random (Poisson) times: impulsive, no line."""
    rng = np.random.default_rng(seed)
    out = x.copy()
    t = np.arange(240) / FS
    ring = 6.0 * np.exp(-2 * np.pi * 3000 * 0.05 * t) * np.sin(2 * np.pi * 3000 * t)
    for start in np.flatnonzero(rng.random(x.size) < rate_hz / FS):
        stop = min(x.size, start + ring.size)
        out[start:stop] += ring[: stop - start]
    return out


def healthy_bearing(seconds: float, seed: int) -> np.ndarray:
    x, _ = bearing_signal(
        "outer", geometry=cwru_drive_end_bearing(), shaft_hz=RPM / 60, fs_hz=FS,
        duration_s=seconds, impulse_amplitude=0.0, seed=seed,
    )  # fmt: skip
    return x


def outer_race(seconds: float, seed: int) -> np.ndarray:
    x, _ = bearing_signal(
        "outer", geometry=cwru_drive_end_bearing(), shaft_hz=RPM / 60, fs_hz=FS,
        duration_s=seconds, seed=seed,
    )  # fmt: skip
    return x


# --- the component -----------------------------------------------------------------------------


def test_same_healthy_noise_is_no_change_and_the_confidence_counts_snapshots() -> None:
    model = HealthyBaseline(fs_hz=FS).fit(snapshots(noise(5, 0), SNAP))
    comp = model.compare(snapshots(noise(5, 1), SNAP))
    assert not comp.is_change
    assert comp.confidence() == pytest.approx((comp.inside + 1) / (comp.n_snapshots + 2))
    assert comp.inside >= 48  # of 50 snapshots


def test_false_alarm_rate_per_snapshot_is_the_one_stated() -> None:
    # 200 Gaussian snapshots give the baseline; 3,000 fresh ones must exceed a limit (any of
    # the six) at most at the stated rate (1 %) plus sampling error (binomial sd ~0.2 %)
    model = HealthyBaseline(fs_hz=FS, alpha=0.01).fit(snapshots(noise(20, 2), SNAP))
    rate = model.exceeds(snapshots(noise(300, 3), SNAP)).any(axis=1).mean()
    assert rate <= 0.016


def test_a_short_baseline_widens_its_own_limits() -> None:
    short = HealthyBaseline(fs_hz=FS).fit(snapshots(noise(0.5, 4), SNAP))  # 5 snapshots
    long = HealthyBaseline(fs_hz=FS).fit(snapshots(noise(20, 4), SNAP))  # 200
    k = len(INDICATORS)
    j = INDICATORS.index("kurtosis")
    for model, n in ((short, 5), (long, 200)):
        q = student_t.ppf(1 - 0.01 / k, n - 1)
        q += (q * q - 1) * max(model.skew_[j], 0.0) / 6  # Cornish-Fisher, never narrower
        factor = q * math.sqrt(1 + 1 / n)
        assert model.limit_[j] == pytest.approx(model.mean_[j] + factor * model.sd_[j])
    assert (short.limit_[j] - short.mean_[j]) / short.sd_[j] > 2 * (
        (long.limit_[j] - long.mean_[j]) / long.sd_[j]
    )


def test_too_few_healthy_snapshots_are_refused() -> None:
    with pytest.raises(InputError, match="at least 5"):
        HealthyBaseline(fs_hz=FS).fit(snapshots(noise(0.4, 5), SNAP))


def test_impacts_raise_impulsiveness_with_evidence() -> None:
    model = HealthyBaseline(fs_hz=FS).fit(snapshots(noise(5, 6), SNAP))
    comp = model.compare(snapshots(with_random_impacts(noise(5, 7), 8), SNAP))
    assert comp.is_change
    changed = {c.name for c in comp.changed}
    assert {"kurtosis", "crest_factor"} <= changed
    kurt = next(c for c in comp.changes if c.name == "kurtosis")
    assert kurt.now > 2 * kurt.baseline
    assert "σ over baseline" in kurt.describe()
    assert "→" in kurt.describe()
    assert comp.confidence() > 0.9


def test_a_level_change_needs_6_db_on_top_of_the_spread() -> None:
    model = HealthyBaseline(fs_hz=FS).fit(snapshots(noise(5, 9), SNAP))
    # ×1.5 (3.5 dB) is far beyond the spread of stationary noise but below the 6 dB step
    small = model.compare(snapshots(noise(5, 10, scale=1.5), SNAP))
    assert "rms" not in {c.name for c in small.changed}
    big = model.compare(snapshots(noise(5, 11, scale=3.0), SNAP))
    assert {"rms", "envelope_rms"} <= {c.name for c in big.changed}
    # level-free indicators do not move with the gain
    assert not {"kurtosis", "crest_factor"} & {c.name for c in big.changed}


# --- lines ---------------------------------------------------------------------------------------


def test_stored_line_heights_compare_like_the_evidence() -> None:
    g = cwru_drive_end_bearing()
    base = diagnose_signal(healthy_bearing(4, 12), FS, RPM, g)
    now = diagnose_signal(outer_race(4, 13), FS, RPM, g)
    assert compare_to_baseline(now.evidence, base.evidence) == compare_to_baseline(
        now.evidence, line_heights(base.evidence)
    )


# --- the verdict ---------------------------------------------------------------------------------


def test_a_change_without_a_line_is_a_fault_of_unclear_type() -> None:
    g = cwru_drive_end_bearing()
    baseline = learn_baseline(healthy_bearing(5, 14), FS, source="h", rpm=RPM, geometry=g)
    x = with_random_impacts(healthy_bearing(5, 15), 16)
    result = diagnose_signal(x, FS, RPM, g)
    assert result.diagnosis.label in (FaultClass.NORMAL, FaultClass.UNKNOWN)  # no line
    apply_baseline(result, x, FS, baseline, "healthy-rec")
    assert result.diagnosis.label == FaultClass.FAULT
    assert "type unclear" in result.diagnosis.reason
    assert "kurtosis" in result.diagnosis.reason
    assert result.decided_by == "baseline"
    assert result.as_dict()["baseline_change"]["without_baseline"]["verdict"] != "fault"


def test_a_grown_outer_race_line_is_named() -> None:
    g = cwru_drive_end_bearing()
    baseline = learn_baseline(healthy_bearing(5, 17), FS, source="h", rpm=RPM, geometry=g)
    x = outer_race(5, 18)
    result = diagnose_signal(x, FS, RPM, g)
    before = result.diagnosis.confidence
    apply_baseline(result, x, FS, baseline, "healthy-rec")
    assert result.diagnosis.label == FaultClass.OUTER_RACE
    # the type is no surer than the evidence naming it
    assert result.diagnosis.confidence <= before
    assert {c.signature for c in result.grown_since_baseline} == {"bpfo"}


def test_no_change_is_normal_even_where_the_line_was_always_there() -> None:
    g = cwru_drive_end_bearing()
    # the "healthy" period already shows the same outer-race line: nothing changed since
    baseline = learn_baseline(outer_race(6, 19), FS, source="h", rpm=RPM, geometry=g)
    x = outer_race(6, 20)
    result = diagnose_signal(x, FS, RPM, g)
    assert result.diagnosis.label == FaultClass.OUTER_RACE
    comp = apply_baseline(result, x, FS, baseline, "old")
    assert not comp.is_change
    assert result.diagnosis.label == FaultClass.NORMAL
    assert result.diagnosis.confidence == pytest.approx(comp.confidence())
    assert "already there" in result.diagnosis.reason


def test_a_baseline_at_another_rate_is_refused() -> None:
    g = cwru_drive_end_bearing()
    baseline = learn_baseline(healthy_bearing(3, 21), FS, source="h", rpm=RPM, geometry=g)
    slow = noise(3, 22)[::2]
    result = diagnose_signal(slow, FS / 2, RPM, g)
    with pytest.raises(InputError, match="6000 Hz"):
        apply_baseline(result, slow, FS / 2, baseline, "h")


# --- command line --------------------------------------------------------------------------------


def _csv(path: Path, x: np.ndarray) -> Path:
    np.savetxt(path, x, header="acc", comments="", fmt="%.6f")
    return path


BEARING = "n=9,d=7.94,D=39.04"


def test_cli_judges_a_file_against_a_baseline_file(tmp_path: Path) -> None:
    healthy = _csv(tmp_path / "healthy.csv", healthy_bearing(4, 23))
    same = _csv(tmp_path / "same.csv", healthy_bearing(4, 24))
    impacts = _csv(tmp_path / "impacts.csv", with_random_impacts(healthy_bearing(4, 25), 26))
    common = ["--fs", "12000", "--rpm", "1797", "--bearing", BEARING, "--home", str(tmp_path)]
    ok = runner.invoke(app, ["diagnose", str(same), "--baseline", str(healthy), *common])
    assert ok.exit_code == 0, ok.output
    assert "no change since the healthy baseline" in ok.output
    bad = runner.invoke(
        app, ["diagnose", str(impacts), "--baseline", str(healthy), *common, "--json"]
    )
    assert bad.exit_code == 1, bad.output
    assert '"verdict": "fault"' in bad.stdout
    plain = runner.invoke(app, ["diagnose", str(impacts), *common])
    assert plain.exit_code == 0  # without a baseline nothing changes: healthy by default


@pytest.mark.parametrize(
    ("baseline", "message"),
    [
        ("missing.csv", "no such file"),
        ("no-such-recording", "neither a file"),
        ("motor@2024-01-01..yesterday", "not an ISO 8601 time"),
        ("motor@2024-01-02..2024-01-01", "ends before it starts"),
    ],
)
def test_cli_bad_baseline_is_one_line_exit_2(tmp_path: Path, baseline: str, message: str) -> None:
    target = _csv(tmp_path / "x.csv", healthy_bearing(2, 27))
    common = ["--fs", "12000", "--rpm", "1797", "--bearing", BEARING, "--home", str(tmp_path)]
    out = runner.invoke(app, ["diagnose", str(target), "--baseline", baseline, *common])
    assert out.exit_code == 2, out.output
    assert message in out.output
    assert "--baseline" in out.output
    assert "Traceback" not in out.output


def test_cli_a_too_short_baseline_is_bad_input(tmp_path: Path) -> None:
    short = _csv(tmp_path / "short.csv", healthy_bearing(0.3, 28))
    target = _csv(tmp_path / "x.csv", healthy_bearing(2, 29))
    common = ["--fs", "12000", "--rpm", "1797", "--bearing", BEARING, "--home", str(tmp_path)]
    out = runner.invoke(app, ["diagnose", str(target), "--baseline", str(short), *common])
    assert out.exit_code == 2, out.output
    assert "at least 5" in out.output


# --- kept with the asset -------------------------------------------------------------------------


def _motor_with_stream(home: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from shopfloor.core.assets import Asset, Channel, Component, ComponentKind
    from shopfloor.core.store import Block, Store

    asset = Asset(
        id="m1",
        kind="induction_motor",
        components=[
            Component(id="de", kind=ComponentKind.ROLLING_BEARING, bearing=cwru_drive_end_bearing())
        ],
        channels=[
            Channel(
                id="acc", quantity="acceleration", unit="g", sample_rate_hz=FS, component_id="de"
            )
        ],
    )
    t0 = datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC)
    healthy = healthy_bearing(6, 30).astype(np.float32)
    with Store.open(home) as store:
        store.put_asset(asset)
        store.append(
            [
                Block(
                    "m1",
                    "acc",
                    i,
                    t0 + timedelta(seconds=i),
                    FS,
                    healthy[i * 12000 : (i + 1) * 12000],
                )
                for i in range(6)
            ],
            now=t0 + timedelta(hours=1),
        )


def test_a_saved_baseline_from_a_stream_period_is_used_automatically(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _motor_with_stream(home)
    period = "m1@2026-03-02T08:00:00..2026-03-02T08:00:06"
    saved = runner.invoke(
        app, ["baseline", "save", "m1", period, "--who", "tester", "--home", str(home)]
    )
    assert saved.exit_code == 0, saved.output
    assert "60 snapshots" in saved.output
    shown = runner.invoke(app, ["baseline", "show", "m1", "--home", str(home), "--json"])
    assert '"channel": "acc"' in shown.stdout
    impacts = _csv(tmp_path / "impacts.csv", with_random_impacts(healthy_bearing(4, 31), 32))
    common = ["--fs", "12000", "--rpm", "1797", "--asset", "m1", "--channel", "acc"]
    out = runner.invoke(app, ["diagnose", str(impacts), *common, "--home", str(home), "--json"])
    assert out.exit_code == 1, out.output
    assert "saved baseline" in out.stdout
    same = _csv(tmp_path / "same.csv", healthy_bearing(4, 33))
    ok = runner.invoke(app, ["diagnose", str(same), *common, "--home", str(home)])
    assert ok.exit_code == 0, ok.output
    empty = runner.invoke(
        app,
        ["diagnose", str(same), *common, "--home", str(home), "--baseline",
         "m1@2027-01-01T00:00..2027-01-02T00:00"],
    )  # fmt: skip
    assert empty.exit_code == 2
    assert "no samples" in empty.output


def _prepared_cwru(dataset_dir, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    source = str(dataset_dir("cwru"))
    prep = runner.invoke(
        app, ["datasets", "prepare", "cwru", "--home", str(home), "--source", source]
    )
    assert prep.exit_code == 0, prep.output
    return home


@pytest.mark.realdata
def test_cwru_ball_fault_is_found_against_the_healthy_recording(
    dataset_dir, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # cwru-185 (ball, 0.014 in, 0 hp) shows no envelope line: healthy by default without a
    # baseline; against the rig's healthy recording 97 its impulsiveness rose
    home = _prepared_cwru(dataset_dir, tmp_path)
    out = runner.invoke(app, ["diagnose", "cwru-185", "--home", str(home), "--json"])
    assert out.exit_code == 1, out.output
    assert '"baseline": "cwru-97"' in out.stdout
    assert '"verdict": "fault"' in out.stdout
    assert "kurtosis" in out.stdout
    # cwru-120 (ball, 2 hp): a cage line grew against the 0 hp baseline; a grown line alone
    # is a lead, never the type (it read "cage 80 %" when grown lines named the type)
    out = runner.invoke(app, ["diagnose", "cwru-120", "--home", str(home), "--json"])
    assert out.exit_code == 1, out.output
    assert '"verdict": "cage"' not in out.stdout


@pytest.mark.realdata
def test_a_recording_is_never_compared_with_a_baseline_learned_from_itself(
    dataset_dir, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # saving cwru-97 as the rig's baseline and then diagnosing cwru-97 compared the recording
    # with itself ("normal 98 %", a comparison that can never find anything)
    home = _prepared_cwru(dataset_dir, tmp_path)
    asset = "cwru-motor-skf"
    saved = runner.invoke(
        app, ["baseline", "save", asset, "cwru-97", "--who", "tester", "--home", str(home)]
    )
    assert saved.exit_code == 0, saved.output
    out = runner.invoke(app, ["diagnose", "cwru-97", "--home", str(home), "--json"])
    assert out.exit_code == 0, out.output
    assert "saved baseline" not in out.stdout
    # the saved baseline is still used for the asset's other recordings
    other = runner.invoke(app, ["diagnose", "cwru-185", "--home", str(home), "--json"])
    assert "saved baseline" in other.stdout, other.stdout
    explicit = runner.invoke(
        app, ["diagnose", "cwru-97", "--baseline", "cwru-97", "--home", str(home)]
    )
    assert explicit.exit_code == 2, explicit.output
    assert "is the recording being diagnosed" in explicit.output
    assert "Traceback" not in explicit.output
