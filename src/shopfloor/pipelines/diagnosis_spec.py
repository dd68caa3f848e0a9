"""Offline diagnosis pipelines written as YAML: named feature and diagnoser components.

::

    name: bearing-diagnosis
    kind: diagnosis
    window_s: 1.0          # one decision per window, s
    speed_band: 0.10       # read the speed from the signal within ±10 % of the given one
    steps:
      - use: features.bearing           # manipulation.bearing_transformer.BearingFeatures
        with: {n_harmonics: 3, tolerance: 0.02}
      - use: diagnosis.fused            # the shipped physics + learned model
        with: {model: bearing_fused_v1}

The first step names the feature component, the second the diagnoser that reads its columns.
Sample rate, shaft speed and bearing geometry are not in the spec: they come from each recording
(or the command line), as in ``shopfloor diagnose``, and the run goes through the same code
(:func:`~shopfloor.pipelines.diagnose.diagnose_target`), so a spec with the default parameters
gives exactly the answer of ``shopfloor diagnose``.

The spec is validated on load (unknown keys, unknown components, bad parameters, a diagnoser that
needs columns the features step does not make): errors name the file, line and field.
:func:`save_pipeline` writes the spec together with the model it uses (the booster in LightGBM's
text format and its record with sha256, no pickle) into one folder; :func:`load_pipeline` reads
it back and refuses a model whose checksum does not match.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import Field, ValidationError

from shopfloor.acquisition.mapping import _Strict, _translate
from shopfloor.core.errors import InputError
from shopfloor.manipulation.bearing_features import feature_names

if TYPE_CHECKING:
    from shopfloor.assessment.diagnoser import Diagnoser
    from shopfloor.assessment.recording_diagnosis import RecordingDiagnosis
    from shopfloor.core.store import Store
    from shopfloor.manipulation.bearing_transformer import BearingFeatures

__all__ = [
    "DIAGNOSERS",
    "FEATURES",
    "DiagnosisPipeline",
    "DiagnosisSpec",
    "example_spec_path",
    "load_pipeline",
    "pipeline_from_dict",
    "save_pipeline",
]

SPEC_FILE = "pipeline.yaml"


class StepSpec(_Strict):
    use: str = Field(min_length=1)
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")


class DiagnosisSpec(_Strict):
    """A diagnosis pipeline: one features step, then one diagnoser step."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    kind: Literal["diagnosis"] = "diagnosis"
    window_s: float = Field(default=1.0, gt=0, le=60)
    speed_band: float = Field(default=0.10, ge=0, le=0.5)
    steps: list[StepSpec] = Field(min_length=2, max_length=2)


# ------------------------------------------------------------------------------ components
# Sample rate, speed and geometry belong to the recording, never to the spec.
_PER_RECORDING = ("fs_hz", "shaft_speed_rpm", "geometry")


def _bearing_features(params: dict[str, Any], where: str) -> BearingFeatures:
    from shopfloor.manipulation.bearing_transformer import BearingFeatures

    fixed = [k for k in _PER_RECORDING if k in params]
    if fixed:
        raise InputError(
            f"{where}: {', '.join(fixed)} come from each recording (or the command line), "
            "not from the spec"
        )
    try:
        features = BearingFeatures(**params)
    except TypeError as exc:
        raise InputError(f"{where}: bad parameters for features.bearing: {exc}") from None
    # the spec's parameters are checked now, with a stand-in for the recording's bearing
    stand_in = BearingFeatures._contract_params()[0]["geometry"]
    try:
        features.set_params(geometry=stand_in)._validate_params()
        features.set_params(geometry=None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{where}: {exc}") from None
    return features


FEATURES: dict[str, Callable[[dict[str, Any], str], BearingFeatures]] = {
    "features.bearing": _bearing_features,
}
"""Feature components a spec can name (the first step)."""


@dataclass
class _Chosen:
    """A diagnoser step: the fitted diagnoser (None: the rules, fitted per signal), its
    ``--model`` name, and the files that hold it (for :func:`save_pipeline`)."""

    diagnoser: Diagnoser | None
    model: str
    files: tuple[Path, ...] = ()


def _fused(params: dict[str, Any], where: str, base: Path | None) -> _Chosen:
    from shopfloor.assessment.default_model import MODEL_NAME, from_record, model_record

    unknown = set(params) - {"model", "record"}
    if unknown or ("model" in params and "record" in params):
        raise InputError(
            f"{where}: diagnosis.fused takes either model (a shipped model's name) or record "
            f"(the path of a saved model's record), got {sorted(params)}"
        )
    if "record" in params:
        path = Path(str(params["record"]))
        if not path.is_absolute() and base is not None:
            path = base / path
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(
                f"{where}: cannot read the model record ({exc})", source=path
            ) from None
        booster = path.parent / str(record["booster_file"])
        try:
            text = booster.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{where}: cannot read the booster ({exc})", source=booster) from None
        return _Chosen(from_record(record, text, booster), "fused", (path, booster))
    name = str(params.get("model", MODEL_NAME))
    record = model_record(name)
    folder = resources.files("shopfloor.assessment").joinpath("models")
    booster = Path(str(folder.joinpath(record["booster_file"])))
    model = from_record(record, booster.read_text(encoding="utf-8"), booster)
    return _Chosen(model, "fused", (Path(str(folder.joinpath(f"{name}.json"))), booster))


def _physics(params: dict[str, Any], where: str, base: Path | None) -> _Chosen:
    if params:
        # the rules are fitted on each signal's own features by diagnose_signal; their
        # parameters are not exposed there, so a spec that sets them would be ignored
        raise InputError(f"{where}: diagnosis.physics takes no parameters, got {sorted(params)}")
    return _Chosen(None, "physics")


DIAGNOSERS: dict[str, Callable[[dict[str, Any], str, Path | None], _Chosen]] = {
    "diagnosis.fused": _fused,
    "diagnosis.physics": _physics,
}
"""Diagnosers a spec can name (the second step)."""


# ------------------------------------------------------------------------------ pipeline
@dataclass
class DiagnosisPipeline:
    """A validated spec with its components built: run it on recordings or files."""

    spec: DiagnosisSpec
    features: BearingFeatures
    diagnoser: Diagnoser | None
    model: str
    model_files: tuple[Path, ...] = ()
    source: Path | None = None

    def run(self, target: str, store: Store | None, **request: Any) -> tuple[Any, str]:
        """Diagnose ``target`` (a recording id or a CSV/Parquet file) as the spec says.

        ``request``: what ``shopfloor diagnose`` takes per target (``fs_hz``, ``rpm``,
        ``bearing``, ``asset_id``, ``channel``, ``component``, ``column``, ``unit``).
        Returns the :class:`RecordingDiagnosis` and a one-line description of the target.
        """
        from shopfloor.pipelines.diagnose import DiagnoseRequest, diagnose_target

        clash = {"window_s", "speed_band", "model"} & set(request)
        if clash:
            raise InputError(f"{', '.join(sorted(clash))}: set in the pipeline spec")
        req = DiagnoseRequest(
            target=target,
            window_s=self.spec.window_s,
            speed_band=self.spec.speed_band,
            model=self.model,
            **request,
        )
        return diagnose_target(
            req, store, diagnoser=self.diagnoser, config=self.features.feature_config()
        )

    def diagnose(self, target: str, store: Store | None, **request: Any) -> RecordingDiagnosis:
        """The :class:`RecordingDiagnosis` of :meth:`run` alone."""
        result: RecordingDiagnosis = self.run(target, store, **request)[0]
        return result


def _check_columns(features: BearingFeatures, diagnoser: Diagnoser | None, where: str) -> None:
    needed = list(getattr(diagnoser, "feature_names_in_", None) or [])
    made = set(feature_names(features.feature_config()))
    missing = [c for c in needed if c not in made]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise InputError(
            f"{where}: the diagnoser reads {len(missing)} column(s) the features step does not "
            f"make ({shown}): change the features step's parameters"
        )


_T = TypeVar("_T")


def _lookup(table: dict[str, _T], step: StepSpec, i: int, what: str, source: str) -> _T:
    found = table.get(step.use)
    if found is None:
        raise InputError(
            f"{source}: steps[{i}]: unknown {what} {step.use!r}; known: {', '.join(sorted(table))}",
            column=f"steps[{i}].use",
        )
    return found


def _build(spec: DiagnosisSpec, base: Path | None, source: str) -> DiagnosisPipeline:
    feat_step, diag_step = spec.steps
    make_features = _lookup(FEATURES, feat_step, 0, "feature component", source)
    features = make_features(dict(feat_step.with_), f"{source}: steps[0] ({feat_step.use})")
    make_diagnoser = _lookup(DIAGNOSERS, diag_step, 1, "diagnoser", source)
    where = f"{source}: steps[1] ({diag_step.use})"
    chosen = make_diagnoser(dict(diag_step.with_), where, base)
    _check_columns(features, chosen.diagnoser, where)
    return DiagnosisPipeline(spec, features, chosen.diagnoser, chosen.model, chosen.files)


def pipeline_from_dict(
    data: Any, base: Path | None = None, source: str = "<spec>"
) -> DiagnosisPipeline:
    """Validate a parsed spec and build its components; ``base`` resolves relative paths."""
    if not isinstance(data, dict):
        raise InputError("a diagnosis pipeline spec must be a YAML mapping", source=source)
    try:
        spec = DiagnosisSpec.model_validate(data)
    except ValidationError as exc:
        raise _translate(exc, Path(source), {}) from None
    return _build(spec, base, source)


def load_pipeline(path: str | Path) -> DiagnosisPipeline:
    """Read a spec file, or a folder written by :func:`save_pipeline`, and build it.

    Errors name the file, line and field; a saved model whose checksum does not match its
    record is refused (:class:`~shopfloor.core.errors.ChecksumError`).
    """
    from shopfloor.acquisition.live.fleet_config import read_yaml_model

    path = Path(path)
    if path.is_dir():
        path = path / SPEC_FILE
    spec = read_yaml_model(path, DiagnosisSpec, "diagnosis pipeline spec")
    pipeline = _build(spec, path.parent, str(path))
    pipeline.source = path
    return pipeline


def save_pipeline(pipeline: DiagnosisPipeline, folder: str | Path) -> Path:
    """Write the spec and the model it uses into ``folder``; returns the spec file's path.

    The diagnoser's files (LightGBM text booster and its record with sha256) are copied beside
    the spec, and the spec points at the copy, so the folder alone reproduces the pipeline.
    """
    import yaml

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = pipeline.spec.model_dump(by_alias=True)
    if pipeline.model_files:
        record, *others = pipeline.model_files
        for src in (record, *others):
            if src.resolve() != (folder / src.name).resolve():
                shutil.copyfile(src, folder / src.name)
        data["steps"][1]["with"] = {"record": record.name}
    target = folder / SPEC_FILE
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    header = f"# diagnosis pipeline {pipeline.spec.name}, saved with its model\n"
    target.write_text(header + text, encoding="utf-8")
    return target


def example_spec_path(name: str = "bearing_diagnosis.yaml") -> Path:
    """A spec shipped with shopfloor (``shopfloor/pipelines/specs/``)."""
    path = Path(str(resources.files("shopfloor.pipelines").joinpath("specs", name)))
    if not path.is_file():
        raise InputError(f"no shipped pipeline spec {name!r}", source=path)
    return path
