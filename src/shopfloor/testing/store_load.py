"""A live writer and polling readers as real processes, for the store's tests and benchmark.

``python -m shopfloor.testing.store_load writer HOME ...`` appends one block per channel per
round and prints ``ACK <seq>`` once a round is committed (what a sender may forget);
``... reader HOME ...`` polls the newest seconds of one channel and writes its latencies and
errors as JSON. Block samples are a pure function of (channel, seq), so whoever checks the
store afterwards knows exactly what each committed block must hold.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from shopfloor.core.assets import Asset, Channel
from shopfloor.core.store import Block, Store

ASSET = "load-1"
FS = 25_600.0
_POOL = 16


def load_asset(n_channels: int) -> Asset:
    return Asset(
        id=ASSET,
        kind="pump",
        channels=[
            Channel(id=f"ch{i:03d}", quantity="acceleration", unit="g", sample_rate_hz=FS)
            for i in range(n_channels)
        ],
    )


def samples(channel: int, seq: int, n: int) -> np.ndarray:
    """Deterministic float32 samples: a bearing-like tone plus noise, from a small pool."""
    rng = np.random.default_rng(1000 * channel + seq % _POOL)
    t = np.arange(n) / FS
    tone = 0.5 * np.sin(2 * np.pi * (97.0 + channel) * t)
    return (tone + 0.2 * rng.normal(size=n)).astype(np.float32)


def _pool(n_channels: int, n: int) -> dict[tuple[int, int], np.ndarray]:
    return {(c, k): samples(c, k, n) for c in range(n_channels) for k in range(_POOL)}


def writer(args: argparse.Namespace) -> None:
    n = round(FS * args.block_s)
    pool = _pool(args.channels, n)
    with Store.open(args.home, wait_s=args.wait_s) as store:
        if not store.has_asset(ASSET):
            store.put_asset(load_asset(args.channels))
        print("READY", flush=True)
        seq = args.start_seq
        t_end = time.monotonic() + args.seconds
        step_ns = round(args.block_s * 1e9)
        while time.monotonic() < t_end and (args.rounds is None or seq < args.rounds):
            blocks = [
                Block(
                    ASSET, f"ch{c:03d}", seq, args.t0_ns + seq * step_ns, FS, pool[(c, seq % _POOL)]
                )
                for c in range(args.channels)
            ]
            store.append(blocks)
            print(f"ACK {seq}", flush=True)
            seq += 1


def reader(args: argparse.Namespace) -> None:
    latencies: list[float] = []
    errors: list[str] = []
    t_end = time.monotonic() + args.seconds
    store = None
    while time.monotonic() < t_end:
        t = time.perf_counter()
        try:
            if store is None:
                store = Store.open(args.home, read_only=True)
            got = store.read_last(ASSET, "ch000", args.last_s)
            _ = got.values.sum()
            latencies.append(time.perf_counter() - t)
        except KeyError:
            pass  # the stream does not exist yet
        except Exception as exc:  # a blocked or failed read: counted, never hidden
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(args.poll_s)
    if store is not None:
        store.close()
    Path(args.out).write_text(json.dumps({"latencies_s": latencies, "errors": errors}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shopfloor.testing.store_load")
    sub = parser.add_subparsers(dest="role", required=True)
    w = sub.add_parser("writer")
    w.add_argument("home")
    w.add_argument("--channels", type=int, default=8)
    w.add_argument("--block-s", type=float, default=1.0)
    w.add_argument("--seconds", type=float, default=10.0)
    w.add_argument("--rounds", type=int, default=None)
    w.add_argument("--start-seq", type=int, default=0)
    w.add_argument("--t0-ns", type=int, required=True)
    w.add_argument("--wait-s", type=float, default=0.0)
    r = sub.add_parser("reader")
    r.add_argument("home")
    r.add_argument("--seconds", type=float, default=10.0)
    r.add_argument("--last-s", type=float, default=10.0)
    r.add_argument("--poll-s", type=float, default=0.05)
    r.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    writer(args) if args.role == "writer" else reader(args)


if __name__ == "__main__":
    main(sys.argv[1:])
