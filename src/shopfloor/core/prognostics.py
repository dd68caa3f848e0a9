"""The prognostics contract: unit-grouped sequences in, remaining useful life with intervals out.

Input kind ``"unit_sequences"``: rows are observations of several units (engines, bearings),
each row one time step (cycle or snapshot) of one unit. Given as

* a DataFrame with a ``unit`` column, a ``time`` column (``cycle`` is accepted as its name) and
  one column per channel, or
* a 2-D array whose column 0 is the unit id, column 1 the time and the rest the channels
  (named ``c0``, ``c1``, ...).

Rows of one unit must be contiguous and their time strictly increasing; anything else is an
:class:`~shopfloor.core.errors.InputError` naming the unit, row and value.

A :class:`RULPredictor` predicts, for every row, the remaining useful life (RUL) at that time
from that unit's history up to it (never from later rows), in the unit of ``time``. It always
offers a distribution as well as a point: :meth:`RULPredictor.predict_quantiles` and
:meth:`RULPredictor.predict_interval`. :meth:`RULPredictor.remaining_life` returns one
:class:`RemainingLife` record per unit at its last row.

>>> import numpy as np
>>> seq = as_unit_sequences(np.array([[1, 1, 0.5], [1, 2, 0.6], [2, 1, 0.4]]))
>>> seq.unit_ids.tolist(), seq.channels
([1.0, 2.0], ['c0'])
>>> run_to_failure_rul(seq).tolist()
[1.0, 0.0, 0.0]
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd

from shopfloor.core.base import FloatArray, Predictor, check_is_fitted, get_tags
from shopfloor.core.errors import InputError

if TYPE_CHECKING:
    from shopfloor.core.events import Event

__all__ = [
    "RULPredictor",
    "RemainingLife",
    "UnitSequences",
    "as_unit_sequences",
    "run_to_failure_rul",
]

UNIT, TIME = "unit", "time"
_TIME_ALIASES = ("time", "cycle")


@dataclass(frozen=True)
class UnitSequences:
    """Validated unit-grouped sequences.

    Attributes
    ----------
    units: unit id per row, shape (n_rows,).
    time: time per row (cycles or s), strictly increasing within a unit.
    values: channel values, shape (n_rows, n_channels).
    channels: channel names, one per column of ``values``.
    starts: row index where each unit's rows start, plus ``n_rows`` at the end.
    """

    units: FloatArray
    time: FloatArray
    values: FloatArray
    channels: list[str]
    starts: npt.NDArray[np.int64] = field(repr=False)

    @property
    def unit_ids(self) -> FloatArray:
        """The distinct units, in order of appearance."""
        return self.units[self.starts[:-1]]

    @property
    def last_rows(self) -> npt.NDArray[np.int64]:
        """Row index of each unit's last row."""
        return self.starts[1:] - 1

    def position(self) -> npt.NDArray[np.int64]:
        """0-based index of each row within its unit."""
        lengths = np.diff(self.starts)
        return np.arange(self.units.size) - np.repeat(self.starts[:-1], lengths)

    def to_array(self) -> FloatArray:
        """The array form: unit, time, channels."""
        return np.column_stack([self.units, self.time, self.values])


def _frame_parts(x: pd.DataFrame, owner: str) -> tuple[FloatArray, list[str]]:
    cols = [str(c) for c in x.columns]
    time_col = next((c for c in _TIME_ALIASES if c in cols), None)
    if UNIT not in cols or time_col is None:
        raise InputError(
            f"{owner}: unit sequences need a 'unit' column and a 'time' (or 'cycle') column; "
            f"got columns {cols[:8]}{' ...' if len(cols) > 8 else ''}"
        )
    channels = [c for c in cols if c not in (UNIT, time_col)]
    ordered = x[[UNIT, time_col, *channels]]
    try:
        arr = ordered.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{owner}: unit sequences are not numeric: {exc}") from exc
    return arr, channels


def as_unit_sequences(
    x: object,
    *,
    channels: list[str] | None = None,
    allow_nan: bool = False,
    owner: str = "input",
) -> UnitSequences:
    """Check ``x`` as unit-grouped sequences (see the module docstring).

    Parameters
    ----------
    channels:
        The channels expected (e.g. those seen in ``fit``): a DataFrame is reordered to them
        and missing ones are an error; an array must have exactly this many channels.
    allow_nan:
        Accept NaN in channel values (never in unit or time).

    Raises
    ------
    InputError
        Naming the unit, row, column or value at fault.
    """
    if isinstance(x, pd.DataFrame):
        arr, names = _frame_parts(x, owner)
        if channels is not None:
            missing = [c for c in channels if c not in names]
            if missing:
                raise InputError(
                    f"{owner}: missing channel columns {missing} (fitted on {channels})"
                )
            pos = [names.index(c) for c in channels]
            arr = arr[:, [0, 1, *(2 + p for p in pos)]]
            names = list(channels)
    else:
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{owner}: input is not numeric: {exc}") from exc
        if arr.ndim != 2 or arr.shape[1] < 3:
            raise InputError(
                f"{owner}: expected a 2-D array (unit, time, channels...) with at least 3 "
                f"columns, got shape {arr.shape}"
            )
        names = [f"c{i}" for i in range(arr.shape[1] - 2)]
        if channels is not None and len(channels) != len(names):
            raise InputError(f"{owner} was fitted on {len(channels)} channels, got {len(names)}")
        if channels is not None:
            names = list(channels)
    if arr.shape[0] == 0:
        raise InputError(f"{owner}: input has no rows")
    if not names:
        raise InputError(f"{owner}: input has no channel columns")
    head = arr[:, :2]
    if not np.isfinite(head).all():
        row, col = np.argwhere(~np.isfinite(head))[0]
        raise InputError(
            f"{owner}: row {row}: {(UNIT, TIME)[col]} is {head[row, col]} (must be finite)",
            column=(UNIT, TIME)[col],
        )
    vals = arr[:, 2:]
    bad = np.isinf(vals) if allow_nan else ~np.isfinite(vals)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(
            f"{owner}: {int(bad.sum())} NaN or infinite values; first in unit "
            f"{arr[row, 0]:g} at time {arr[row, 1]:g} (row {row}); fill or drop them first",
            column=names[col],
        )
    units, time = arr[:, 0], arr[:, 1]
    change = np.flatnonzero(np.diff(units) != 0) + 1
    starts = np.concatenate([[0], change, [units.size]]).astype(np.int64)
    firsts = units[starts[:-1]]
    if np.unique(firsts).size != firsts.size:
        seen: set[float] = set()
        for k, u in enumerate(firsts):
            if u in seen:
                raise InputError(
                    f"{owner}: rows of unit {u:g} are not contiguous (it starts again at row "
                    f"{starts[k]}); sort by unit, then time",
                    column=UNIT,
                )
            seen.add(float(u))
    step = np.diff(time)
    back = np.flatnonzero((step <= 0) & (np.diff(units) == 0))
    if back.size:
        r = int(back[0]) + 1
        raise InputError(
            f"{owner}: time of unit {units[r]:g} does not increase at row {r} "
            f"({time[r - 1]:g} then {time[r]:g}): non-monotone cycle counter",
            column=TIME,
        )
    return UnitSequences(units, time, np.ascontiguousarray(vals), list(names), starts)


def run_to_failure_rul(seq: UnitSequences) -> FloatArray:
    """RUL per row when every unit runs to failure at its last row: last time - time."""
    last = np.repeat(seq.time[seq.last_rows], np.diff(seq.starts))
    return np.asarray(last - seq.time, dtype=np.float64)


@dataclass(frozen=True)
class RemainingLife:
    """A remaining-useful-life estimate for one asset at one time, always with an interval.

    Attributes
    ----------
    asset: asset (or unit) id.
    component: component id within the asset ("" for the whole asset).
    at_time: time of the estimate, in ``time_unit`` since the start of the asset's life
        (since the last recorded replacement where one is known).
    point: point estimate of the remaining life, in ``time_unit``.
    lower, upper: interval bounds, ``lower <= point <= upper``, in ``time_unit``.
    level: nominal coverage of the interval, e.g. 0.9.
    method: how the interval was made, e.g. "cross-conformal, normalised by predicted RUL".
    model: the model's class and main settings.
    time_unit: "cycles", "s" or "h".
    quantiles: optional {level: value} of the predictive distribution.
    notes: fallbacks taken for this estimate (e.g. a short history padded), in words.
    """

    asset: str
    component: str
    at_time: float
    point: float
    lower: float
    upper: float
    level: float
    method: str
    model: str
    time_unit: str = "cycles"
    quantiles: dict[float, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.lower <= self.point <= self.upper:
            raise ValueError(
                f"RemainingLife for {self.asset}: need lower <= point <= upper, got "
                f"{self.lower}, {self.point}, {self.upper}"
            )
        if not 0.0 < self.level < 1.0:
            raise ValueError(f"RemainingLife level must be in (0, 1), got {self.level}")

    @property
    def failure_time(self) -> float:
        """Predicted time of failure, ``at_time + point``, in ``time_unit``."""
        return self.at_time + self.point

    def to_event(self, source: str = "") -> Event:
        """The estimate as a stored prediction event (kind ``prediction``), evidence = this
        record; ``start`` is when the estimate was made (wall clock, UTC)."""
        from datetime import UTC, datetime

        from shopfloor.core.events import Event, EventKind, Severity

        return Event(
            asset_id=self.asset,
            kind=EventKind.PREDICTION,
            start=datetime.now(UTC),
            severity=Severity.INFO,
            summary=(
                f"remaining life {self.point:.0f} {self.time_unit} "
                f"({self.level:.0%} interval {self.lower:.0f}-{self.upper:.0f}) at "
                f"{self.at_time:g} {self.time_unit}"
            ),
            evidence=self.to_dict(),
            source=source or self.model,
        )

    @classmethod
    def from_event(cls, event: Event) -> RemainingLife:
        """The record a prediction event holds."""
        e = dict(event.evidence)
        return cls(
            asset=str(e["asset"]),
            component=str(e["component"]),
            at_time=float(e["at_time"]),
            point=float(e["point"]),
            lower=float(e["lower"]),
            upper=float(e["upper"]),
            level=float(e["level"]),
            method=str(e["method"]),
            model=str(e["model"]),
            time_unit=str(e["time_unit"]),
            quantiles={float(k): float(v) for k, v in dict(e["quantiles"]).items()},
            notes=tuple(str(n) for n in e["notes"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "asset": self.asset,
            "component": self.component,
            "at_time": self.at_time,
            "time_unit": self.time_unit,
            "point": self.point,
            "lower": self.lower,
            "upper": self.upper,
            "level": self.level,
            "failure_time": self.failure_time,
            "method": self.method,
            "model": self.model,
            "quantiles": {str(k): v for k, v in self.quantiles.items()},
            "notes": list(self.notes),
        }


class RULPredictor(Predictor):
    """Base of remaining-useful-life models over unit-grouped sequences.

    Public methods live here; subclasses implement

    * ``_fit_sequences(seq, rul)``: learn from validated sequences and RUL per row;
    * ``_predict_quantiles(seq, levels) -> (n_rows, n_levels)``: quantiles of the RUL per row,
      computed from each unit's rows up to that row only;
    * ``_predict_point(seq) -> (n_rows,)``: the point estimate (e.g. the regression output).

    ``fit(x, y=None)``: ``y`` is the RUL per row; without it every unit is taken to run to
    failure at its last row. Fitted models record ``channels_`` and ``calibration_folds_``:
    a list of (training units, calibration units) pairs, so the kit can check that no unit is
    ever split between the two.
    """

    _tags: ClassVar[dict[str, Any]] = {
        "iso_block": "prognostics",
        "input_kind": "unit_sequences",
        "multivariate": True,
    }
    #: interval method, in words, for :class:`RemainingLife`
    interval_method: ClassVar[str] = ""

    def _validate_sequences(self, x: object, *, reset: bool) -> UnitSequences:
        channels = None if reset else list(self.channels_)
        return as_unit_sequences(
            x,
            channels=channels,
            allow_nan=get_tags(self).handles_missing,
            owner=type(self).__name__,
        )

    def _validate_input(self, x: object, *, reset: bool) -> FloatArray:
        return self._validate_sequences(x, reset=reset).to_array()

    def fit(self, x: object, y: object = None) -> Self:
        """Learn from unit sequences ``x`` and RUL per row ``y`` (None: run to failure)."""
        self._validate_params()
        seq = self._validate_sequences(x, reset=True)
        labels = self._validate_labels(y, seq.units.size)
        rul = run_to_failure_rul(seq) if labels is None else labels.astype(np.float64)
        if (rul < 0).any():
            raise InputError(f"{type(self).__name__}: RUL must be >= 0, got {rul.min():g}")
        for key in ("n_features_in_", "channels_", "calibration_folds_"):
            self.__dict__.pop(key, None)
        self.n_features_in_: int = seq.values.shape[1]
        self.channels_: list[str] = list(seq.channels)
        try:
            self._fit_sequences(seq, rul)
        except BaseException:
            self.__dict__.pop("n_features_in_", None)
            self.__dict__.pop("channels_", None)
            raise
        return self

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:  # pragma: no cover
        raise NotImplementedError("RULPredictor.fit calls _fit_sequences")

    @abstractmethod
    def _fit_sequences(self, seq: UnitSequences, rul: FloatArray) -> None:
        """Learn from validated sequences and RUL per row (same unit as ``time``)."""

    @abstractmethod
    def _predict_point(self, seq: UnitSequences) -> FloatArray:
        """Point RUL per row."""

    @abstractmethod
    def _predict_quantiles(self, seq: UnitSequences, levels: FloatArray) -> FloatArray:
        """RUL quantiles per row, shape (n_rows, n_levels), non-decreasing along levels."""

    def _predict(self, x: FloatArray) -> npt.NDArray[Any]:
        return self._point(as_unit_sequences(x, channels=list(self.channels_)))

    def predict(self, x: object) -> FloatArray:
        """Point RUL for each row of ``x`` from its unit's history up to it, shape (n_rows,)."""
        check_is_fitted(self, "predict")
        return self._point(self._validate_sequences(x, reset=False))

    def _point(self, seq: UnitSequences) -> FloatArray:
        # a remaining life is never negative, whatever the regression says
        return np.asarray(np.maximum(self._predict_point(seq), 0.0), dtype=np.float64)

    def predict_quantiles(self, x: object, levels: npt.ArrayLike) -> FloatArray:
        """Quantiles of the RUL for each row, shape (n_rows, len(levels)).

        ``levels`` are probabilities in (0, 1). Columns are non-decreasing.
        """
        check_is_fitted(self, "predict_quantiles")
        q = np.atleast_1d(np.asarray(levels, dtype=np.float64))
        if q.ndim != 1 or not ((q > 0) & (q < 1)).all():
            raise InputError(f"quantile levels must be in (0, 1), got {q.tolist()}")
        out = self._predict_quantiles(self._validate_sequences(x, reset=False), q)
        return np.asarray(np.maximum(out, 0.0), dtype=np.float64)

    def predict_interval(self, x: object, alpha: float = 0.1) -> FloatArray:
        """Central ``1 - alpha`` interval of the RUL per row, shape (n_rows, 2): lower, upper.

        The interval always contains the point prediction (it is widened to it if needed).
        """
        check_is_fitted(self, "predict_interval")
        if not 0.0 < float(alpha) < 1.0:
            raise InputError(f"alpha must be in (0, 1), got {alpha!r}")
        seq = self._validate_sequences(x, reset=False)
        bounds = np.maximum(self._predict_quantiles(seq, np.array([alpha / 2, 1 - alpha / 2])), 0)
        point = self._point(seq)
        lower = np.minimum(bounds[:, 0], point)
        upper = np.maximum(bounds[:, 1], point)
        return np.column_stack([lower, upper])

    def _interval_method(self) -> str:
        """How the intervals are made, in words (may depend on parameters)."""
        return self.interval_method

    def _unit_notes(self, seq: UnitSequences) -> dict[float, tuple[str, ...]]:
        """Fallbacks taken per unit, in words (e.g. a history shorter than the window)."""
        return {}

    def remaining_life(
        self,
        x: object,
        alpha: float = 0.1,
        *,
        component: str = "",
        time_unit: str = "cycles",
        asset_names: dict[float, str] | None = None,
    ) -> list[RemainingLife]:
        """One :class:`RemainingLife` per unit, at its last row."""
        check_is_fitted(self, "remaining_life")
        seq = self._validate_sequences(x, reset=False)
        interval = self.predict_interval(x, alpha)
        point = self._point(seq)
        levels = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
        quant = np.maximum(self._predict_quantiles(seq, levels), 0.0)
        notes = self._unit_notes(seq)
        out = []
        for unit, row in zip(seq.unit_ids, seq.last_rows, strict=True):
            name = (asset_names or {}).get(float(unit), f"{unit:g}")
            out.append(
                RemainingLife(
                    asset=name,
                    component=component,
                    at_time=float(seq.time[row]),
                    point=float(point[row]),
                    lower=float(interval[row, 0]),
                    upper=float(interval[row, 1]),
                    level=1.0 - float(alpha),
                    method=self._interval_method(),
                    model=repr(self),
                    time_unit=time_unit,
                    quantiles={float(q): float(v) for q, v in zip(levels, quant[row], strict=True)},
                    notes=notes.get(float(unit), ()),
                )
            )
        return out
