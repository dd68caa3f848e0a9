"""Public dataset registry: each dataset declares origin, license, citation and checksums.

Loaders translate a dataset's own layout into the canonical data model; dataset quirks stop
here. See :mod:`shopfloor.datasets.registry`.
"""

from shopfloor.datasets.registry import DatasetSpec, all_datasets, get_dataset

__all__ = ["DatasetSpec", "all_datasets", "get_dataset"]
