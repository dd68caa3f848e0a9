"""Anomaly detection, the fused diagnosis and remaining life as live pipeline components.

======================  =========================================================================
``anomaly.monitor``     :class:`~shopfloor.pipelines.anomaly_monitor.AnomalyMonitor` (PCA T²/Q)
                        fitted per channel on its first ``baseline_windows`` windows
``diagnosis.fused``     the shipped :class:`~shopfloor.assessment.fused_diagnoser.FusedDiagnoser`
                        (``shopfloor diagnose``'s default model)
``rul.health_index``    :class:`~shopfloor.prognostics.health_index.HealthIndexRUL` on the
                        channel's window RMS since its first window, with its interval
======================  =========================================================================

Each keeps its per-channel memory in ``window.state`` and sees the windows of a channel in
order, so the live loop and a backfill over the stored data (:mod:`.offline`) give the same
answers. After a restart, :meth:`restore` rebuilds that memory from the window results in the
store (the baseline features, the RMS history), so a restart does not start a new baseline.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopfloor.core.errors import InputError
from shopfloor.pipelines.live.components import _as_dict
from shopfloor.pipelines.live.registry import Component, StoredHistory, Window, component

NS = 1_000_000_000

TIME_FEATURES = ("rms", "peak", "crest_factor", "kurtosis")
BEARING_FEATURES = ("cpw_time.kurtosis", "cpw.bpfo.db", "cpw.bpfi.db", "cpw.bsf2.db")
"""Envelope evidence added to the anomaly features when ``features.bearing`` ran: the kurtosis
of the pre-whitened signal (impulsiveness) and the envelope level at the outer-race,
inner-race and ball defect frequencies (dB), which a developing bearing defect raises first."""


def _features(window: Window) -> dict[str, float]:
    """The anomaly features of one window. Amplitudes enter as logs: a machine's vibration
    amplitude varies multiplicatively (load, speed), so its log is closer to normal, which
    the PCA limits assume."""
    t = window.results["time"]
    out = {
        "log_rms": math.log(max(float(t["rms"]), 1e-12)),
        "log_peak": math.log(max(float(t["peak"]), 1e-12)),
        "crest_factor": float(t["crest_factor"]),
        "kurtosis": float(t["kurtosis"]),
    }
    frame = window.results.get("bearing_features")
    if isinstance(frame, pd.DataFrame):
        for name in BEARING_FEATURES:
            if name in frame.columns:
                out[name] = float(frame[name].iloc[0])
    return out


@component("anomaly.monitor")
class AnomalyStep(Component):
    """Anomaly score of each window against the channel's own first windows.

    Parameters
    ----------
    baseline_windows:
        Windows at the start of each channel taken as its normal behaviour (the stated
        baseline); no score until they are in. 60 one-second windows: a minute of running.
    alpha:
        Significance of the PCA's T² and Q control limits (per window).
    on_windows, off_windows:
        Persistence of the alarm: windows in a row above (below) the limit to raise (clear) it.

    The threshold is the PCA's own control limit (score 1 = on the limit): with a baseline of
    tens of windows there are too few tail scores for an extreme-value fit, while the T² (F
    distribution) and Q (Jackson-Mudholkar) limits account for the baseline's size.
    """

    requires = ("time",)
    provides = ("anomaly",)

    def __init__(
        self,
        baseline_windows: int = 60,
        alpha: float = 0.01,
        on_windows: int = 3,
        off_windows: int = 3,
    ) -> None:
        if baseline_windows < 10:
            raise InputError(f"anomaly.monitor: baseline_windows {baseline_windows} < 10")
        self.baseline_windows = baseline_windows
        self.alpha = alpha
        self.on_windows = on_windows
        self.off_windows = off_windows

    def _fit(self, rows: list[dict[str, float]], ends: list[int]) -> Any:
        from shopfloor.detection.alarms import PersistenceAlarm
        from shopfloor.detection.pca import PCAMonitor
        from shopfloor.detection.thresholds import ControlLimit
        from shopfloor.pipelines.anomaly_monitor import AnomalyMonitor

        frame = pd.DataFrame(rows, index=pd.to_datetime(ends, unit="ns", utc=True))
        frame = frame.dropna(axis=1)  # a feature missing in the baseline is not used
        monitor = AnomalyMonitor(
            scorer=PCAMonitor(alpha=self.alpha),
            threshold=ControlLimit(1.0),
            alarm=PersistenceAlarm(on_steps=self.on_windows, off_steps=self.off_windows),
            guard=None,
        )
        return monitor.fit(frame)

    def process(self, window: Window) -> None:
        st = window.state.setdefault(self.name, {"rows": [], "ends": [], "monitor": None})
        x = _features(window)
        if st["monitor"] is None:
            st["rows"].append(x)
            st["ends"].append(window.end_ns)
            seen = len(st["rows"])
            if seen >= self.baseline_windows:
                st["monitor"] = self._fit(st["rows"], st["ends"])
                st["rows"], st["ends"] = [], []
            window.results["anomaly"] = {
                "state": "baseline",
                "seen": seen,
                "baseline_windows": self.baseline_windows,
                "score": None,
                "threshold": None,
                "margin": None,
                "anomalous": False,
                "alarm": False,
                "contributors": [],
                "features": x,
            }
            return
        monitor = st["monitor"]
        # the scorer's one-row path (no table built): a window costs microseconds, not ms
        one = {k: (x[k] if math.isfinite(x[k]) else None) for k in monitor.channels_ if k in x}
        score = float(monitor.scorer_.score_one(one))
        threshold = float(monitor.threshold_.threshold_)
        margin = float(monitor.threshold_.margin(np.array([score]))[0])
        alarm = monitor.alarm_.update_one(margin)
        top = pd.Series(dtype=np.float64)
        total = 0.0
        if score > threshold:  # what drives it, for a person to check (only when it matters)
            row = pd.DataFrame([x])[monitor.channels_]
            contrib = monitor.scorer_.contributions(row).iloc[0]
            total = float(contrib.sum())
            top = contrib.sort_values(ascending=False).iloc[:3]
        window.results["anomaly"] = {
            "state": "scoring",
            "seen": None,
            "baseline_windows": self.baseline_windows,
            "score": score,
            "threshold": threshold,
            "margin": score / threshold,
            "anomalous": bool(score > threshold),
            "alarm": bool(alarm),
            "contributors": [
                {"feature": str(k), "share": float(v) / total if total > 0 else 0.0}
                for k, v in top.items()
            ],
            "features": x,
        }

    def restore(self, state: dict[str, Any], history: StoredHistory) -> None:
        rows, ends = [], []
        for results, end_ns in history.first(self.baseline_windows):
            feats = (results.get("anomaly") or {}).get("features")
            if isinstance(feats, dict):
                rows.append({k: float("nan") if v is None else float(v) for k, v in feats.items()})
                ends.append(end_ns)
        st = state.setdefault(self.name, {"rows": [], "ends": [], "monitor": None})
        if len(rows) >= self.baseline_windows:
            st["monitor"] = self._fit(rows, ends)
        else:
            st["rows"], st["ends"] = rows, ends


@component("diagnosis.fused")
class FusedDiagnosis(Component):
    """The shipped fused diagnosis (physics evidence first, a calibrated model beside it) over
    the window's envelope evidence: what ``shopfloor diagnose`` uses by default."""

    requires = ("bearing_features",)
    provides = ("diagnosis",)

    def __init__(self) -> None:
        from shopfloor.assessment.default_model import load_default_diagnoser

        self._model = load_default_diagnoser()

    def process(self, window: Window) -> None:
        self.process_batch([window])

    def process_batch(self, windows: list[Window]) -> None:
        frames: dict[int, tuple[Any, list[tuple[int, Window]]]] = {}
        for w in windows:
            frame, i = w.results.get("_bearing_batch", (w.results["bearing_features"], 0))
            frames.setdefault(id(frame), (frame, []))[1].append((i, w))
        for frame, members in frames.values():
            rows = [i for i, _ in members]
            sub = frame.iloc[rows]
            verdicts = self._model.diagnose(sub)
            sides = self._model.sides(sub)
            for k, (_, w) in enumerate(members):
                w.results["diagnosis"] = _as_dict(verdicts[k]) | {"method": f"fused:{sides[k]}"}


@component("rul.health_index")
class RemainingLifeStep(Component):
    """Remaining life of the channel's component from the growth of its vibration RMS.

    Parameters
    ----------
    train:
        A run-to-failure table (CSV or Parquet; columns ``unit``, ``time`` in seconds and
        ``rms``, every unit ending at its failure), as ``shopfloor rul --train`` takes; the
        model's degradation prior, noise and failure threshold come from it.
    baseline_windows:
        Windows at the start of a life taken as its healthy level (the health index is the
        log of RMS over their median).
    every_windows:
        Estimate every this many windows (an estimate draws ``n_draws`` Monte Carlo paths).
    alpha:
        The interval is the ``1 - alpha`` one.
    n_draws:
        Monte Carlo draws per estimate.

    Results: ``rul`` with ``remaining_s``, ``lower_s``, ``upper_s`` (seconds of running from the
    window's end), ``state`` and ``health_index``; between estimates the last one is repeated,
    with ``age_windows`` saying how many windows old it is.
    """

    requires = ("time",)
    provides = ("rul",)

    def __init__(
        self,
        train: str,
        baseline_windows: int = 50,
        every_windows: int = 10,
        alpha: float = 0.1,
        n_draws: int = 500,
    ) -> None:
        from shopfloor.prognostics.health_index import HealthIndexRUL

        path = Path(train).expanduser()
        if not path.is_file():
            raise InputError(f"rul.health_index: no training table {path}")
        frame = pd.read_parquet(path) if path.suffix in (".parquet", ".pq") else pd.read_csv(path)
        missing = {"unit", "time", "rms"} - set(frame.columns)
        if missing:
            raise InputError(f"rul.health_index: {path} lacks columns {sorted(missing)}")
        self.train = train
        self.baseline_windows = baseline_windows
        self.every_windows = every_windows
        self.alpha = alpha
        self.n_draws = n_draws
        self._model = HealthIndexRUL(
            hi_channels=("rms",),
            baseline_steps=baseline_windows,
            n_draws=n_draws,
            calibration="bayes",
            random_state=0,
        ).fit(frame[["unit", "time", "rms"]])

    def process(self, window: Window) -> None:
        st = window.state.setdefault(
            self.name, {"t": [], "rms": [], "first_ns": None, "last": None}
        )
        if st["first_ns"] is None:
            st["first_ns"] = window.start_ns
        st["t"].append((window.end_ns - st["first_ns"]) / NS)
        st["rms"].append(max(float(window.results["time"]["rms"]), 1e-12))
        n = len(st["t"])
        if n <= self.baseline_windows:
            window.results["rul"] = _rul_row("baseline", None, None, None, None, 0)
            window.results["rul"]["alpha"] = self.alpha
            return
        if st["last"] is None or window.index % self.every_windows == 0:
            st["last"] = self._estimate(st["t"], st["rms"], window.index)
        state, point, lower, upper, hi, at = st["last"]
        window.results["rul"] = _rul_row(state, point, lower, upper, hi, window.index - at)
        window.results["rul"]["alpha"] = self.alpha

    def _estimate(
        self, t: list[float], rms: list[float], index: int
    ) -> tuple[str, float, float, float, float, int]:
        hist = pd.DataFrame({"unit": 1.0, "time": t, "rms": rms})
        life = self._model.remaining_life(hist, self.alpha, time_unit="s")[0]
        amp = np.asarray(rms)
        hi = float(np.log(amp[-1] / np.median(amp[: self.baseline_windows])))
        fpt = self._model.first_prediction_times(hist).get(1.0)
        state = "degrading" if fpt is not None else "not_degrading"
        return (state, life.point, life.lower, life.upper, hi, index)

    def restore(self, state: dict[str, Any], history: StoredHistory) -> None:
        windows, t_ns, rms = history.trend("time.rms")
        first_ns = history.first_start_ns()
        if not t_ns.size or first_ns is None:
            return
        st = state[self.name] = {
            "t": ((t_ns - first_ns) / NS).tolist(),
            "rms": np.maximum(rms, 1e-12).tolist(),
            "first_ns": first_ns,
            "last": None,
        }
        # the estimate in force is the one made at the last multiple of every_windows, as live
        at = [i for i, k in enumerate(windows.tolist()) if k % self.every_windows == 0]
        if at and at[-1] + 1 > self.baseline_windows:
            n = at[-1] + 1
            st["last"] = self._estimate(st["t"][:n], st["rms"][:n], int(windows[at[-1]]))


def _rul_row(
    state: str,
    point: float | None,
    lower: float | None,
    upper: float | None,
    hi: float | None,
    age: int,
) -> dict[str, Any]:
    return {
        "state": state,
        "remaining_s": point,
        "lower_s": lower,
        "upper_s": upper,
        "health_index": hi,
        "age_windows": age,
    }
