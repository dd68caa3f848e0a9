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
fully-connected layer, as the paper places it. 54,510 weights for 10 classes.

**AdaBN** (the paper's domain adaptation, after Li et al., "Revisiting Batch
Normalization For Practical Domain Adaptation", arXiv:1603.04779, Algorithm 1): after training,
the mean and variance of every batch-norm neuron are re-estimated on the *target domain* and used
in place of the training statistics; every learned weight (convolutions, fully-connected layers,
and the batch norms' own scale and shift) stays as trained. The target domain is the unlabelled
test windows, all of them at once, as in the paper (there: the windows recorded at the held-out
load). It is therefore transductive: the prediction of one test window depends on the other test
windows (never on their labels). :func:`adapt_batchnorm` computes the statistics exactly (not a
running average), layer by layer, each layer seeing the outputs of the already adapted layers
before it, so the result does not depend on how the target windows are chunked.

Input scaling: **raw**, as the paper ("raw vibration signals as input"): no per-window
standardisation; the first batch-norm layer absorbs the sensor scale. ``standardize=True``
switches to per-window zero mean and unit variance for experiments.

Training: Adam, cross-entropy, as the paper. Batch size and epoch count are this benchmark's
choices (arguments). One torch thread; deterministic for a given seed on the same machine and
torch version. On one core of the development machine (torch 2.13 CPU) an epoch over 1,500
windows takes about 0.45 s (the first about 1.8 s, with torch's warm-up).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from shopfloor.assessment.cnn_diagnoser import (
    torch_session,  # one session policy for all torch code
)

__all__ = [
    "INPUT_LENGTH",
    "Trained",
    "adapt_batchnorm",
    "build",
    "count_parameters",
    "fit_predict",
    "fit_predict_variants",
    "predict_proba",
    "train",
]

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


@dataclass
class Trained:
    """A trained WDCNN: the network (``torch.nn.Sequential``, eval mode), its class labels in
    output order, and whether inputs are standardised per window."""

    net: Any
    classes: npt.NDArray[np.str_]
    standardize: bool


def train(
    train_x: npt.ArrayLike,
    train_y: npt.ArrayLike,
    *,
    seed: int = 0,
    epochs: int = 30,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    standardize: bool = False,
    progress: Callable[[int, int, float], None] | None = None,
) -> Trained:
    """Train WDCNN on labelled windows (see :func:`fit_predict` for the arguments)."""
    x_train = _prepare(train_x, standardize, "train_x")
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
    return Trained(net, classes, standardize)


def predict_proba(model: Trained, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Softmax probabilities of each window, columns in ``model.classes`` order."""
    arr = _prepare(x, model.standardize, "x")
    logits = []
    with torch_session(0) as torch:
        model.net.eval()
        with torch.no_grad():
            for start in range(0, arr.shape[0], _PREDICT_CHUNK):
                chunk = torch.from_numpy(arr[start : start + _PREDICT_CHUNK]).unsqueeze(1)
                logits.append(model.net(chunk).double().numpy())
    z = np.concatenate(logits, axis=0)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    proba: npt.NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return proba


def adapt_batchnorm(model: Trained, target_x: npt.ArrayLike) -> Trained:
    """AdaBN: a copy of ``model`` whose batch-norm statistics are those of ``target_x``.

    For each batch-norm layer in forward order, the per-neuron mean and (population) variance
    of its input over all target windows (per channel over windows and positions for the
    convolutional layers) replace the stored running statistics. The layers before it are
    already adapted when it is measured, as in AdaBN's Algorithm 1. Learned weights, including
    each batch norm's scale and shift, are copied unchanged; ``model`` itself is not modified.

    Parameters
    ----------
    model:
        From :func:`train`.
    target_x:
        Unlabelled target-domain windows, shape (n, 2048), same unit as the training windows;
        n >= 2.
    """
    arr = _prepare(target_x, model.standardize, "target_x")
    if arr.shape[0] < 2:
        raise ValueError("AdaBN needs at least two target windows to estimate a variance")
    with torch_session(0) as torch:
        net = copy.deepcopy(model.net).eval()
        layers = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm1d)]
        seen: list[Any] = []  # the input of the layer being measured, per chunk
        for layer in layers:
            handle = layer.register_forward_hook(lambda _m, inputs, _o: seen.append(inputs[0]))
            n_ch = layer.num_features
            total = torch.zeros(n_ch, dtype=torch.float64)
            total_sq = torch.zeros(n_ch, dtype=torch.float64)
            count = 0
            with torch.no_grad():
                for start in range(0, arr.shape[0], _PREDICT_CHUNK):
                    seen.clear()
                    net(torch.from_numpy(arr[start : start + _PREDICT_CHUNK]).unsqueeze(1))
                    a = seen[0].double()
                    dims = (0, 2) if a.dim() == 3 else (0,)
                    total += a.sum(dim=dims)
                    total_sq += (a * a).sum(dim=dims)
                    count += a.numel() // n_ch
            handle.remove()
            mean = total / count
            var = (total_sq / count - mean * mean).clamp(min=0.0)
            layer.running_mean.copy_(mean.float())
            layer.running_var.copy_(var.float())
    return Trained(net, model.classes, model.standardize)


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
    adabn: bool = False,
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
    adabn:
        Re-estimate the batch-norm statistics on ``test_x`` (unlabelled, all windows at once)
        before predicting, as the paper's AdaBN; see :func:`adapt_batchnorm`.
    progress:
        Called as ``progress(epoch, epochs, mean_training_loss)`` after each epoch (loss in
        nats).

    Returns
    -------
    pred_labels : ndarray of str, shape (n_test,)
    proba : ndarray, shape (n_test, n_classes)
        Softmax probabilities, columns in sorted label order (``np.unique(train_y)``).
    """
    _prepare(test_x, standardize, "test_x")  # fail before training, not after
    model = train(
        train_x,
        train_y,
        seed=seed,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        standardize=standardize,
        progress=progress,
    )
    if adabn:
        model = adapt_batchnorm(model, test_x)
    proba = predict_proba(model, test_x)
    return model.classes[np.argmax(proba, axis=1)], proba


def fit_predict_variants(
    train_x: npt.ArrayLike,
    train_y: npt.ArrayLike,
    test_x: npt.ArrayLike,
    **train_kwargs: Any,
) -> tuple[npt.NDArray[np.str_], dict[str, npt.NDArray[np.float64]]]:
    """One training, two predictions of ``test_x``: without and with AdaBN.

    Returns the class labels (column order) and ``{"wdcnn": proba, "wdcnn_adabn": proba}``;
    AdaBN's target domain is ``test_x`` itself (unlabelled, all windows at once).
    """
    _prepare(test_x, bool(train_kwargs.get("standardize", False)), "test_x")
    model = train(train_x, train_y, **train_kwargs)
    plain = predict_proba(model, test_x)
    adapted = predict_proba(adapt_batchnorm(model, test_x), test_x)
    return model.classes, {"wdcnn": plain, "wdcnn_adabn": adapted}
