"""A neural sequence model of the cabin, learned from the same logs as the grey-box simulator.

:class:`NeuralCabinSimulator` is a GRU that simulates a drive open loop: from the drive's first
logged state (cabin and pack temperature) and the per-interval inputs (setpoint, ambient,
speed) it predicts, interval by interval, the change of both temperatures and the mean HVAC
power, feeding its own predicted temperatures back in. It never sees the logged temperatures
after the start, so training (back-propagation through the whole simulated window) optimises
exactly the open-loop error it is judged on. It knows nothing of RC physics: it is the
black-box peer of :class:`~shopfloor.control.simulator.CabinSimulator`, reported beside it.

PyTorch is an optional extra (``pip install shopfloor[torch]``), imported only in here; training
runs on one CPU thread, seeded.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from shopfloor.control.simulator import (
    LOG_COLUMNS,
    CabinSimulator,
    ExtrapolationWarning,
    check_log,
    replay_table,
    run_starts,
    to_steps,
)
from shopfloor.core.base import Interval, Predictor
from shopfloor.core.errors import InputError

FloatArray = npt.NDArray[np.float64]

# Fixed physical scales (not fitted): temperatures around 20 °C in units of 20 K, speed in
# units of 30 m/s, so every input is O(1) whatever the fleet.
_T0, _TS, _VS = 20.0, 20.0, 30.0


def _drives(x: FloatArray, step_s: int) -> list[dict[str, FloatArray]]:
    """Per-drive interval tables (see :func:`~shopfloor.control.simulator.to_steps`)."""
    bounds = [*run_starts(x[:, 0]).tolist(), len(x)]
    out = []
    for a, b in itertools.pairwise(bounds):
        if (b - a - 1) // step_s >= 2:
            out.append(to_steps(x[a:b], step_s))
    return out


def _inputs(d: dict[str, FloatArray]) -> FloatArray:
    return np.column_stack(
        [(d["setpoint"] - _T0) / _TS, (d["ambient"] - _T0) / _TS, d["speed"] / _VS]
    )


def _net(hidden: int) -> Any:
    import torch
    from torch import nn

    # torch is optional: without it nn.Module is Any, which strict mypy refuses to subclass
    class CabinGRU(nn.Module):  # type: ignore[misc,unused-ignore]
        """GRU cell stepping (cabin, pack) forward under (setpoint, ambient, speed)."""

        def __init__(self) -> None:
            super().__init__()
            self.init = nn.Sequential(nn.Linear(5, hidden), nn.Tanh())
            self.cell = nn.GRUCell(8, hidden)
            self.head = nn.Linear(hidden, 3)

        def forward(self, x0: Any, u: Any) -> tuple[Any, Any]:
            h = self.init(torch.cat([x0, u[:, 0]], dim=1))
            x = x0
            temps, powers = [], []
            for k in range(u.shape[1]):
                uk = u[:, k]
                feats = torch.cat(
                    [uk, x, uk[:, :1] - x[:, :1], uk[:, 1:2] - x[:, :1], uk[:, 1:2] - x[:, 1:]],
                    dim=1,
                )
                h = self.cell(feats, h)
                out = self.head(h)
                # A cabin moves at most a few K per interval (10 K here bounds the step).
                x = x + 0.5 * torch.tanh(out[:, :2])
                temps.append(x)
                powers.append(torch.sigmoid(out[:, 2]))
            return torch.stack(temps, dim=1), torch.stack(powers, dim=1)

    return CabinGRU()


class NeuralCabinSimulator(Predictor):
    """GRU open-loop cabin simulator (shopfloor/scikit-learn contract).

    Same inputs and outputs as :class:`~shopfloor.control.simulator.CabinSimulator`: ``fit``
    on a 1 Hz log table (:data:`~shopfloor.control.simulator.LOG_COLUMNS`), ``predict`` returns
    the open-loop cabin temperature per row (°C), :meth:`simulate_log` the per-interval table
    that :func:`~shopfloor.control.simulator.accuracy` scores.

    Parameters
    ----------
    step_s:
        Control interval, s.
    hidden:
        GRU state size.
    window:
        Intervals per training window (random crops of the logged drives, each started from
        its logged state).
    steps:
        Gradient steps.
    batch_size:
        Windows per step.
    learning_rate:
        Adam step size.
    random_state:
        Seed of weights and window draws.

    Attributes
    ----------
    net_state_:
        Trained weights (numpy arrays, so the model pickles without torch objects).
    power_scale_:
        Largest logged interval power, W (the network predicts a fraction of it).
    ambient_range_:
        (min, max) mean ambient of the training intervals, °C.
    train_loss_:
        Mean loss over the last 50 steps.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "step_s": [Interval(int, 1, 3600, closed="both")],
        "hidden": [Interval(int, 1, None, closed="left")],
        "window": [Interval(int, 2, None, closed="left")],
        "steps": [Interval(int, 1, None, closed="left")],
        "batch_size": [Interval(int, 1, None, closed="left")],
        "learning_rate": [Interval(float, 0.0, 1.0, closed="right")],
        "random_state": [Interval(int, 0, None, closed="left")],
    }
    _tags: ClassVar[dict[str, Any]] = {
        "iso_block": "control",
        "multivariate": True,
        "optional_dependency": "torch",
    }

    def __init__(
        self,
        step_s: int = 30,
        hidden: int = 32,
        window: int = 40,
        steps: int = 1500,
        batch_size: int = 32,
        learning_rate: float = 3e-3,
        random_state: int = 0,
    ) -> None:
        self.step_s = step_s
        self.hidden = hidden
        self.window = window
        self.steps = steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.random_state = random_state

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{"step_s": 20, "hidden": 4, "steps": 5, "window": 5, "batch_size": 4}]

    @classmethod
    def _contract_data(cls, seed: int) -> tuple[FloatArray, None]:
        return CabinSimulator._contract_data(seed)

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        import torch

        if x.shape[1] != len(LOG_COLUMNS):
            raise InputError(f"NeuralCabinSimulator needs the log columns {list(LOG_COLUMNS)}")
        check_log(x)
        drives = _drives(x, self.step_s)
        if not drives:
            raise InputError(f"log has no drive longer than two {self.step_s}-s intervals")
        torch.set_num_threads(1)  # the machine is shared
        torch.manual_seed(self.random_state)
        rng = np.random.default_rng(self.random_state)
        self.power_scale_ = float(max(d["power"].max() for d in drives)) or 1.0
        self.ambient_range_ = (
            float(min(d["ambient"].min() for d in drives)),
            float(max(d["ambient"].max() for d in drives)),
        )
        seqs = []
        for d in drives:
            temps = (np.column_stack([d["cabin_now"], d["battery_now"]]) - _T0) / _TS
            nxt = (np.column_stack([d["cabin_next"], d["battery_next"]]) - _T0) / _TS
            seqs.append((temps, _inputs(d), nxt, d["power"] / self.power_scale_))
        net = _net(self.hidden)
        opt = torch.optim.Adam(net.parameters(), lr=self.learning_rate)
        losses = []
        for _ in range(self.steps):
            picks = rng.integers(len(seqs), size=self.batch_size)
            # One crop length per batch: the shortest chosen drive bounds it.
            length = min(self.window, *(len(seqs[i][1]) for i in picks))
            x0s, us, ts, ps = [], [], [], []
            for i in picks:
                temps, u, nxt, p = seqs[i]
                s = int(rng.integers(len(u) - length + 1))
                x0s.append(temps[s])
                us.append(u[s : s + length])
                ts.append(nxt[s : s + length])
                ps.append(p[s : s + length])
            temps_hat, p_hat = net(
                torch.tensor(np.array(x0s), dtype=torch.float32),
                torch.tensor(np.array(us), dtype=torch.float32),
            )
            loss: Any = torch.mean(
                (temps_hat - torch.tensor(np.array(ts), dtype=torch.float32)) ** 2
            ) + torch.mean((p_hat - torch.tensor(np.array(ps), dtype=torch.float32)) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        self.train_loss_ = float(np.mean(losses[-50:]))
        self.net_state_ = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}

    def _module(self) -> Any:
        import torch

        torch.set_num_threads(1)
        net = _net(self.hidden)
        net.load_state_dict({k: torch.from_numpy(v) for k, v in self.net_state_.items()})
        net.eval()
        return net

    def extrapolating(self, ambient_c: FloatArray) -> bool:
        """Whether any ambient (°C) lies outside the trained range (with 0.5 K tolerance)."""
        lo, hi = self.ambient_range_
        amb = np.asarray(ambient_c, dtype=float)
        return bool(np.any(amb < lo - 0.5) or np.any(amb > hi + 0.5))

    def _replay(self, part: FloatArray) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
        """Open-loop replay of one drive (the shape :func:`replay_table` expects)."""
        import torch

        col = {name: k for k, name in enumerate(LOG_COLUMNS)}
        n = (len(part) - 1) // self.step_s
        cab0 = part[0, col["cabin_temp"]]
        if n < 2:
            return np.full(len(part), cab0), np.zeros(0), {}
        s = to_steps(part, self.step_s)
        if self.extrapolating(s["ambient"]):
            lo, hi = self.ambient_range_
            warnings.warn(
                f"ambient {s['ambient'].min():.1f}..{s['ambient'].max():.1f} °C is outside the "
                f"logged range {lo:.1f}..{hi:.1f} °C: the simulator is extrapolating",
                ExtrapolationWarning,
                stacklevel=3,
            )
        x0 = (np.array([[cab0, part[0, col["battery_temp"]]]]) - _T0) / _TS
        with torch.no_grad():
            temps, power = self._module()(
                torch.tensor(x0, dtype=torch.float32),
                torch.tensor(_inputs(s)[None], dtype=torch.float32),
            )
        cabin = temps[0, :, 0].numpy().astype(float) * _TS + _T0
        knots = np.arange(n + 1) * self.step_s
        cab_row = np.interp(np.arange(len(part)), knots, np.concatenate([[cab0], cabin]))
        return cab_row, power[0].numpy().astype(float) * self.power_scale_, s

    def _predict(self, x: FloatArray) -> FloatArray:
        check_log(x)
        out = np.empty(len(x))
        bounds = [*run_starts(x[:, 0]).tolist(), len(x)]
        for a, b in itertools.pairwise(bounds):
            out[a:b] = self._replay(x[a:b])[0]
        return out

    def simulate_log(self, log: pd.DataFrame) -> pd.DataFrame:
        """Open-loop replay of every drive in a 1 Hz log, one row per interval (the table of
        :meth:`shopfloor.control.simulator.CabinSimulator.simulate_log`)."""
        if not hasattr(self, "net_state_"):
            from shopfloor.core.errors import NotFittedError

            raise NotFittedError("This NeuralCabinSimulator is not fitted yet: call fit first.")
        return replay_table(self, log)
