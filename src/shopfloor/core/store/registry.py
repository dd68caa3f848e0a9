"""Model registry: every saved model recorded, deployments per asset or group, hash-checked loads.

A registered model file is copied into ``models/<sha256>.model`` (named by the hash of the whole
file, so two registrations of one file are one entry) with its feature configuration, training
data reference, metrics and author in the catalog. The catalog's hash is the reference: a file
that no longer matches it is refused on load (:class:`ModelIntegrityError`), whoever edited it.

Deployments are an append-only history per target (an asset id, or a group name such as
``"group:pumps"``): ``activate`` makes a model the one serving the target, ``rollback`` goes
back to the model that served before the current one. The active model is the newest
activation not undone by a rollback.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from shopfloor.core import persistence
from shopfloor.core.errors import InputError, StoreError
from shopfloor.core.persistence import ModelIntegrityError
from shopfloor.core.store.catalog import now_iso
from shopfloor.core.store.handle import StoreHandle
from shopfloor.core.store.io import file_sha256


class ModelRegistry(StoreHandle):
    """Registered models and their deployments (mixed into :class:`Store`)."""

    def register_model(
        self,
        path: Path | str,
        *,
        name: str,
        created_by: str,
        feature_config: dict[str, Any] | None = None,
        training_data: str | None = None,
        metrics: dict[str, float] | None = None,
    ) -> str:
        """Record a model file saved with :func:`shopfloor.core.persistence.save`; returns its id.

        ``feature_config`` defaults to the feature schema in the file's version record, so a
        model always carries how its inputs were made.
        """
        self._require_writer()
        source = Path(path)
        try:
            record = persistence.read_record(source)
        except (OSError, persistence.ModelFileError) as exc:
            raise InputError(f"not a shopfloor model file: {exc}", source=source) from exc
        if not created_by.strip():
            raise InputError("say who created the model", column="created_by")
        sha = file_sha256(source)
        model_id = sha[:16]
        if self._con.execute("SELECT 1 FROM models WHERE id = ?", [model_id]).fetchone():
            return model_id
        rel = Path("models") / f"{sha}.model"
        staged = self.home / ".staging" / f"model-{sha}"
        staged.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, staged)
        with staged.open("rb") as fh:
            os.fsync(fh.fileno())
        (self.home / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, self.home / rel)
        config = (
            feature_config if feature_config is not None else record.feature_schema.model_dump()
        )
        with self._transaction() as con:
            con.execute(
                "INSERT INTO models (id, name, path, version_record, created, sha256, "
                "feature_config, training_data, metrics, created_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    model_id,
                    name,
                    str(rel),
                    record.model_dump_json(),
                    now_iso(),
                    sha,
                    json.dumps(config, default=str),
                    training_data,
                    json.dumps(metrics or {}),
                    created_by,
                ],
            )
        return model_id

    def models(self) -> list[dict[str, Any]]:
        cur = self._con.execute(
            "SELECT id, name, path, created, sha256, feature_config, training_data, metrics, "
            "created_by FROM models ORDER BY created"
        )
        cols = [d[0] for d in cur.description]
        out = []
        for row in cur.fetchall():
            m = dict(zip(cols, row, strict=True))
            for key in ("feature_config", "metrics"):
                m[key] = json.loads(m[key]) if m[key] else None
            out.append(m)
        return out

    def model_path(self, model_id: str) -> Path:
        """The registered file, after checking it still matches the catalog's hash."""
        row = self._con.execute(
            "SELECT path, sha256 FROM models WHERE id = ?", [model_id]
        ).fetchone()
        if row is None:
            raise KeyError(f"no model {model_id!r} in {self.home}")
        path = self.home / str(row[0])
        if not path.exists():
            raise StoreError(f"model {model_id!r}: file {path} is missing")
        actual = file_sha256(path)
        if actual != row[1]:
            raise ModelIntegrityError(
                f"{path}: sha256 {actual} does not match the registered {row[1]}; "
                "the file was changed after registration, it will not be loaded"
            )
        return path

    def load_model(self, model_id: str, *, trusted: bool = False) -> Any:
        """Load a registered model, verifying its hash first (see :func:`persistence.load`)."""
        path = self.model_path(model_id)
        row = self._con.execute(
            "SELECT version_record FROM models WHERE id = ?", [model_id]
        ).fetchone()
        payload_sha = json.loads(row[0])["sha256"] if row and row[0] else None
        return persistence.load(path, trusted=trusted, expected_sha256=payload_sha)

    # ------------------------------------------------------------------ deployments
    def activate_model(self, target: str, model_id: str, *, who: str, note: str = "") -> None:
        """Make ``model_id`` the model serving ``target`` (asset id or group name)."""
        if self._con.execute("SELECT 1 FROM models WHERE id = ?", [model_id]).fetchone() is None:
            raise InputError(f"no registered model {model_id!r}", column="model_id")
        self._deployment(target, model_id, "activate", who, note)

    def rollback_model(self, target: str, *, who: str, note: str = "") -> str:
        """Serve ``target`` with the model that served before the current one; returns its id."""
        stack = self._active_stack(target)
        if len(stack) < 2:
            raise InputError(
                f"{target!r} has no earlier model to roll back to "
                f"({'one model active' if stack else 'no model active'})",
                column="target",
            )
        self._deployment(target, stack[-1], "rollback", who, note)
        return stack[-2]

    def active_model(self, target: str, *, groups: tuple[str, ...] = ()) -> str | None:
        """The model serving ``target``, else the first of ``groups`` that has one."""
        for t in (target, *groups):
            stack = self._active_stack(t)
            if stack:
                return stack[-1]
        return None

    def deployment_history(self, target: str) -> list[dict[str, str]]:
        rows = self._con.execute(
            "SELECT at, model_id, action, who, note FROM deployments WHERE target = ? ORDER BY id",
            [target],
        ).fetchall()
        return [
            dict(zip(("at", "model_id", "action", "who", "note"), r, strict=True)) for r in rows
        ]

    def _active_stack(self, target: str) -> list[str]:
        stack: list[str] = []
        for model_id, action in self._con.execute(
            "SELECT model_id, action FROM deployments WHERE target = ? ORDER BY id", [target]
        ).fetchall():
            if action == "activate":
                stack.append(model_id)
            elif stack:
                stack.pop()
        return stack

    def _deployment(self, target: str, model_id: str, action: str, who: str, note: str) -> None:
        if not who.strip():
            raise InputError("say who: the deployment history records a person", column="who")
        with self._transaction() as con:
            con.execute(
                "INSERT INTO deployments (target, model_id, action, at, who, note) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [target, model_id, action, now_iso(), who, note],
            )
