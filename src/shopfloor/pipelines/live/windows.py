"""Blocks of one channel into windows, by sequence number.

A window is ``blocks_per_window`` consecutive blocks, counted from the channel's first block
(its *origin*, kept in the ledger so a restart cuts the same windows). Sequence numbers, not
timestamps, say which samples are contiguous: a sender's clock may jump, its counter does not.

* a block seen twice (a re-delivery) is ignored;
* a window whose blocks are all there is released, in order;
* a window still missing blocks when blocks two windows later arrive is given up (the missing
  blocks were lost upstream) and reported as incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass
class ReadyWindow:
    index: int
    start_ns: int
    end_ns: int
    samples: FloatArray


@dataclass
class ChannelWindows:
    """Window state of one channel.

    origin_seq: sequence number of the first block of window 0.
    blocks_per_window: blocks in one window.
    next_index: the first window not yet released or given up.
    """

    origin_seq: int
    blocks_per_window: int
    sample_rate_hz: float
    next_index: int = 0
    _blocks: dict[int, tuple[int, FloatArray]] = field(default_factory=dict)
    incomplete: list[int] = field(default_factory=list)

    def window_of(self, seq: int) -> int:
        return (seq - self.origin_seq) // self.blocks_per_window

    def add(self, seq: int, start_ns: int, values: FloatArray) -> list[ReadyWindow]:
        """Take one block; returns the windows it completes (in order)."""
        if seq < self.origin_seq or self.window_of(seq) < self.next_index or seq in self._blocks:
            return []
        self._blocks[seq] = (start_ns, values)
        ready: list[ReadyWindow] = []
        newest = self.window_of(max(self._blocks))
        while True:
            first = self.origin_seq + self.next_index * self.blocks_per_window
            seqs = range(first, first + self.blocks_per_window)
            if all(s in self._blocks for s in seqs):
                parts = [self._blocks.pop(s) for s in seqs]
                samples = np.concatenate([p[1] for p in parts])
                start = parts[0][0]
                end = start + round(samples.size * 1e9 / self.sample_rate_hz)
                ready.append(ReadyWindow(self.next_index, start, end, samples))
                self.next_index += 1
            elif newest >= self.next_index + 2:
                for s in seqs:
                    self._blocks.pop(s, None)
                self.incomplete.append(self.next_index)
                self.next_index += 1
            else:
                return ready

    @property
    def buffered(self) -> int:
        return len(self._blocks)
