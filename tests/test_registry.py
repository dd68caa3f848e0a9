"""Dataset registry: discovery, checksums, source resolution, bad names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shopfloor.core.errors import ChecksumError, DatasetNotFoundError
from shopfloor.core.settings import Settings
from shopfloor.core.store import Store
from shopfloor.datasets import all_datasets, get_dataset
from shopfloor.datasets.prepare import prepare
from shopfloor.datasets.registry import resolve_source, sha256_of, verify


def test_every_mirror_dataset_is_registered_with_its_terms() -> None:
    names = [d.name for d in all_datasets()]
    assert names == ["cmapss", "cwru", "cwru_fan_end", "femto_pronostia", "skab"]
    for spec in all_datasets():
        assert spec.origin.startswith("http")
        assert spec.license
        assert spec.citation
        assert spec.title
        files = spec.expected_files()
        assert files
        assert all(len(f.sha256) == 64 for f in files)


def test_unknown_dataset_lists_known_ones() -> None:
    with pytest.raises(DatasetNotFoundError, match=r"unknown dataset .cwrux.*cmapss, cwru"):
        get_dataset("cwrux")


@pytest.fixture
def skab_copy(dataset_dir, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    copy = tmp_path / "skab"
    shutil.copytree(dataset_dir("skab"), copy)
    return copy


def test_altered_file_names_file_and_both_checksums(skab_copy: Path) -> None:
    target = skab_copy / "valve1" / "3.csv"
    expected = sha256_of(target)
    data = bytearray(target.read_bytes())
    data[100] ^= 0x01  # one flipped bit
    target.write_bytes(bytes(data))
    with pytest.raises(ChecksumError) as err:
        verify(get_dataset("skab"), skab_copy)
    message = str(err.value)
    assert str(target) in message
    assert expected in message
    assert sha256_of(target) in message


def test_truncated_and_missing_files_are_named(skab_copy: Path) -> None:
    target = skab_copy / "other" / "5.csv"
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(ChecksumError, match=r"other/5\.csv"):
        verify(get_dataset("skab"), skab_copy)
    target.unlink()
    with pytest.raises(ChecksumError, match=r"other/5\.csv.*file is missing"):
        verify(get_dataset("skab"), skab_copy)


def test_corrupted_source_leaves_store_untouched(skab_copy: Path, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", data=None, offline=True)
    with Store.open(settings.home) as store:
        prepare("skab", store, settings, source=skab_copy)
        before = [r.id for r in store.recordings(dataset="skab")]
        (skab_copy / "valve2" / "1.csv").write_text("datetime;garbage\n")
        with pytest.raises(ChecksumError):
            prepare("skab", store, settings, source=skab_copy)
        assert [r.id for r in store.recordings(dataset="skab")] == before


def test_offline_without_copy_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match=r"no local copy.*offline"):
        resolve_source(
            get_dataset("cwru"), None, tmp_path / "no-mirror", tmp_path / "cache", offline=True
        )


def test_source_that_is_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="is not a directory"):
        resolve_source(get_dataset("cwru"), tmp_path / "nope", None, tmp_path, offline=True)


def test_dataset_without_download_urls_says_so(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="cannot be downloaded from the publisher"):
        resolve_source(get_dataset("femto_pronostia"), None, None, tmp_path / "cache")
