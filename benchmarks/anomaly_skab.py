"""Anomaly and changepoint detection benchmark on SKAB, following its protocol (issue 14).

Run (from the repository root)::

    ./sf bench anomaly_skab                       # everything, a few minutes on one core
    ./sf bench anomaly_skab --dataset skab --data-dir ../shared/data/skab

Writes ``benchmarks/results/anomaly_skab.json`` and ``.md``.

Protocol (waico/SKAB notebooks and ``core/utils.py``): each of the 34 labelled experiment files
is split in time, the first 400 rows (before every anomaly) to fit on, the rest to score;
nothing is fitted across files, nothing is tuned per file, and no setting was chosen on the
scored rows. Outlier metrics F1 / FAR / MAR over all scored rows; changepoint metric NAB
(standard, low FP, low FN) with a 60 s window to the right of each true changepoint, the
predicted changepoints being the edges of the alarm. Metrics: ``shopfloor.evaluation.
skab_metrics`` (reproduces SKAB's reference T²+Q row exactly, see the ``reference`` rows).

Side by side in the same run: PyOD's IForest, ECOD, COPOD, LOF and AutoEncoder, each scored
causally (every test row against the training rows only), with PyOD's own threshold and with
the shopfloor threshold + alarm logic; SKAB's reference T²+Q rule with its own Q limit and
with the textbook Jackson–Mudholkar limit; the trivial "always anomalous" detector. SKAB's
published leaderboard rows are copied beside ours with their source.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core, as promised in the results

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baselines import pyod_peers  # noqa: E402
from baselines.skab_t2q import t2q_alarms  # noqa: E402

from shopfloor import __version__  # noqa: E402
from shopfloor.core.settings import get_settings  # noqa: E402
from shopfloor.detection.alarms import PersistenceAlarm  # noqa: E402
from shopfloor.detection.autoencoder import ConvAutoencoder  # noqa: E402
from shopfloor.detection.changepoint import CusumAlarm  # noqa: E402
from shopfloor.detection.forecast import ForecastResidualMonitor  # noqa: E402
from shopfloor.detection.pca import PCAMonitor  # noqa: E402
from shopfloor.detection.similarity import IsolationForestScorer, SimilarityMonitor  # noqa: E402
from shopfloor.detection.thresholds import POTThreshold  # noqa: E402
from shopfloor.evaluation.anomaly_protocol import (  # noqa: E402
    Split,
    evaluate_alarms,
    load_labelled,
    split_runs,
)
from shopfloor.pipelines.anomaly_monitor import AnomalyMonitor  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SOURCE = "https://github.com/waico/SKAB README, 'Proposed Leaderboard' (commit b2c0d46)"
# (algorithm, F1, FAR %, MAR %) and (algorithm, NAB std, low FP, low FN, missed CPs, FPs)
LEADERBOARD_OUTLIER = [
    ("Conv-AE", 0.78, 13.55, 28.02),
    ("MSET", 0.78, 39.73, 14.13),
    ("T-squared+Q (PCA-based)", 0.76, 26.62, 24.92),
    ("LSTM-AE", 0.74, 29.96, 25.92),
    ("T-squared", 0.66, 19.21, 42.6),
    ("LSTM-VAE", 0.56, 9.13, 55.03),
    ("Vanilla LSTM", 0.54, 12.54, 59.53),
    ("MSCRED", 0.36, 49.94, 69.88),
    ("Vanilla AE", 0.39, 2.59, 75.15),
    ("Isolation forest", 0.29, 2.56, 82.89),
]
LEADERBOARD_CP = [
    ("MSCRED", 32.42, 16.53, 40.28, 55, 342),
    ("Isolation forest", 26.16, 19.5, 30.82, 76, 135),
    ("T-squared+Q (PCA-based)", 25.35, 14.51, 31.33, 72, 232),
    ("Conv-AE", 23.61, 21.54, 27.55, 82, 23),
    ("LSTM-AE", 23.51, 20.11, 25.91, 88, 69),
    ("T-squared", 19.54, 10.2, 24.31, 70, 106),
    ("MSET", 13.84, 10.22, 17.37, 96, 66),
    ("Vanilla AE", 11.41, 6.53, 13.91, 103, 106),
    ("Vanilla LSTM", 11.31, -3.8, 17.25, 90, 342),
    ("ArimaFD", -0.09, -0.17, -0.06, 127, 2),
]
HEADLINE_ENTRY = "shopfloor PCA T²/Q + POT + persistence"
NOTES = [
    "The headline is the configuration declared as the default before the first run "
    "(AnomalyMonitor() with its defaults); no row was chosen by its result.",
    "The '(holdout calibration)' rows were added after the first full run had been seen; they "
    "are reported, not promoted: making one of them the default because it scored better here "
    "would be a choice made on the test data.",
    "SKAB has no speed or load channel, so ModeAwareScorer (operating modes) is not run here.",
    "PyOD rows: 's' of the own-threshold row includes fitting and causal scoring; the second "
    "row reuses those scores. ECOD and COPOD are scored one row at a time (their "
    "decision_function re-estimates its ECDFs from the rows it is given).",
    "Flagging every scored row gives F1 0.70 (the 'always anomalous' row): F1 means little "
    "without FAR and MAR.",
]

Detect = Callable[[pd.DataFrame, pd.DataFrame], pd.Series | tuple[pd.Series, pd.Series]]


def log(msg: str) -> None:
    print(f"[anomaly_skab] {msg}", flush=True)


def monitor(**kwargs: Any) -> Detect:
    def detect(train: pd.DataFrame, test: pd.DataFrame) -> pd.Series:
        return AnomalyMonitor(**kwargs).fit(train).detect(test).alarm

    return detect


def shopfloor_entries() -> dict[str, tuple[str, Detect]]:
    """Every shopfloor configuration, declared before any scoring: defaults, not tuned."""
    return {
        HEADLINE_ENTRY: ("PCAMonitor() → POTThreshold(risk=1e-3) → PersistenceAlarm()", monitor()),
        "shopfloor PCA T²/Q + POT + CUSUM": (
            "PCAMonitor() → POTThreshold(risk=1e-3) → CusumAlarm()",
            monitor(alarm=CusumAlarm()),
        ),
        "shopfloor PCA T²/Q + POT + CUSUM, changepoints = CUSUM onsets": (
            "as above; predicted changepoints are the CUSUM onset estimates and alarm ends",
            cusum_onsets,
        ),
        "shopfloor MSET-style similarity": (
            "SimilarityMonitor() → POTThreshold(risk=1e-3) → PersistenceAlarm()",
            monitor(scorer=SimilarityMonitor()),
        ),
        "shopfloor VAR forecast residual": (
            "ForecastResidualMonitor() → POTThreshold(risk=1e-3) → PersistenceAlarm()",
            monitor(scorer=ForecastResidualMonitor()),
        ),
        "shopfloor conv autoencoder": (
            "ConvAutoencoder() → POTThreshold(risk=1e-3) → PersistenceAlarm()",
            monitor(scorer=ConvAutoencoder()),
        ),
        "shopfloor isolation forest": (
            "IsolationForestScorer() → POTThreshold(risk=1e-3) → PersistenceAlarm()",
            monitor(scorer=IsolationForestScorer()),
        ),
    }


def cusum_onsets(train: pd.DataFrame, test: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """PCA + CUSUM alarms; changepoints = CUSUM onset estimates (where each excess began,
    dated once the alarm is raised) and the alarms' ends."""
    mon = AnomalyMonitor(alarm=CusumAlarm()).fit(train)
    det = mon.detect(test)
    margins = mon.threshold_.margin(det.scores.to_numpy())
    assert isinstance(mon.alarm_, CusumAlarm)
    cp = np.zeros(len(test))
    cp[mon.alarm_.changepoints(margins)] = 1.0
    ends = np.flatnonzero(np.diff(det.alarm.to_numpy(), prepend=0) == -1)
    cp[ends] = 1.0
    return det.alarm, pd.Series(cp, index=test.index)


def holdout_entries() -> dict[str, tuple[str, Detect]]:
    """The same scorers with the threshold calibrated on held-out healthy rows."""
    scorers: dict[str, Any] = {
        "PCA T²/Q": PCAMonitor(),
        "MSET-style similarity": SimilarityMonitor(),
        "VAR forecast residual": ForecastResidualMonitor(),
        "conv autoencoder": ConvAutoencoder(),
    }
    return {
        f"shopfloor {name} + POT (holdout calibration) + persistence": (
            f"{type(sc).__name__}() → POTThreshold(risk=1e-3) calibrated on the last 25 % of the "
            "healthy rows → PersistenceAlarm()",
            monitor(scorer=sc, calibration="holdout"),
        )
        for name, sc in scorers.items()
    }


def reference_entries() -> dict[str, tuple[str, Detect]]:
    return {
        "reference T²+Q, SKAB's Q limit": (
            "SKAB core/t2.py rule as in its notebook (re-implemented)",
            lambda tr, te: t2q_alarms(tr, te, q_limit="skab"),
        ),
        "reference T²+Q, textbook Q limit": (
            "same rule, Jackson–Mudholkar θ_i = Σ λ_j^i",
            lambda tr, te: t2q_alarms(tr, te, q_limit="textbook"),
        ),
        "always anomalous (trivial)": (
            "every scored row flagged",
            lambda tr, te: pd.Series(1, index=te.index),
        ),
    }


def peer_entries() -> dict[str, tuple[str, Detect]]:
    """Each peer is fitted and scored once per file; both threshold rules reuse the scores."""
    cache: dict[tuple[str, str], tuple[Any, np.ndarray]] = {}

    def scored(name: str, tr: pd.DataFrame, te: pd.DataFrame) -> tuple[Any, np.ndarray]:
        key = (name, str(te.index[0]))
        if key not in cache:
            model = pyod_peers.fit(name, tr.to_numpy())
            pyod_peers.check_causal(name, model, te.to_numpy())
            cache[key] = (model, pyod_peers.causal_scores(name, model, te.to_numpy()))
        return cache[key]

    out: dict[str, tuple[str, Detect]] = {}
    for name in pyod_peers.PEERS:

        def own(tr: pd.DataFrame, te: pd.DataFrame, name: str = name) -> pd.Series:
            model, scores = scored(name, tr, te)
            return pd.Series((scores > model.threshold_).astype(int), index=te.index)

        def ours(tr: pd.DataFrame, te: pd.DataFrame, name: str = name) -> pd.Series:
            model, scores = scored(name, tr, te)
            threshold = POTThreshold(risk=1e-3).fit(np.asarray(model.decision_scores_))
            alarm = PersistenceAlarm().fit([0.0]).predict(threshold.margin(scores))
            return pd.Series(alarm, index=te.index)

        out[f"PyOD {name} (own threshold, contamination 0.1)"] = ("PyOD defaults", own)
        out[f"PyOD {name} + shopfloor threshold/alarm"] = (
            "PyOD defaults → POTThreshold(risk=1e-3) → PersistenceAlarm() (same scores)",
            ours,
        )
    return out


def run_entry(splits: list[Split], name: str, what: str, detect: Detect) -> dict[str, Any]:
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = evaluate_alarms(splits, detect)
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["configuration"] = what
    log(
        f"{name}: F1 {result['f1']} FAR {result['far']} MAR {result['mar']} "
        f"NAB {result['nab_standard']}/{result['nab_low_fp']}/{result['nab_low_fn']} "
        f"FP {result['changepoint_false_positives']} ({result['seconds']} s)"
    )
    return result


def throughput(splits: list[Split], min_steps: int = 100_000, repeats: int = 5) -> dict[str, Any]:
    """PCAMonitor streaming speed on this dataset's channels, one core, median of repeats."""
    train = splits[0].train
    model = PCAMonitor().fit(train)
    test = pd.concat([s.test for s in splits]).to_numpy()
    reps = int(np.ceil(min_steps / len(test)))
    values = np.tile(test, (reps, 1))[:min_steps]
    names = [str(c) for c in train.columns]
    rows = [dict(zip(names, map(float, r), strict=True)) for r in values]
    one, one_cpu, block, learn = [], [], [], []
    load_before = os.getloadavg()
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for r in rows:
            model.score_one(r)
        one.append(len(rows) / (time.perf_counter() - t0))
        one_cpu.append(len(rows) / (time.process_time() - c0))
        t0 = time.perf_counter()
        for start in range(0, len(values), 100):
            model.score_samples(values[start : start + 100])
        block.append(len(values) / (time.perf_counter() - t0))
        live = PCAMonitor(window=400).fit(train)
        t0 = time.perf_counter()
        for r in rows[:20_000]:
            live.learn_one(r)
            live.score_one(r)
        learn.append(20_000 / (time.perf_counter() - t0))
    return {
        "n_steps": len(rows),
        "n_channels": len(names),
        "score_one_steps_per_s": float(np.median(one)),
        "score_one_steps_per_cpu_s": float(np.median(one_cpu)),
        "block100_steps_per_s": float(np.median(block)),
        "learn_one_window400_plus_score_one_steps_per_s": float(np.median(learn)),
        "runs": {
            "score_one": one,
            "score_one_cpu": one_cpu,
            "block100": block,
            "learn_and_score": learn,
        },
        "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
        "note": "one core of a shared, loaded 2-core development machine (other jobs running; "
        f"see load_average_1min); wall-clock median of {repeats} runs, and steps per second of "
        "this process's CPU time (time.process_time) beside it",
    }


def rerun_entries(out: Path, fresh: dict[str, dict[str, Any]], reason: str) -> None:
    """Replace result rows of a full run by a re-run of the same entries (the headline row
    is refused: it is measured by the full run only)."""
    if HEADLINE_ENTRY in fresh:
        raise SystemExit("the headline row is re-measured by a full run only")
    doc = json.loads(out.read_text(encoding="utf-8"))
    when = datetime.now(UTC).isoformat(timespec="seconds")
    names = ", ".join(f"--rerun '{n}'" for n in fresh)
    for name, result in fresh.items():
        result["rerun"] = {"created": when, "command": f"./sf bench anomaly_skab {names}"}
        result["before_rerun"] = {
            k: doc["results"][name][k]
            for k in ("f1", "far", "mar", "nab_standard", "nab_low_fp", "nab_low_fn")
        }
        doc["results"][name] = result
    doc["notes"].append(
        f"Re-run {when} after a code change ({reason or 'not stated'}), the rest of the table "
        "from the full run: "
        + "; ".join(fresh)
        + " (the previous figures of each are kept in its 'before_rerun')."
    )
    out.write_text(json.dumps(doc, indent=2, default=float) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(markdown(doc), encoding="utf-8")
    log(f"updated {', '.join(fresh)} in {out}")


def update_throughput(out: Path, speed: dict[str, Any]) -> None:
    """Replace the throughput section and ``pca_steps_per_s`` of a full run's results."""
    doc = json.loads(out.read_text(encoding="utf-8"))
    doc["throughput"] = speed
    doc["throughput"]["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    doc["throughput"]["command"] = "./sf bench anomaly_skab --throughput-only"
    doc["headline"]["pca_steps_per_s"] = round(speed["score_one_steps_per_s"])
    out.write_text(json.dumps(doc, indent=2, default=float) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(markdown(doc), encoding="utf-8")
    log(f"PCA score_one {speed['score_one_steps_per_s']:,.0f} steps/s; updated {out}")


def markdown(doc: dict[str, Any]) -> str:
    h = doc["headline"]
    lines = [
        "# Anomaly detection on SKAB (issue 14)",
        "",
        f"Command: `{doc['command']}`. Dataset `{doc['dataset']}`, {doc['n_files']} files, first "
        f"{doc['train_rows']} rows of each to fit, the rest ({doc['n_test_rows']} rows) scored. "
        f"{doc['anomalous_test_fraction']:.1%} of the scored rows are labelled anomalous. "
        "Created " + doc["created"] + ".",
        "",
        f"Headline ({HEADLINE_ENTRY}): F1 {h['f1']}, FAR {h['far']} %, MAR {h['mar']} %, "
        f"NAB {h['nab_standard']} / {h['nab_low_fp']} / {h['nab_low_fn']}, "
        f"{h['changepoint_false_positives']} changepoint false positives; best PyOD F1 "
        f"{h['best_pyod_f1']}; PCA streaming {h['pca_steps_per_s']:,.0f} steps/s "
        "(score_one, one dict per step).",
        "",
        "## Measured in this run",
        "",
        "| detector | F1 | FAR % | MAR % | NAB std | NAB low FP | NAB low FN | missed CPs | "
        "CP FPs | s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in doc["results"].items():
        lines.append(
            f"| {name} | {r['f1']} | {r['far']} | {r['mar']} | {r['nab_standard']} | "
            f"{r['nab_low_fp']} | {r['nab_low_fn']} | {r['changepoints_missed']} | "
            f"{r['changepoint_false_positives']} | {r['seconds']} |"
        )
    lines += ["", "Notes:", ""] + [f"- {n}" for n in doc["notes"]]
    lines += [
        "",
        f"## SKAB leaderboard (published, not re-run; source: {SOURCE})",
        "",
        "| algorithm | F1 | FAR % | MAR % |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {f} | {fa} | {m} |" for a, f, fa, m in LEADERBOARD_OUTLIER]
    lines += [
        "",
        "| algorithm | NAB std | NAB low FP | NAB low FN | missed CPs | FPs |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {a} | {s} | {lp} | {ln} | {m} | {fp} |" for a, s, lp, ln, m, fp in LEADERBOARD_CP]
    t = doc["throughput"]
    lines += [
        "",
        "## PCA streaming throughput",
        "",
        f"{t['n_steps']:,} steps of {t['n_channels']} channels, {t['note']}"
        + (
            f" (re-measured {t['created']} by `{t['command']}`; the detector rows above are "
            f"from the full run created {doc['created']})"
            if "created" in t
            else ""
        )
        + ":",
        "",
        f"- `score_one` (one dict per step): {t['score_one_steps_per_s']:,.0f} steps/s"
        + (
            f" wall clock, {t['score_one_steps_per_cpu_s']:,.0f} per CPU second; 1-min load "
            f"average {t['load_average_1min']['before']:.1f} before, "
            f"{t['load_average_1min']['after']:.1f} after"
            if "score_one_steps_per_cpu_s" in t
            else ""
        ),
        f"- `score_samples` on blocks of 100 steps: {t['block100_steps_per_s']:,.0f} steps/s",
        "- `learn_one` (moving window of 400) + `score_one` per step: "
        f"{t['learn_one_window400_plus_score_one_steps_per_s']:,.0f} steps/s",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="skab")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="the dataset's folder (default: SHOPFLOOR_DATA or ../shared/data, + /DATASET)",
    )
    parser.add_argument("--train-rows", type=int, default=400, help="SKAB protocol: 400")
    parser.add_argument("--no-peers", action="store_true", help="skip the PyOD peers")
    parser.add_argument("--out", type=Path, default=RESULTS / "anomaly_skab.json")
    parser.add_argument(
        "--rerun",
        action="append",
        default=[],
        metavar="ENTRY",
        help="re-run only this result row (repeatable; exact name) and update it in --out, "
        "after a change to the code behind it",
    )
    parser.add_argument("--rerun-reason", default="", help="what changed, for the notes")
    parser.add_argument(
        "--throughput-only",
        action="store_true",
        help="re-measure only the PCA streaming throughput and update it in --out",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    data_dir = args.data_dir
    if data_dir is None:
        mirror = get_settings().data
        if mirror is None:
            parser.error("no --data-dir and no data mirror configured")
        data_dir = mirror / args.dataset
    splits = split_runs(load_labelled(args.dataset, data_dir), args.train_rows)
    log(f"{len(splits)} files, {sum(len(s.test) for s in splits)} scored rows")
    if args.throughput_only:
        update_throughput(args.out, throughput(splits))
        return
    entries = {**shopfloor_entries(), **holdout_entries(), **reference_entries()}
    if args.rerun:
        unknown = sorted(set(args.rerun) - set(entries))
        if unknown:
            parser.error(f"unknown entries {unknown}; known: {sorted(entries)}")
        fresh = {n: run_entry(splits, n, *entries[n]) for n in args.rerun}
        rerun_entries(args.out, fresh, args.rerun_reason)
        return
    if not args.no_peers:
        entries.update(peer_entries())
    results = {name: run_entry(splits, name, what, fn) for name, (what, fn) in entries.items()}
    speed = throughput(splits)
    log(f"PCA score_one {speed['score_one_steps_per_s']:,.0f} steps/s")
    head = results[HEADLINE_ENTRY]
    pyod_f1 = [r["f1"] for n, r in results.items() if n.startswith("PyOD")]
    headline = {
        "f1": head["f1"],
        "far": head["far"],
        "mar": head["mar"],
        "nab_standard": head["nab_standard"],
        "nab_low_fp": head["nab_low_fp"],
        "nab_low_fn": head["nab_low_fn"],
        "changepoint_false_positives": head["changepoint_false_positives"],
        "best_pyod_f1": max(pyod_f1) if pyod_f1 else None,
        "pca_steps_per_s": round(speed["score_one_steps_per_s"]),
    }
    n_test = sum(len(s.test) for s in splits)
    anomalous = sum(int(s.anomaly.sum()) for s in splits)
    doc = {
        "benchmark": "anomaly_skab",
        "issue": 14,
        "command": "./sf bench anomaly_skab" + (" --no-peers" if args.no_peers else ""),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "shopfloor_version": __version__,
        "machine": {"python": platform.python_version(), "threads": 1},
        "dataset": args.dataset,
        "n_files": len(splits),
        "train_rows": args.train_rows,
        "n_test_rows": n_test,
        "anomalous_test_fraction": anomalous / n_test,
        "headline": headline,
        "headline_definitions": {
            "f1, far, mar": f"{HEADLINE_ENTRY}: point-wise F1, false alarm rate %, missing "
            "alarm rate % over all scored rows (SKAB 'binary')",
            "nab_*": "NAB standard / low FP / low FN, 60 s window right of each true "
            "changepoint, predicted changepoints = alarm edges",
            "changepoint_false_positives": "predicted changepoints outside every window",
            "best_pyod_f1": "best F1 of the PyOD peers (either threshold rule)",
            "pca_steps_per_s": "PCAMonitor.score_one, one dict of 8 channels per step, one "
            "core of the loaded development machine",
        },
        "notes": NOTES,
        "results": results,
        "throughput": speed,
        "leaderboard_source": SOURCE,
        "leaderboard_outlier": [
            dict(zip(("algorithm", "f1", "far", "mar"), r, strict=True))
            for r in LEADERBOARD_OUTLIER
        ],
        "leaderboard_changepoint": [
            dict(
                zip(
                    ("algorithm", "nab_standard", "nab_low_fp", "nab_low_fn", "missed", "fps"),
                    r,
                    strict=True,
                )
            )
            for r in LEADERBOARD_CP
        ],
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2, default=float) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(markdown(doc), encoding="utf-8")
    log(f"wrote {args.out} and {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
