"""Physics features of bearing vibration as a pipeline component (a contract-checked transformer).

:class:`BearingFeatures` wraps :func:`~shopfloor.manipulation.bearing_features.bearing_features`
so the feature step can be cloned, checked by the contract kit, saved with a model and named in a
pipeline spec: windows (n_windows, n_samples) in, one row of named physics features out. The
sample rate, shaft speed and bearing geometry are parameters (stored unchanged, checked at
``fit``); a window's own speed, when it varies, is the pipeline's business (one transformer per
operating point, or :func:`bearing_features` with a speed per window).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from shopfloor.core.assets import BearingGeometry
from shopfloor.core.base import ConstraintLike, FloatArray, InstanceOf, Interval, Transformer
from shopfloor.manipulation.bearing_features import (
    BearingFeatureConfig,
    bearing_features,
    feature_names,
)

__all__ = ["BearingFeatures"]


class BearingFeatures(Transformer):
    """Transformer: vibration windows → physics features in orders of shaft speed.

    Parameters
    ----------
    fs_hz: sample rate, Hz.
    shaft_speed_rpm: shaft speed, rpm.
    geometry: the monitored bearing (:class:`~shopfloor.core.assets.BearingGeometry`).
    n_harmonics: harmonics searched per defect frequency.
    tolerance: relative search half-width around each harmonic (slip, speed error).
    shape: add the spectral-shape columns.

    >>> import numpy as np
    >>> g = BearingGeometry(n_elements=9, element_diameter_mm=7.94, pitch_diameter_mm=39.04)
    >>> x = np.random.default_rng(0).normal(size=(2, 4096))
    >>> feats = BearingFeatures(12_000.0, 1797.0, g).fit(x)
    >>> feats.transform(x).shape, feats.get_feature_names_out()[0]
    ((2, 74), 'time.rms')
    """

    _parameter_constraints: ClassVar[dict[str, list[ConstraintLike]]] = {
        "fs_hz": [Interval(float, 0.0, None, closed="neither")],
        "shaft_speed_rpm": [Interval(float, 0.0, None, closed="neither")],
        "geometry": [InstanceOf(BearingGeometry)],
        "n_harmonics": [Interval(int, 1, None, closed="left")],
        "tolerance": [Interval(float, 0.0, 0.2, closed="neither")],
        "shape": [bool],
    }
    _tags: ClassVar[dict[str, Any]] = {
        "iso_block": "manipulation",
        "input_kind": "windows",
        "stateless": True,
        # the cage (FTF) columns are NaN when a window cannot resolve the cage frequency
        "handles_missing": True,
    }

    def __init__(
        self,
        fs_hz: float = 12_000.0,
        shaft_speed_rpm: float = 1797.0,
        geometry: BearingGeometry | None = None,
        n_harmonics: int = 3,
        tolerance: float = 0.02,
        shape: bool = False,
    ) -> None:
        self.fs_hz = fs_hz
        self.shaft_speed_rpm = shaft_speed_rpm
        self.geometry = geometry
        self.n_harmonics = n_harmonics
        self.tolerance = tolerance
        self.shape = shape

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        # the SKF 6205 of the CWRU rig; 1,024-sample contract windows resolve its BPFO
        g = BearingGeometry(n_elements=9, element_diameter_mm=7.94, pitch_diameter_mm=39.04)
        return [{"geometry": g}]

    def _config(self) -> BearingFeatureConfig:
        return BearingFeatureConfig(
            n_harmonics=self.n_harmonics, tolerance=self.tolerance, shape=self.shape
        )

    def feature_config(self) -> BearingFeatureConfig:
        """The :class:`BearingFeatureConfig` these parameters stand for.

        A pipeline hands it to code that computes the same features together with the
        spectra they come from (:func:`~shopfloor.manipulation.bearing_features.
        bearing_analysis`), so the features there are this component's. Parameters are
        checked at ``fit`` (a pipeline checks them when it loads its spec).
        """
        return self._config()

    def _transform(self, x: FloatArray) -> FloatArray:
        frame = bearing_features(x, self.fs_hz, self.shaft_speed_rpm, self.geometry, self._config())
        out: FloatArray = np.asarray(frame.to_numpy(), dtype=np.float64)
        return out

    def _feature_names_out(self) -> list[str]:
        return feature_names(self._config())
