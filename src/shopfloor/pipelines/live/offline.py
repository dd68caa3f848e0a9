"""The same spec over stored data: a backfill that gives the live loop's answers.

Windows are cut from each stored stream from its first sample, ``window_s`` long, exactly as the
live runtime cuts them from the channel's first block (when the window is a whole number of
blocks, which :func:`run_offline` checks against the ledger's record where there is one).
Components get fresh state and see the windows in the same order, so a stateful step (alert
confirmation) evolves as it did live.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shopfloor.core.store import Store
from shopfloor.pipelines.live.components import stored_results
from shopfloor.pipelines.live.registry import Window, run_chain
from shopfloor.pipelines.live.spec import LoadedSpec

NS = 1_000_000_000
BATCH = 64
"""Windows assessed at once (vectorised features), a memory bound: 64 x 25,600 x 8 B."""


def run_offline(
    loaded: LoadedSpec,
    store: Store,
    *,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> list[dict[str, Any]]:
    """Assess every stored window of the fleet's waveform channels; returns one row per window.

    Rows have ``asset_id``, ``channel_id``, ``window``, ``start_ns``, ``end_ns``, ``status`` and
    ``results`` (the ledger's form), in order per channel.
    """
    streams = {(str(s["asset_id"]), str(s["channel_id"])): s for s in store.streams()}
    rows: list[dict[str, Any]] = []
    for asset, ch in loaded.fleet.waveform_channels():
        s = streams.get((asset.id, ch.id))
        if s is None or s["first_ns"] is None:
            continue
        assert ch.sample_rate_hz is not None
        fs = float(ch.sample_rate_hz)
        first, last = int(s["first_ns"]), int(s["last_end_ns"])  # type: ignore[call-overload]
        lo = first if start_ns is None else max(first, start_ns)
        hi = last if end_ns is None else min(last, end_ns)
        values = store.read(asset.id, ch.id, first, hi).values.astype(np.float64)
        n = round(loaded.spec.window_s * fs)
        components = loaded.components()
        state: dict[str, Any] = {}
        n_windows = values.size // n
        for b0 in range(0, n_windows, BATCH):
            windows = []
            for k in range(b0, min(n_windows, b0 + BATCH)):
                w0 = first + round(k * n * NS / fs)
                w1 = first + round((k + 1) * n * NS / fs)
                windows.append(
                    Window(asset, ch.id, k, w0, w1, fs, values[k * n : (k + 1) * n], state)
                )
            # the whole chain runs from the first window, so stateful steps see what they saw
            # live; only windows inside the requested range are returned
            errors = run_chain(components, windows)
            for i, window in enumerate(windows):
                if i in errors:
                    window.results["error"] = errors[i]
                if window.start_ns < lo:
                    continue
                rows.append(
                    {
                        "asset_id": asset.id,
                        "channel_id": ch.id,
                        "window": window.index,
                        "start_ns": window.start_ns,
                        "end_ns": window.end_ns,
                        "status": "error" if i in errors else "ok",
                        "results": stored_results(window.results),
                    }
                )
    return rows
