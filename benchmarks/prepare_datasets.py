"""Time to prepare each registered dataset and its size in the store (issue 3).

Run from the repository root::

    .venv/bin/python benchmarks/prepare_datasets.py

Each dataset is verified (sha256 of every file) and loaded into a fresh temporary store, three
times; the median time is reported. Writes ``benchmarks/results/prepare_datasets.json`` and
``.md``.
"""

from __future__ import annotations

import json
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shopfloor import __version__
from shopfloor.core.settings import Settings, get_settings
from shopfloor.core.store import Store
from shopfloor.datasets import all_datasets
from shopfloor.datasets.prepare import prepare

RESULTS = Path(__file__).resolve().parent / "results"
REPEATS = 3


def measure(name: str, mirror: Path | None) -> dict[str, Any]:
    runs = []
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory(prefix="shopfloor-prep-") as tmp:
            settings = Settings(home=Path(tmp), data=mirror, offline=True)
            t0 = time.perf_counter()
            with Store.open(settings.home) as store:
                report = prepare(name, store, settings)
            seconds = time.perf_counter() - t0
            total = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
            source = sum(p.stat().st_size for p in report.source.rglob("*") if p.is_file())
            runs.append((seconds, report, total, source))
    seconds = statistics.median(r[0] for r in runs)
    _, report, total, source = runs[0]
    return {
        "seconds_median": round(seconds, 2),
        "seconds_runs": [round(r[0], 2) for r in runs],
        "assets": report.n_assets,
        "recordings": report.n_recordings,
        "waveform_bytes": report.bytes_on_disk,
        "store_bytes_total": total,
        "source_bytes": source,
    }


def main() -> None:
    mirror = get_settings().data
    per_dataset = {}
    for spec in all_datasets():
        per_dataset[spec.name] = measure(spec.name, mirror)
        d = per_dataset[spec.name]
        print(
            f"{spec.name}: {d['seconds_median']} s, {d['store_bytes_total'] / 1e6:.1f} MB",
            flush=True,
        )
    headline = {
        f"{name}_{key}": value
        for name, d in per_dataset.items()
        for key, value in (
            ("prepare_s", d["seconds_median"]),
            ("store_mb", round(d["store_bytes_total"] / 1e6, 1)),
        )
    }
    doc = {
        "benchmark": "prepare_datasets",
        "issue": 3,
        "command": "python benchmarks/prepare_datasets.py",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "shopfloor_version": __version__,
        "machine": {"python": platform.python_version(), "cores_used": 1},
        "headline": headline,
        "datasets": per_dataset,
        "notes": [
            "prepare = sha256 of every file + conversion to the canonical model + one atomic "
            "write (Parquet waveforms, DuckDB metadata); median of 3 runs into fresh stores",
            "store_mb counts everything in the data directory, database included",
        ],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "prepare_datasets.json"
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# Preparing the public datasets",
        "",
        f"`{doc['command']}` · shopfloor {__version__} · {doc['created']}",
        "",
        "| dataset | assets | recordings | prepare (s, median of 3) | store (MB) | source (MB) |",
        "|---|---|---|---|---|---|",
    ]
    for name, d in per_dataset.items():
        lines.append(
            f"| {name} | {d['assets']} | {d['recordings']} | {d['seconds_median']} | "
            f"{d['store_bytes_total'] / 1e6:.1f} | {d['source_bytes'] / 1e6:.1f} |"
        )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
