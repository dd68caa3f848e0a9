"""The diagnoser ``shopfloor diagnose`` uses by default: the shipped fused model, checksum-verified.

The model lives in ``shopfloor/assessment/models/``:

* ``bearing_fused_v1.txt``: the LightGBM booster in LightGBM's own text format (no pickle);
* ``bearing_fused_v1.json``: the record: version, feature names, classes, temperature, the
  booster's sha256, training data and protocol;
* ``bearing_fused_v1.md``: the model card (training data, protocol, scores, version, sha256).

:func:`load_default_diagnoser` reads the record, checks the booster's sha256 against it and
refuses a file that does not match (a damaged or swapped model must never diagnose). The model
is rebuilt from the public data by one command::

    .venv/bin/python -m shopfloor.pipelines.default_model
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from shopfloor.assessment.fused_diagnoser import FusedDiagnoser
from shopfloor.core.errors import ChecksumError, InputError

__all__ = ["MODEL_NAME", "from_record", "load_default_diagnoser", "model_record"]

MODEL_NAME = "bearing_fused_v1"


def model_record(name: str = MODEL_NAME) -> dict[str, Any]:
    """The shipped model's record (``<name>.json``)."""
    folder = resources.files("shopfloor.assessment").joinpath("models")
    try:
        text = folder.joinpath(f"{name}.json").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"no shipped model {name!r} in shopfloor/assessment/models") from exc
    record: dict[str, Any] = json.loads(text)
    return record


def from_record(
    record: dict[str, Any], booster_text: str, path: Path | None = None
) -> FusedDiagnoser:
    """A fitted :class:`FusedDiagnoser` from a record and its booster text (sha256 checked).

    Raises :class:`~shopfloor.core.errors.ChecksumError` naming the file when the booster is
    not the one the record vouches for (reinstall shopfloor, or rebuild the model with
    ``python -m shopfloor.pipelines.default_model``).
    """
    import lightgbm as lgb

    digest = hashlib.sha256(booster_text.encode("utf-8")).hexdigest()
    if digest != record["booster_sha256"]:
        where = path or Path(str(record.get("booster_file", "booster")))
        raise ChecksumError(where, str(record["booster_sha256"]), digest)
    model = FusedDiagnoser(**record["params"])
    model.classes_ = np.asarray(record["classes"])
    model.booster_ = lgb.Booster(model_str=booster_text)
    model.temperature_ = float(record["temperature"])
    model.oof_accuracy_ = record.get("oof_accuracy")
    model.resolve_ = str(record.get("resolve", "physics"))
    model.disagreements_ = dict(record.get("disagreements", {"n": 0, "physics": 0, "model": 0}))
    model.reliability_ = {str(k): list(v) for k, v in record.get("reliability", {}).items()}
    model.side_counts_ = {
        str(s): {str(c): [int(v) for v in rn] for c, rn in by_class.items()}
        for s, by_class in record.get("side_counts", {}).items()
    }
    model.side_confidence_ = {
        str(k): float(v) for k, v in record.get("side_confidence", {}).items()
    }
    model.sure_ = [str(c) for c in record.get("sure", [])]
    model.disagreement_table_ = [
        [float(v) for v in row] for row in record.get("disagreement_table", [])
    ]
    model.sure_check_ = {
        str(k): {str(a): float(b) for a, b in v.items()}
        for k, v in record.get("sure_check", {}).items()
    }
    model.sample_rate_hz_ = float(record.get("sample_rate_hz", 12_000.0))
    model.n_features_in_ = len(record["feature_names"])
    model.feature_names_in_ = list(record["feature_names"])
    model.version_ = str(record["version"])
    return model


@cache
def load_default_diagnoser(name: str = MODEL_NAME) -> FusedDiagnoser:
    """The shipped fused diagnoser, its checksum verified (loaded once per process)."""
    record = model_record(name)
    folder = resources.files("shopfloor.assessment").joinpath("models")
    text = folder.joinpath(record["booster_file"]).read_text(encoding="utf-8")
    return from_record(record, text, Path(str(folder.joinpath(record["booster_file"]))))
