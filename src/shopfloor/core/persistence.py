"""Save and load fitted components together with a version record.

A model file is three parts: a magic line, one line of JSON (the :class:`VersionRecord`: package
versions, class path, parameters, feature schema, training window, creation time and the
sha256 of the payload) and the pickled component (the payload). The record can be read
without unpickling anything (:func:`read_record`).

Why loading needs ``trusted=True``: unpickling runs whatever code the file asks for, so a
model file from an untrusted source can do anything your account can. The sha256 in the record
only catches accidental damage (a truncated copy, a flipped bit): whoever can edit the file can
also edit the record. To detect deliberate tampering, keep the digest somewhere the file's
author cannot change (e.g. the store's model table) and pass it as ``expected_sha256``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import platform
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shopfloor.core.base import Component, check_is_fitted
from shopfloor.core.errors import ShopfloorError

__all__ = [
    "FORMAT_VERSION",
    "FeatureSchema",
    "ModelFileError",
    "ModelIntegrityError",
    "ModelVersionError",
    "TrainingWindow",
    "UntrustedModelError",
    "VersionRecord",
    "class_path",
    "load",
    "read_record",
    "save",
    "shopfloor_version",
]

FORMAT_VERSION = 1
_MAGIC = b"shopfloor-model\n"
# Versions recorded because a pickle may not survive a change of any of them.
_DEPENDENCIES = ("numpy", "scipy", "pandas", "scikit-learn")


class ModelFileError(ShopfloorError):
    """A model file cannot be used."""


class ModelIntegrityError(ModelFileError):
    """The file is not a shopfloor model, is truncated, or its payload does not match its
    sha256."""


class UntrustedModelError(ModelFileError):
    """Loading would unpickle a file the caller did not mark as trusted."""


class ModelVersionError(ModelFileError):
    """The file was written by another shopfloor version or holds another class."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrainingWindow(_Record):
    """The data a model was fitted on: time span (UTC where known), rows and origin."""

    start: datetime | None = None
    end: datetime | None = None
    n_rows: int | None = Field(default=None, ge=0)
    source: str | None = Field(default=None, description="dataset, asset or recording ids")

    @model_validator(mode="after")
    def _ordered(self) -> TrainingWindow:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"training window ends ({self.end}) before it starts ({self.start})")
        return self

    @classmethod
    def from_index(cls, index: pd.Index, source: str | None = None) -> TrainingWindow:
        """The window covered by a DataFrame index (time span only for a DatetimeIndex)."""
        if isinstance(index, pd.DatetimeIndex) and len(index):
            return cls(
                start=index.min().to_pydatetime(),
                end=index.max().to_pydatetime(),
                n_rows=len(index),
                source=source,
            )
        return cls(n_rows=len(index), source=source)


class FeatureSchema(_Record):
    """Input and output columns the model expects and produces."""

    n_features_in: int | None = None
    feature_names_in: list[str] | None = None
    feature_names_out: list[str] | None = None


class VersionRecord(_Record):
    """Everything needed to decide whether a saved model can be used here."""

    format_version: int
    shopfloor_version: str
    python_version: str
    dependencies: dict[str, str]
    class_path: str
    params: dict[str, Any]
    feature_schema: FeatureSchema
    training_window: TrainingWindow | None
    created: datetime
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    payload_bytes: int = Field(ge=0)


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:  # a source tree without install
        return "0.0.0+unknown"


def shopfloor_version() -> str:
    """The running shopfloor version (read here: ``core`` may not import the package root)."""
    return _package_version("shopfloor")


def class_path(cls: type) -> str:
    """``module.QualifiedName`` of a class, as recorded in model files."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _jsonable(value: object) -> object:
    # Parameters go into a JSON record for people and tools to read; values JSON cannot hold
    # (callables, nested components) are recorded by their repr, the pickle keeps the object.
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


def _schema_of(component: Component) -> FeatureSchema:
    names_out = None
    getter = getattr(component, "get_feature_names_out", None)
    if callable(getter):
        names_out = getter()
    names_in = getattr(component, "feature_names_in_", None)
    return FeatureSchema(
        n_features_in=getattr(component, "n_features_in_", None),
        feature_names_in=list(names_in) if names_in is not None else None,
        feature_names_out=list(names_out) if names_out is not None else None,
    )


def save(
    component: Component,
    path: str | Path,
    *,
    training_window: TrainingWindow | None = None,
    feature_schema: FeatureSchema | None = None,
) -> VersionRecord:
    """Write a fitted component and its version record to ``path`` (atomically).

    Parameters
    ----------
    component:
        A fitted :class:`~shopfloor.core.base.Component`.
    path:
        Destination file; replaced if it exists. Suggested suffix: ``.sfmodel``.
    training_window:
        What the model was fitted on; see :meth:`TrainingWindow.from_index`.
    feature_schema:
        Overrides the schema read from the component (``n_features_in_``,
        ``feature_names_in_``, ``get_feature_names_out()``).

    Returns
    -------
    VersionRecord
        The record written, including the payload's sha256.

    Raises
    ------
    NotFittedError
        ``component`` is not fitted.
    """
    check_is_fitted(component, "save")
    payload = pickle.dumps(component, protocol=5)
    record = VersionRecord(
        format_version=FORMAT_VERSION,
        shopfloor_version=shopfloor_version(),
        python_version=platform.python_version(),
        dependencies={name: _package_version(name) for name in _DEPENDENCIES},
        class_path=class_path(type(component)),
        params={k: _jsonable(v) for k, v in component.get_params(deep=False).items()},
        feature_schema=feature_schema if feature_schema is not None else _schema_of(component),
        training_window=training_window,
        created=datetime.now(UTC),
        sha256=hashlib.sha256(payload).hexdigest(),
        payload_bytes=len(payload),
    )
    path = Path(path)
    header = record.model_dump_json().encode("utf-8")  # one line: JSON escapes newlines
    # Write beside the target and rename, so a crash never leaves half a model under its name.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_MAGIC + header + b"\n" + payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return record


def _split(path: Path) -> tuple[VersionRecord, bytes]:
    data = path.read_bytes()
    if not data.startswith(_MAGIC):
        raise ModelIntegrityError(f"{path}: not a shopfloor model file")
    header, sep, payload = data[len(_MAGIC) :].partition(b"\n")
    if not sep:
        raise ModelIntegrityError(f"{path}: truncated model file (no payload)")
    try:
        record = VersionRecord.model_validate_json(header)
    except ValidationError as exc:
        raise ModelIntegrityError(f"{path}: unreadable version record: {exc}") from exc
    if record.format_version != FORMAT_VERSION:
        raise ModelVersionError(
            f"{path}: model file format {record.format_version}, this shopfloor reads "
            f"format {FORMAT_VERSION}"
        )
    return record, payload


def read_record(path: str | Path) -> VersionRecord:
    """The version record of a model file, without unpickling (safe on any file)."""
    return _split(Path(path))[0]


def load(
    path: str | Path,
    *,
    trusted: bool = False,
    expected_class: type[Component] | None = None,
    expected_sha256: str | None = None,
    allow_version_mismatch: bool = False,
) -> Component:
    """Load a component written by :func:`save`.

    Parameters
    ----------
    path:
        The model file.
    trusted:
        Must be True to unpickle: unpickling runs code chosen by whoever wrote the file. Pass
        True only for files you or your organisation produced.
    expected_class:
        Refuse a file holding any other class.
    expected_sha256:
        Digest kept outside the file (e.g. in the store); refuses a file whose payload differs.
    allow_version_mismatch:
        Accept a file written by another shopfloor version (pickles of changed classes may
        misbehave; re-fitting is the safe fix).

    Raises
    ------
    ModelIntegrityError
        Not a model file, truncated, or the payload's sha256 does not match.
    UntrustedModelError
        ``trusted`` is False.
    ModelVersionError
        Other shopfloor version or file format, or another class than expected.
    """
    path = Path(path)
    record, payload = _split(path)
    digest = hashlib.sha256(payload).hexdigest()
    if digest != record.sha256 or len(payload) != record.payload_bytes:
        raise ModelIntegrityError(
            f"{path}: payload sha256 {digest} does not match the recorded {record.sha256}: "
            "the file is damaged or was altered"
        )
    if expected_sha256 is not None and digest != expected_sha256.lower():
        raise ModelIntegrityError(
            f"{path}: payload sha256 {digest} is not the expected {expected_sha256}"
        )
    if not trusted:
        raise UntrustedModelError(
            f"{path}: refusing to unpickle a {record.class_path} model without trusted=True; "
            "unpickling runs code from the file, so only load files you trust"
        )
    if expected_class is not None and record.class_path != class_path(expected_class):
        raise ModelVersionError(
            f"{path}: holds a {record.class_path}, expected {class_path(expected_class)}"
        )
    current = shopfloor_version()
    if record.shopfloor_version != current and not allow_version_mismatch:
        raise ModelVersionError(
            f"{path}: written by shopfloor {record.shopfloor_version}, this is {current}; "
            "re-fit the model, or pass allow_version_mismatch=True to try anyway"
        )
    component = pickle.loads(payload)  # the caller marked it trusted (checked above)
    if class_path(type(component)) != record.class_path:
        raise ModelVersionError(
            f"{path}: record says {record.class_path} but the payload holds "
            f"{class_path(type(component))}"
        )
    if not isinstance(component, Component):
        raise ModelVersionError(f"{path}: payload is not a shopfloor Component")
    return component
