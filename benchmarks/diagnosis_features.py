"""Physics-feature throughput on real CWRU windows, one core (issue 13: the spectra-once path).

Run (from the repository root)::

    ./sf bench diagnosis_features                        # this checkout only
    git archive cb7859c src | tar -x -C /tmp/fbase       # the code before the throughput work
    ./sf bench diagnosis_features --baseline-src /tmp/fbase/src   # both, side by side

Writes ``benchmarks/results/diagnosis_features.json`` (``headline.features_windows_per_s``) and
``.md``.

Windows: the drive-end CWRU corpus of ``diagnosis_cwru`` (every SKF fault recording and the
healthy baseline resampled to 12 kHz), cut into 2,048-sample windows and repeated to 4,000, as
``diagnosis_cwru.shopfloor_throughput`` measures them; also 12,000-sample (1 s) windows, and the
``bearing_analysis`` path that ``shopfloor diagnose`` uses (features plus the envelope spectra
kept for display). Each variant runs in its own worker process (one thread), the checkout and the
baseline taking turns in every repeat so that a busy spell of a shared machine hits both alike.
Reported: windows per wall-clock second and per CPU second of the worker (the CPU rate is the
steadier one when other jobs share the cores), median over the repeats, every run kept.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core, as promised in the results

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
N_WINDOWS_2048 = 4000  # as diagnosis_cwru.shopfloor_throughput
VARIANTS = {
    # name: (window length, feature path, shape features)
    "physics_2048": (2048, "features", False),
    "physics+shape_2048": (2048, "features", True),
    "analysis_2048": (2048, "analysis", False),
    "physics_12000": (12000, "features", False),
}


def log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {msg}", flush=True)


def worker(args: argparse.Namespace) -> None:
    """Time one variant on the saved windows; print one JSON line (wall and CPU rates)."""
    from shopfloor.core.assets import BearingGeometry
    from shopfloor.manipulation import bearing_features as bf

    data = np.load(args.worker)
    length, path, shape = VARIANTS[args.variant]
    windows, rpm = data[f"windows_{length}"], data[f"rpm_{length}"]
    geometry = BearingGeometry(**json.loads(str(data["geometry"])))
    cfg = bf.BearingFeatureConfig(shape=shape)
    fs = float(data["fs"])

    def run(x: np.ndarray, r: np.ndarray) -> None:
        if path == "analysis":
            bf.bearing_analysis(x, fs, r, geometry, cfg)
        else:
            bf.bearing_features(x, fs, r, geometry, cfg)

    run(windows[:64], rpm[:64])  # imports, caches and first allocations out of the timing
    wall, cpu = [], []
    for _ in range(args.inner):
        t0, c0 = time.perf_counter(), time.process_time()
        run(windows, rpm)
        wall.append(len(windows) / (time.perf_counter() - t0))
        cpu.append(len(windows) / (time.process_time() - c0))
    print(json.dumps({"wall": wall, "cpu": cpu, "n_windows": len(windows)}))


def prepare_windows(data_dir: Path | None, target: Path) -> dict[str, Any]:
    """The drive-end corpus of diagnosis_cwru, cut to 2,048 and 12,000 samples, saved to npz."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from diagnosis_windows import cut_windows, load_corpus

    from shopfloor.core.settings import Settings, get_settings
    from shopfloor.core.store import Store
    from shopfloor.datasets.prepare import prepare

    home = Path(tempfile.mkdtemp(prefix="shopfloor-bench-"))
    settings = Settings(home=home, data=data_dir or get_settings().data, offline=True)
    with Store.open(home) as store:
        prepare("cwru", store, settings)
        corpus = load_corpus(store, "cwru", "de_bearing", healthy_train_fraction=0.6)
    arrays: dict[str, Any] = {"fs": corpus.fs, "geometry": corpus.geometry.model_dump_json()}
    described: dict[str, Any] = {"recordings": len(corpus.segments), "fs_hz": corpus.fs}
    for length in sorted({v[0] for v in VARIANTS.values()}):
        windows, meta = cut_windows(corpus, length)
        # 4,000 windows of 2,048 samples; the same number of samples in longer windows
        want = N_WINDOWS_2048 * 2048 // length
        reps = int(np.ceil(want / len(windows)))
        arrays[f"windows_{length}"] = np.tile(windows, (reps, 1))[:want]
        arrays[f"rpm_{length}"] = np.tile(meta["rpm"].to_numpy(), reps)[:want]
        described[f"windows_{length}"] = {"distinct": len(windows), "timed": want}
    np.savez(target, **arrays)
    return described


def run_worker(npz: Path, variant: str, inner: int, src: Path | None) -> dict[str, Any]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, __file__, "--worker", str(npz), "--variant", variant]
    out = subprocess.run(
        [*cmd, "--inner", str(inner)], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def summary(runs: list[float]) -> dict[str, Any]:
    return {"median": round(float(np.median(runs)), 1), "runs": [round(v, 1) for v in runs]}


def markdown(doc: dict[str, Any]) -> str:
    lines = [
        "# Physics-feature throughput (CWRU drive-end windows, one core)",
        "",
        f"Run {doc['started_utc']}, {doc['wall_seconds']} s; machine: {doc['machine']}; "
        f"load average at start / end: {doc['load_average_start']} / {doc['load_average_end']}.",
        "",
        f"**features_windows_per_s = {doc['headline']['features_windows_per_s']}** "
        "(2,048-sample windows, physics features, wall clock, median).",
        "",
        "| variant | code | windows/s (wall, median) | windows/s (CPU, median) |",
        "|---|---|---|---|",
    ]
    for variant, codes in doc["variants"].items():
        for code, res in codes.items():
            lines.append(
                f"| {variant} | {code} | {res['wall']['median']} | {res['cpu']['median']} |"
            )
    if doc.get("speedup_vs_baseline"):
        lines += ["", "Speed-up over the baseline (ratio of medians, same run):", ""]
        lines += [
            f"- {v}: wall {s['wall']}×, CPU {s['cpu']}×"
            for v, s in doc["speedup_vs_baseline"].items()
        ]
    lines += ["", doc["notes"], ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=5, help="worker processes per variant")
    parser.add_argument("--inner", type=int, default=3, help="timed runs in each worker")
    parser.add_argument(
        "--baseline-src",
        type=Path,
        default=None,
        help="a src/ folder of another shopfloor version, timed side by side",
    )
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--out", type=Path, default=RESULTS / "diagnosis_features.json")
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--variant", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args)
        return

    from shopfloor import __version__

    started = time.perf_counter()
    load_start = [round(v, 2) for v in os.getloadavg()]
    codes: dict[str, Path | None] = {"this checkout": None}
    if args.baseline_src is not None:
        codes["baseline"] = args.baseline_src.resolve()
    with tempfile.TemporaryDirectory(prefix="shopfloor-features-") as tmp:
        npz = Path(tmp) / "windows.npz"
        corpus = prepare_windows(args.data_dir, npz)
        log(f"windows ready: {corpus}")
        runs: dict[str, dict[str, dict[str, list[float]]]] = {
            v: {c: {"wall": [], "cpu": []} for c in codes} for v in args.variants
        }
        for rep in range(args.repeats):
            for variant in args.variants:
                for code, src in codes.items():  # the codes take turns in every repeat
                    res = run_worker(npz, variant, args.inner, src)
                    runs[variant][code]["wall"] += res["wall"]
                    runs[variant][code]["cpu"] += res["cpu"]
                    log(
                        f"repeat {rep + 1}/{args.repeats} {variant} {code}: "
                        f"{np.median(res['wall']):.0f} windows/s wall, "
                        f"{np.median(res['cpu']):.0f} CPU"
                    )
    variants = {
        v: {c: {k: summary(r) for k, r in by_code.items()} for c, by_code in per.items()}
        for v, per in runs.items()
    }
    speedup = {}
    if "baseline" in codes:
        for v, per in variants.items():
            speedup[v] = {
                k: round(per["this checkout"][k]["median"] / per["baseline"][k]["median"], 2)
                for k in ("wall", "cpu")
            }
    headline_variant = variants.get("physics_2048", {}).get("this checkout")
    doc = {
        "benchmark": "diagnosis_features",
        "shopfloor_version": __version__,
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "load_average_start": load_start,
        "load_average_end": [round(v, 2) for v in os.getloadavg()],
        "headline": {
            "features_windows_per_s": headline_variant["wall"]["median"]
            if headline_variant
            else None,
        },
        "corpus": corpus,
        "baseline_src": str(codes.get("baseline")) if "baseline" in codes else None,
        "variants": variants,
        "speedup_vs_baseline": speedup,
        "notes": (
            "One thread per worker (OMP/MKL/OpenBLAS = 1, scipy.fft workers=1). Wall-clock "
            "rates drop when other jobs share the machine; the CPU rate (windows per CPU second "
            "of the worker) drops far less. physics_12000: 1 s windows (the decisions of "
            "diagnosis_cwru), counted in windows of 12,000 samples. analysis_2048: "
            "bearing_analysis, which also keeps every band's envelope spectra (shopfloor "
            "diagnose)."
        ),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(markdown(doc), encoding="utf-8")
    log(f"wrote {args.out} and {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
