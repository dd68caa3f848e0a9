"""A pipeline's bookkeeping of windows and dead letters, kept in the store.

The store's ``window_results``, ``window_origins`` and ``dead_letters`` tables
(:mod:`shopfloor.core.store.live_records`) hold what this ledger decides; the ledger is the
runtime's in-memory view of them:

* where each channel's windows start (its *origin*), so a restart cuts the same windows;
* which windows are decided: a channel's windows are decided in index order (released or given
  up), and one batch's decisions are committed together, so the committed windows of a channel
  are always ``0 .. head``; a window is decided when it is at or below the committed head, or
  among the decisions not yet committed;
* what is waiting to be committed (:meth:`Ledger.take`), which the runtime hands to its store
  writer and acknowledges the messages only after that commit.

A restart after a crash loses nothing that was acknowledged and decides no window twice: the
store keeps every window at most once (first write wins), and the ledger reloads the heads.

Pipelines of earlier shopfloor versions kept these in JSON lines under
``<home>/live/<pipeline>/``; on first use they are copied into the store and renamed
``*.imported``, so their windows are neither lost nor decided again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shopfloor.core.store import DeadLetterRecord, Store, WindowOrigin, WindowResult

Origin = WindowOrigin
Key = tuple[str, str]


@dataclass
class Pending:
    """Decisions not yet committed to the store (one batch's, or several)."""

    pipeline: str = ""
    origins: list[tuple[str, str, WindowOrigin]] = field(default_factory=list)
    windows: list[WindowResult] = field(default_factory=list)
    dead: list[DeadLetterRecord] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.origins or self.windows or self.dead)

    def commit(self, store: Store) -> None:
        """Write everything to ``store`` (on the thread that owns its writes)."""
        for asset_id, channel_id, origin in self.origins:
            store.set_window_origin(self.pipeline, asset_id, channel_id, origin)
        store.append_windows(self.windows)
        store.add_dead_letters(self.dead)


class Ledger:
    """Windows and dead letters of one pipeline in one store.

    Parameters
    ----------
    store: the store (read at construction, on the thread that owns it).
    pipeline: the spec's name.
    """

    def __init__(self, store: Store, pipeline: str) -> None:
        self.pipeline = pipeline
        self.home = Path(store.home)
        _import_jsonl(store, pipeline)
        self.origins: dict[Key, WindowOrigin] = store.window_origins(pipeline)
        heads = store.window_heads(pipeline)
        self._head: dict[Key, int] = {k: w for k, (w, _) in heads.items()}
        self._last_end: dict[Key, tuple[int, int]] = dict(heads)
        self._decided: dict[Key, set[int]] = {}
        self.windows_decided: dict[Key, int] = {k: w + 1 for k, w in self._head.items()}
        """Per channel: windows decided so far (all sessions)."""
        self.dead_letters = store.dead_letter_count(pipeline=pipeline)
        self._pending = Pending(pipeline=pipeline)

    def has(self, asset_id: str, channel_id: str, window: int) -> bool:
        key = (asset_id, channel_id)
        return window <= self._head.get(key, -1) or window in self._decided.get(key, ())

    def next_window(self, asset_id: str, channel_id: str) -> int:
        key = (asset_id, channel_id)
        return max(self._head.get(key, -1), max(self._decided.get(key, ()), default=-1)) + 1

    def last_end_ns(self, asset_id: str, channel_id: str, window: int) -> int | None:
        """End of a decided window, where the ledger still knows it (the newest one)."""
        known = self._last_end.get((asset_id, channel_id))
        return known[1] if known is not None and known[0] == window else None

    def set_origin(self, asset_id: str, channel_id: str, origin: WindowOrigin) -> None:
        key = (asset_id, channel_id)
        if key in self.origins:
            return
        self.origins[key] = origin
        self._pending.origins.append((asset_id, channel_id, origin))

    def add_window(
        self,
        asset_id: str,
        channel_id: str,
        window: int,
        start_ns: int,
        end_ns: int,
        results: dict[str, Any] | None,
        status: str = "ok",
    ) -> bool:
        """Decide a window; False (and nothing recorded) if it is already decided."""
        if self.has(asset_id, channel_id, window):
            return False
        key = (asset_id, channel_id)
        self._decided.setdefault(key, set()).add(window)
        self.windows_decided[key] = self.windows_decided.get(key, 0) + 1
        if window >= self._last_end.get(key, (-1, 0))[0]:
            self._last_end[key] = (window, end_ns)
        self._pending.windows.append(
            WindowResult(
                self.pipeline,
                asset_id,
                channel_id,
                window,
                start_ns,
                end_ns,
                status,
                results,
                time.time_ns(),
            )
        )
        return True

    def add_dead_letter(self, letter: DeadLetterRecord) -> None:
        self._pending.dead.append(letter)
        self.dead_letters += 1

    def take(self) -> Pending:
        """What is waiting to be committed, handed over (the ledger starts a new batch).

        The windows in it count as decided at once; :meth:`committed` moves the heads when the
        store has them, so the in-memory set stays small.
        """
        pending, self._pending = self._pending, Pending(pipeline=self.pipeline)
        return pending

    def committed(self, pending: Pending) -> None:
        """``pending`` is in the store: fold its windows into the heads."""
        for w in pending.windows:
            key = (w.asset_id, w.channel_id)
            decided = self._decided.get(key)
            head = self._head.get(key, -1)
            while decided and head + 1 in decided:
                head += 1
                decided.discard(head)
            self._head[key] = head

    def windows(self) -> list[dict[str, Any]]:
        """Every committed window of this pipeline as a dict (for reports and tests), by
        asset, channel and window; read through a read-only handle, so it works while the
        runtime writes and after it closed."""
        with Store.open(self.home, read_only=True) as store:
            rows = store.window_results(pipeline=self.pipeline)
        rows.sort(key=lambda w: (w.asset_id, w.channel_id, w.window))
        return [
            {
                "asset_id": w.asset_id,
                "channel_id": w.channel_id,
                "window": w.window,
                "start_ns": w.start_ns,
                "end_ns": w.end_ns,
                "status": w.status,
                "decided_ns": w.decided_ns,
                "results": w.results,
            }
            for w in rows
        ]

    def dead_letter_rows(self) -> list[dict[str, Any]]:
        """This pipeline's committed dead letters, oldest first, as dicts."""
        with Store.open(self.home, read_only=True) as store:
            rows = store.dead_letters(pipeline=self.pipeline, newest_first=False)
        return [
            {
                "topic": d.topic,
                "reason": d.reason,
                "received_ns": d.received_ns,
                "source": d.source,
                "payload_head_hex": d.payload.hex(),
                "payload_bytes": d.payload_bytes,
            }
            for d in rows
        ]

    def commit_now(self, store: Store) -> None:
        """Commit what is pending on this thread (start-up and shut-down)."""
        pending = self.take()
        if pending:
            pending.commit(store)
            self.committed(pending)


def _import_jsonl(store: Store, pipeline: str) -> None:
    """Copy a pipeline's JSON-lines ledger of an earlier version into the store, once."""
    folder = Path(store.home) / "live" / pipeline
    windows_path, dead_path = folder / "windows.jsonl", folder / "dead_letters.jsonl"
    if store.read_only or not (windows_path.exists() or dead_path.exists()):
        return
    pending = Pending(pipeline=pipeline)
    for doc in _lines(windows_path):
        if doc.get("type") == "origin":
            pending.origins.append(
                (
                    str(doc["asset_id"]),
                    str(doc["channel_id"]),
                    WindowOrigin(
                        int(doc["origin_seq"]),
                        int(doc["blocks_per_window"]),
                        int(doc["start_ns"]),
                        int(doc["block_samples"]),
                    ),
                )
            )
        elif doc.get("type") == "window":
            pending.windows.append(
                WindowResult(
                    pipeline,
                    str(doc["asset_id"]),
                    str(doc["channel_id"]),
                    int(doc["window"]),
                    int(doc.get("start_ns", 0)),
                    int(doc.get("end_ns", 0)),
                    str(doc.get("status", "ok")),
                    doc.get("results"),
                    int(doc.get("decided_ns", 0)),
                )
            )
    for doc in _lines(dead_path):
        head = doc.get("payload_head_hex")
        pending.dead.append(
            DeadLetterRecord(
                source="import",
                reason=str(doc.get("reason", "")),
                received_ns=int(doc.get("received_ns", 0)),
                topic=doc.get("topic"),
                payload=bytes.fromhex(head) if isinstance(head, str) else b"",
                pipeline=pipeline,
            )
        )
    pending.commit(store)
    for path in (windows_path, dead_path):
        if path.exists():
            path.rename(path.with_name(path.name + ".imported"))


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            # a line cut by a crash mid-write was never fsynced, so nothing acknowledged
            # depends on it: skip it
            if not line.endswith("\n"):
                break
            try:
                doc = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(doc, dict):
                yield doc
