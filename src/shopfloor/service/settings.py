"""Service settings (``SHOPFLOOR_SERVICE_*`` environment variables or keyword arguments).

The service signs its access tokens with ``secret``; a missing, short or well-known secret
would let anyone mint an admin token, so :func:`check_secret` refuses to start with one.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shopfloor.core.errors import InputError
from shopfloor.core.settings import get_settings

# Secrets that appear in examples and tutorials: never accepted.
KNOWN_DEFAULTS = frozenset(
    {"", "secret", "changeme", "change-me", "default", "shopfloor", "password", "admin"}
)
MIN_SECRET_CHARS = 32  # 32 random characters: far beyond brute force for an HMAC key


def _home() -> Path:
    return get_settings().home


class ServiceSettings(BaseSettings):
    """Settings of ``shopfloor serve``.

    Attributes
    ----------
    home: data directory of the store (default ``SHOPFLOOR_HOME``).
    users_file: the users file (default ``<home>/service/users.json``).
    secret: key that signs access tokens (``SHOPFLOOR_SERVICE_SECRET``); required.
    token_ttl_s: lifetime of an access token, seconds.
    max_body_bytes: larger request bodies are refused with 413.
    write_wait_s: seconds a write (acknowledge, activate) waits for another process that
        holds the store's writer lock before answering 503 naming it.
    poll_s: how often the live feed looks for new and changed events, seconds.
    """

    model_config = SettingsConfigDict(env_prefix="SHOPFLOOR_SERVICE_", extra="ignore")

    home: Path = Field(default_factory=_home)
    users_file: Path | None = None
    secret: SecretStr = SecretStr("")
    token_ttl_s: float = Field(default=12 * 3600.0, gt=0)
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    write_wait_s: float = Field(default=2.0, ge=0)
    poll_s: float = Field(default=0.5, gt=0)

    def check_secret(self) -> None:
        """Raise :class:`InputError` when the secret is missing, short or a known default."""
        value = self.secret.get_secret_value()
        if value.strip().lower() in KNOWN_DEFAULTS:
            raise InputError(
                "the service will not start with a default or empty secret: set "
                "SHOPFLOOR_SERVICE_SECRET to a random string (e.g. `openssl rand -hex 32`)",
                column="secret",
            )
        if len(value) < MIN_SECRET_CHARS:
            raise InputError(
                f"SHOPFLOOR_SERVICE_SECRET has {len(value)} characters; use at least "
                f"{MIN_SECRET_CHARS} random ones (e.g. `openssl rand -hex 32`)",
                column="secret",
            )

    @property
    def users_path(self) -> Path:
        return (
            self.users_file if self.users_file is not None else self.home / "service" / "users.json"
        )
