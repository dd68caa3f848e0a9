"""Embedded store: DuckDB for metadata, features, events and models; Parquet for waveforms."""

from shopfloor.core.store.batch import WriteBatch
from shopfloor.core.store.store import Store

__all__ = ["Store", "WriteBatch"]
