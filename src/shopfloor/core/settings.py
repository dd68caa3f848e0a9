"""Settings read from the environment (``SHOPFLOOR_*``) with sensible defaults.

No I/O happens at import; directories are resolved when :func:`get_settings` is called.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _repo_root() -> Path:
    # src/shopfloor/core/settings.py -> repository root (only meaningful for a source checkout)
    return Path(__file__).resolve().parents[3]


def default_data_mirror() -> Path | None:
    """The local mirror of public datasets: ``../shared/data`` beside the repo or the cwd."""
    for base in (_repo_root(), Path.cwd()):
        candidate = (base / ".." / "shared" / "data").resolve()
        if candidate.is_dir():
            return candidate
    return None


def _default_home() -> Path:
    return Path.home() / ".local" / "share" / "shopfloor"


class Settings(BaseSettings):
    """shopfloor settings.

    Attributes
    ----------
    home: data directory holding the embedded store (``SHOPFLOOR_HOME``).
    data: local mirror of public datasets (``SHOPFLOOR_DATA``); defaults to ``../shared/data``.
    cache: where datasets downloaded from their publisher are kept (``SHOPFLOOR_CACHE``).
    offline: never try the network (``SHOPFLOOR_OFFLINE``).
    """

    model_config = SettingsConfigDict(env_prefix="SHOPFLOOR_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    data: Path | None = Field(default_factory=default_data_mirror)
    cache: Path | None = None
    offline: bool = False

    @property
    def cache_dir(self) -> Path:
        return self.cache if self.cache is not None else self.home / "downloads"


def get_settings() -> Settings:
    """Fresh settings from the current environment."""
    return Settings()
