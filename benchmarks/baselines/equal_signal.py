"""Equal signal per decision: peer windows cut from one-second decision blocks, and the vote.

A peer published on 2,048-sample windows decides on 0.17 s of signal at 12 kHz; shopfloor on
1 s. To compare them at equal signal, each second (``decision_length`` samples, the rows of
``cut_windows(corpus, decision_length)``) is covered by the fewest 2,048-sample windows that
reach every sample (6 at 12 kHz, spread evenly, neighbours overlapping by 58 samples); the peer
classifies each window and :func:`soft_vote` averages their class probabilities into one
decision per second. Used by ``benchmarks/diagnosis_peers.py`` (which re-exports these names).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from diagnosis_windows import Corpus

__all__ = ["WINDOW", "Log", "PeerWindows", "block_starts", "log", "peer_windows", "soft_vote"]

WINDOW = 2048  # both peers were published on 2,048-sample windows

Log = Callable[[str], None]


def log(msg: str) -> None:
    """Progress line with the time of day, flushed (benchmarks run for minutes)."""
    print(f"[{datetime.now():%H:%M:%S}] {msg}", flush=True)


@dataclass
class PeerWindows:
    """Peer inputs cut from decision blocks (see module docstring).

    ``windows`` (n, window) with ``meta`` (one row per window: decision, segment, label,
    role, recording_id, start); ``decisions`` (one row per block: segment, recording_id,
    label, load, size_mm, rpm, role, start); ``train_windows`` / ``train_decision``:
    overlapping windows (hop ``train_hop``) inside each block, WDCNN's data augmentation,
    with the block each comes from.
    """

    windows: npt.NDArray[np.float64]
    meta: pd.DataFrame
    decisions: pd.DataFrame
    train_windows: npt.NDArray[np.float32]
    train_decision: npt.NDArray[np.int64]
    fs: float
    decision_length: int
    window: int
    features_cache: Path | None = None
    tsfresh_windows_per_s: float | None = None
    _features: pd.DataFrame | None = field(default=None, repr=False)

    def tsfresh_features(self, log: Log = log) -> pd.DataFrame:
        """tsfresh features of ``windows``, row for row (computed once per segment; with
        ``features_cache`` set, kept on disk keyed by the sha256 of the segment's windows, so
        a run on more corpora reuses what an earlier run extracted)."""
        if self._features is not None:
            return self._features
        from baselines import tsfresh_rf

        t0 = time.perf_counter()
        segment = self.meta["segment"].to_numpy()
        parts: list[pd.DataFrame] = []
        computed = 0
        for seg in np.unique(segment):
            rows = np.flatnonzero(segment == seg)
            block = np.ascontiguousarray(self.windows[rows])
            digest = hashlib.sha256(block.tobytes()).hexdigest()[:24]
            path = None if self.features_cache is None else self.features_cache / f"{digest}.pkl"
            if path is not None and path.exists():
                part = pd.read_pickle(path)
                if len(part) != rows.size:
                    raise ValueError(f"{path}: {len(part)} rows cached, {rows.size} expected")
            else:
                part = tsfresh_rf.extract_features(block)
                computed += rows.size
                if path is not None:  # write then rename: a reader never sees half a file
                    path.parent.mkdir(parents=True, exist_ok=True)
                    part.to_pickle(path.with_suffix(f".{os.getpid()}.tmp"))
                    os.replace(path.with_suffix(f".{os.getpid()}.tmp"), path)
            part.index = pd.Index(rows)
            parts.append(part)
            log(f"tsfresh: segment {seg} ({rows.size} windows) done")
        feats = pd.concat(parts, axis=0).sort_index()
        feats = feats.reindex(columns=parts[0].columns)
        feats.index = pd.RangeIndex(len(feats))
        spent = time.perf_counter() - t0
        if computed:
            log(f"tsfresh: {computed} windows extracted, {computed / spent:.1f} windows/s")
        self.tsfresh_windows_per_s = computed / spent if computed else None
        self._features = feats
        return feats


def block_starts(block: int, window: int) -> npt.NDArray[np.int64]:
    """Starts of the fewest ``window``-sample windows that cover a ``block``-sample block,
    spread evenly (first at 0, last ending at the block's end)."""
    if block < window:
        raise ValueError(f"a decision block of {block} samples is shorter than a window")
    k = -(-block // window)
    return (
        np.round(np.linspace(0, block - window, k)).astype(np.int64)
        if k > 1
        else np.zeros(1, np.int64)
    )


def peer_windows(
    corpora: Corpus | Sequence[Corpus],
    decision_length: int | None = None,
    *,
    window: int = WINDOW,
    train_hop: int = WINDOW // 4,
) -> PeerWindows:
    """Cut every segment into non-overlapping decision blocks (``decision_length`` samples,
    default round(fs) = 1 s; a shorter tail is dropped, as ``cut_windows`` does) and each
    block into the windows that cover it (for testing and tsfresh) and into overlapping
    windows ``train_hop`` apart (WDCNN's augmentation; cut inside the block so that no
    training window can reach into a neighbouring block of another fold side).
    """
    items = [corpora] if isinstance(corpora, Corpus) else list(corpora)
    if not items:
        raise ValueError("no corpus given")
    fs = items[0].fs
    if any(c.fs != fs for c in items):
        raise ValueError(f"corpora differ in sample rate: {[c.fs for c in items]}")
    length = decision_length or round(fs)
    starts = block_starts(length, window)
    aug = np.arange(0, length - window + 1, train_hop)
    blocks, rows = [], []
    offset = 0
    for corpus in items:
        for k, seg in enumerate(corpus.segments):
            for b in range(seg.signal.size // length):
                blocks.append(seg.signal[b * length : (b + 1) * length])
                rows.append(
                    (offset + k, seg.recording_id, seg.label, seg.load, seg.size_mm, seg.rpm,
                     seg.role, b * length)
                )  # fmt: skip
        offset += len(corpus.segments)
    decisions = pd.DataFrame(
        rows,
        columns=["segment", "recording_id", "label", "load", "size_mm", "rpm", "role", "start"],
    )
    signal = np.asarray(blocks, dtype=np.float64)  # (n_decisions, length)
    windows = signal[:, starts[:, None] + np.arange(window)].reshape(-1, window)
    n_dec, k = len(decisions), starts.size
    meta = decisions.loc[np.repeat(np.arange(n_dec), k)].reset_index(drop=True)
    meta["decision"] = np.repeat(np.arange(n_dec), k)
    meta["start"] = meta["start"].to_numpy() + np.tile(starts, n_dec)
    train_windows = signal[:, aug[:, None] + np.arange(window)].reshape(-1, window)
    return PeerWindows(
        windows=windows,
        meta=meta,
        decisions=decisions,
        train_windows=train_windows.astype(np.float32),
        train_decision=np.repeat(np.arange(n_dec), aug.size).astype(np.int64),
        fs=fs,
        decision_length=length,
        window=window,
    )


def soft_vote(
    proba: npt.ArrayLike, decision: npt.ArrayLike
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Mean class probability of the windows of each decision (the soft vote).

    Parameters
    ----------
    proba:
        (n_windows, n_classes) probabilities of each window (rows sum to 1).
    decision:
        (n_windows,) integer id of the decision each window belongs to (e.g. its second).

    Returns
    -------
    ids : ndarray, sorted distinct decision ids
    mean_proba : ndarray (n_ids, n_classes); the decision is the column of its largest entry
    """
    p = np.asarray(proba, dtype=np.float64)
    d = np.asarray(decision)
    if p.ndim != 2 or d.shape != (p.shape[0],):
        raise ValueError(
            f"proba must be (n, n_classes) and decision (n,), got {p.shape}, {d.shape}"
        )
    ids, inverse, counts = np.unique(d, return_inverse=True, return_counts=True)
    sums = np.zeros((ids.size, p.shape[1]))
    np.add.at(sums, inverse, p)
    return ids.astype(np.int64), sums / counts[:, None]
