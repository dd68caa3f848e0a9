"""Embedded store: DuckDB for metadata, features, events and models; Parquet for waveforms."""

from shopfloor.core.store.store import Store, WriteBatch

__all__ = ["Store", "WriteBatch"]
