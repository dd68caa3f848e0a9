"""Embedded store: a SQLite catalog (one writer, many readers), Parquet recordings, segments.

See :mod:`shopfloor.core.store.store` for the layout and the write guarantees.
"""

from shopfloor.core.store.batch import WriteBatch
from shopfloor.core.store.catalog import StoreBusyError
from shopfloor.core.store.live_records import (
    DeadLetterRecord,
    WindowOrigin,
    WindowResult,
    WindowTrend,
)
from shopfloor.core.store.maintenance import CheckReport, GcReport
from shopfloor.core.store.retention import RetentionPolicy
from shopfloor.core.store.scalars import ScalarReading, ScalarReport, ScalarSeries
from shopfloor.core.store.store import Store
from shopfloor.core.store.streams import AppendReport, Block, StreamSlice

__all__ = [
    "AppendReport",
    "Block",
    "CheckReport",
    "DeadLetterRecord",
    "GcReport",
    "RetentionPolicy",
    "ScalarReading",
    "ScalarReport",
    "ScalarSeries",
    "Store",
    "StoreBusyError",
    "StreamSlice",
    "WindowOrigin",
    "WindowResult",
    "WindowTrend",
    "WriteBatch",
]
