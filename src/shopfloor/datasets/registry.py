"""Dataset registry, source resolution and checksum verification.

Each dataset is a :class:`DatasetSpec` subclass in a module of this package, discovered by
crawling the package (no hand-kept list). A spec declares its origin, license, citation and the
sha256 of every file it expects; the checksums ship with shopfloor (``checksums/<name>.sha256``)
so a mirror cannot vouch for itself.

Files come from, in order: an explicit ``--source DIR``; the ``SHOPFLOOR_DATA`` mirror
(default ``../shared/data``) folder named like the dataset; or, when online, the publisher's
URLs downloaded into the cache directory.
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
import shutil
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import ClassVar

from shopfloor.core.assets import Asset
from shopfloor.core.errors import ChecksumError, DatasetNotFoundError
from shopfloor.core.recording import RecordingData

Progress = Callable[[int, int, str], None]
"""Progress callback: (done, total, what)."""


@dataclass(frozen=True)
class ExpectedFile:
    """A file a dataset needs: path relative to the dataset folder and its sha256."""

    path: str
    sha256: str


class DatasetSpec(ABC):
    """A public dataset: where it comes from, what it contains, how to load it.

    Subclasses set the class attributes and implement :meth:`load`, which yields every
    :class:`Asset` before the recordings that refer to it.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    version: ClassVar[str] = "1"
    origin: ClassVar[str]
    license: ClassVar[str]
    citation: ClassVar[str]
    summary: ClassVar[str] = ""

    def expected_files(self) -> list[ExpectedFile]:
        """Files and sha256 sums, from the checksum list shipped with shopfloor."""
        text = (
            resources.files("shopfloor.datasets")
            .joinpath("checksums", f"{self.name}.sha256")
            .read_text(encoding="utf-8")
        )
        files = []
        for line in text.splitlines():
            if line.strip() and not line.startswith("#"):
                digest, rel = line.split(maxsplit=1)
                files.append(ExpectedFile(rel.strip().lstrip("*"), digest.lower()))
        return files

    def url_for(self, rel_path: str) -> str | None:
        """The publisher's URL for one file, or None when it cannot be downloaded singly."""
        return None

    @abstractmethod
    def load(self, root: Path, progress: Progress | None = None) -> Iterator[Asset | RecordingData]:
        """Yield assets and recordings in the canonical model from a verified folder."""

    def info(self) -> dict[str, str | int]:
        files = self.expected_files()
        return {
            "name": self.name,
            "title": self.title,
            "version": self.version,
            "origin": self.origin,
            "license": self.license,
            "citation": self.citation,
            "summary": self.summary,
            "files": len(files),
        }


def _subclasses(cls: type) -> Iterator[type[DatasetSpec]]:
    sub: type[DatasetSpec]
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@cache
def _discover() -> dict[str, type[DatasetSpec]]:
    package = importlib.import_module("shopfloor.datasets")
    for mod in pkgutil.iter_modules(package.__path__, prefix="shopfloor.datasets."):
        importlib.import_module(mod.name)
    found: dict[str, type[DatasetSpec]] = {}
    for sub in _subclasses(DatasetSpec):
        if not getattr(sub, "__abstractmethods__", None):
            found[sub.name] = sub
    return dict(sorted(found.items()))


def all_datasets() -> list[DatasetSpec]:
    """Every registered dataset, sorted by name."""
    return [cls() for cls in _discover().values()]


def get_dataset(name: str) -> DatasetSpec:
    """The dataset called ``name``; an unknown name lists the known ones."""
    registry = _discover()
    if name not in registry:
        raise DatasetNotFoundError(
            f"unknown dataset {name!r}; known datasets: {', '.join(registry)}"
        )
    return registry[name]()


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify(spec: DatasetSpec, root: Path, progress: Progress | None = None) -> dict[str, str]:
    """Check every expected file under ``root``; return {path: sha256}.

    Raises :class:`ChecksumError` naming the first missing, truncated or altered file with
    both checksums.
    """
    files = spec.expected_files()
    sums = {}
    for i, f in enumerate(files):
        path = root / f.path
        if not path.is_file():
            raise ChecksumError(path, f.sha256, None)
        actual = sha256_of(path)
        if actual != f.sha256:
            raise ChecksumError(path, f.sha256, actual)
        sums[f.path] = actual
        if progress is not None:
            progress(i + 1, len(files), f.path)
    return sums


def resolve_source(
    spec: DatasetSpec,
    source: Path | None,
    mirror: Path | None,
    cache_dir: Path,
    *,
    offline: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Find a folder holding ``spec``'s files; download into ``cache_dir`` as a last resort."""
    if source is not None:
        if not source.is_dir():
            raise DatasetNotFoundError(f"--source {source} is not a directory")
        return source
    if mirror is not None and (mirror / spec.name).is_dir():
        return mirror / spec.name
    target = cache_dir / spec.name
    if target.is_dir() and all((target / f.path).is_file() for f in spec.expected_files()):
        return target
    if offline:
        raise DatasetNotFoundError(
            f"dataset {spec.name!r}: no local copy (looked in {mirror}, {target}) and offline"
        )
    download(spec, target, progress=progress)
    return target


def download(spec: DatasetSpec, target: Path, progress: Progress | None = None) -> None:
    """Fetch every expected file from the publisher into ``target``, verifying each."""
    files = spec.expected_files()
    missing_urls = [f.path for f in files if spec.url_for(f.path) is None]
    if missing_urls:
        raise DatasetNotFoundError(
            f"dataset {spec.name!r} has no local copy and {len(missing_urls)} of its files "
            f"cannot be downloaded from the publisher (e.g. {missing_urls[0]}); "
            "point --source or SHOPFLOOR_DATA at a copy"
        )
    for i, f in enumerate(files):
        dest = target / f.path
        if dest.is_file() and sha256_of(dest) == f.sha256:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_suffix(dest.suffix + ".part")
        url = spec.url_for(f.path)
        assert url is not None
        try:
            with urllib.request.urlopen(url, timeout=30) as resp, partial.open("wb") as out:
                shutil.copyfileobj(resp, out)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise DatasetNotFoundError(
                f"dataset {spec.name!r}: cannot download {f.path} from {url}: {exc}"
            ) from exc
        actual = sha256_of(partial)
        if actual != f.sha256:
            partial.unlink(missing_ok=True)
            raise ChecksumError(dest, f.sha256, actual)
        partial.replace(dest)
        if progress is not None:
            progress(i + 1, len(files), f.path)
