"""The folder watcher's persistent record of the files it has handled.

One JSON object a line in ``files.jsonl`` in the watcher's state folder (inside the data
directory), appended and fsynced before the watcher acts on it, so a restart knows:

* every file already decided, by its identity ``(path, size, mtime_ns)`` and content hash:
  ``done`` (every record acknowledged, i.e. stored), ``rejected`` (with the one-line reason),
  ``duplicate`` (same content as a file already done), ``changed`` (a processed file rewritten);
* files *claimed* but not finished (a crash between reading and storing): they are read again
  with the sequence numbers reserved in the claim, so the store recognises what it already
  holds and no window is counted twice;
* each channel's next sequence number and where its last block ended.

A partial last line (a crash mid-write) is cut off when the journal is opened.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FileId = tuple[str, int, int]
"""A file's identity: resolved path, size in bytes, modification time in ns."""


@dataclass
class Claim:
    """A file being processed: its identity, hash and the blocks reserved per channel."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    seqs: dict[str, list[int]] = field(default_factory=dict)
    """``"asset/channel"`` -> ``[first sequence number, number of blocks]``."""

    @property
    def ident(self) -> FileId:
        return (self.path, self.size, self.mtime_ns)


@dataclass
class ChannelState:
    next_seq: int = 0
    last_end_ns: int | None = None


class FileJournal:
    """Reads and appends ``<folder>/files.jsonl`` (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "files.jsonl"
        self.decided: dict[FileId, str] = {}
        """Identity -> event (done, rejected, duplicate, changed)."""
        self.done_hashes: dict[str, str] = {}
        """Content hash -> path of the file done with it."""
        self.done_paths: dict[str, FileId] = {}
        """Path -> identity of the file done under that path."""
        self.claims: dict[FileId, Claim] = {}
        """Claimed and not yet decided (to be read again after a restart)."""
        self.channels: dict[str, ChannelState] = {}
        self._load()
        self._fh = self.path.open("a", encoding="utf-8")

    def _load(self) -> None:
        if not self.path.exists():
            return
        raw = self.path.read_bytes()
        keep = raw.rfind(b"\n") + 1
        if keep != len(raw):  # a crash mid-line: that entry was never acted on
            with self.path.open("r+b") as fh:
                fh.truncate(keep)
        for line in raw[:keep].decode("utf-8").splitlines():
            if line.strip():
                self._apply(json.loads(line))

    def _apply(self, entry: dict[str, Any]) -> None:
        ident: FileId = (entry["path"], int(entry["size"]), int(entry["mtime_ns"]))
        event = entry["event"]
        if event == "claimed":
            claim = Claim(*ident, entry["sha256"], entry.get("seqs", {}))
            self.claims[ident] = claim
            for key, (first, n) in claim.seqs.items():
                st = self.channels.setdefault(key, ChannelState())
                st.next_seq = max(st.next_seq, first + n)
            for key, end in entry.get("ends", {}).items():
                self.channels.setdefault(key, ChannelState()).last_end_ns = int(end)
            return
        self.claims.pop(ident, None)
        self.decided[ident] = event
        if event == "done":
            self.done_hashes[entry["sha256"]] = entry["path"]
            self.done_paths[entry["path"]] = ident

    def _write(self, entry: dict[str, Any]) -> None:
        entry = {**entry, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        self._fh.write(json.dumps(entry, sort_keys=True) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._apply(entry)

    def claim(self, claim: Claim, ends: dict[str, int]) -> None:
        """Record that ``claim``'s file is being processed, with its reserved blocks."""
        self._write(
            {
                "event": "claimed",
                "path": claim.path,
                "size": claim.size,
                "mtime_ns": claim.mtime_ns,
                "sha256": claim.sha256,
                "seqs": claim.seqs,
                "ends": ends,
            }
        )

    def decide(self, ident: FileId, event: str, sha256: str = "", **detail: Any) -> None:
        """Record the final word on a file: done, rejected, duplicate or changed."""
        path, size, mtime_ns = ident
        self._write(
            {
                "event": event,
                "path": path,
                "size": size,
                "mtime_ns": mtime_ns,
                "sha256": sha256,
                **detail,
            }
        )

    def reserve(self, key: str, n_blocks: int) -> int:
        """The first of ``n_blocks`` new sequence numbers of channel ``key`` (not yet written)."""
        return self.channels.setdefault(key, ChannelState()).next_seq

    def entries(self) -> list[dict[str, Any]]:
        """Every entry, oldest first (for reports and tests)."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(ln) for ln in lines if ln.strip()]

    def close(self) -> None:
        self._fh.close()
