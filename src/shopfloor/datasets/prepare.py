"""Prepare a registered dataset: locate, verify, convert to the canonical model, store.

The whole dataset is written in one :meth:`Store.batch`; a failure or a kill part-way leaves
the store as it was before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from shopfloor.core.assets import Asset
from shopfloor.core.settings import Settings
from shopfloor.core.store import Store
from shopfloor.datasets.registry import Progress, get_dataset, resolve_source, verify


@dataclass(frozen=True)
class PrepareReport:
    """What a prepare did: counts, bytes of waveforms on disk, seconds taken."""

    name: str
    source: Path
    n_assets: int
    n_recordings: int
    bytes_on_disk: int
    seconds: float


def prepare(
    name: str,
    store: Store,
    settings: Settings,
    *,
    source: Path | None = None,
    verify_progress: Progress | None = None,
    load_progress: Progress | None = None,
) -> PrepareReport:
    """Verify and load dataset ``name`` into ``store``, replacing an earlier preparation."""
    start = time.perf_counter()
    spec = get_dataset(name)
    root = resolve_source(
        spec,
        source,
        settings.data,
        settings.cache_dir,
        offline=settings.offline,
        progress=verify_progress,
    )
    checksums = verify(spec, root, progress=verify_progress)
    n_assets = n_recordings = 0
    with store.batch(spec.name, replace=True) as batch:
        for item in spec.load(root, progress=load_progress):
            if isinstance(item, Asset):
                batch.add_asset(item)
                n_assets += 1
            else:
                batch.add_recording(item)
                n_recordings += 1
        batch.set_dataset(version=spec.version, source=str(root), checksums=checksums)
    return PrepareReport(
        name=spec.name,
        source=root,
        n_assets=n_assets,
        n_recordings=n_recordings,
        bytes_on_disk=store.bytes_on_disk(spec.name),
        seconds=time.perf_counter() - start,
    )
