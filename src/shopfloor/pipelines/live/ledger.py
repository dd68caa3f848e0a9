"""Window results and dead letters of a pipeline, on disk, idempotent per window.

Why not the store: the store (issue 19) has an append path for raw sample blocks and a table
of events, but no append path for per-window results (features, verdicts) or for messages that
never became a block (dead letters). Until it has, this ledger is the narrowest adapter:
append-only JSON lines under ``<home>/live/<pipeline>/``, written and fsynced before the
messages they come from are acknowledged, one line per (asset, channel, window) -- a window
already in the ledger is never written again, so a restart cannot double-count it.

Lines: ``{"type": "origin", ...}`` (where a channel's windows start), ``{"type": "window", ...}``
(a result, or ``"status": "incomplete"``), and in ``dead_letters.jsonl`` one line per message
refused, with the reason.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from shopfloor.core.errors import StoreError


@dataclass
class Origin:
    origin_seq: int
    blocks_per_window: int
    start_ns: int
    block_samples: int


class Ledger:
    """The results file of one pipeline in one data directory."""

    def __init__(self, home: Path, pipeline: str) -> None:
        self.folder = Path(home) / "live" / pipeline
        self.folder.mkdir(parents=True, exist_ok=True)
        self.windows_path = self.folder / "windows.jsonl"
        self.dead_path = self.folder / "dead_letters.jsonl"
        self.origins: dict[tuple[str, str], Origin] = {}
        self.done: dict[tuple[str, str], dict[int, int]] = {}  # window -> end_ns
        self.dead_letters = 0
        for path in (self.windows_path, self.dead_path):
            _trim_partial_line(path)
        self._load()
        self._fh: IO[str] = open(self.windows_path, "a", encoding="utf-8")  # noqa: SIM115
        self._dead: IO[str] = open(self.dead_path, "a", encoding="utf-8")  # noqa: SIM115
        self._dirty = False

    def _load(self) -> None:
        for doc in _lines(self.windows_path):
            key = (doc["asset_id"], doc["channel_id"])
            if doc["type"] == "origin":
                self.origins.setdefault(
                    key,
                    Origin(
                        doc["origin_seq"],
                        doc["blocks_per_window"],
                        doc["start_ns"],
                        doc["block_samples"],
                    ),
                )
            elif doc["type"] == "window":
                self.done.setdefault(key, {})[int(doc["window"])] = int(doc.get("end_ns", 0))
        self.dead_letters = sum(1 for _ in _lines(self.dead_path))

    def has(self, asset_id: str, channel_id: str, window: int) -> bool:
        return window in self.done.get((asset_id, channel_id), {})

    def next_window(self, asset_id: str, channel_id: str) -> int:
        done = self.done.get((asset_id, channel_id))
        return max(done) + 1 if done else 0

    def set_origin(self, asset_id: str, channel_id: str, origin: Origin) -> None:
        key = (asset_id, channel_id)
        if key in self.origins:
            return
        self.origins[key] = origin
        self._write(
            {
                "type": "origin",
                "asset_id": asset_id,
                "channel_id": channel_id,
                "origin_seq": origin.origin_seq,
                "blocks_per_window": origin.blocks_per_window,
                "start_ns": origin.start_ns,
                "block_samples": origin.block_samples,
            }
        )

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
        """Record a window; False (and nothing written) if it is already recorded."""
        if self.has(asset_id, channel_id, window):
            return False
        self.done.setdefault((asset_id, channel_id), {})[window] = end_ns
        self._write(
            {
                "type": "window",
                "asset_id": asset_id,
                "channel_id": channel_id,
                "window": window,
                "start_ns": start_ns,
                "end_ns": end_ns,
                "status": status,
                "decided_ns": time.time_ns(),
                "results": results,
            }
        )
        return True

    def add_dead_letter(self, doc: dict[str, Any]) -> None:
        self._dead.write(json.dumps(doc, default=str) + "\n")
        self.dead_letters += 1
        self._dirty = True

    def _write(self, doc: dict[str, Any]) -> None:
        self._fh.write(json.dumps(doc, default=str, allow_nan=True) + "\n")
        self._dirty = True

    def sync(self) -> None:
        """Flush and fsync: after this, what was written survives a crash."""
        if not self._dirty:
            return
        try:
            for fh in (self._fh, self._dead):
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise StoreError(f"cannot write the pipeline ledger in {self.folder}: {exc}") from exc
        self._dirty = False

    def close(self) -> None:
        self.sync()
        self._fh.close()
        self._dead.close()

    def windows(self) -> list[dict[str, Any]]:
        """Every window line (for reports and tests)."""
        return [d for d in _lines(self.windows_path) if d["type"] == "window"]

    def dead_letter_rows(self) -> list[dict[str, Any]]:
        return list(_lines(self.dead_path))


def _trim_partial_line(path: Path) -> None:
    """Cut a last line left unfinished by a crash, so the next line starts clean."""
    if not path.exists():
        return
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end != len(data):
        os.truncate(path, end)


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
                yield json.loads(line)
            except json.JSONDecodeError:
                continue
