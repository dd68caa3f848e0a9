"""Store benchmark: live appends with readers, read latency, codecs, kill -9, retention on disk.

Run (from the repository root)::

    ./sf bench store            # about 3-4 minutes; --quick for a short smoke run

Writes ``benchmarks/results/store.json`` (headline: append_channel_seconds_per_s,
read_last10s_p99_ms, blocks_lost, blocks_duplicated, bytes_per_channel_hour, readers_blocked,
disk_gb_per_day_200ch_default) and ``benchmarks/results/store.md``.

What is measured, with real processes (``shopfloor.testing.store_load``):

* **designs**: why the catalog is SQLite in WAL mode: a writer commits rows in a loop while two
  reader processes poll; DuckDB with the writer holding the file, DuckDB reopened per commit,
  and SQLite WAL, side by side; reads that failed and commits per second.
* **append**: one writer process pinned to one CPU appends 1-s blocks of 25.6 kHz samples for
  ``--channels`` channels, while two reader processes (on the other CPU) poll the newest 10 s
  of one channel every 50 ms. Channel-seconds committed per wall second; read latency p50/p99;
  reads that failed (``readers_blocked``).
* **codecs**: bytes per channel-hour of each codec, on real vibration (CWRU drive-end
  accelerometer records, checksums verified through the dataset registry), scaled to 25.6 kHz
  by bytes per sample; the synthetic load signal is reported beside it.
* **crash**: the writer is killed with SIGKILL at 20 random moments and restarted re-sending
  from before its last acknowledgement; committed (acknowledged) blocks lost or stored twice,
  and whether ``store check`` is clean after each restart.
* **disk per day** of the default retention for 200 channels, from the measured bytes per
  sample of the compaction codec and bytes per feature row in the catalog; the assumptions
  (events per channel and day, features per channel and minute) are stated in the results.

The machine these numbers come from is shared and loaded (2 cores, other jobs running), so
timings are lower bounds of what an idle core does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from shopfloor.core.settings import get_settings
from shopfloor.core.store import RetentionPolicy, Store
from shopfloor.core.store.codecs import CODECS, COMPACT_CODEC
from shopfloor.testing.store_load import ASSET, FS, samples

RESULTS = Path(__file__).parent / "results"
HOUR_SAMPLES = FS * 3600


# ------------------------------------------------------------------ processes
def _popen(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "shopfloor.testing.store_load", *args],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    )


def _drain(proc: subprocess.Popen[str], marker: str) -> tuple[list[tuple[float, str]], float]:
    """Lines with arrival times; returns once ``marker`` was read (draining goes on after)."""
    assert proc.stdout is not None
    lines: list[tuple[float, str]] = []
    seen = threading.Event()

    def pump() -> None:
        for line in proc.stdout or []:
            lines.append((time.monotonic(), line.strip()))
            if line.strip() == marker:
                seen.set()
        seen.set()

    threading.Thread(target=pump, daemon=True).start()
    seen.wait(timeout=120)
    return lines, time.monotonic()


def _pin(proc: subprocess.Popen[str], cpu: int) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > 1:
        os.sched_setaffinity(proc.pid, {cpus[cpu % len(cpus)]})


# ------------------------------------------------------------------ designs
_DESIGN = r"""
import sqlite3, sys, time, duckdb
kind, path, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
ok = fail = 0
lat = []
end = time.monotonic() + seconds
con = sqlite3.connect(f"file:{path}?mode=ro", uri=True) if kind == "sqlite" else None
while time.monotonic() < end:
    t = time.perf_counter()
    try:
        if con is not None:
            con.execute("SELECT max(seq) FROM b").fetchone()
        else:
            d = duckdb.connect(path, read_only=True)
            d.execute("SELECT max(seq) FROM b").fetchone()
            d.close()
        ok += 1; lat.append(time.perf_counter() - t)
    except Exception:
        fail += 1
    time.sleep(0.02)
print(ok, fail, sorted(lat)[int(0.99 * (len(lat) - 1))] if lat else -1)
"""


def bench_designs(workdir: Path, seconds: float) -> list[dict[str, Any]]:
    import duckdb

    out = []
    for design in ("duckdb_writer_holds_file", "duckdb_reopen_per_commit", "sqlite_wal"):
        path = str(workdir / f"{design}.db")
        if design.startswith("duckdb"):
            duckdb.connect(path).execute("CREATE TABLE b (seq BIGINT, v VARCHAR)").close()
        else:
            c = sqlite3.connect(path)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("CREATE TABLE b (seq INTEGER, v TEXT)")
            c.commit()
            c.close()
        kind = "sqlite" if design == "sqlite_wal" else "duckdb"
        readers = [
            subprocess.Popen(
                [sys.executable, "-c", _DESIGN, kind, path, str(seconds)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        time.sleep(0.5)  # let the readers start before the writer
        commits, t0, writer_waited_s = 0, time.monotonic(), 0.0
        if design == "sqlite_wal":
            con = sqlite3.connect(path, isolation_level=None)
            con.execute("PRAGMA synchronous=NORMAL")
            while time.monotonic() - t0 < seconds - 1:
                con.execute("BEGIN IMMEDIATE")
                con.execute("INSERT INTO b VALUES (?, 'x')", [commits])
                con.execute("COMMIT")
                commits += 1
            con.close()
        elif design == "duckdb_writer_holds_file":
            while True:  # a DuckDB reader blocks the writer too: retry until it gets in
                try:
                    d = duckdb.connect(path)
                    break
                except duckdb.Error:
                    time.sleep(0.001)
            writer_waited_s = time.monotonic() - t0
            while time.monotonic() - t0 < seconds - 1:
                d.execute("INSERT INTO b VALUES (?, 'x')", [commits])
                commits += 1
            d.close()
        else:
            while time.monotonic() - t0 < seconds - 1:
                try:
                    d = duckdb.connect(path)
                except duckdb.Error:
                    time.sleep(0.001)
                    continue
                d.execute("INSERT INTO b VALUES (?, 'x')", [commits])
                d.close()
                commits += 1
        wall = time.monotonic() - t0
        res = [tuple(r.communicate(timeout=120)[0].split()) for r in readers]
        ok = sum(int(r[0]) for r in res)
        fail = sum(int(r[1]) for r in res)
        out.append(
            {
                "design": design,
                "writer_commits_per_s": round(commits / wall, 1),
                "reads_ok": ok,
                "reads_failed": fail,
                "writer_waited_to_open_s": round(writer_waited_s, 3),
                "read_p99_ms": round(max(float(r[2]) for r in res) * 1e3, 2),
            }
        )
        print("design", out[-1], flush=True)
    return out


# ------------------------------------------------------------------ append with readers
def bench_append(workdir: Path, channels: int, seconds: float) -> dict[str, Any]:
    home = workdir / "append"
    t0_ns = time.time_ns() - 3 * 3600 * 10**9
    writer = _popen(
        [
            "writer",
            str(home),
            "--channels",
            str(channels),
            "--block-s",
            "1",
            "--seconds",
            str(seconds),
            "--t0-ns",
            str(t0_ns),
        ]
    )
    _pin(writer, 0)
    lines, ready = _drain(writer, "READY")
    readers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shopfloor.testing.store_load",
                "reader",
                str(home),
                "--seconds",
                str(seconds - 1),
                "--last-s",
                "10",
                "--poll-s",
                "0.05",
                "--out",
                str(workdir / f"reader{i}.json"),
            ]
        )
        for i in range(2)
    ]
    for r in readers:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) > 1:
            os.sched_setaffinity(r.pid, set(cpus[1:]))
    _, _, usage = os.wait4(writer.pid, 0)  # CPU time of the writer: is it CPU- or disk-bound?
    writer.returncode = 0
    writer_cpu_s = usage.ru_utime + usage.ru_stime
    for r in readers:
        r.wait(timeout=120)
    acks = [t for t, line in lines if line.startswith("ACK")]
    rounds = len(acks)
    wall = acks[-1] - ready if acks else float("nan")
    lat: list[float] = []
    errors: list[str] = []
    for i in range(2):
        res = json.loads((workdir / f"reader{i}.json").read_text())
        lat += res["latencies_s"]
        errors += res["errors"]
    with Store.open(home, read_only=True) as store:
        committed = int(store.sql("SELECT count(*) AS n FROM blocks")["n"].iloc[0])
    result = {
        "channels": channels,
        "block_s": 1.0,
        "sample_rate_hz": FS,
        "rounds": rounds,
        "blocks_committed": committed,
        "wall_s": round(wall, 2),
        "append_channel_seconds_per_s": round(rounds * channels / wall, 1),
        "writer_cpu_s": round(writer_cpu_s, 2),
        "writer_cpu_share_of_wall": round(writer_cpu_s / (time.monotonic() - ready), 3),
        "reads": len(lat),
        "read_errors": len(errors),
        "read_error_examples": errors[:3],
        "read_last10s_p50_ms": round(float(np.percentile(lat, 50)) * 1e3, 2) if lat else None,
        "read_last10s_p99_ms": round(float(np.percentile(lat, 99)) * 1e3, 2) if lat else None,
    }
    print("append", result, flush=True)
    return result


def disk_ceiling(workdir: Path, channels: int, rounds: int = 20) -> dict[str, Any]:
    """Plain file appends of the same size as one append round, each followed by fdatasync:
    the most channel-seconds per second this disk takes, with no store at all."""
    chunk = np.random.default_rng(0).bytes(channels * int(FS) * 4)
    path = workdir / "ceiling.bin"
    t = time.perf_counter()
    with path.open("wb") as fh:
        for _ in range(rounds):
            fh.write(chunk)
            fh.flush()
            os.fdatasync(fh.fileno())
    wall = time.perf_counter() - t
    path.unlink()
    result = {
        "bytes_per_round": len(chunk),
        "rounds": rounds,
        "mb_per_s": round(len(chunk) * rounds / wall / 1e6, 1),
        "channel_seconds_per_s": round(channels * rounds / wall, 1),
    }
    print("disk ceiling", result, flush=True)
    return result


# ------------------------------------------------------------------ codecs
def _real_vibration(max_records: int) -> tuple[list[np.ndarray], list[float], str]:
    """Drive-end acceleration of a few CWRU records (checksums verified), or nothing."""
    from shopfloor.core.recording import RecordingData
    from shopfloor.datasets.registry import get_dataset, resolve_source, verify

    settings = get_settings()
    spec = get_dataset("cwru")
    root = resolve_source(spec, None, settings.data, settings.cache_dir, offline=True)
    verify(spec, root)
    signals, rates = [], []
    for item in spec.load(root):
        if isinstance(item, RecordingData) and "DE" in item.samples.columns:
            signals.append(item.samples["DE"].to_numpy(dtype=np.float32))
            rates.append(float(item.recording.time_base.sample_rate_hz or 0))
            if len(signals) == max_records:
                break
    return signals, rates, f"cwru ({len(signals)} records, drive-end channel)"


def bench_codecs(max_records: int) -> dict[str, Any]:
    corpora: dict[str, list[tuple[np.ndarray, float]]] = {}
    try:
        signals, rates, name = _real_vibration(max_records)
        corpora[name] = list(zip(signals, rates, strict=True))
    except Exception as exc:  # the dataset is absent here: say so, measure synthetic only
        print(f"codecs: real vibration unavailable ({exc})", flush=True)
    corpora["synthetic tone + noise (load generator)"] = [
        (np.concatenate([samples(c, s, int(FS)) for s in range(10)]), FS) for c in range(4)
    ]
    out: dict[str, Any] = {}
    for corpus, items in corpora.items():
        per_codec = {}
        for cname, c in CODECS.items():
            n = size = 0
            t = time.perf_counter()
            worst_err = 0.0
            for x, fs in items:
                block = int(fs)  # 1-s blocks, as appended
                for i in range(0, len(x) - block + 1, block):
                    part = x[i : i + block]
                    payload, scale = c.encode(part)
                    size += len(payload)
                    n += block
                    if not c.lossless:
                        back = c.decode(payload, block, scale)
                        peak = float(np.max(np.abs(part))) or 1.0
                        worst_err = max(worst_err, float(np.max(np.abs(back - part))) / peak)
            enc_s = time.perf_counter() - t
            per_codec[cname] = {
                "bytes_per_sample": round(size / n, 4),
                "bytes_per_channel_hour_25k6": round(size / n * HOUR_SAMPLES),
                "encode_msamples_per_s": round(n / enc_s / 1e6, 1),
                "lossless": c.lossless,
                **({} if c.lossless else {"max_error_of_peak": worst_err}),
            }
        out[corpus] = per_codec
        print("codecs", corpus, per_codec, flush=True)
    return out


# ------------------------------------------------------------------ crash
def bench_crash(workdir: Path, kills: int, seed: int) -> dict[str, Any]:
    home = workdir / "crash"
    channels, block_s = 8, 0.25
    t0_ns = time.time_ns() - 3 * 3600 * 10**9
    rng = np.random.default_rng(seed)
    acked: set[int] = set()
    checks_clean = 0
    moments = []
    for _ in range(kills):
        start = max(0, max(acked, default=-1) - 3)
        writer = _popen(
            [
                "writer",
                str(home),
                "--channels",
                str(channels),
                "--block-s",
                str(block_s),
                "--seconds",
                "60",
                "--start-seq",
                str(start),
                "--t0-ns",
                str(t0_ns),
            ]
        )
        lines, _ = _drain(writer, "READY")
        delay = float(rng.uniform(0.0, 0.8))
        moments.append(round(delay, 3))
        time.sleep(delay)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=60)
        time.sleep(0.1)
        acked |= {int(line.split()[1]) for _, line in lines if line.startswith("ACK")}
        with Store.open(home) as store:
            checks_clean += store.check().clean
    with Store.open(home, read_only=True) as store:
        counts = store.sql(
            "SELECT stream_id, seq_lo, count(*) AS n FROM blocks GROUP BY stream_id, seq_lo"
        )
    lost = duplicated = 0
    for c in range(channels):
        mine = counts[counts["stream_id"] == f"{ASSET}/ch{c:03d}"]
        stored = set(mine["seq_lo"])
        lost += len(acked - stored)
        duplicated += int((mine["n"] - 1).clip(lower=0).sum())
    result = {
        "kills": kills,
        "kill_after_ready_s": moments,
        "channels": channels,
        "block_s": block_s,
        "acknowledged_rounds": len(acked),
        "committed_blocks_checked": len(acked) * channels,
        "blocks_lost": lost,
        "blocks_duplicated": duplicated,
        "store_check_clean_after_restart": checks_clean,
    }
    print("crash", result, flush=True)
    return result


# ------------------------------------------------------------------ disk per day
def feature_row_bytes(workdir: Path, rows: int = 200_000) -> float:
    home = workdir / "features"
    with Store.open(home) as store:
        before = sum(p.stat().st_size for p in home.glob("catalog.sqlite*"))
        now = datetime.now(UTC).isoformat()
        con = store._con  # the benchmark measures the catalog's own storage of feature rows
        con.execute("BEGIN")
        con.executemany(
            "INSERT INTO features VALUES (?, NULL, ?, ?, ?, ?)",
            [
                (f"asset-{i % 25:02d}", float(i), f"ch{i % 8}:rms_{i % 20}", float(i) * 0.1, now)
                for i in range(rows)
            ],
        )
        con.execute("COMMIT")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        after = sum(p.stat().st_size for p in home.glob("catalog.sqlite*"))
    return (after - before) / rows


def disk_per_day(codec_bytes: float, row_bytes: float) -> dict[str, Any]:
    policy = RetentionPolicy()
    channels = 200
    events_per_channel_day = 1.0  # a plant with a false-alarm problem: every channel, daily
    features_per_channel_minute = 20 * 6  # 20 features every 10 s
    raw_s = policy.raw_seconds_per_day(events_per_channel_day)
    raw_gb = channels * raw_s * FS * codec_bytes / 1e9
    feature_gb = channels * features_per_channel_minute * 1440 * row_bytes / 1e9
    ring_gb = channels * (policy.ring_minutes * 60 + 300) * FS * 4 / 1e9
    return {
        "channels": channels,
        "sample_rate_hz": FS,
        "policy": policy.model_dump(),
        "assumed_events_per_channel_day": events_per_channel_day,
        "assumed_features_per_channel_minute": features_per_channel_minute,
        "raw_seconds_kept_per_channel_day": raw_s,
        "compact_codec": COMPACT_CODEC,
        "compact_bytes_per_sample": codec_bytes,
        "feature_row_bytes": round(row_bytes, 1),
        "raw_gb_per_day": round(raw_gb, 2),
        "features_gb_per_day": round(feature_gb, 2),
        "disk_gb_per_day": round(raw_gb + feature_gb, 2),
        "ring_buffer_gb_constant": round(ring_gb, 2),
        "continuous_raw_f32_gb_per_day": round(channels * 86_400 * FS * 4 / 1e9, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="short smoke run, not for results")
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--kills", type=int, default=20)
    args = parser.parse_args()
    if args.quick:
        args.channels, args.seconds, args.kills = 20, 6.0, 3
    with tempfile.TemporaryDirectory(prefix="sf-bench-store-") as tmp:
        work = Path(tmp)
        designs = bench_designs(work, 4.0 if args.quick else 8.0)
        ceiling_before = disk_ceiling(work, args.channels)
        append = bench_append(work, args.channels, args.seconds)
        ceiling_after = disk_ceiling(work, args.channels)
        codecs = bench_codecs(2 if args.quick else 8)
        crash = bench_crash(work, args.kills, seed=19)
        row_bytes = feature_row_bytes(work)
    real = next(iter(codecs))
    disk = disk_per_day(codecs[real][COMPACT_CODEC]["bytes_per_sample"], row_bytes)
    headline = {
        "append_channel_seconds_per_s": append["append_channel_seconds_per_s"],
        "read_last10s_p99_ms": append["read_last10s_p99_ms"],
        "blocks_lost": crash["blocks_lost"],
        "blocks_duplicated": crash["blocks_duplicated"],
        "bytes_per_channel_hour": {
            c: v["bytes_per_channel_hour_25k6"] for c, v in codecs[real].items()
        },
        "readers_blocked": append["read_errors"],
        "disk_gb_per_day_200ch_default": disk["disk_gb_per_day"],
    }
    result = {
        "headline": headline,
        "codec_corpus_for_headline": real,
        "designs": designs,
        "append": append,
        "disk_ceiling_before_after_append": [ceiling_before, ceiling_after],
        "codecs": codecs,
        "crash": crash,
        "disk": disk,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "note": "shared, loaded 2-core machine; timings are lower bounds",
        },
        "quick": args.quick,
        "command": "./sf bench store" + (" --quick" if args.quick else ""),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "store.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "store.md").write_text(render(result))
    print(json.dumps(headline, indent=2))


def render(r: dict[str, Any]) -> str:
    h, a, c, d = r["headline"], r["append"], r["crash"], r["disk"]
    ceil = r["disk_ceiling_before_after_append"]
    lines = [
        "# Store benchmark",
        "",
        f"`{r['command']}` on {r['date']}. Machine: {r['machine']['note']}.",
        "",
        "| figure | value | goal |",
        "|---|---|---|",
        f"| append, channel-seconds of 25.6 kHz per wall s (1 core, {a['channels']} ch, "
        f"2 readers polling) | {h['append_channel_seconds_per_s']} | >= 2,000 |",
        f"| read of last 10 s, p50 / p99 ms (during that load) | {a['read_last10s_p50_ms']} / "
        f"{h['read_last10s_p99_ms']} | p99 < 50 |",
        f"| reads failed or blocked ({a['reads']} reads) | {h['readers_blocked']} | 0 |",
        f"| same-size file appends + fdatasync, no store (disk ceiling, before / after), "
        f"channel-seconds per s | {ceil[0]['channel_seconds_per_s']}"
        f" / {ceil[1]['channel_seconds_per_s']} | - |",
        f"| writer CPU time / wall time | {a['writer_cpu_share_of_wall']} | - |",
        f"| kill -9 of the writer | {c['kills']} kills | 20 |",
        f"| committed blocks lost / duplicated ({c['committed_blocks_checked']} checked) | "
        f"{h['blocks_lost']} / {h['blocks_duplicated']} | 0 / 0 |",
        f"| `store check` clean after restart | {c['store_check_clean_after_restart']} of "
        f"{c['kills']} | all |",
        f"| disk per day, 200 ch, default retention (GB) | {h['disk_gb_per_day_200ch_default']} "
        "| <= 20 |",
        "",
        "## Codecs (bytes per channel-hour at 25.6 kHz)",
        "",
        "| corpus | codec | bytes/sample | bytes/ch-hour | encode Msamples/s |",
        "|---|---|---|---|---|",
    ]
    for corpus, per in r["codecs"].items():
        for name, v in per.items():
            lines.append(
                f"| {corpus} | {name} | {v['bytes_per_sample']} | "
                f"{v['bytes_per_channel_hour_25k6']:,} | {v['encode_msamples_per_s']} |"
            )
    lines += [
        "",
        "## Catalog designs (writer commits while 2 reader processes poll)",
        "",
        "| design | writer commits/s | writer waited to open, s | reads ok | reads failed "
        "| read p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for x in r["designs"]:
        lines.append(
            f"| {x['design']} | {x['writer_commits_per_s']} | {x['writer_waited_to_open_s']} | "
            f"{x['reads_ok']} | "
            f"{x['reads_failed']} | {x['read_p99_ms']} |"
        )
    lines += [
        "",
        "## Disk per day (default retention, 200 channels)",
        "",
        f"Raw kept per channel-day: {d['raw_seconds_kept_per_channel_day']:.0f} s "
        f"(snapshots + {d['assumed_events_per_channel_day']} event/channel-day x 120 s), "
        f"{d['compact_codec']} at {d['compact_bytes_per_sample']} B/sample: "
        f"{d['raw_gb_per_day']} GB/day. Features: {d['assumed_features_per_channel_minute']}"
        f"/channel-minute x {d['feature_row_bytes']} B/row: {d['features_gb_per_day']} GB/day. "
        f"Constant ring buffer (10 min + one unsealed 5-min segment, float32): "
        f"{d['ring_buffer_gb_constant']} GB. Continuous raw would be "
        f"{d['continuous_raw_f32_gb_per_day']} GB/day.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
