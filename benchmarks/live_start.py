"""How fast a live service starts: import time and ``shopfloor run`` start-to-listening.

A restarted service is blind until it listens again, so its start time is part of the live
benchmark's ``recovery_seconds`` after a kill. This measures, in one run, the current code
against the same code with the file importer imported first (what ``shopfloor.acquisition``'s
eager ``__init__`` did before it resolved its names lazily), so the difference is the lazy
import's effect on this machine at this load:

* ``python -X importtime -c "import M"`` for the live connector and the runtime (median of 5);
* ``shopfloor run SPEC.yaml`` as a new process, from ``Popen`` to its "listening on" line
  (store opened, runtime built), against a real Mosquitto (median of 5, alternating).

Run: ``./sf bench live_start`` (writes ``benchmarks/results/live_start.{json,md}``).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from shopfloor.acquisition.live.simulator import default_fleet
from shopfloor.pipelines.live.demo import DEMO_STEPS
from shopfloor.testing.mosquitto import Mosquitto, find_mosquitto

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RUNS = 5
EAGER = "import shopfloor.acquisition.tabular; "  # what the eager __init__ pulled in
MODULES = ("shopfloor.acquisition.live.connector", "shopfloor.pipelines.live.runtime")


def import_ms(module: str, prefix: str = "") -> float:
    """Cumulative import time of ``module`` (plus ``prefix``'s imports), ms, from -X importtime."""
    code = f"{prefix}import {module}"
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    ).stderr
    total = 0
    for line in err.splitlines():
        parts = line.removeprefix("import time:").split("|")
        # top-level imports have no indentation before their name
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("  "):
            total += int(parts[1])
    return total / 1000


def service_ready_s(spec: Path, home: Path, prefix: str) -> float:
    """Seconds from Popen to the "listening on" line of ``shopfloor run``."""
    code = f"{prefix}import runpy; runpy.run_module('shopfloor.cli', run_name='__main__')"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "run", str(spec), "--home", str(home)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            if "listening on" in line:
                return time.perf_counter() - t0
        raise RuntimeError(f"shopfloor run ended without listening (exit {proc.wait()})")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    exe = find_mosquitto()
    if exe is None:
        sys.exit("benchmarks/live_start.py needs Debian's mosquitto (./sf bench installs it)")
    load_start = [round(x, 2) for x in os.getloadavg()]
    imports: dict[str, dict[str, float]] = {}
    for module in MODULES:
        lazy = [import_ms(module) for _ in range(RUNS)]
        eager = [import_ms(module, EAGER) for _ in range(RUNS)]
        imports[module] = {
            "eager_ms": round(statistics.median(eager), 1),
            "lazy_ms": round(statistics.median(lazy), 1),
        }
    with tempfile.TemporaryDirectory(prefix="sf-bench-start-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(exe, work / "broker")
        broker.start()
        try:
            fleet = default_fleet(2).model_dump(mode="json", exclude_none=True)
            spec = work / "spec.yaml"
            doc = {
                "name": "bench-start",
                "fleet": fleet,
                "source": {"kind": "mqtt", "port": broker.port, "client_id": "bench-start"},
                "steps": [{"use": s} for s in DEMO_STEPS],
                "sinks": [{"use": "store"}],
            }
            spec.write_text(yaml.safe_dump(doc))
            ready: dict[str, list[float]] = {"eager": [], "lazy": []}
            service_ready_s(spec, work / "home", "")  # first start creates the store
            for _ in range(RUNS):
                ready["eager"].append(service_ready_s(spec, work / "home", EAGER))
                ready["lazy"].append(service_ready_s(spec, work / "home", ""))
        finally:
            broker.stop()
    eager_s = statistics.median(ready["eager"])
    lazy_s = statistics.median(ready["lazy"])
    doc_out: dict[str, Any] = {
        "headline": {
            "service_ready_s_eager": round(eager_s, 3),
            "service_ready_s_lazy": round(lazy_s, 3),
            "import_connector_ms_eager": imports[MODULES[0]]["eager_ms"],
            "import_connector_ms_lazy": imports[MODULES[0]]["lazy_ms"],
            "import_runtime_ms_eager": imports[MODULES[1]]["eager_ms"],
            "import_runtime_ms_lazy": imports[MODULES[1]]["lazy_ms"],
        },
        "imports": imports,
        "service_ready_s": {k: [round(v, 3) for v in vs] for k, vs in ready.items()},
        "runs": RUNS,
        "load_avg_start": load_start,
        "load_avg_end": [round(x, 2) for x in os.getloadavg()],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, shared",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "live_start.json").write_text(json.dumps(doc_out, indent=2) + "\n")
    (RESULTS / "live_start.md").write_text(markdown(doc_out))
    print(json.dumps(doc_out["headline"], indent=2))


def markdown(doc: dict[str, Any]) -> str:
    h = doc["headline"]
    return "\n".join(
        [
            "# Live service start (`./sf bench live_start`)",
            "",
            f"{doc['when']}, {doc['machine']}; load average {doc['load_avg_start']} → "
            f"{doc['load_avg_end']}. Medians of {doc['runs']}. *eager*: the file importer "
            "(pandas, DuckDB) imported first, as `shopfloor.acquisition`'s `__init__` did; "
            "*lazy*: today.",
            "",
            "| measure | eager | lazy |",
            "|---|---|---|",
            f"| import `acquisition.live.connector`, ms | {h['import_connector_ms_eager']} | "
            f"{h['import_connector_ms_lazy']} |",
            f"| import `pipelines.live.runtime`, ms | {h['import_runtime_ms_eager']} | "
            f"{h['import_runtime_ms_lazy']} |",
            f"| `shopfloor run` start → listening, s | {h['service_ready_s_eager']} | "
            f"{h['service_ready_s_lazy']} |",
            "",
        ]
    )


if __name__ == "__main__":
    main()
