"""``shopfloor demo``: the README's first command; ``--live`` runs the operating loop."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from shopfloor.cli._common import (
    CommandOutput,
    DebugOption,
    HomeOption,
    JsonOption,
    command,
    settings_for,
)


def register(root: typer.Typer) -> None:
    root.command("demo")(demo)


def demo(
    dataset: Annotated[str, typer.Option(help="Dataset to prepare and summarise.")] = "cwru",
    home: HomeOption = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not try to download anything.")
    ] = False,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="Run broker, fleet simulator and live pipeline in this process: a simulated "
            "motor degrades and raises an alert.",
        ),
    ] = False,
    duration: Annotated[
        float, typer.Option(help="--live: seconds to run (min 15).", min=15.0, max=3600.0)
    ] = 60.0,
    motors: Annotated[int, typer.Option(help="--live: motors simulated.", min=1, max=50)] = 3,
    dashboard: Annotated[
        bool | None,
        typer.Option(
            "--dashboard/--no-dashboard",
            help="After the summary, serve the dashboard over a simulated plant whose first "
            "motor degrades, and print its URL and a one-time admin login link (default: on "
            "when the output is a terminal and the service extra is installed). Ctrl-C stops.",
        ),
    ] = None,
    port: Annotated[
        int, typer.Option(help="--dashboard: TCP port (a free one if taken).", min=1, max=65535)
    ] = 8000,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Prepare a real dataset and print a health summary of every recording in it.

    Falls back to generated signals, and says so, when no local mirror exists and the network
    cannot be reached. Then (on a terminal) serves the dashboard over a simulated plant and
    prints its URL and a one-time admin login link; motor-01 visibly degrades within a minute.
    With --live, runs the live operating loop on simulated motors instead (exit 0: the alert
    it raises is staged).
    """
    with command(json_out, debug) as out:
        settings = settings_for(home)
        if live:
            _live(out, settings.home, duration, motors)
            return
        from shopfloor.pipelines.demo import run_demo

        if offline:
            settings = settings.model_copy(update={"offline": True})
        with out.progress() as make:
            summary = run_demo(settings, dataset, progress=make)
        if not out.json:
            summary.print(out.console)
        if dashboard is None:
            dashboard = not out.json and sys.stdout.isatty() and _service_installed()
        result = summary.to_dict()
        if dashboard:
            result["dashboard"] = _dashboard(out, settings.home, motors, port)
        out.emit(result)


# The simulated plant behind the dashboard: motor-01's bearing is healthy for the first 20 %
# of the run, an incipient outer-race defect grows until 60 %, then it is severe. 90 s puts
# the first change at 18 s and the severe stage at 54 s: visibly degrading within a minute.
DASHBOARD_SIMULATION_S = 90.0


def _service_installed() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("fastapi", "uvicorn", "amqtt"))


def _free(host: str, port: int) -> int:
    import socket

    from shopfloor.acquisition.live.mqtt import free_port

    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return free_port()
    return port


def _dashboard(out: CommandOutput, home: Any, motors: int, port: int) -> dict[str, Any]:
    """Serve the dashboard over a simulated plant until Ctrl-C; returns what was shown."""
    import asyncio
    import os
    import secrets

    try:
        from shopfloor.service.live import serve
        from shopfloor.service.settings import ServiceSettings
    except ImportError as exc:
        raise ModuleNotFoundError(
            f"the dashboard needs its extra: pip install 'shopfloor[service,mqtt]' ({exc})"
        ) from exc
    # A secret set by the operator is used (and checked); otherwise a random one for this run
    # only, so the tokens it signs die with the demo.
    own = os.environ.get("SHOPFLOOR_SERVICE_SECRET")
    settings = ServiceSettings(home=home, secret=own or secrets.token_hex(32))
    settings.check_secret()
    host = "127.0.0.1"
    port = _free(host, port)
    shown: dict[str, Any] = {}

    def started(url: str, link: str | None) -> None:
        shown.update(url=url, login_link=link)
        out.note("")
        out.note(f"dashboard: {url}  (API: {url}docs)")
        out.note(f"one-time admin login (works once, for an hour): {link}")
        out.note(
            f"simulated plant: {motors} motors; motor-01's bearing starts to degrade about "
            f"{0.2 * DASHBOARD_SIMULATION_S:.0f} s from now and raises an alert within a "
            "minute. Ctrl-C stops."
        )

    def echo(line: str) -> None:  # the pipeline's alert lines, as `demo --live` shows them
        out.note(line)

    try:
        summary = asyncio.run(
            serve(
                settings,
                host=host,
                port=port,
                simulate_s=DASHBOARD_SIMULATION_S,
                motors=motors,
                on_started=started,
                echo=echo,
                one_time_admin=True,
            )
        )
    except KeyboardInterrupt:
        summary = {}
    return {**shown, "alerts": len(summary.get("alerts", [])) if summary else None}


def status_table(rows: list[dict[str, Any]], title: str) -> Any:
    from rich.table import Table

    table = Table(title=title)
    cols = ("asset", "health", "grade", "anomaly", "RUL s", "RMS m/s²", "kurtosis", "temp °C")
    for col in (*cols, "windows", "alerts"):
        table.add_column(col)
    for r in rows:
        health = str(r.get("health", "-"))
        style = "green" if health == "normal" else ("red" if health != "-" else "")

        def num(v: Any, fmt: str) -> str:
            return format(v, fmt) if isinstance(v, int | float) else "-"

        table.add_row(
            str(r["asset"]),
            f"[{style}]{health}[/]" if style else health,
            str(r.get("grade", "-")),
            num(r.get("anomaly"), ".1f") + (" ALARM" if r.get("anomaly_alarm") else ""),
            _rul(r),
            num(r.get("rms"), ".2f"),
            num(r.get("kurtosis"), ".1f"),
            num(r.get("de_temp"), ".1f"),
            str(r.get("windows", 0)),
            str(r.get("alerts", 0)),
        )
    return table


def _rul(r: dict[str, Any]) -> str:
    """Remaining life with its interval, seconds ("-" before the first estimate)."""
    point, lo, hi = r.get("rul_s"), r.get("rul_lower_s"), r.get("rul_upper_s")
    if not isinstance(point, int | float) or lo is None or hi is None:
        return "-"
    return f"{point:.0f} [{lo:.0f}-{hi:.0f}]"


def _live(out: CommandOutput, home: Any, duration: float, motors: int) -> None:
    import asyncio

    from rich.live import Live

    from shopfloor.pipelines.live.demo import run_live_demo

    out.note(
        f"live demo: embedded MQTT broker, {motors} simulated motors at 25.6 kHz, "
        f"{duration:g} s; motor-01's bearing degrades (generated data, not a real machine)"
    )
    live = Live(console=out.err, auto_refresh=False, transient=False) if not out.json else None

    def on_status(runtime: Any, elapsed: float, stage: str) -> None:
        if live is not None:
            title = f"{elapsed:4.0f} s of {duration:g} s — motor-01 bearing: {stage}"
            live.update(status_table(runtime.snapshot(), title), refresh=True)

    def echo(line: str) -> None:
        if live is not None:
            live.console.print(line, markup=False, highlight=False)

    if live is not None:
        live.start()
    try:
        summary = asyncio.run(
            run_live_demo(
                home / "live-demo",
                duration_s=duration,
                n_motors=motors,
                on_status=on_status,
                echo=echo,
            )
        )
    finally:
        if live is not None:
            live.stop()
    out.emit(summary.to_dict())
    c = summary.counters
    out.print(status_table(summary.assets, "Summary"))
    out.print(
        f"{c['windows']} windows assessed from {c['blocks_stored']} stored blocks; "
        f"{c['alerts']} alert(s); {c['dead_letters']} dead letters; "
        f"window-to-decision latency p50 {summary.latency_ms_p50 or 0:.0f} ms, "
        f"p99 {summary.latency_ms_p99 or 0:.0f} ms; store: {summary.home}"
    )
