"""The component base classes are typed: mypy catches a misspelt or missing hook (issue 13)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BAD = textwrap.dedent(
    """
    from shopfloor.core.base import FloatArray, Transformer


    class Offset(Transformer):
        def _transfrom(self, x: FloatArray) -> FloatArray:  # misspelt hook
            return x


    Offset().fit([[0.0]])
    """
)


@pytest.mark.slow
def test_mypy_catches_a_misspelt_hook(tmp_path: Path) -> None:
    if shutil.which("mypy") is None and not (Path(sys.executable).parent / "mypy").exists():
        pytest.skip("mypy is not installed (dev extra)")
    bad = tmp_path / "bad_component.py"
    bad.write_text(BAD, encoding="utf-8")
    mypy = str(Path(sys.executable).parent / "mypy")
    run = subprocess.run(
        [mypy, "--strict", "--no-incremental", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1, run.stdout
    assert 'Cannot instantiate abstract class "Offset"' in run.stdout
    assert '"_transform"' in run.stdout
