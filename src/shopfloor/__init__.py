"""shopfloor: AI for the factory floor.

Condition monitoring of rotating machines following the ISO 13374 processing blocks:
acquisition -> manipulation -> detection -> assessment -> prognostics -> advisory.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("shopfloor")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
