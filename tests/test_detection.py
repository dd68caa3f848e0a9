"""Detection: PCA monitoring, thresholds, alarm logic, events and the data-quality guard, on
generated data whose answer is known; and every bad-input case of issue 14."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from shopfloor.core.errors import InputError
from shopfloor.core.events import EventKind, Severity
from shopfloor.core.labels import AnomalyInterval
from shopfloor.core.severity_scale import from_anomaly_level
from shopfloor.detection.alarms import PersistenceAlarm
from shopfloor.detection.changepoint import CusumAlarm
from shopfloor.detection.events import to_datetime_index
from shopfloor.detection.forecast import ForecastResidualMonitor
from shopfloor.detection.pca import PCAMonitor, q_limit_jackson_mudholkar, t2_limit
from shopfloor.detection.quality import DataQualityGuard
from shopfloor.detection.similarity import SimilarityMonitor
from shopfloor.detection.thresholds import POTThreshold, QuantileThreshold
from shopfloor.pipelines.anomaly_monitor import AnomalyMonitor

CHANNELS = ["flow", "pressure", "current", "vibration"]


def plant(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """Four correlated channels at 1 Hz: pressure and current follow flow, vibration is noise."""
    rng = np.random.default_rng(seed)
    flow = 100 + np.cumsum(rng.normal(0, 0.05, n)) + rng.normal(0, 1.0, n)
    pressure = 2.0 + 0.01 * flow + rng.normal(0, 0.005, n)
    current = 5.0 + 0.02 * flow + rng.normal(0, 0.01, n)
    vibration = 0.3 + rng.normal(0, 0.02, n)
    index = pd.date_range("2024-05-01 08:00", periods=n, freq="s")
    return pd.DataFrame(np.c_[flow, pressure, current, vibration], index=index, columns=CHANNELS)


# --- PCA --------------------------------------------------------------------------------


def test_t2_and_q_limits_match_their_distributions() -> None:
    assert t2_limit(10_000, 1, 0.01) == pytest.approx(stats.chi2.ppf(0.99, 1), rel=1e-3)
    assert t2_limit(3, 2, 0.01) == pytest.approx(stats.chi2.ppf(0.99, 2))  # too few rows
    # m equal residual eigenvalues λ: Q/λ is chi-square with m degrees of freedom
    q = q_limit_jackson_mudholkar(np.full(6, 0.5), 0.01)
    assert q == pytest.approx(0.5 * stats.chi2.ppf(0.99, 6), rel=0.02)


def test_pca_flags_a_broken_correlation_and_names_the_channel() -> None:
    data = plant()
    data.iloc[800:, 1] += 0.05  # pressure drifts away from flow: within its range, off its relation
    model = PCAMonitor().fit(data.iloc[:600])
    scores = model.score_samples(data)
    assert scores.index.equals(data.index)
    assert np.mean(scores.iloc[:600] > 1.0) < 0.03  # about alpha=1 % above the limits
    assert np.mean(scores.iloc[800:] > 1.0) > 0.95
    contrib = model.contributions(data.iloc[800:]).mean()
    assert contrib.idxmax() == "pressure"
    # in bar, from the normal mean (flow wanders too, so not exactly the 0.05 bar injected)
    assert 0.02 < model.deviations(data.iloc[800:])["pressure"].mean() < 0.08


def test_pca_moving_window_stream_equals_batch_on_the_window() -> None:
    data = plant(300)
    batch = PCAMonitor(window=100).fit(data)
    stream = PCAMonitor(window=100)
    for row in data.to_dict("records"):
        stream.learn_one(row)
    assert stream.n_rows_ == 100
    probe = data.iloc[::7]
    online = [stream.score_one(r) for r in probe.to_dict("records")]
    np.testing.assert_allclose(online, batch.score_samples(probe).to_numpy(), rtol=1e-6)
    means = pd.Series(stream.mean_, index=stream.channels_)[batch.channels_]
    np.testing.assert_allclose(means.to_numpy(), batch.mean_)


def test_pca_streaming_update_adapts_without_refit() -> None:
    data = plant(600)
    model = PCAMonitor(window=200).fit(data.iloc[:200])
    shifted = data.iloc[200:].add(pd.Series([0, 0.05, 0, 0], index=CHANNELS))  # new relation
    before = model.score_one(shifted.iloc[-1].to_dict())
    for row in shifted.to_dict("records"):
        model.learn_one(row)
    assert model.score_one(shifted.iloc[-1].to_dict()) < 1.0 < before


# --- thresholds and alarm logic ------------------------------------------------------------


def test_pot_extrapolates_an_exponential_tail() -> None:
    scores = np.random.default_rng(1).exponential(1.0, 20_000)
    pot = POTThreshold(risk=1e-4).fit(scores)
    assert pot.threshold_ == pytest.approx(-np.log(1e-4), rel=0.1)  # 9.21
    assert abs(pot.shape_) < 0.1  # an exponential tail has GPD shape 0
    assert QuantileThreshold(risk=0.01).fit(scores).threshold_ == pytest.approx(4.6, rel=0.05)


def test_threshold_needs_some_unmasked_scores() -> None:
    with pytest.raises(InputError, match="every score is NaN"):
        POTThreshold().fit(np.full(50, np.nan))


def test_one_spike_pages_no_one_but_a_persistent_excess_does() -> None:
    margins = np.full(100, -0.5)
    margins[10] = 5.0  # one wild spike
    margins[50:60] = 0.2
    alarm = PersistenceAlarm(on_steps=3, off_steps=3).fit([0.0]).predict(margins)
    assert alarm[:50].sum() == 0
    assert alarm[52:60].all()
    assert alarm[65:].sum() == 0


def test_cusum_catches_a_small_sustained_excess_and_dates_its_onset() -> None:
    margins = np.full(200, -0.3)
    margins[120:] = 0.1  # only 10 % above the threshold
    cusum = CusumAlarm(decision=2.0).fit([0.0])
    alarm = cusum.predict(margins)
    assert alarm[:120].sum() == 0
    assert alarm[-1] == 1
    assert cusum.changepoints(margins) == [120]


# --- the whole chain -----------------------------------------------------------------------


def test_monitor_raises_one_event_with_contributions_and_datetimes() -> None:
    data = plant()
    data.iloc[900:1000, 1] += 0.08
    result = AnomalyMonitor().fit(data.iloc[:600]).detect(data.iloc[600:], asset_id="pump-7")
    assert len(result.events) == 1
    event = result.events[0]
    assert event.kind == EventKind.ANOMALY
    assert event.asset_id == "pump-7"
    assert event.start >= datetime(2024, 5, 1, 8, 15)
    assert event.start <= datetime(2024, 5, 1, 8, 15, 5)
    assert event.end is not None
    assert event.end <= datetime(2024, 5, 1, 8, 16, 50)
    top = event.evidence["channels"][0]
    assert top["channel"] == "pressure"
    assert top["share"] > 0.5
    assert top["deviation"] == pytest.approx(0.08, abs=0.02)
    assert event.source == "PCAMonitor"


def test_event_severity_is_an_anomaly_level_with_model_channel_and_dedup_key() -> None:
    data = plant()
    data.iloc[900:1000, 1] += 0.08
    monitor = AnomalyMonitor().fit(data.iloc[:600])
    event = monitor.detect(data.iloc[600:], asset_id="pump-7", model_id="m1").events[0]
    ratio = event.evidence["peak_score"] / event.evidence["threshold"]
    level = "extreme" if ratio >= 3.0 else "high"
    assert event.evidence["level"] == level
    assert event.severity == from_anomaly_level(level)
    assert (event.model_id, event.channel_id) == ("m1", "pressure")
    assert event.dedup_key == "pump-7/anomaly/m1"
    # a fault just past the threshold is "high" (an alarm), one far past it "extreme"
    small = AnomalyMonitor().fit(data.iloc[:600])
    big = plant()
    big.iloc[900:1000, 1] += 1.0
    extreme = small.detect(big.iloc[600:], asset_id="pump-7").events[0]
    assert extreme.evidence["level"] == "extreme"
    assert extreme.severity == Severity.CRITICAL
    assert extreme.dedup_key == "pump-7/anomaly/PCAMonitor"  # no registered model: the source


def test_data_quality_findings_are_their_own_kind_and_fold_by_check_and_channel(
    fitted: tuple[AnomalyMonitor, pd.DataFrame],
) -> None:
    monitor, data = fitted
    data.iloc[100:160, 1] = np.nan
    result = monitor.detect(data, asset_id="pump-7", model_id="m1")
    (missing,) = result.quality_events
    assert missing.kind == EventKind.DATA_QUALITY
    assert missing.severity == Severity.WARNING
    assert (missing.channel_id, missing.model_id) == ("pressure", "m1")
    assert missing.dedup_key == "pump-7/data_quality/missing/pressure"


@pytest.mark.parametrize("scorer", [SimilarityMonitor(), ForecastResidualMonitor()])
def test_other_scorers_find_the_same_fault(scorer: object) -> None:
    data = plant()
    data.iloc[900:1000, 1] += 0.08
    result = AnomalyMonitor(scorer=scorer).fit(data.iloc[:600]).detect(data.iloc[600:])  # type: ignore[arg-type]
    assert result.alarm.iloc[320:400].mean() > 0.8
    assert result.alarm.iloc[:250].sum() < 10


def test_times_of_an_anomaly_interval_are_datetimes() -> None:
    start = datetime(2020, 3, 9, 10, 14, 33)
    a, b, cps = AnomalyInterval(start_s=10, end_s=70, changepoints_s=[10, 71]).times(start)
    assert (a, b) == (datetime(2020, 3, 9, 10, 14, 43), datetime(2020, 3, 9, 10, 15, 43))
    assert cps[1] == datetime(2020, 3, 9, 10, 15, 44)
    idx = to_datetime_index(pd.Index([0.0, 1.5]), start)
    assert idx[1] == pd.Timestamp("2020-03-09 10:14:34.5")
    with pytest.raises(InputError, match="recording's start"):
        to_datetime_index(pd.Index([0.0, 1.0]))


# --- bad input (issue 14 goals): each case handled explicitly, never a flood of alarms ----


@pytest.fixture
def fitted() -> tuple[AnomalyMonitor, pd.DataFrame]:
    data = plant()
    return AnomalyMonitor().fit(data.iloc[:600]), data.iloc[600:].copy()


def _checks(result: object) -> set[str]:
    return {e.evidence["check"] for e in result.quality_events}  # type: ignore[attr-defined]


def test_nan_burst_is_masked_and_reported_once(fitted: tuple[AnomalyMonitor, pd.DataFrame]) -> None:
    monitor, data = fitted
    data.iloc[100:160, 1] = np.nan
    data.iloc[300:310, :] = np.nan  # every channel: nothing to score
    result = monitor.detect(data)
    missing = [e for e in result.quality_events if e.evidence["check"] == "missing"]
    assert {e.evidence["channel"] for e in missing} == set(CHANNELS)
    assert sum(e.evidence["channel"] == "pressure" for e in missing) == 2  # two bursts
    assert result.scores.iloc[300:310].isna().all()
    assert not result.events  # no anomaly from missing data


def test_stuck_sensor_is_masked_not_an_anomaly(fitted: tuple[AnomalyMonitor, pd.DataFrame]) -> None:
    monitor, data = fitted
    data.iloc[100:300, 2] = data.iloc[100, 2] + 0.05  # current frozen at an odd value
    result = monitor.detect(data)
    stuck = [e for e in result.quality_events if e.evidence["check"] == "stuck"]
    assert len(stuck) == 1
    assert stuck[0].evidence["channel"] == "current"
    assert result.mask["current"].iloc[100:300].all()
    assert not result.events
    unguarded = AnomalyMonitor(guard=None).fit(
        fitted[1].iloc[:0].pipe(lambda _: plant().iloc[:600])
    )
    assert unguarded.detect(data).alarm.sum() > 100  # what the guard prevents


def test_channel_vanishes_or_appears(fitted: tuple[AnomalyMonitor, pd.DataFrame]) -> None:
    monitor, data = fitted
    result = monitor.detect(data.drop(columns=["vibration"]).assign(oil_temp=40.0))
    assert {"missing_channel", "unknown_channel"} <= _checks(result)
    assert result.mask["vibration"].all()
    assert not result.events
    assert result.scores.notna().all()
    stream = PCAMonitor().fit(plant().iloc[:600])
    assert np.isfinite(stream.score_one({"flow": 100.0, "pressure": 3.0, "new": 1.0}))


def test_out_of_order_timestamps_are_rejected_naming_the_row(
    fitted: tuple[AnomalyMonitor, pd.DataFrame],
) -> None:
    monitor, data = fitted
    index = data.index.to_numpy().copy()
    index[[50, 51]] = index[[51, 50]]
    with pytest.raises(InputError, match="timestamps go backwards at row 51"):
        monitor.detect(data.set_axis(pd.DatetimeIndex(index)))


def test_duplicate_timestamps_are_dropped_and_reported(
    fitted: tuple[AnomalyMonitor, pd.DataFrame],
) -> None:
    monitor, data = fitted
    doubled = pd.concat([data, data.iloc[[10, 11, 12]]]).sort_index(kind="stable")
    result = monitor.detect(doubled)
    dup = [e for e in result.quality_events if e.evidence["check"] == "duplicate"]
    assert len(dup) == 1
    assert dup[0].evidence["n_rows"] == 3
    assert len(result.scores) == len(data)
    assert not result.events


def test_gaps_clock_jumps_and_rate_changes_are_reported(
    fitted: tuple[AnomalyMonitor, pd.DataFrame],
) -> None:
    monitor, data = fitted
    seconds = np.arange(len(data), dtype=float)
    seconds[200:] += 30  # a 31 s gap
    seconds[300:] += 7200  # the clock jumps two hours
    seconds[400:] = seconds[400] + 5 * np.arange(len(data) - 400)  # now every 5 s
    moved = data.set_axis(pd.Timestamp("2024-05-02") + pd.to_timedelta(seconds, unit="s"))
    result = monitor.detect(moved)
    assert {"gap", "clock_jump", "rate_change"} <= _checks(result)
    assert not result.events


def test_guard_needs_values_and_timestamps() -> None:
    with pytest.raises(InputError, match="no values in training"):
        DataQualityGuard().fit(pd.DataFrame({"a": [np.nan, np.nan], "b": [1.0, 2.0]}))
    guard = DataQualityGuard().fit(plant(100))
    with pytest.raises(InputError, match="indexed by timestamps"):
        guard.check(plant(100).reset_index(drop=True))
    with pytest.raises(InputError, match="at least 10"):
        AnomalyMonitor().fit(plant(5))


def test_physical_limits_mask_impossible_values(
    fitted: tuple[AnomalyMonitor, pd.DataFrame],
) -> None:
    _, data = fitted
    monitor = AnomalyMonitor(guard=DataQualityGuard(limits={"pressure": (0.0, 10.0)}))
    monitor.fit(plant().iloc[:600])
    data.iloc[50:55, 1] = -999.0  # a broken transmitter's error code
    result = monitor.detect(data)
    assert "out_of_range" in _checks(result)
    assert not result.events


def test_conv_autoencoder_finds_the_fault() -> None:
    pytest.importorskip("torch", reason="ConvAutoencoder needs the torch extra")
    from shopfloor.detection.autoencoder import ConvAutoencoder

    data = plant()
    data.iloc[900:1000, 1] += 0.08
    scorer = ConvAutoencoder(window=16, epochs=10)
    result = AnomalyMonitor(scorer=scorer).fit(data.iloc[:600]).detect(data.iloc[600:])
    assert result.scores.iloc[:15].isna().all()  # no full window yet: not scored
    assert result.alarm.iloc[320:400].mean() > 0.5
    assert result.alarm.iloc[20:250].sum() < 20


def test_mode_awareness_tightens_normal_and_ignores_mode_changes() -> None:
    from shopfloor.detection.modes import ModeAwareScorer

    rng = np.random.default_rng(3)
    n = 1200
    speed = np.where((np.arange(n) // 150) % 2 == 0, 1000.0, 1500.0)
    vibration = 1e-6 * speed**2 + rng.normal(0, 0.02, n)  # grows with speed squared
    current = 0.004 * speed + rng.normal(0, 0.05, n)
    index = pd.date_range("2024-06-01", periods=n, freq="s")
    data = pd.DataFrame({"speed": speed + rng.normal(0, 2, n), "vibration": vibration,
                         "current": current}, index=index)  # fmt: skip
    data.iloc[1000:1100, 1] += 0.15  # a fault smaller than the gap between the modes
    aware = ModeAwareScorer(mode_channels=["speed"], n_modes=2)
    result = AnomalyMonitor(scorer=aware).fit(data.iloc[:600]).detect(data.iloc[600:])
    assert set(aware.fit(data.iloc[:600]).modes(data.iloc[:600])) == {0, 1}
    assert result.alarm.iloc[:400].sum() == 0  # two mode changes in there, no alarm
    assert result.alarm.iloc[410:500].mean() > 0.8


def test_roles_are_discoverable_by_kind() -> None:
    from shopfloor.core.discovery import all_components

    assert ("POTThreshold", POTThreshold) in all_components("threshold")
    assert ("PersistenceAlarm", PersistenceAlarm) in all_components("alarm_logic")
    assert ("PCAMonitor", PCAMonitor) in all_components("streaming")


@pytest.mark.parametrize(
    "make",
    [lambda: ForecastResidualMonitor(window=500), lambda: SimilarityMonitor(window=500)],
    ids=["var", "mset"],
)
def test_streaming_twins_score_a_live_stream_as_the_batch_does(make: object) -> None:
    data = plant(n=900)
    data.iloc[700:, 1] += 0.08  # the same fault the batch tests find
    live = make().fit(data.iloc[:600])  # type: ignore[operator]
    rows = [{c: float(v) for c, v in r.items()} for r in data.iloc[600:].to_dict("records")]
    online = np.array([live.score_one(r) for r in rows])
    batch = make().fit(data.iloc[:600]).score_samples(data.iloc[600:])  # type: ignore[operator]
    np.testing.assert_allclose(online, batch.to_numpy(), rtol=1e-9)
    assert online[150:].mean() > 5 * online[:100].mean()  # the fault stands out
    # learning on: the moving-window model equals a batch fit on the same last 500 rows
    for r in rows[:100]:
        live.learn_one(r)
    again = make().fit(data.iloc[200:700])  # type: ignore[operator]
    probe = data.iloc[750:760]
    np.testing.assert_allclose(
        live.score_samples(probe).to_numpy(), again.score_samples(probe).to_numpy(), rtol=1e-7
    )
