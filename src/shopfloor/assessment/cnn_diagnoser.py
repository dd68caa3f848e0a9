"""A compact 1-D CNN that reads envelope order spectra and names the damaged bearing part.

The input rows are the output of
:func:`~shopfloor.manipulation.order_spectrum.envelope_order_spectrum`: squared envelope spectra
resampled onto a fixed axis of shaft orders and normalised per row, so a defect line sits in
the same bins whatever the speed, sample rate, sensor gain or unit. The network only has to
learn *which pattern of lines* means which fault (BPFO harmonics, BPFI with 1× sidebands, 2×BSF
with cage sidebands), not the physics of demodulation; that keeps it small (a few thousand
weights), fast to train on one CPU thread, and less tied to one test rig than a network on raw
samples.

PyTorch is an optional dependency (``pip install shopfloor[torch]``), imported inside the methods
that need it. A fitted model keeps its weights as numpy arrays, so loading a saved model (and
reading its record) does not need torch; predicting does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from shopfloor.assessment.diagnoser import Diagnoser
from shopfloor.assessment.diagnosis import FaultClass
from shopfloor.core.assets import BearingGeometry
from shopfloor.core.base import FloatArray, Interval
from shopfloor.core.errors import InputError
from shopfloor.manipulation.bearing_frequencies import defect_orders
from shopfloor.manipulation.order_spectrum import envelope_order_spectrum

__all__ = ["EnvelopeCNNDiagnoser"]

#: Order bins are pooled to this many cells before the classifier layer: at the default axis
#: (0–12 orders) a cell is 0.5 orders wide, finer than the gaps between BPFO, 2×BSF and BPFI.
_POOLED_CELLS = 24
#: Fewest order bins the two pooling stages and the cells above can work with.
_MIN_BINS = 16
#: Rows per forward pass at prediction time (bounds memory on long batches).
_PREDICT_CHUNK = 2048


@contextmanager
def torch_session(seed: int) -> Iterator[Any]:
    """torch on one thread, deterministic kernels and a private RNG seeded with ``seed``.

    The caller's thread count, determinism flag and global RNG state are restored afterwards:
    fitting a model must not change how the rest of the process runs.
    """
    import torch

    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield torch
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _build_network(n_bins: int, channels: int, n_classes: int) -> Any:
    """The network (a ``torch.nn.Sequential``), input (batch, 1, n_bins), output logits.

    Three convolutions (kernels 7, 5, 3: a line and its neighbours, then harmonic spacing)
    with batch norm, then adaptive max pooling to a fixed number of order cells. The cells keep
    *where* the lines are, which is what tells BPFO from BPFI; a global pooling would lose it.
    """
    from torch import nn

    wide = 2 * channels
    cells = min(_POOLED_CELLS, n_bins // 4)
    return nn.Sequential(
        nn.Conv1d(1, channels, kernel_size=7, padding=3),
        nn.BatchNorm1d(channels),
        nn.ReLU(),
        nn.MaxPool1d(2),
        nn.Conv1d(channels, wide, kernel_size=5, padding=2),
        nn.BatchNorm1d(wide),
        nn.ReLU(),
        nn.MaxPool1d(2),
        nn.Conv1d(wide, wide, kernel_size=3, padding=1),
        nn.BatchNorm1d(wide),
        nn.ReLU(),
        nn.AdaptiveMaxPool1d(cells),
        nn.Flatten(),
        nn.Linear(wide * cells, n_classes),
    )


class EnvelopeCNNDiagnoser(Diagnoser):
    """1-D CNN over envelope order spectra, with an explicit ``unknown`` outcome.

    Input rows are envelope order spectra (one column per order bin, see
    :func:`~shopfloor.manipulation.order_spectrum.envelope_order_spectrum`); labels are
    fault classes such as ``"outer_race"`` (compared as strings).

    Parameters
    ----------
    channels:
        Filters of the first convolution (the next two have twice as many); the width of the
        network.
    epochs:
        Passes over the training rows.
    batch_size:
        Rows per gradient step.
    learning_rate:
        AdamW step size.
    weight_decay:
        AdamW decoupled weight decay (regularisation; few rows per class are common).
    random_state:
        Seed for weight initialisation and batch order. Training runs on one thread with
        deterministic kernels, so a seed gives the same model on the same machine and torch
        version.
    min_confidence:
        Below this top-class probability ``predict`` answers ``"unknown"`` (0 disables).

    Attributes
    ----------
    classes_: the class labels (str), in the column order of ``predict_proba``.
    state_: the network's weights and batch-norm statistics, as numpy arrays.
    architecture_: ``n_bins``, ``channels`` and ``n_classes`` needed to rebuild the network.
    loss_curve_: mean training cross-entropy per epoch (nats).
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "channels": [Interval(int, 1, None, closed="left")],
        "epochs": [Interval(int, 1, None, closed="left")],
        "batch_size": [Interval(int, 1, None, closed="left")],
        "learning_rate": [Interval(float, 0.0, None, closed="neither")],
        "weight_decay": [Interval(float, 0.0, None, closed="left")],
        "random_state": [Interval(int, 0, None, closed="left")],
        "min_confidence": [Interval(float, 0.0, 1.0, closed="both")],
    }
    _tags: ClassVar[dict[str, Any]] = {
        "iso_block": "assessment",
        "input_kind": "table",
        "multivariate": True,
        "needs_labels": True,
        "optional_dependency": "torch",
    }

    def __init__(
        self,
        channels: int = 16,
        epochs: int = 40,
        batch_size: int = 32,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-4,
        random_state: int = 0,
        min_confidence: float = 0.0,
    ) -> None:
        self.channels = channels
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.random_state = random_state
        self.min_confidence = min_confidence

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        # 12 small steps: enough that predictions differ between rows, so the determinism and
        # persistence checks compare something; ~0.05 s per fit.
        return [{"channels": 8, "epochs": 2, "batch_size": 4}]

    @classmethod
    def _contract_data(cls, seed: int) -> tuple[FloatArray, npt.NDArray[Any]]:
        """24 envelope order spectra of outer-race, inner-race and ball defects (8 each).

        A block may not import :mod:`shopfloor.testing` (its signal generators import the
        blocks), so the windows come from a minimal impulse model here: impacts at the defect
        order of a 6205 bearing, each period 1.5 % random (rolling elements slip), ring a 3 kHz
        resonance in white noise. The quality-floor tests use the full generator.
        """
        rng = np.random.default_rng(seed)
        fs, n, rpm, per_class = 12_000.0, 2048, 1797.0, 8
        geometry = BearingGeometry(n_elements=9, element_diameter_mm=7.94, pitch_diameter_mm=39.04)
        orders = defect_orders(geometry)
        t = np.arange(n) / fs
        ring = np.exp(-950.0 * t[:240]) * np.sin(2 * np.pi * 3000.0 * t[:240])
        windows, labels = [], []
        for label, key in (
            ("outer_race", "bpfo"),
            ("inner_race", "bpfi"),
            ("rolling_element", "bsf2"),
        ):
            period = 60.0 / (rpm * orders[key])
            n_impacts = int(n / fs / period) + 2
            for _ in range(per_class):
                # Without slip the impacts are exactly periodic and pre-whitening flattens them.
                jitter = period * (1.0 + 0.015 * rng.standard_normal(n_impacts))
                times = rng.uniform(0.0, period) + np.cumsum(jitter) - jitter[0]
                train = np.zeros(n)
                train[(times[times < n / fs] * fs).astype(np.int64)] = 1.0
                windows.append(np.convolve(train, ring)[:n] + 0.3 * rng.standard_normal(n))
                labels.append(label)
        _, spectra = envelope_order_spectrum(np.asarray(windows), fs, rpm)
        return spectra, np.asarray(labels)

    # --- fitting ---------------------------------------------------------------------------

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        assert y is not None  # needs_labels: the base class has checked
        owner = type(self).__name__
        classes, codes = np.unique(np.asarray(y).astype(str), return_inverse=True)
        if classes.size < 2:
            raise InputError(f"{owner} needs at least two classes, got only {classes.tolist()}")
        if x.shape[1] < _MIN_BINS:
            raise InputError(
                f"{owner} expects envelope order spectra of at least {_MIN_BINS} bins per row, "
                f"got {x.shape[1]} columns"
            )
        # One numpy generator drives both the torch seed and the batch order.
        rng = np.random.default_rng(self.random_state)
        with torch_session(int(rng.integers(2**62))) as torch:
            net = _build_network(x.shape[1], self.channels, classes.size)
            optimizer = torch.optim.AdamW(
                net.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
            )
            loss_fn = torch.nn.CrossEntropyLoss()
            inputs = torch.from_numpy(x.astype(np.float32)).unsqueeze(1)
            targets = torch.from_numpy(codes.astype(np.int64))
            n_rows = x.shape[0]
            losses: list[float] = []
            net.train()
            for _ in range(self.epochs):
                order = torch.from_numpy(rng.permutation(n_rows))
                total = 0.0
                for start in range(0, n_rows, self.batch_size):
                    batch = order[start : start + self.batch_size]
                    optimizer.zero_grad()
                    loss = loss_fn(net(inputs[batch]), targets[batch])
                    loss.backward()
                    optimizer.step()
                    total += float(loss.detach()) * batch.numel()
                losses.append(total / n_rows)
            state = {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}
        self.classes_ = classes
        self.state_: dict[str, npt.NDArray[Any]] = state
        self.architecture_: dict[str, int] = {
            "n_bins": int(x.shape[1]),
            "channels": int(self.channels),
            "n_classes": int(classes.size),
        }
        self.loss_curve_: list[float] = losses

    # --- prediction ------------------------------------------------------------------------

    def _logits(self, x: FloatArray) -> FloatArray:
        with torch_session(0) as torch:
            arch = self.architecture_
            net = _build_network(arch["n_bins"], arch["channels"], arch["n_classes"])
            net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in self.state_.items()})
            net.eval()
            out = []
            with torch.no_grad():
                for start in range(0, x.shape[0], _PREDICT_CHUNK):
                    chunk = torch.from_numpy(x[start : start + _PREDICT_CHUNK].astype(np.float32))
                    out.append(net(chunk.unsqueeze(1)).double().numpy())
        logits: FloatArray = np.concatenate(out, axis=0)
        return logits

    def _predict_proba(self, x: FloatArray) -> FloatArray:
        logits = self._logits(x)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        proba: FloatArray = shifted / shifted.sum(axis=1, keepdims=True)
        return proba

    def _explain(
        self, x: FloatArray, row: int, label: FaultClass, proba: FloatArray
    ) -> tuple[str, str]:
        # Where the input is largest on the order axis is what a person can check against the
        # defect orders; the network itself gives no finer reason.
        strongest_bin = int(np.argmax(x[row]))
        reason = (
            f"CNN on the envelope order spectrum: {label.value} at {proba.max():.0%}; "
            f"strongest order bin {strongest_bin} of {x.shape[1]}"
        )
        return reason, "none" if label == FaultClass.NORMAL else "unknown"
