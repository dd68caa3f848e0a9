"""Users, roles and access tokens.

Roles are ordered: a viewer reads, an operator also works alerts (acknowledge, close as
confirmed or false alarm), an admin also changes models and users. Passwords are stored as
scrypt hashes with a per-user salt (standard library, memory-hard, so a stolen users file
does not give the passwords away cheaply). Access tokens are ``user.role.expiry.signature``
with an HMAC-SHA256 signature under the service secret: the service checks them without a
session table, and a role change takes effect when the user logs in again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from shopfloor.core.errors import InputError

# scrypt cost: n=2**14, r=8 uses 16 MiB and about 50 ms per check, the parameters RFC 7914
# gives for interactive logins.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_NAME = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")


class Role(IntEnum):
    """What a user may do; each role may do everything the ones below it may."""

    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise InputError(
                f"role must be viewer, operator or admin, got {text!r}", column="role"
            ) from None

    @property
    def label(self) -> str:
        return self.name.lower()


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$<salt b64>$<hash b64>`` of ``password``."""
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, maxmem=64 * 2**20, **_SCRYPT)
    return f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    salt = base64.b64decode(salt_b64)
    expected = hash_password(password, salt).split("$")[2]
    return hmac.compare_digest(expected, digest_b64)


@dataclass(frozen=True)
class User:
    name: str
    role: Role


class UserStore:
    """The users file (``<home>/service/users.json``): name, role and password hash each.

    Written atomically (a temporary file renamed over it), readable only by its owner.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read the users file: {exc}", source=self.path) from exc
        if not isinstance(doc, dict):
            raise InputError("the users file is not a JSON object", source=self.path)
        return doc

    def _save(self, doc: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp-{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def users(self) -> list[User]:
        return [User(n, Role.parse(d["role"])) for n, d in sorted(self._load().items())]

    def set_user(self, name: str, role: Role, password: str) -> User:
        """Create or replace a user."""
        if not _NAME.match(name):
            raise InputError(
                f"user name {name!r}: 2-32 characters, lower-case letters, digits, '_', '.', '-',"
                " starting with a letter",
                column="name",
            )
        if len(password) < 12:
            raise InputError("password: at least 12 characters", column="password")
        doc = self._load()
        doc[name] = {"role": role.label, "hash": hash_password(password)}
        self._save(doc)
        return User(name, role)

    def delete_user(self, name: str) -> None:
        doc = self._load()
        if name not in doc:
            raise KeyError(f"no user {name!r}")
        del doc[name]
        self._save(doc)

    def authenticate(self, name: str, password: str) -> User | None:
        entry = self._load().get(name)
        if entry is None:
            # Same work as a real check, so timing does not tell which names exist.
            verify_password(password, hash_password("x", b"0" * 16))
            return None
        if not verify_password(password, entry.get("hash", "")):
            return None
        return User(name, Role.parse(entry["role"]))


def new_password() -> str:
    """A random password for a one-time admin (24 URL-safe characters, 144 bits)."""
    return secrets.token_urlsafe(18)


class TokenSigner:
    """Issues and checks ``user.role.expiry.signature`` tokens."""

    def __init__(self, secret: str, ttl_s: float) -> None:
        self._key = hashlib.sha256(b"shopfloor-token:" + secret.encode()).digest()
        self.ttl_s = ttl_s

    def _sign(self, body: str) -> str:
        mac = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def issue(self, user: User, now: float | None = None) -> str:
        expiry = int((time.time() if now is None else now) + self.ttl_s)
        body = f"{user.name}.{user.role.label}.{expiry}"
        return f"{body}.{self._sign(body)}"

    def check(self, token: str, now: float | None = None) -> User | None:
        """The token's user, or None when it is malformed, forged or expired."""
        parts = token.split(".")
        if len(parts) < 4:
            return None
        body, sig = ".".join(parts[:-1]), parts[-1]
        if not hmac.compare_digest(self._sign(body), sig):
            return None
        role, expiry = parts[-3], parts[-2]
        name = ".".join(parts[:-3])
        try:
            if int(expiry) < (time.time() if now is None else now):
                return None
            return User(name, Role.parse(role))
        except (ValueError, InputError):
            return None


class OneTimeTokens:
    """Login links that work once: ``/login/once?token=...`` trades the token for the usual
    session cookie and forgets it, so a token printed in a terminal (``shopfloor demo``) or
    copied into a chat is worthless after the first use or after ``ttl_s`` seconds.

    Only the SHA-256 of each token is kept, in memory: the tokens die with the process.
    """

    def __init__(self, ttl_s: float = 3600.0) -> None:
        self.ttl_s = ttl_s
        self._pending: dict[str, tuple[User, float]] = {}

    def issue(self, user: User, now: float | None = None) -> str:
        token = secrets.token_urlsafe(24)
        expiry = (time.time() if now is None else now) + self.ttl_s
        self._pending[hashlib.sha256(token.encode()).hexdigest()] = (user, expiry)
        return token

    def redeem(self, token: str, now: float | None = None) -> User | None:
        """The token's user the first time, within its lifetime; None ever after."""
        entry = self._pending.pop(hashlib.sha256(token.encode()).hexdigest(), None)
        if entry is None or entry[1] < (time.time() if now is None else now):
            return None
        return entry[0]
