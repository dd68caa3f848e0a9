"""The built-in pipeline components, wrapping the library's blocks (DM, HA, AG).

=====================  ==========================================================
``features.time``      RMS, peak, crest factor, kurtosis (:mod:`~shopfloor.manipulation`)
``features.bearing``   envelope evidence at the bearing's defect frequencies
``diagnosis.physics``  :class:`~shopfloor.assessment.physics_diagnoser.PhysicsRuleDiagnoser`
``advice.alerts``      confirmed, de-duplicated alerts (:mod:`shopfloor.advisory.alerts`), with
                       the anomaly score and remaining life as evidence where the chain has them
=====================  ==========================================================

Anomaly detection, the fused diagnosis and remaining life are in :mod:`.assessments`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shopfloor.acquisition.live.fleet_config import bearing_of
from shopfloor.advisory.alerts import Alert, AlertGate, suggested_action
from shopfloor.assessment.diagnosis import Diagnosis, FaultClass
from shopfloor.assessment.physics_diagnoser import PhysicsRuleDiagnoser
from shopfloor.core.errors import InputError
from shopfloor.manipulation.bearing_features import BearingFeatureConfig, bearing_features
from shopfloor.manipulation.time_indicators import time_indicators
from shopfloor.pipelines.live.registry import Component, Window, component

_TIME_KEYS = ("rms", "peak", "crest_factor", "kurtosis")


@component("features.time")
class TimeFeatures(Component):
    """Time-domain indicators of the window (unit of the channel; ratios dimensionless)."""

    provides = ("time",)

    def process(self, window: Window) -> None:
        ind = time_indicators(window.samples[None, :])
        window.results["time"] = {k: float(ind[k][0]) for k in _TIME_KEYS}


@component("features.bearing")
class BearingFeatures(Component):
    """Envelope-spectrum evidence at the defect frequencies of the channel's bearing.

    The shaft speed comes from the asset's nameplate (``rated_speed_rpm``); an asset without it
    or without bearing geometry is an error naming the asset.
    """

    provides = ("bearing_features",)

    def __init__(self, n_harmonics: int = 3) -> None:
        self.n_harmonics = n_harmonics

    def process(self, window: Window) -> None:
        self.process_batch([window])

    def process_batch(self, windows: list[Window]) -> None:
        groups: dict[tuple[Any, ...], list[Window]] = {}
        for w in windows:
            rpm = w.asset.nameplate.rated_speed_rpm
            geometry = bearing_of(w.asset, w.channel_id)
            if rpm is None or geometry is None:
                raise InputError(
                    f"asset {w.asset.id}: features.bearing needs nameplate.rated_speed_rpm and "
                    "a component with bearing geometry"
                )
            key = (w.sample_rate_hz, float(rpm), geometry.model_dump_json(), w.samples.size)
            groups.setdefault(key, []).append(w)
        cfg = BearingFeatureConfig(n_harmonics=self.n_harmonics)
        for (fs, rpm, _, _), group in groups.items():
            geometry = bearing_of(group[0].asset, group[0].channel_id)
            x = np.stack([w.samples for w in group])
            frame = bearing_features(x, fs, rpm, geometry, cfg)
            for i, w in enumerate(group):
                w.results["bearing_features"] = frame.iloc[i : i + 1]
                w.results["_bearing_batch"] = (frame, i)


@component("diagnosis.physics")
class PhysicsDiagnosis(Component):
    """Bearing fault location and severity grade from the envelope evidence (no training)."""

    requires = ("bearing_features",)
    provides = ("diagnosis",)

    def __init__(self, min_significance: float = 6.0, min_harmonics: int = 2) -> None:
        self.min_significance = min_significance
        self.min_harmonics = min_harmonics
        self._model: PhysicsRuleDiagnoser | None = None

    def _fitted(self, feats: Any) -> PhysicsRuleDiagnoser:
        if self._model is None:
            self._model = PhysicsRuleDiagnoser(
                min_significance=float(self.min_significance), min_harmonics=self.min_harmonics
            ).fit(feats)
        return self._model

    def process(self, window: Window) -> None:
        feats = window.results["bearing_features"]
        window.results["diagnosis"] = _as_dict(self._fitted(feats).diagnose(feats)[0])

    def process_batch(self, windows: list[Window]) -> None:
        frames: dict[int, tuple[Any, list[tuple[int, Window]]]] = {}
        for w in windows:
            frame, i = w.results.get("_bearing_batch", (w.results["bearing_features"], 0))
            frames.setdefault(id(frame), (frame, []))[1].append((i, w))
        for frame, members in frames.values():
            verdicts = self._fitted(frame).diagnose(frame)
            for i, w in members:
                w.results["diagnosis"] = _as_dict(verdicts[i])


def _as_dict(d: Diagnosis) -> dict[str, Any]:
    return {
        "label": d.label.value,
        "severity": d.severity,
        "confidence": round(d.confidence, 4),
        "reason": d.reason,
    }


@component("advice.alerts")
class Alerts(Component):
    """Raise an alert when a fault finding is confirmed (see :class:`AlertGate`)."""

    requires = ("diagnosis",)
    provides = ("alert",)

    def __init__(self, confirm_windows: int = 3, clear_windows: int = 10) -> None:
        self.confirm_windows = confirm_windows
        self.clear_windows = clear_windows

    def process(self, window: Window) -> None:
        gate = window.state.get(self.name)
        if gate is None:
            gate = window.state[self.name] = AlertGate(self.confirm_windows, self.clear_windows)
        d = window.results["diagnosis"]
        finding = None if d["label"] == FaultClass.NORMAL.value else str(d["label"])
        severity = gate.update(finding, str(d["severity"]))
        if severity is None or finding is None:
            window.results["alert"] = None
            return
        evidence: dict[str, Any] = {"diagnosis": d}
        for key in ("time", "anomaly", "rul"):  # what the chain found besides the diagnosis
            if key in window.results:
                evidence[key] = window.results[key]
        asset, ch = window.asset.id, window.channel_id
        window.results["alert"] = Alert(
            asset_id=asset,
            channel_id=ch,
            finding=finding,
            severity=severity,
            summary=f"{asset}/{ch}: {finding.replace('_', ' ')} ({d['severity']}), "
            f"confirmed in {self.confirm_windows} consecutive windows" + _context(window.results),
            suggested_action=suggested_action(finding, severity),
            evidence=evidence,
            dedup_key=f"{asset}/{ch}/{finding}",
            window=window.index,
            start_ns=window.start_ns,
            end_ns=window.end_ns,
            source=self.name,
        )


def _context(results: dict[str, Any]) -> str:
    """The anomaly score and remaining life in words, for an alert's summary."""
    parts = []
    a = results.get("anomaly") or {}
    if a.get("margin") is not None:
        parts.append(f"anomaly score {a['margin']:.1f}x its limit")
    r = results.get("rul") or {}
    if r.get("remaining_s") is not None:
        level = round(100 * (1 - float(r.get("alpha", 0.1))))
        parts.append(
            f"remaining life {r['remaining_s']:.0f} s ({level} % interval "
            f"{r['lower_s']:.0f}-{r['upper_s']:.0f} s)"
        )
    return "; " + "; ".join(parts) if parts else ""


def stored_results(results: dict[str, Any]) -> dict[str, Any]:
    """The JSON part of a window's results kept in the ledger (features tables are not)."""
    out: dict[str, Any] = {}
    for key, value in results.items():
        if key.startswith("_"):
            continue
        if isinstance(value, Alert):
            out[key] = value.to_dict()
        elif value is None or isinstance(value, dict | str | int | float):
            out[key] = value
        elif isinstance(value, np.generic):
            out[key] = value.item()
    return out
