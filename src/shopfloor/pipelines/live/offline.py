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

from shopfloor.core.errors import ShopfloorError
from shopfloor.core.store import Store
from shopfloor.pipelines.live.components import stored_results
from shopfloor.pipelines.live.registry import Window
from shopfloor.pipelines.live.spec import LoadedSpec

NS = 1_000_000_000


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
        for k in range(values.size // n):
            w0 = first + round(k * n * NS / fs)
            w1 = first + round((k + 1) * n * NS / fs)
            window = Window(asset, ch.id, k, w0, w1, fs, values[k * n : (k + 1) * n], state)
            status = "ok"
            try:
                for comp in components:
                    comp.process(window)
            except (ShopfloorError, ValueError, FloatingPointError) as exc:
                status = "error"
                window.results["error"] = f"{type(exc).__name__}: {exc}"
            if w0 < lo:
                continue  # still run the chain, so stateful steps see what they saw live
            rows.append(
                {
                    "asset_id": asset.id,
                    "channel_id": ch.id,
                    "window": k,
                    "start_ns": w0,
                    "end_ns": w1,
                    "status": status,
                    "results": stored_results(window.results),
                }
            )
    return rows
