"""Data acquisition (DA), the first ISO 13374 processing block: getting plant data in.

Sources: files (a historian's or PLC's CSV/Parquet export, described by a YAML mapping), and
live sources in :mod:`shopfloor.acquisition.live` (MQTT, OPC UA, a watched folder, the fleet
simulator).

Public API: :func:`load_mapping` reads and validates a mapping file, :func:`import_table`
imports one file with it, all-or-nothing.

The names are resolved on first use (PEP 562): importing ``shopfloor.acquisition.live`` for a
live service must not pay for the file importer's pandas/DuckDB/store imports (seconds on a
small machine, and a restarted service is blind for that long).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and IDEs; at run time see __getattr__
    from shopfloor.acquisition.mapping import (
        AssetSpec,
        ChannelSpec,
        TableMapping,
        TimeSpec,
        load_mapping,
    )
    from shopfloor.acquisition.sources import Problem
    from shopfloor.acquisition.tabular import ImportReport, TableError, import_table

_WHERE = {
    "AssetSpec": "mapping",
    "ChannelSpec": "mapping",
    "TableMapping": "mapping",
    "TimeSpec": "mapping",
    "load_mapping": "mapping",
    "Problem": "sources",
    "ImportReport": "tabular",
    "TableError": "tabular",
    "import_table": "tabular",
}

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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
