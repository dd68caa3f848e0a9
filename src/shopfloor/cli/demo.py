"""``shopfloor demo``: the README's first command; ``--live`` runs the operating loop."""

from __future__ import annotations

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
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Prepare a real dataset and print a health summary of every recording in it.

    Falls back to generated signals, and says so, when no local mirror exists and the network
    cannot be reached. With --live, runs the live operating loop on simulated motors instead
    (exit 0: the alert it raises is staged).
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
        out.emit(summary.to_dict())
        if not out.json:
            summary.print(out.console)


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
