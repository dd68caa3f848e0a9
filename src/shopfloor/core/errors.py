"""Errors that name what went wrong and where (file, line, column, field, topic).

Every error a user can trigger with bad input derives from :class:`ShopfloorError`, so the CLI
can print it plainly instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path


class ShopfloorError(Exception):
    """Base class of every error shopfloor raises on purpose."""


class InputError(ShopfloorError, ValueError):
    """Bad input: a file, a row, a message, a config field.

    Parameters
    ----------
    message:
        What is wrong, in the user's terms.
    source:
        The file, topic or config the input came from.
    line:
        1-based line number in ``source`` (for text files: the header is line 1).
    column:
        Column or field name.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | Path | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.source = str(source) if source is not None else None
        self.line = line
        self.column = column
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.source is not None:
            where.append(self.source)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class UnitError(InputError):
    """A unit that is unknown or does not fit the physical quantity it is given for."""


class ChecksumError(ShopfloorError):
    """A dataset file is missing, truncated or altered."""

    def __init__(self, path: Path, expected: str, actual: str | None) -> None:
        self.path = path
        self.expected = expected
        self.actual = actual
        got = "file is missing" if actual is None else f"actual sha256 {actual}"
        super().__init__(f"{path}: checksum mismatch: expected sha256 {expected}, {got}")


class DatasetNotFoundError(ShopfloorError, KeyError):
    """An unknown dataset name, or a dataset whose files cannot be found."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want the plain message
        return str(self.args[0])


class StoreError(ShopfloorError):
    """The data directory cannot be used (read-only, full, corrupt, newer schema)."""


class NotFittedError(ShopfloorError, ValueError, AttributeError):
    """A model was used before ``fit``. Subclasses scikit-learn's tuple of base classes."""
