"""Model files: round trip with a version record, integrity, trust and version checks."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from shopfloor.core import persistence
from shopfloor.core.base import AnomalyScorer, FloatArray
from shopfloor.core.errors import NotFittedError, ShopfloorError
from shopfloor.core.persistence import (
    ModelIntegrityError,
    ModelVersionError,
    TrainingWindow,
    UntrustedModelError,
    load,
    read_record,
    save,
)
from shopfloor.manipulation.time_indicators import TimeIndicators


class Centre(AnomalyScorer):
    """Distance from the training mean: has learned state worth saving."""

    _tags: ClassVar[dict[str, Any]] = {"multivariate": True}

    def _fit(self, x: FloatArray, y: Any) -> None:
        self.mean_ = x.mean(axis=0)

    def _score(self, x: FloatArray) -> FloatArray:
        return np.asarray(np.abs(x - self.mean_).sum(axis=1))


CENTRE = f"{Centre.__module__}.Centre"  # the module name depends on how pytest imports tests
INDEX = pd.date_range("2024-03-01", periods=50, freq="h", tz="UTC")
FRAME = pd.DataFrame(
    np.random.default_rng(0).normal(size=(50, 2)), index=INDEX, columns=["temp", "flow"]
)


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, Centre]:
    model = Centre().fit(FRAME)
    path = tmp_path / "centre.sfmodel"
    save(model, path, training_window=TrainingWindow.from_index(FRAME.index, source="pump-7"))
    return path, model


def test_round_trip_keeps_learned_state(saved: tuple[Path, Centre]) -> None:
    path, model = saved
    loaded = load(path, trusted=True, expected_class=Centre)
    assert isinstance(loaded, Centre)
    np.testing.assert_array_equal(loaded.score_samples(FRAME), model.score_samples(FRAME))
    assert loaded.feature_names_in_ == ["temp", "flow"]


def test_version_record_is_readable_without_unpickling(saved: tuple[Path, Centre]) -> None:
    path, _ = saved
    record = read_record(path)
    assert record.class_path == CENTRE
    assert record.shopfloor_version == persistence.shopfloor_version()
    assert record.params == {}
    assert record.feature_schema.n_features_in == 2
    assert record.feature_schema.feature_names_in == ["temp", "flow"]
    assert record.training_window is not None
    assert record.training_window.start == INDEX[0].to_pydatetime()
    assert record.training_window.end == INDEX[-1].to_pydatetime()
    assert record.training_window.n_rows == 50
    assert record.training_window.source == "pump-7"
    assert set(record.dependencies) == {"numpy", "scipy", "pandas", "scikit-learn"}
    assert record.created.tzinfo is not None
    payload = path.read_bytes().split(b"\n", 2)[2]
    assert record.sha256 == hashlib.sha256(payload).hexdigest()


def test_params_and_output_names_are_recorded(tmp_path: Path) -> None:
    model = TimeIndicators(indicators=("rms", "kurtosis")).fit(np.ones((2, 8)) + np.eye(2, 8))
    record = save(model, tmp_path / "ti.sfmodel")
    assert record.params == {"indicators": ["rms", "kurtosis"]}
    assert record.feature_schema.feature_names_out == ["rms", "kurtosis"]
    assert record.training_window is None
    assert read_record(tmp_path / "ti.sfmodel") == record


def test_untrusted_files_are_not_unpickled(saved: tuple[Path, Centre]) -> None:
    path, _ = saved
    with pytest.raises(UntrustedModelError, match="trusted=True"):
        load(path)


def test_tampered_payload_is_rejected(saved: tuple[Path, Centre]) -> None:
    path, _ = saved
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="does not match"):
        load(path, trusted=True)


def test_truncated_and_foreign_files_are_rejected(saved: tuple[Path, Centre]) -> None:
    path, _ = saved
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(ModelIntegrityError):
        load(path, trusted=True)
    path.write_bytes(data.split(b"\n", 2)[0] + b"\n" + data.split(b"\n", 2)[1])
    with pytest.raises(ModelIntegrityError, match="truncated"):
        load(path, trusted=True)
    path.write_bytes(b"\x80\x05just a pickle")
    with pytest.raises(ModelIntegrityError, match="not a shopfloor model"):
        read_record(path)
    path.write_bytes(b"shopfloor-model\n{not json}\npayload")
    with pytest.raises(ModelIntegrityError, match="unreadable version record"):
        load(path, trusted=True)


def test_expected_digest_from_elsewhere(saved: tuple[Path, Centre]) -> None:
    path, _ = saved
    digest = read_record(path).sha256
    assert isinstance(load(path, trusted=True, expected_sha256=digest.upper()), Centre)
    with pytest.raises(ModelIntegrityError, match="not the expected"):
        load(path, trusted=True, expected_sha256="0" * 64)


def _rewrite_record(path: Path, **changes: Any) -> None:
    magic, header, payload = path.read_bytes().split(b"\n", 2)
    record = json.loads(header)
    record.update(changes)
    path.write_bytes(magic + b"\n" + json.dumps(record).encode() + b"\n" + payload)


def test_class_mismatch_is_a_clear_error(saved: tuple[Path, Centre]) -> None:
    path, _ = saved
    with pytest.raises(ModelVersionError, match=re.escape(f"holds a {CENTRE}, expected")):
        load(path, trusted=True, expected_class=TimeIndicators)
    _rewrite_record(path, class_path="shopfloor.detection.Other")
    with pytest.raises(ModelVersionError, match=re.escape(f"payload holds {CENTRE}")):
        load(path, trusted=True)


def test_version_mismatch_is_a_clear_error(saved: tuple[Path, Centre]) -> None:
    path, _ = saved
    _rewrite_record(path, shopfloor_version="0.0.1")
    with pytest.raises(ModelVersionError, match=r"written by shopfloor 0\.0\.1"):
        load(path, trusted=True)
    assert isinstance(load(path, trusted=True, allow_version_mismatch=True), Centre)
    _rewrite_record(path, format_version=99)
    with pytest.raises(ModelVersionError, match="format 99"):
        read_record(path)


def test_unfitted_components_are_not_saved(tmp_path: Path) -> None:
    with pytest.raises(NotFittedError):
        save(Centre(), tmp_path / "x.sfmodel")
    assert list(tmp_path.iterdir()) == []


def test_save_replaces_atomically_and_leaves_no_temporaries(saved: tuple[Path, Centre]) -> None:
    path, model = saved
    first = read_record(path)
    second = save(model, path)
    assert read_record(path) == second != first
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_errors_are_shopfloor_errors() -> None:
    for cls in (ModelIntegrityError, UntrustedModelError, ModelVersionError):
        assert issubclass(cls, ShopfloorError)


def test_training_window_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="ends"):
        TrainingWindow(start=INDEX[5].to_pydatetime(), end=INDEX[0].to_pydatetime())
    assert TrainingWindow.from_index(pd.RangeIndex(7)).n_rows == 7
