"""Service benchmark: fleet page with 500 assets and 10,000 stored alerts; API load on loopback.

Run (from the repository root)::

    ./sf bench service                  # about 2 minutes; --clients 200 --seconds 60 for the
                                        # issue's full load test

Writes ``benchmarks/results/service.json`` (headline: fleet_page_load_ms_browser,
fleet_page_server_ms_p50, api_requests_per_s, api_latency_p99_ms, api_errors,
live_update_ms) and ``benchmarks/results/service.md``.

What is measured:

* A store with 500 simulated motors (``default_fleet``) and 10,000 stored alerts (1,000 still
  open or acknowledged, the rest closed), served by ``shopfloor serve`` in its own process.
* **fleet page, server**: wall time of ``GET /`` (the whole HTML, logged in), 20 requests.
* **fleet page, browser**: Debian's Chromium (Playwright) loads ``/``; navigation start to the
  load event, from the browser's Navigation Timing, median of 5 loads.
* **live update**: an alert is stored by another process while the page is open; time from
  the store commit to the grid cell changing colour in the browser.
* **load**: ``--clients`` concurrent clients (asyncio + httpx, in a second process) for
  ``--seconds`` seconds, each looping over a mix of API reads (asset list, one asset, the
  newest 50 events, one event with its history) and an acknowledge; requests/s, latency
  p50/p99, errors (any non-2xx other than the expected 409 on a repeated acknowledge).

The machine is shared and loaded (2 cores, other jobs running; the load generator shares
them with the service), so timings are upper bounds of what an idle server takes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shopfloor.testing.browser import launch, missing_browser, start_serve, stop

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SECRET = "bench-" + "5e1f0c2a9b7d" * 4
PASSWORD = "benchmark password"


def build_store(home: Path, n_assets: int, n_alerts: int, n_open: int) -> list[str]:
    from shopfloor.acquisition.live.simulator import default_fleet
    from shopfloor.core.events import Event, EventKind, Severity
    from shopfloor.core.store import Store
    from shopfloor.service.auth import Role, UserStore

    sevs = [Severity.WARNING, Severity.ALARM, Severity.CRITICAL]
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    # Open alerts on 80 % of the fleet (the rest healthy), closed ones anywhere.
    n_faulty = max(1, int(0.8 * n_assets))

    def asset(i: int) -> str:
        k = i % n_faulty if i >= n_alerts - n_open else i % n_assets
        return f"motor-{k + 1:02d}"

    events = [
        Event(
            asset_id=asset(i),
            kind=EventKind.ALERT,
            start=t0 + timedelta(minutes=i),
            severity=sevs[i % 3],
            summary=f"{asset(i)}/de_accel: outer race, window {i}",
            source="advice.alerts",
            evidence={"suggested_action": "plan a bearing change"},
        )
        for i in range(n_alerts)
    ]
    with Store.open(home) as store:
        for asset in default_fleet(n_assets, 25_600.0).core_assets():
            store.put_asset(asset)
        ids = store.add_events(events)
        for k, event_id in enumerate(ids[: n_alerts - n_open]):
            store.close_event(
                event_id, who="bench", resolution="confirmed" if k % 4 else "false_alarm"
            )
    UserStore(home / "service" / "users.json").set_user("bench", Role.OPERATOR, PASSWORD)
    return ids[n_alerts - n_open :]


def login(url: str) -> str:
    import httpx

    r = httpx.post(url + "api/v1/auth/token", data={"username": "bench", "password": PASSWORD})
    r.raise_for_status()
    return str(r.json()["access_token"])


def fleet_server(url: str, token: str, n: int = 20) -> dict[str, Any]:
    import httpx

    times, size = [], 0
    with httpx.Client(cookies={"shopfloor_token": token}, timeout=60) as c:
        for _ in range(n):
            t0 = time.perf_counter()
            r = c.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            r.raise_for_status()
            size = len(r.content)
    times.sort()
    return {
        "requests": n,
        "p50_ms": round(statistics.median(times), 1),
        "max_ms": round(times[-1], 1),
        "html_bytes": size,
    }


def browser(url: str, token: str, home: Path, work: Path) -> dict[str, Any]:
    reason = missing_browser()
    if reason is not None:
        return {"skipped": reason}
    from playwright.sync_api import sync_playwright

    from shopfloor.core.events import Event, EventKind, Severity
    from shopfloor.core.store import Store

    with sync_playwright() as pw:
        ctx = launch(pw, work / "profile")
        ctx.add_cookies([{"name": "shopfloor_token", "value": token, "url": url}])
        page = ctx.new_page()
        loads = []
        for _ in range(5):
            page.goto(url, wait_until="load")
            loads.append(
                page.evaluate(
                    "() => { const n = performance.getEntriesByType('navigation')[0];"
                    " return n.loadEventEnd - n.startTime; }"
                )
            )
        # Live update: a healthy asset gets an alert stored by another process.
        page.goto(url, wait_until="load")
        page.wait_for_selector("#live.on")
        target = page.get_attribute("#grid .cell[data-state='ok']", "data-asset", timeout=5000)
        lags = []
        if target is not None:
            with Store.open(home, wait_s=10) as store:
                store.add_events(
                    [
                        Event(
                            asset_id=target,
                            kind=EventKind.ALERT,
                            start=datetime.now(UTC),
                            severity=Severity.CRITICAL,
                            summary=f"{target}: benchmark alert",
                            source="bench",
                        )
                    ]
                )
                stored = time.time()
            page.wait_for_function(
                f"() => document.querySelector(\".cell[data-asset='{target}']\")"
                ".dataset.state === 'critical'",
                polling=20,
                timeout=30_000,
            )
            lags.append((time.time() - stored) * 1000)
        ctx.close()
    return {
        "load_ms_each": [round(x, 1) for x in loads],
        "load_ms_median": round(statistics.median(loads), 1),
        "live_update_ms": round(lags[0], 1) if lags else None,
        "live_target": target,
    }


async def _client(
    url: str,
    token: str,
    until: float,
    open_ids: list[str],
    seed: int,
    out: dict[str, Any],
    n_assets: int,
) -> None:
    import httpx

    h = {"Authorization": f"Bearer {token}"}
    paths = [
        "api/v1/assets",
        f"api/v1/assets/motor-{seed % n_assets + 1:02d}",
        "api/v1/events?limit=50",
        f"api/v1/events/{open_ids[seed % len(open_ids)]}",
        "health",
    ]
    async with httpx.AsyncClient(base_url=url, headers=h, timeout=30) as c:
        k = seed
        while time.monotonic() < until:
            k += 1
            ack = k % 10 == 0
            t0 = time.perf_counter()
            try:
                if ack:
                    r = await c.post(
                        f"api/v1/events/{open_ids[k % len(open_ids)]}/acknowledge", json={}
                    )
                else:
                    r = await c.get(paths[k % len(paths)])
                code = r.status_code
            except httpx.HTTPError as exc:
                code = type(exc).__name__
            ms = (time.perf_counter() - t0) * 1000
            out["lat"].append(ms)
            route = "acknowledge" if ack else paths[k % len(paths)].split("?")[0]
            route = (
                route if k % len(paths) not in (1, 3) or ack else route.rsplit("/", 1)[0] + "/{id}"
            )
            out["by_route"].setdefault(route, []).append(ms)
            ok = isinstance(code, int) and (code < 300 or (ack and code == 409))
            if not ok:
                out["errors"][str(code)] = out["errors"].get(str(code), 0) + 1


async def _load(
    url: str, token: str, clients: int, seconds: float, ids: list[str], n_assets: int
) -> dict[str, Any]:
    out: dict[str, Any] = {"lat": [], "errors": {}, "by_route": {}}
    until = time.monotonic() + seconds
    t0 = time.monotonic()
    await asyncio.gather(
        *(_client(url, token, until, ids, i, out, n_assets) for i in range(clients))
    )
    wall = time.monotonic() - t0
    lat = sorted(out["lat"])
    return {
        "clients": clients,
        "seconds": round(wall, 1),
        "requests": len(lat),
        "requests_per_s": round(len(lat) / wall, 1),
        "p50_ms": round(lat[len(lat) // 2], 1) if lat else None,
        "p99_ms": round(lat[min(len(lat) - 1, int(0.99 * len(lat)))], 1) if lat else None,
        "errors": sum(out["errors"].values()),
        "errors_by_kind": out["errors"],
        "by_route": {
            route: {
                "requests": len(v),
                "p50_ms": round(sorted(v)[len(v) // 2], 1),
                "p99_ms": round(sorted(v)[min(len(v) - 1, int(0.99 * len(v)))], 1),
            }
            for route, v in sorted(out["by_route"].items())
        },
    }


def load_test(
    url: str, token: str, clients: int, seconds: float, ids: list[str], n_assets: int
) -> dict[str, Any]:
    """In a second process, so the load generator does not share the service's event loop."""
    code = (
        "import asyncio, json, sys; sys.path.insert(0, 'benchmarks'); import service as b; "
        f"print(json.dumps(asyncio.run(b._load({url!r}, {token!r}, {clients}, {seconds}, "
        f"{ids!r}, {n_assets}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def live_load(work: Path, clients: int, seconds: float, motors: int) -> dict[str, Any]:
    """The load test while the live pipeline runs: ``shopfloor serve --simulate`` (embedded
    broker, simulator, pipeline and service in one process, the pipeline holding the store's
    writer, acknowledgements written through it). The load starts once motor-01 has raised
    its first alert and runs ``seconds``; the simulation runs on for 10 s more. Real time is
    judged from the pipeline's own counters: every window assessed (motors x simulated
    seconds, one 1-s window each) and the window-to-decision latency (decision time minus
    the window's last sample time, so a pipeline that falls behind shows it there)."""
    import httpx

    home = work / "live"
    from shopfloor.service.auth import Role, UserStore

    UserStore(home / "service" / "users.json").set_user("bench", Role.OPERATOR, PASSWORD)
    sim_s = seconds + 60.0
    proc, url = start_serve(
        home,
        SECRET,
        ["--simulate", f"{sim_s:g}", "--motors", str(motors), "--duration", "1", "--json"],
        work / "serve-live.log",
        stdout=work / "serve-live.json",
    )
    try:
        token = login(url)
        h = {"Authorization": f"Bearer {token}"}
        t0 = time.monotonic()
        ids: list[str] = []
        while time.monotonic() - t0 < 0.6 * sim_s and not ids:
            time.sleep(1.0)
            r = httpx.get(url + "api/v1/events?status=open", headers=h, timeout=10)
            ids = [e["id"] for e in r.json()] if r.status_code == 200 else []
        waited = time.monotonic() - t0
        load = load_test(url, token, clients, seconds, ids or ["none"], motors)
        proc.wait(timeout=sim_s + 120)
    finally:
        stop(proc)
    doc = json.loads((work / "serve-live.json").read_text().strip().splitlines()[-1])
    sim = doc.get("simulation") or {}
    c = sim.get("counters", {})
    expected = motors * int(sim_s)
    lat99 = sim.get("latency_ms_p99")
    kept = (
        c.get("windows", 0) >= 0.98 * expected
        and lat99 is not None
        and lat99 < 1000.0
        and c.get("dead_letters", 1) == 0
    )
    return {
        "load": {**load, "started_after_s": round(waited, 1), "open_alerts_at_start": len(ids)},
        "pipeline": {
            "motors": motors,
            "simulated_s": sim_s,
            "windows": c.get("windows"),
            "windows_expected": expected,
            "windows_incomplete": c.get("windows_incomplete"),
            "dead_letters": c.get("dead_letters"),
            "blocks_stored": c.get("blocks_stored"),
            "alerts": c.get("alerts"),
            "latency_ms_p50": sim.get("latency_ms_p50"),
            "latency_ms_p99": lat99,
            "kept_real_time": kept,
            "rule": "windows >= 98 % of motors x seconds, latency p99 < 1000 ms (one window), "
            "no dead letters",
        },
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--assets", type=int, default=500)
    p.add_argument("--alerts", type=int, default=10_000)
    p.add_argument("--open", type=int, default=1_000, help="alerts left open")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--motors", type=int, default=3, help="simulated motors in the live run")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="sf-bench-service-") as tmp:
        work = Path(tmp)
        home = work / "home"
        t0 = time.perf_counter()
        open_ids = build_store(home, args.assets, args.alerts, args.open)
        build_s = time.perf_counter() - t0
        proc, url = start_serve(home, SECRET, [], work / "serve.log")
        try:
            token = login(url)
            server = fleet_server(url, token)
            in_browser = browser(url, token, home, work)
            load = load_test(url, token, args.clients, args.seconds, open_ids, args.assets)
        finally:
            stop(proc)
        live = live_load(work, args.clients, args.seconds, args.motors)
    ll, pl = live["load"], live["pipeline"]
    headline = {
        "fleet_page_load_ms_browser": in_browser.get("load_ms_median"),
        "fleet_page_server_ms_p50": server["p50_ms"],
        "live_update_ms": in_browser.get("live_update_ms"),
        "api_requests_per_s": ll["requests_per_s"],
        "api_latency_p99_ms": ll["p99_ms"],
        "api_errors": ll["errors"],
        "pipeline_kept_real_time": pl["kept_real_time"],
        "pipeline_latency_ms_p99": pl["latency_ms_p99"],
        "api_requests_per_s_10k_alert_store": load["requests_per_s"],
        "api_latency_p99_ms_10k_alert_store": load["p99_ms"],
        "api_errors_10k_alert_store": load["errors"],
    }
    result = {
        "headline": headline,
        "store": {
            "assets": args.assets,
            "alerts": args.alerts,
            "open_alerts": args.open,
            "build_s": round(build_s, 1),
        },
        "fleet_page_server": server,
        "browser": in_browser,
        "load_10k_alert_store": load,
        "load_while_pipeline_runs": ll,
        "pipeline": pl,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "note": "shared, loaded 2-core machine; load generator on the same cores",
        },
        "command": f"./sf bench service --clients {args.clients} --seconds {args.seconds:g}"
        f" --motors {args.motors}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "service.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "service.md").write_text(render(result))
    print(json.dumps(headline, indent=2))


def render(r: dict[str, Any]) -> str:
    h, s, b = r["headline"], r["store"], r["browser"]
    ld, ll, pl = r["load_10k_alert_store"], r["load_while_pipeline_runs"], r["pipeline"]
    return "\n".join(
        [
            "# Service benchmark",
            "",
            f"`{r['command']}` on {r['date']}. Machine: {r['machine']['note']}.",
            f"Store: {s['assets']} assets, {s['alerts']:,} alerts ({s['open_alerts']:,} open).",
            "",
            "| figure | value | goal |",
            "|---|---|---|",
            f"| fleet page load in Chromium, navigation to load event, median of 5 (ms) | "
            f"{h['fleet_page_load_ms_browser']} | < 1000 |",
            f"| fleet page HTML from the server, p50 of 20 (ms) | {h['fleet_page_server_ms_p50']}"
            f" | - |",
            f"| alert stored -> grid cell changes colour in the browser (ms) | "
            f"{h['live_update_ms']} | < 1000 |",
            f"| **while the pipeline runs** ({pl['motors']} motors at 25.6 kHz, "
            f"`serve --simulate`): {ll['clients']} clients for {ll['seconds']} s, requests/s | "
            f"{h['api_requests_per_s']} | - |",
            f"| ... API latency p50 / p99 (ms) | {ll['p50_ms']} / {h['api_latency_p99_ms']} | - |",
            f"| ... API errors ({ll['requests']:,} requests) | {h['api_errors']} | 0 |",
            f"| ... pipeline windows assessed / expected | {pl['windows']} / "
            f"{pl['windows_expected']} | all |",
            f"| ... pipeline window-to-decision latency p50 / p99 (ms) | {pl['latency_ms_p50']} / "
            f"{pl['latency_ms_p99']} | < 1000 |",
            f"| ... pipeline kept real time | {pl['kept_real_time']} | yes |",
            f"| 10,000-alert store, no pipeline: {ld['clients']} clients for {ld['seconds']} s,"
            f" requests/s | {ld['requests_per_s']} | - |",
            f"| ... API latency p50 / p99 (ms) | {ld['p50_ms']} / {ld['p99_ms']} | - |",
            f"| ... API errors ({ld['requests']:,} requests) | {ld['errors']} | 0 |",
            "",
            f"Real time: {pl['rule']}. Errors by kind, live run: {ll['errors_by_kind']}; "
            f"10k store: {ld['errors_by_kind']}.",
            "",
            "Latency by route, p50 / p99 ms (live run; 10k store): "
            + "; ".join(
                f"{route} {v['p50_ms']} / {v['p99_ms']}"
                + (
                    f" ({ld['by_route'][route]['p50_ms']} / {ld['by_route'][route]['p99_ms']})"
                    if route in ld.get("by_route", {})
                    else ""
                )
                for route, v in ll.get("by_route", {}).items()
            )
            + ".",
            "",
            f"Browser loads (ms): {b.get('load_ms_each', b.get('skipped'))}.",
            "",
        ]
    )


if __name__ == "__main__":
    main()
