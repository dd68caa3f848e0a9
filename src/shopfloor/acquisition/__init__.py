"""Data acquisition (DA), the first ISO 13374 processing block: getting plant data in.

Sources today are files (a historian's or PLC's CSV/Parquet export, described by a YAML
mapping); MQTT, OPC UA and replay follow behind the same store-facing interface.

Public API: :func:`load_mapping` reads and validates a mapping file, :func:`import_table`
imports one file with it, all-or-nothing.
"""

from shopfloor.acquisition.mapping import (
    AssetSpec,
    ChannelSpec,
    TableMapping,
    TimeSpec,
    load_mapping,
)
from shopfloor.acquisition.sources import Problem
from shopfloor.acquisition.tabular import ImportReport, TableError, import_table

__all__ = [
    "AssetSpec",
    "ChannelSpec",
    "ImportReport",
    "Problem",
    "TableError",
    "TableMapping",
    "TimeSpec",
    "import_table",
    "load_mapping",
]
