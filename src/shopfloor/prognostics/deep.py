"""A 1-D convolutional network over windows of per-regime-normalised sensors (PyTorch, CPU).

After Li, Ding & Sun (2018, "Remaining useful life estimation in prognostics using deep
convolution neural networks", RESS 172): convolutions along time over a window of the selected
sensors, here with global average pooling and the number of time steps seen as an extra input.
Intervals come from the same unit-grouped conformal calibration as the boosted model.
PyTorch is an optional extra (``pip install shopfloor[torch]``); it is imported only here.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from shopfloor.core.base import FloatArray, Interval
from shopfloor.core.prognostics import UnitSequences
from shopfloor.prognostics.conformal import ConformalRULPredictor
from shopfloor.prognostics.preprocessing import (
    fit_fleet_preprocessing,
    normalised_sensors,
    short_history_notes,
)

__all__ = ["ConvRUL", "sequence_windows"]

_SEQ: list[Any] = [list, tuple]


def sequence_windows(seq: UnitSequences, values: FloatArray, window: int) -> np.ndarray:
    """The last ``window`` rows of each row's unit, shape (n_rows, window, n_channels), float32.

    Where a unit has fewer rows so far, the window is padded at its start with the unit's
    first row (the earliest state known), the usual C-MAPSS fallback.
    """
    start = np.repeat(seq.starts[:-1], np.diff(seq.starts))
    rows = np.arange(seq.units.size)[:, None] - (window - 1) + np.arange(window)[None, :]
    rows = np.maximum(rows, start[:, None])
    out: np.ndarray = values[rows].astype(np.float32)
    return out


class ConvRUL(ConformalRULPredictor):
    """1-D CNN remaining-life regressor with unit-grouped conformal intervals.

    Parameters
    ----------
    window: time steps per input window (cycles).
    rul_cap: cap of the piecewise-linear target (time steps); None: linear.
    settings, min_trend: as for :class:`~shopfloor.prognostics.boosted.GradientBoostedRUL`.
    channels: convolution filters per layer (three layers, kernel 5, 5, 3)
    dropout: dropout before the dense layers (0.5 as in Li et al.).
    epochs: passes over the training windows.
    batch_size: windows per gradient step.
    learning_rate: Adam step size.
    row_stride: train on every ``row_stride``-th window of each unit (neighbouring windows
        overlap in all but one step; 1 uses all).
    n_folds, calibration_fraction: the conformal scheme (see
        :mod:`shopfloor.prognostics.conformal`).
    random_state: seed of folds, weights and batch order.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "window": [Interval(int, 1, None)],
        "rul_cap": [Interval(float, 0, None, closed="neither"), None],
        "settings": _SEQ,
        "min_trend": [Interval(float, 0, 1)],
        "channels": [Interval(int, 1, None)],
        "dropout": [Interval(float, 0, 1, closed="left")],
        "epochs": [Interval(int, 1, None)],
        "batch_size": [Interval(int, 1, None)],
        "learning_rate": [Interval(float, 0, 1, closed="right")],
        "row_stride": [Interval(int, 1, None)],
        "n_folds": [Interval(int, 1, None)],
        "calibration_fraction": [Interval(float, 0, 1, closed="neither")],
        "random_state": [Interval(int, 0, None), None],
    }
    _tags: ClassVar[dict[str, Any]] = {"optional_dependency": "torch"}

    def __init__(
        self,
        window: int = 30,
        rul_cap: float | None = 125.0,
        settings: tuple[str, ...] = ("setting_1", "setting_2", "setting_3"),
        min_trend: float = 0.3,
        channels: int = 32,
        dropout: float = 0.5,
        epochs: int = 20,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        row_stride: int = 2,
        n_folds: int = 1,
        calibration_fraction: float = 0.2,
        random_state: int | None = None,
    ) -> None:
        self.window = window
        self.rul_cap = rul_cap
        self.settings = settings
        self.min_trend = min_trend
        self.channels = channels
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.row_stride = row_stride
        self.n_folds = n_folds
        self.calibration_fraction = calibration_fraction
        self.random_state = random_state

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{"window": 5, "channels": 4, "epochs": 2, "n_folds": 1}]

    def _prepare(self, seq: UnitSequences, rul: FloatArray) -> None:
        fit_fleet_preprocessing(self, seq)

    def _design(self, seq: UnitSequences) -> tuple[np.ndarray, np.ndarray]:
        windows = sequence_windows(seq, normalised_sensors(self, seq), self.window)
        # steps seen, scaled to a few hundred cycles so the input is O(1)
        seen = ((seq.position() + 1) / 100.0).astype(np.float32)
        return windows, seen

    def _scale(self) -> float:
        return float(self.rul_cap) if self.rul_cap is not None else 100.0

    def _fit_model(self, design: Any, rows: np.ndarray, target: FloatArray, seed: int) -> Any:
        import torch
        from torch import nn

        torch.set_num_threads(1)  # the machine is shared; timings are per core
        torch.manual_seed(seed)
        windows, seen = design
        keep = np.arange(rows.size)[:: self.row_stride]
        x = torch.from_numpy(windows[rows[keep]]).transpose(1, 2).contiguous()
        s = torch.from_numpy(seen[rows[keep]])[:, None]
        y = torch.from_numpy((target[keep] / self._scale()).astype(np.float32))[:, None]
        net = _build(x.shape[1], self.channels, self.dropout)
        opt = torch.optim.Adam(net.parameters(), lr=self.learning_rate)
        loss_fn = nn.MSELoss()
        gen = torch.Generator().manual_seed(seed)
        net.train()
        for _ in range(self.epochs):
            order = torch.randperm(x.shape[0], generator=gen)
            for b in range(0, x.shape[0], self.batch_size):
                idx = order[b : b + self.batch_size]
                opt.zero_grad()
                loss = loss_fn(net(x[idx], s[idx]), y[idx])
                loss.backward()
                opt.step()
        # numpy weights, not the module: the fitted model pickles without torch classes
        return {
            "n_inputs": int(x.shape[1]),
            "state": {k: v.detach().numpy().copy() for k, v in net.state_dict().items()},
        }

    def _predict_model(self, model: Any, design: Any, rows: np.ndarray) -> FloatArray:
        import torch

        torch.set_num_threads(1)
        windows, seen = design
        net = _build(model["n_inputs"], self.channels, self.dropout)
        net.load_state_dict({k: torch.from_numpy(v) for k, v in model["state"].items()})
        net.eval()
        out = []
        with torch.no_grad():
            for b in range(0, rows.size, 4096):
                r = rows[b : b + 4096]
                x = torch.from_numpy(windows[r]).transpose(1, 2).contiguous()
                s = torch.from_numpy(seen[r])[:, None]
                out.append(net(x, s).numpy()[:, 0])
        pred = np.concatenate(out) if out else np.zeros(0)
        return np.asarray(pred * self._scale(), dtype=np.float64)

    def _unit_notes(self, seq: UnitSequences) -> dict[float, tuple[str, ...]]:
        notes = short_history_notes(seq, self.window)
        for unit, extra in self._cap_notes(seq).items():
            notes[unit] = notes.get(unit, ()) + extra
        return notes


def _build(n_inputs: int, width: int, dropout: float) -> Any:
    from torch import nn

    # torch is optional: without it nn.Module is Any, which strict mypy refuses to subclass
    class _Net(nn.Module):  # type: ignore[misc,unused-ignore]
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Sequential(
                nn.Conv1d(n_inputs, width, 5, padding=2),
                nn.ReLU(),
                nn.Conv1d(width, 2 * width, 5, padding=2),
                nn.ReLU(),
                nn.Conv1d(2 * width, 2 * width, 3, padding=1),
                nn.ReLU(),
            )
            self.head = nn.Sequential(
                nn.Dropout(dropout), nn.Linear(4 * width + 1, 64), nn.ReLU(), nn.Linear(64, 1)
            )

        def forward(self, x: Any, seen: Any) -> Any:
            import torch

            h = self.conv(x)
            # mean over the window and the last step: trend level and current state
            feats = torch.cat([h.mean(dim=2), h[:, :, -1], seen], dim=1)
            return self.head(feats)

    return _Net()
