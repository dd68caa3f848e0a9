"""WDCNN: deep CNN with wide first-layer kernels on raw vibration (Zhang et al. 2017).

W. Zhang, G. Peng, C. Li, Y. Chen, Z. Zhang, "A New Deep Learning Model for Fault Diagnosis
with Good Anti-Noise and Domain Adaptation Ability on Raw Vibration Signals", Sensors 17(2):425,
2017, doi:10.3390/s17020425. Written from the paper's description, not from anyone's code.

Architecture (input: one window of 2,048 raw samples)::

    conv  64 wide, stride 16, 16 filters, padding 24  -> 16 x 128   BN, ReLU, max-pool 2 -> 16 x 64
    conv  3 wide, 32 filters, "same"                  -> 32 x 64    BN, ReLU, max-pool 2 -> 32 x 32
    conv  3 wide, 64 filters, "same"                  -> 64 x 32    BN, ReLU, max-pool 2 -> 64 x 16
    conv  3 wide, 64 filters, "same"                  -> 64 x 16    BN, ReLU, max-pool 2 -> 64 x 8
    conv  3 wide, 64 filters, no padding              -> 64 x 6     BN, ReLU, max-pool 2 -> 64 x 3
    fully connected 192 -> 100, BN, ReLU; fully connected 100 -> classes, softmax

The wide first kernel with a large stride acts as a learned band-pass filter bank and
down-sampler (it "suppresses high-frequency noise", in the paper's words); the small kernels
after it add depth. Batch normalisation follows every convolution and the hidden
fully-connected layer, as the paper places it (its AdaBN domain adaptation re-estimates these
statistics on target data; not used here). 54,510 weights for 10 classes.

Input scaling: **raw**, as the paper ("raw vibration signals as input"): no per-window
standardisation; the first batch-norm layer absorbs the sensor scale. ``standardize=True``
switches to per-window zero mean and unit variance for experiments.

Training: Adam, cross-entropy, as the paper. Batch size and epoch count are this benchmark's
choices (arguments). One torch thread; deterministic for a given seed on the same machine and
torch version. On one core of the development machine (torch 2.13 CPU) an epoch over 1,500
windows takes about 0.45 s (the first about 1.8 s, with torch's warm-up).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from shopfloor.assessment.cnn_diagnoser import (
    torch_session,  # one session policy for all torch code
)

__all__ = ["INPUT_LENGTH", "build", "count_parameters", "fit_predict"]

INPUT_LENGTH = 2048
_PREDICT_CHUNK = 1024


def build(n_classes: int) -> Any:
    """The WDCNN network (``torch.nn.Sequential``): input (batch, 1, 2048), output logits."""
    from torch import nn

    def block(c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> list[Any]:
        return [
            nn.Conv1d(c_in, c_out, kernel_size=kernel, stride=stride, padding=padding),
            nn.BatchNorm1d(c_out),
            nn.ReLU(),
            nn.MaxPool1d(2, stride=2),
        ]

    return nn.Sequential(
        *block(1, 16, 64, 16, 24),  # wide first layer: (2048 + 48 - 64) / 16 + 1 = 128
        *block(16, 32, 3, 1, 1),
        *block(32, 64, 3, 1, 1),
        *block(64, 64, 3, 1, 1),
        *block(64, 64, 3, 1, 0),  # no padding: 8 -> 6, pooled to 3
        nn.Flatten(),
        nn.Linear(64 * 3, 100),
        nn.BatchNorm1d(100),
        nn.ReLU(),
        nn.Linear(100, n_classes),
    )


def count_parameters(n_classes: int = 10) -> int:
    """Trainable weights of WDCNN for ``n_classes`` outputs (54,510 for 10)."""
    net = build(n_classes)
    return int(sum(p.numel() for p in net.parameters() if p.requires_grad))


def _prepare(x: npt.ArrayLike, standardize: bool, name: str) -> npt.NDArray[np.float32]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != INPUT_LENGTH or arr.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n, {INPUT_LENGTH}), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite samples")
    if standardize:
        arr = arr - arr.mean(axis=1, keepdims=True)
        arr = arr / np.maximum(arr.std(axis=1, keepdims=True), 1e-12)
    return arr.astype(np.float32)


def fit_predict(
    train_x: npt.ArrayLike,
    train_y: npt.ArrayLike,
    test_x: npt.ArrayLike,
    *,
    seed: int = 0,
    epochs: int = 30,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    standardize: bool = False,
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.float64]]:
    """Train WDCNN on labelled windows and predict the test windows.

    Parameters
    ----------
    train_x, test_x:
        Raw windows, shape (n, 2048), in the sensor's unit (e.g. acceleration in g).
    train_y:
        One label per training window (e.g. ``"inner_race"``), compared as strings.
    seed:
        Seeds weight initialisation and batch order.
    epochs, batch_size, learning_rate:
        Adam training settings (learning rate in Adam's units, default 1e-3).
    standardize:
        Per-window zero mean, unit variance; False (the paper's raw input) by default.
    progress:
        Called as ``progress(epoch, epochs, mean_training_loss)`` after each epoch (loss in
        nats).

    Returns
    -------
    pred_labels : ndarray of str, shape (n_test,)
    proba : ndarray, shape (n_test, n_classes)
        Softmax probabilities, columns in sorted label order (``np.unique(train_y)``).
    """
    x_train = _prepare(train_x, standardize, "train_x")
    x_test = _prepare(test_x, standardize, "test_x")
    labels = np.asarray(train_y).astype(str)
    if labels.shape != (x_train.shape[0],):
        raise ValueError(f"train_y must have one label per window ({x_train.shape[0]})")
    classes, codes = np.unique(labels, return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"need at least two classes, got {classes.tolist()}")
    rng = np.random.default_rng(seed)
    with torch_session(seed) as torch:
        net = build(classes.size)
        optimizer = torch.optim.Adam(net.parameters(), lr=learning_rate)
        loss_fn = torch.nn.CrossEntropyLoss()
        inputs = torch.from_numpy(x_train).unsqueeze(1)
        targets = torch.from_numpy(codes.astype(np.int64))
        n = x_train.shape[0]
        for epoch in range(1, epochs + 1):
            net.train()
            order = torch.from_numpy(rng.permutation(n))
            total = 0.0
            for start in range(0, n, batch_size):
                batch = order[start : start + batch_size]
                if batch.numel() < 2:
                    continue  # the hidden FC layer's batch norm needs two rows
                optimizer.zero_grad()
                loss = loss_fn(net(inputs[batch]), targets[batch])
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * batch.numel()
            if progress is not None:
                progress(epoch, epochs, total / n)
        net.eval()
        logits = []
        with torch.no_grad():
            for start in range(0, x_test.shape[0], _PREDICT_CHUNK):
                chunk = torch.from_numpy(x_test[start : start + _PREDICT_CHUNK]).unsqueeze(1)
                logits.append(net(chunk).double().numpy())
    z = np.concatenate(logits, axis=0)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    proba = e / e.sum(axis=1, keepdims=True)
    pred = classes[np.argmax(proba, axis=1)]
    return pred, proba
