"""Convolutional autoencoder of short multichannel windows (PyTorch CPU, optional extra).

The network sees the last ``window`` steps of every (standardised) channel, squeezes them
through two strided 1-D convolutions and rebuilds them; trained on normal windows only, it
rebuilds normal dynamics well and anything else badly. The score of step ``t`` is the mean
squared reconstruction error of the window *ending* at ``t`` (causal), divided by the mean
error on the training windows, so about 1 in normal operation. The first ``window − 1`` rows
of a table have no full window and score NaN (not scored).

Install with ``pip install shopfloor[torch]`` (CPU wheel: ``torch==2.13.0``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from shopfloor.core.base import AnomalyScorer, FloatArray, Interval
from shopfloor.core.errors import InputError

__all__ = ["ConvAutoencoder"]


def _windows(z: FloatArray, window: int) -> FloatArray:
    """(n − window + 1, channels, window) views of consecutive rows."""
    view = np.lib.stride_tricks.sliding_window_view(z, window, axis=0)
    out: FloatArray = np.ascontiguousarray(view, dtype=np.float32)
    return out


class ConvAutoencoder(AnomalyScorer):
    """1-D convolutional autoencoder over the last ``window`` steps; higher = more abnormal.

    Parameters
    ----------
    window : int >= 4, default 32
        Steps per window (32 s at 1 Hz).
    hidden : int >= 2, default 16
        Channels of the first convolution (the second has half).
    epochs : int >= 1, default 30
    learning_rate : float > 0, default 1e-3
    batch_size : int >= 1, default 32
    random_state : int >= 0, default 0
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "window": [Interval(int, 4, None, closed="left")],
        "hidden": [Interval(int, 2, None, closed="left")],
        "epochs": [Interval(int, 1, None, closed="left")],
        "learning_rate": [Interval(float, 0.0, None, closed="neither")],
        "batch_size": [Interval(int, 1, None, closed="left")],
        "random_state": [Interval(int, 0, None, closed="left")],
    }
    _tags: ClassVar[dict[str, Any]] = {
        "multivariate": True,
        "handles_missing": True,
        "optional_dependency": "torch",
    }

    def __init__(
        self,
        window: int = 32,
        hidden: int = 16,
        epochs: int = 30,
        learning_rate: float = 1e-3,
        batch_size: int = 32,
        random_state: int = 0,
    ) -> None:
        self.window = window
        self.hidden = hidden
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.random_state = random_state

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{"window": 8, "epochs": 2, "hidden": 4}]

    def _network(self, channels: int) -> Any:
        from torch import nn

        h, h2 = self.hidden, max(self.hidden // 2, 1)
        return nn.Sequential(
            nn.Conv1d(channels, h, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv1d(h, h2, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.ConvTranspose1d(h2, h, 5, stride=2, padding=2, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose1d(h, channels, 5, stride=2, padding=2, output_padding=1),
        )

    def _errors(self, w: FloatArray) -> FloatArray:
        import torch

        with torch.no_grad():
            x = torch.from_numpy(w)
            rebuilt = self.net_(x)[..., : w.shape[2]]
            err = ((rebuilt - x) ** 2).mean(dim=(1, 2)).numpy()
        return np.asarray(err, dtype=np.float64)

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        import torch

        x = x[~np.isnan(x).any(axis=1)]
        if len(x) < self.window + 1:
            raise InputError(
                f"ConvAutoencoder: {len(x)} complete rows, need more than window={self.window}"
            )
        torch.set_num_threads(1)
        gen = torch.Generator().manual_seed(self.random_state)
        torch.manual_seed(self.random_state)
        self.mean_: FloatArray = x.mean(axis=0)
        std = x.std(axis=0)
        self.scale_: FloatArray = np.where(std > 0, std, 1.0)
        w = _windows((x - self.mean_) / self.scale_, self.window)
        self.net_ = self._network(x.shape[1])
        opt = torch.optim.Adam(self.net_.parameters(), lr=self.learning_rate)
        data = torch.from_numpy(w)
        self.net_.train()
        for _ in range(self.epochs):
            order = torch.randperm(len(data), generator=gen)
            for start in range(0, len(data), self.batch_size):
                batch = data[order[start : start + self.batch_size]]
                opt.zero_grad()
                loss = ((self.net_(batch)[..., : batch.shape[2]] - batch) ** 2).mean()
                loss.backward()
                opt.step()
        self.net_.eval()
        self.train_error_: float = max(float(self._errors(w).mean()), 1e-12)

    def _score(self, x: FloatArray) -> FloatArray:
        out = np.full(len(x), np.nan)
        if len(x) < self.window:
            return out
        z = (x - self.mean_) / self.scale_
        z = np.where(np.isnan(z), 0.0, z)  # masked values sit at their normal mean
        out[self.window - 1 :] = self._errors(_windows(z, self.window)) / self.train_error_
        return out
