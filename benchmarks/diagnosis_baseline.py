"""Diagnosis against the asset's own healthy baseline, on real data (issue 13, item 2).

Run (from the repository root)::

    ./sf bench diagnosis_baseline

Everything is fixed before any data is seen: the six indicators and their limits (one-sided
Student-t prediction limit at a false-alarm rate of 0.01 per snapshot shared by the indicators,
6 dB on top for the two level indicators), 0.1 s snapshots, "changed" = more than half of a
recording's snapshots beyond the limit of one indicator, and 6 dB line growth
(:mod:`shopfloor.assessment.baseline_model`, :mod:`shopfloor.assessment.baseline_diagnosis`).

CWRU (``cwru`` and ``cwru_fan_end`` through the dataset registry, checksums verified):

* The only healthy recording published in the mirror is ``97`` (0 hp, 48 kHz, 5 s). It is the
  baseline of the drive-end channel (for drive-end faults) and of the fan-end channel (for
  fan-end faults). Main table: every fault recording at the same load (0 hp): 9 drive-end
  (inner race, ball, outer race at 3 sizes) and the 2 fan-end ones published at 0 hp. Second
  table: the faults at 1–3 hp against the same 0 hp baseline (another operating point, which
  a practitioner would avoid; reported, not hidden).
* Healthy against healthy: there is no normal recording at another load in the mirror, so the
  false-alarm check is the baseline's own held-out later part: baseline = first 60 % of 97,
  tested on the last 40 %, for each channel.
* Each recording is diagnosed as ``shopfloor diagnose`` does it (shipped fused model, 1 s
  windows, resampled to 12 kHz), then decided against the baseline; the verdict without the
  baseline is reported beside it.

FEMTO PRONOSTIA (``femto_pronostia``, raw 0.1 s snapshots at 25.6 kHz every 10 s, through the
registry's loader; no geometry, so indicators only, at the native rate):

* For every bearing with raw data and each axis (h, v): baseline = the first 10 % of the
  bearing's snapshots. An alarm is sustained when 3 consecutive snapshots (30 s) are beyond a
  limit (the consecutive rule of Li et al. 2015 used by the health index's first prediction
  time). A bearing alarms when either axis does.
* False alarm: a sustained alarm starting between the end of the baseline and half of life
  (taken as healthy; the challenge data show wear mostly late, but this is an assumption).
  Detection: a sustained alarm in the last 10 % of life; lead time = end of record - onset of
  the first sustained alarm after half of life.
* Variant added after the first run (declared in the results): a snapshot alarms when 3 of the
  last 5 snapshots exceed one indicator's limit (the recording rule on 50 s of snapshots).
* Peer, same snapshots and baseline: the RMS 3-sigma rule (log RMS ratio to the baseline median
  beyond 3 robust standard deviations, 3 in a row), the first-prediction-time rule of the
  health index in ``prognostics/health_index.py``.

Writes ``benchmarks/results/diagnosis_baseline.json`` and ``.md``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from shopfloor import __version__  # noqa: E402
from shopfloor.assessment.baseline_diagnosis import (  # noqa: E402
    SNAPSHOT_S,
    apply_baseline,
    learn_baseline,
)
from shopfloor.assessment.baseline_model import INDICATORS, HealthyBaseline  # noqa: E402
from shopfloor.assessment.default_model import load_default_diagnoser  # noqa: E402
from shopfloor.assessment.recording_diagnosis import diagnose_signal  # noqa: E402
from shopfloor.core.labels import FaultLocation  # noqa: E402
from shopfloor.core.settings import Settings, get_settings  # noqa: E402
from shopfloor.core.store import Store  # noqa: E402
from shopfloor.datasets import get_dataset  # noqa: E402
from shopfloor.datasets.femto_pronostia import (  # noqa: E402
    BURST_INTERVAL_S,
    BURST_LENGTH,
    SAMPLE_RATE_HZ,
    acc_recording,
    read_bearings,
)
from shopfloor.datasets.prepare import prepare  # noqa: E402
from shopfloor.datasets.registry import verify  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
TRUTH = {
    FaultLocation.INNER_RACE: "inner_race",
    FaultLocation.OUTER_RACE: "outer_race",
    FaultLocation.ROLLING_ELEMENT: "rolling_element",
}
HELD_OUT_FRACTION = 0.4
FEMTO_BASELINE_FRACTION = 0.10
FEMTO_HEALTHY_UNTIL = 0.5
FEMTO_LATE_FROM = 0.9
CONSECUTIVE = 3
PEER_SIGMA = 3.0
ALPHA = 0.01
GROUP = 5
METHODS = ("healthy_baseline", "healthy_baseline_group5", "rms_3sigma_peer")


def log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {msg}", flush=True)


# --- CWRU ------------------------------------------------------------------------------------


def _cwru_cases(store: Store) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The healthy baseline recording and every fault recording with a geometry."""
    healthy: dict[str, Any] = {}
    cases = []
    for dataset in ("cwru", "cwru_fan_end"):
        assets = {a.id: a for a in store.assets(dataset)}
        for rec in store.recordings(dataset=dataset):
            fault = rec.fault()
            asset = assets[rec.asset_id]
            if fault is None:
                continue
            if fault.location == FaultLocation.NONE:
                healthy = {"rec": rec, "asset": asset}
                continue
            comp = next((c for c in asset.components if c.id == fault.component_id), None)
            if comp is None or comp.bearing is None or fault.location not in TRUTH:
                continue
            channel = next(c.id for c in asset.channels if c.component_id == comp.id)
            if channel not in rec.channel_ids:
                continue
            cases.append(
                {
                    "rec": rec,
                    "asset": asset,
                    "channel": channel,
                    "geometry": comp.bearing,
                    "truth": TRUTH[fault.location],
                    "size_mm": fault.size_mm,
                    "load_hp": rec.condition.load,
                }
            )
    return healthy, cases


def _diagnosis_row(result: Any) -> dict[str, Any]:
    d = result.diagnosis
    return {"verdict": d.label.value, "confidence": round(d.confidence, 3)}


def run_cwru(store: Store) -> dict[str, Any]:
    diagnoser = load_default_diagnoser()
    healthy, cases = _cwru_cases(store)
    h_rec, h_asset = healthy["rec"], healthy["asset"]
    data = store.load(h_rec.id)
    fs_h = float(h_rec.time_base.sample_rate_hz)
    rpm_h = float(h_rec.condition.shaft_speed_rpm)
    geometry_of = {c.id: c.bearing for c in h_asset.components}
    channel_component = {c.id: c.component_id for c in h_asset.channels}
    baselines, held_out = {}, []
    for channel in ("DE", "FE"):
        x = np.asarray(data.channel(channel), dtype=np.float64)
        geometry = geometry_of[channel_component[channel]]
        baselines[channel] = learn_baseline(
            x, fs_h, source=f"{h_rec.id}/{channel}", rpm=rpm_h, geometry=geometry
        )
        cut = round(x.size * (1 - HELD_OUT_FRACTION))
        first = learn_baseline(
            x[:cut], fs_h, source=f"{h_rec.id}/{channel} first 60 %", rpm=rpm_h, geometry=geometry
        )
        result = diagnose_signal(x[cut:], fs_h, rpm_h, geometry, diagnoser=diagnoser)
        before = _diagnosis_row(result)
        comp = apply_baseline(result, x[cut:], fs_h, first, f"{h_rec.id} first 60 %")
        held_out.append(
            {
                "test": f"{h_rec.id} {channel}: last 40 % against the first 60 %",
                "baseline_snapshots": first.model.n_baseline_,
                "test_snapshots": comp.n_snapshots,
                "without_baseline": before,
                "with_baseline": _diagnosis_row(result),
                "changed": [c.name for c in comp.changed],
                "grown_lines": [c.describe() for c in result.grown_since_baseline],
                "false_alarm": result.diagnosis.label.value != "normal",
            }
        )
        log(f"held-out {channel}: {held_out[-1]['with_baseline']}")
    rows = []
    for case in sorted(cases, key=lambda c: (c["load_hp"], c["rec"].id)):
        rec = case["rec"]
        x = np.asarray(store.load(rec.id).channel(case["channel"]), dtype=np.float64)
        fs = float(rec.time_base.sample_rate_hz)
        rpm = float(rec.condition.shaft_speed_rpm)
        result = diagnose_signal(x, fs, rpm, case["geometry"], diagnoser=diagnoser)
        before = _diagnosis_row(result)
        comp = apply_baseline(result, x, fs, baselines[case["channel"]], h_rec.id)
        after = _diagnosis_row(result)
        top = comp.changes[0]
        rows.append(
            {
                "recording": rec.id,
                "channel": case["channel"],
                "truth": case["truth"],
                "size_mm": case["size_mm"],
                "load_hp": case["load_hp"],
                "without_baseline": before,
                "with_baseline": after,
                "changed": [c.name for c in comp.changed],
                "top_indicator": top.describe(),
                "grown_lines": [c.describe() for c in result.grown_since_baseline[:3]],
                "reason": result.diagnosis.reason,
            }
        )
        log(f"{rec.id} {case['truth']} {case['load_hp']:g} hp: {before} -> {after}")
    return {
        "baseline": {
            ch: b.describe()
            | {"limits": dict(zip(INDICATORS, np.exp(b.model.limit_).round(4), strict=True))}
            for ch, b in baselines.items()
        },
        "held_out": held_out,
        "faults": rows,
    }


def _score(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for truth in ("inner_race", "rolling_element", "outer_race", "all"):
        sel = [r for r in rows if truth in ("all", r["truth"])]
        if not sel:
            continue
        verdicts = [r[key]["verdict"] for r in sel]
        detected = sum(v not in ("normal", "unknown") for v in verdicts)
        right = sum(v == r["truth"] for v, r in zip(verdicts, sel, strict=True))
        unclear = sum(v == "fault" for v in verdicts)
        confident_wrong = sum(
            v not in ("normal", "unknown", "fault", r["truth"]) and r[key]["confidence"] >= 0.8
            for v, r in zip(verdicts, sel, strict=True)
        )
        out[truth] = {
            "n": len(sel),
            "detected": detected,
            "type_right": right,
            "type_unclear": unclear,
            "type_wrong": detected - right - unclear,
            "confident_wrong": confident_wrong,
        }
    return out


# --- FEMTO -----------------------------------------------------------------------------------


def _runs(alarm: np.ndarray, k: int) -> np.ndarray:
    """Snapshots that belong to a run of at least ``k`` consecutive alarms."""
    out = np.zeros_like(alarm)
    count = 0
    for i, a in enumerate(alarm):
        count = count + 1 if a else 0
        if count >= k:
            out[i - k + 1 : i + 1] = True
    return out


def _onsets(sustained: np.ndarray) -> np.ndarray:
    prev = np.concatenate([[False], sustained[:-1]])
    return np.flatnonzero(sustained & ~prev)


def _bearing_result(alarms: dict[str, np.ndarray], n: int, n_base: int) -> dict[str, Any]:
    sustained = np.zeros(n, dtype=bool)
    per_axis = {}
    for axis, alarm in alarms.items():
        s = _runs(alarm, CONSECUTIVE)
        sustained |= s
        per_axis[axis] = {
            "early_snapshot_alarm_rate": round(
                float(alarm[n_base : int(n * FEMTO_HEALTHY_UNTIL)].mean()), 4
            ),
        }
    onsets = _onsets(sustained)
    healthy_end, late = int(n * FEMTO_HEALTHY_UNTIL), int(n * FEMTO_LATE_FROM)
    early = [int(i) for i in onsets if n_base <= i < healthy_end]
    after_half = [int(i) for i in onsets if i >= healthy_end]
    first_any = int(onsets[onsets >= n_base][0]) if (onsets >= n_base).any() else None
    life = (n - 1) * BURST_INTERVAL_S
    return {
        "false_alarm_early": bool(early),
        "first_early_alarm_fraction_of_life": round(early[0] / n, 3) if early else None,
        "detected_late": bool(sustained[late:].any()),
        "first_alarm_fraction_of_life": round(first_any / n, 3) if first_any is not None else None,
        "first_alarm_after_half_s": after_half[0] * BURST_INTERVAL_S if after_half else None,
        "lead_time_s": life - after_half[0] * BURST_INTERVAL_S if after_half else None,
        "axes": per_axis,
    }


def _group_majority(beyond: np.ndarray, m: int) -> np.ndarray:
    """Snapshot t alarms when more than half of snapshots t-m+1..t exceed one indicator's
    limit: the recording rule of ``diagnose`` applied to the last m snapshots."""
    counts = np.cumsum(np.vstack([np.zeros((1, beyond.shape[1])), beyond]), axis=0)
    out = np.zeros(beyond.shape[0], dtype=bool)
    window = counts[m:] - counts[:-m]
    out[m - 1 :] = (window * 2 > m).any(axis=1)
    return out


def run_femto(root: Path) -> dict[str, Any]:
    infos = [i for i in read_bearings(root / "bearings.csv") if i.raw_included]
    bearings = []
    for info in infos:
        samples = acc_recording(root, info).samples
        n = len(samples) // BURST_LENGTH
        n_base = max(10, math.ceil(FEMTO_BASELINE_FRACTION * n))
        ours, group, peer, early_rates = {}, {}, {}, {}
        for axis in ("h", "v"):
            x = samples[f"{axis}_acc"].to_numpy(dtype=np.float64).reshape(n, BURST_LENGTH)
            model = HealthyBaseline(fs_hz=SAMPLE_RATE_HZ, alpha=ALPHA).fit(x[:n_base])
            beyond = model.exceeds(x)
            ours[axis] = beyond.any(axis=1)
            part = beyond[n_base : int(n * FEMTO_HEALTHY_UNTIL)]
            # per indicator: share of early-life snapshots beyond its limit (stated: 1 %/6)
            early_rates[axis] = dict(zip(INDICATORS, part.mean(axis=0).round(4), strict=True))
            group[axis] = _group_majority(beyond, GROUP)
            rms = np.sqrt(np.mean((x - x.mean(axis=1, keepdims=True)) ** 2, axis=1))
            hi = np.log(rms / np.median(rms[:n_base]))
            mad = 1.4826 * np.median(np.abs(hi[:n_base] - np.median(hi[:n_base])))
            peer[axis] = hi > PEER_SIGMA * max(mad, 1e-9)
        entry = {
            "bearing": info.bearing,
            "snapshots": n,
            "life_s": info.life_s,
            "baseline_snapshots": n_base,
            "healthy_baseline": _bearing_result(ours, n, n_base),
            "early_life_rate_beyond_limit_by_indicator": early_rates,
            "healthy_baseline_group5": _bearing_result(group, n, n_base),
            "rms_3sigma_peer": _bearing_result(peer, n, n_base),
        }
        bearings.append(entry)
        log(
            f"{info.bearing}: ours {entry['healthy_baseline']['first_alarm_fraction_of_life']} "
            f"peer {entry['rms_3sigma_peer']['first_alarm_fraction_of_life']}"
        )
    summary = {}
    for method in METHODS:
        res = [b[method] for b in bearings]
        leads = [r["lead_time_s"] for r in res if r["lead_time_s"] is not None]
        summary[method] = {
            "bearings": len(res),
            "false_alarm_early": sum(r["false_alarm_early"] for r in res),
            "detected_late": sum(r["detected_late"] for r in res),
            "median_lead_time_s": float(np.median(leads)) if leads else None,
            "mean_early_snapshot_alarm_rate": round(
                float(
                    np.mean(
                        [a["early_snapshot_alarm_rate"] for r in res for a in r["axes"].values()]
                    )
                ),
                4,
            ),
        }
    return {"bearings": bearings, "summary": summary}


# --- report ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS / "diagnosis_baseline.json")
    parser.add_argument("--skip-femto", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    base = get_settings()
    data_dir = args.data_dir or base.data or Path("../shared/data")
    home = Path(tempfile.mkdtemp(prefix="shopfloor-bench-"))
    settings = Settings(home=home, data=data_dir, offline=True)
    with Store.open(home) as store:
        for name in ("cwru", "cwru_fan_end"):
            report = prepare(name, store, settings)
            log(f"prepared {report.name}: {report.n_recordings} recordings")
        cwru = run_cwru(store)
    femto: dict[str, Any] | None = None
    if not args.skip_femto:
        root = Path(data_dir) / "femto_pronostia"
        verify(get_dataset("femto_pronostia"), root)
        log(f"verified {root}")
        femto = run_femto(root)
    same = [r for r in cwru["faults"] if r["load_hp"] == 0]
    other = [r for r in cwru["faults"] if r["load_hp"] != 0]
    scores = {
        "same_load": {k: _score(same, k) for k in ("with_baseline", "without_baseline")},
        "other_load": {k: _score(other, k) for k in ("with_baseline", "without_baseline")},
    }
    s0 = scores["same_load"]["with_baseline"]
    headline: dict[str, Any] = {
        "cwru_same_load_detected": f"{s0['all']['detected']} of {s0['all']['n']}",
        "cwru_ball_detected": f"{s0['rolling_element']['detected']} of "
        f"{s0['rolling_element']['n']}",
        "cwru_type_right": f"{s0['all']['type_right']} of {s0['all']['n']} "
        f"({s0['all']['type_unclear']} type unclear, {s0['all']['type_wrong']} wrong)",
        "cwru_healthy_false_alarms": f"{sum(h['false_alarm'] for h in cwru['held_out'])} of "
        f"{len(cwru['held_out'])}",
    }
    if femto is not None:
        fs_ = femto["summary"]["healthy_baseline"]
        headline["femto_healthy_false_alarms"] = (
            f"{fs_['false_alarm_early']} of {fs_['bearings']} bearings"
        )
        headline["femto_late_failures_detected"] = (
            f"{fs_['detected_late']} of {fs_['bearings']} bearings"
        )
    doc = {
        "benchmark": "diagnosis_baseline",
        "issue": 13,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "shopfloor_version": __version__,
        "command": "python " + " ".join(["benchmarks/diagnosis_baseline.py", *sys.argv[1:]]),
        "headline": headline,
        "fixed_in_advance": {
            "snapshot_s": SNAPSHOT_S,
            "false_alarm_rate_per_snapshot": ALPHA,
            "level_growth_db": 6.0,
            "line_growth_db": 6.0,
            "recording_rule": "more than half of the snapshots beyond one indicator's limit",
            "cwru_held_out_fraction": HELD_OUT_FRACTION,
            "femto_baseline_fraction": FEMTO_BASELINE_FRACTION,
            "femto_healthy_until_fraction": FEMTO_HEALTHY_UNTIL,
            "femto_late_from_fraction": FEMTO_LATE_FROM,
            "femto_consecutive": CONSECUTIVE,
            "peer_sigma": PEER_SIGMA,
        },
        "options_added_after_seeing_results": {
            "femto_group5": "healthy_baseline_group5 (FEMTO): a snapshot alarms when 3 of the "
            "last 5 snapshots exceed one indicator's limit (the recording rule applied to 50 s "
            "of snapshots), then 3 in a row. Added after the first run showed single FEMTO "
            "snapshots far more often beyond the Gaussian limit (5-40 % of early-life "
            "snapshots for kurtosis and crest) than the stated 1 %, while their medians had "
            "not moved: the log-indicators have heavier tails than the limit assumes. The "
            "headline keeps the rule fixed in advance.",
            "type_confidence": "the confidence of a finding is capped by that of the evidence "
            "naming its type (the diagnosis's own, or the rule of succession over the grown "
            "harmonics, at most 0.8). Added after the second run, where race types read from "
            "grown lines on ball faults (cwru-118, cwru-222) were shown at 92-94 %.",
            "type_order": "the type named by the diagnosis without the baseline now comes "
            "before the type of the line that grew most (the brief's order was lines first). "
            "Changed after the first run, where grown lines overrode a right fused type on "
            "3 CWRU recordings at other loads and named race faults on ball faults: the "
            "'physics wins' failure s13a measured out of group.",
        },
        "cwru": cwru | {"scores": scores},
        "femto": femto,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "note": "shared 2-core machine",
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2, default=float) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(markdown(doc), encoding="utf-8")
    log(f"wrote {args.out} in {doc['seconds']} s")


def markdown(doc: dict[str, Any]) -> str:
    lines = [
        "# Diagnosis against the asset's own healthy baseline (issue 13)",
        "",
        f"`{doc['command']}`, {doc['created']}, {doc['seconds']} s on a shared 2-core machine.",
        "",
        "## Headline",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in doc["headline"].items()]
    lines += [
        "",
        "## CWRU: faults against the healthy recording 97 (0 hp)",
        "",
        "| loads | decision | fault | n | detected | type right | type unclear | type wrong | "
        "wrong with confidence ≥ 0.8 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for load, per in doc["cwru"]["scores"].items():
        for key, table in per.items():
            for truth, s in table.items():
                lines.append(
                    f"| {load} | {key} | {truth} | {s['n']} | {s['detected']} | "
                    f"{s['type_right']} | {s['type_unclear']} | {s['type_wrong']} | "
                    f"{s['confident_wrong']} |"
                )
    lines += [
        "",
        "| recording | channel | truth | load hp | without baseline | with baseline | changed |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in doc["cwru"]["faults"]:
        wb, b = r["without_baseline"], r["with_baseline"]
        lines.append(
            f"| {r['recording']} | {r['channel']} | {r['truth']} | {r['load_hp']:g} | "
            f"{wb['verdict']} {wb['confidence']:.2f} | {b['verdict']} {b['confidence']:.2f} | "
            f"{', '.join(r['changed']) or '-'} |"
        )
    lines += ["", "Healthy against healthy (held-out part of 97):", ""]
    for h in doc["cwru"]["held_out"]:
        lines.append(
            f"- {h['test']}: {h['with_baseline']['verdict']} "
            f"({h['with_baseline']['confidence']:.2f}); changed: {', '.join(h['changed']) or '-'}"
        )
    if doc["femto"]:
        lines += [
            "",
            "## FEMTO PRONOSTIA: baseline = first 10 % of each bearing's snapshots",
            "",
            "| method | bearings | false alarm in 10–50 % of life | sustained alarm in last "
            "10 % | median lead time s | snapshots in alarm, 10–50 % of life (mean per axis) |",
            "|---|---|---|---|---|---|",
        ]
        for method, s in doc["femto"]["summary"].items():
            lines.append(
                f"| {method} | {s['bearings']} | {s['false_alarm_early']} | {s['detected_late']} "
                f"| {s['median_lead_time_s']} | {s['mean_early_snapshot_alarm_rate']} |"
            )
        rates = [
            r
            for b in doc["femto"]["bearings"]
            for r in b["early_life_rate_beyond_limit_by_indicator"].values()
        ]
        lines += [
            "",
            "Share of snapshots in 10–50 % of life beyond each indicator's limit, mean over "
            f"bearings and axes (stated: {ALPHA / len(INDICATORS):.2%} each):",
            "",
            "| " + " | ".join(INDICATORS) + " |",
            "|" + "---|" * len(INDICATORS),
            "| " + " | ".join(f"{np.mean([r[k] for r in rates]):.2%}" for k in INDICATORS) + " |",
        ]
        lines += [
            "",
            "First sustained alarm after the baseline (fraction of life); E: it started in "
            "10–50 % of life (false alarm); L: an alarm in the last 10 %.",
            "",
            "| bearing | snapshots | " + " | ".join(METHODS) + " |",
            "|---|---|" + "---|" * len(METHODS),
        ]
        for b in doc["femto"]["bearings"]:
            cells = []
            for method in METHODS:
                r = b[method]
                flags = ("E" if r["false_alarm_early"] else "") + (
                    "L" if r["detected_late"] else ""
                )
                cells.append(f"{r['first_alarm_fraction_of_life']} {flags}".strip())
            lines.append(f"| {b['bearing']} | {b['snapshots']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
