"""``shopfloor detect``: learn a machine's normal behaviour from a healthy period, flag what
departs from it, and say which sensors drive each alarm."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from shopfloor.cli._common import (
    CommandOutput,
    DebugOption,
    ExitCode,
    HomeOption,
    JsonOption,
    command,
    draw_plot,
    report_unwritten_plot,
    settings_for,
    use_data_dir_caches,
    writable_output,
)
from shopfloor.core.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from shopfloor.core.store import Store
    from shopfloor.pipelines.anomaly_monitor import AnomalyMonitor


def register(root: typer.Typer) -> None:
    root.command("detect")(detect)


def _channels_text(channels: list[dict[str, Any]]) -> str:
    parts = []
    for c in channels:
        dev = c.get("deviation")
        moved = f" {dev:+.3g} {c.get('unit', '')}".rstrip() if dev is not None else ""
        parts.append(f"{c['channel']} {c['share']:.0%}{moved}")
    return ", ".join(parts)


def _print(out: CommandOutput, payload: dict[str, Any]) -> None:
    from rich.table import Table

    n = len(payload["events"])
    colour = "red" if n else "green"
    verdict = f"{n} anomaly event{'s' if n != 1 else ''}" if n else "no anomaly"
    out.print(f"[bold]{escape(payload['target'])}[/]: [bold {colour}]{verdict}[/]")
    b = payload["baseline"]
    out.print(
        f"fitted on {b['n_rows']} rows {b['start']} .. {b['end']}; scored "
        f"{payload['n_steps']} rows, threshold {payload['threshold']:.3g}",
        soft_wrap=True,
    )
    if payload["events"]:
        table = Table(title="Anomaly events")
        for col in ("start", "end", "severity", "peak / threshold", "channels (share, moved by)"):
            table.add_column(col)
        for e in payload["events"]:
            ev = e["evidence"]
            ratio = (
                f"{ev['peak_score'] / ev['threshold']:.1f}x"
                if ev.get("peak_score") is not None and ev.get("threshold")
                else "-"
            )
            table.add_row(
                str(e["start"]), str(e["end"] or "ongoing"), e["severity"], ratio,
                escape(_channels_text(e["channels"])),
            )  # fmt: skip
        out.print(table)
    if payload["quality_events"]:
        table = Table(title="Data-quality events (masked, not scored as anomalies)")
        for col in ("check", "channel", "start", "end"):
            table.add_column(col)
        for e in payload["quality_events"]:
            ev = e["evidence"]
            table.add_row(
                ev["check"], str(ev.get("channel") or "-"), str(e["start"]), str(e["end"])
            )
        out.print(table)


def _saver(
    target: str, save_model: Path | None, store: Store | None, home: Path, saved: dict[str, str]
) -> Callable[[AnomalyMonitor, pd.DataFrame], str | None]:
    """Save the fitted monitor (to ``save_model`` and/or the store's registry) before it
    scores, so its events carry the model id; ``saved`` receives the file's sha256."""

    def save(monitor: AnomalyMonitor, healthy: pd.DataFrame) -> str | None:
        from shopfloor.core import persistence
        from shopfloor.pipelines.anomaly_registry import register_monitor

        window = persistence.TrainingWindow.from_index(healthy.index, source=target)
        path = save_model
        if path is None:  # registering only: a file in the data directory, removed after
            path = home / ".staging" / f"detect-{os.getpid()}.sfmodel"
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            saved["sha256"] = persistence.save(monitor, path, training_window=window).sha256
            if store is None:
                return None
            who = f"shopfloor detect ({os.environ.get('USER') or 'unknown user'})"
            return register_monitor(store, path, monitor, healthy, source=target, created_by=who)
        finally:
            if save_model is None:
                path.unlink(missing_ok=True)

    return save


def detect(
    target: Annotated[
        str,
        typer.Argument(
            help="A CSV/Parquet file with a timestamp column, or an asset id in the store."
        ),
    ],
    baseline: Annotated[
        str | None,
        typer.Option(
            help="Healthy period START..END (ISO 8601 times), e.g. '2024-05-01..2024-05-03'."
        ),
    ] = None,
    baseline_hours: Annotated[
        float | None, typer.Option(help="Healthy period: the first N hours of the data.")
    ] = None,
    time_column: Annotated[
        str | None, typer.Option(help="Timestamp column of a file (default: detected).")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="Column of a file that is not a sensor (repeatable).")
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(help="Save a PNG of the score against its threshold, events shaded."),
    ] = None,
    save_model: Annotated[
        Path | None,
        typer.Option(help="Save the fitted detector as a model file (.sfmodel)."),
    ] = None,
    record: Annotated[
        bool,
        typer.Option(help="Store the events in the store (asset targets)."),
    ] = True,
    home: HomeOption = None,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Fit on a healthy period, score the rest, print the events with the sensors behind them.

    Exit status: 0 no anomaly, 1 anomaly events, 2 bad input.
    """
    from shopfloor.pipelines.detect import (
        event_rows,
        parse_baseline,
        plot_detection,
        read_asset,
        read_table,
        run_detect,
    )

    with command(json_out, debug) as out:
        settings = settings_for(home)
        period = parse_baseline(baseline, baseline_hours)
        if plot is not None:
            writable_output(plot, "--plot", ".png")
        if save_model is not None:
            writable_output(save_model, "--save-model", ".sfmodel")
        path = Path(target)
        store = None
        saved: dict[str, str] = {}
        try:
            if path.suffix and path.exists():
                frame = read_table(path, time_column=time_column, exclude=tuple(exclude or ()))
                asset_id = path.stem
            elif path.suffix:
                raise InputError("no such file", source=path)
            else:
                from shopfloor.core.store import Store

                if not Store.exists(settings.home):
                    raise InputError(
                        f"{target!r} is not a file and there is no store at {settings.home}"
                    )
                store = Store.open(settings.home)
                try:
                    store.asset(target)
                except KeyError:
                    raise InputError(f"no file and no asset {target!r} in the store") from None
                frame = read_asset(store, target)
                asset_id = target
            if store is None and record and save_model is not None:
                from shopfloor.core.store import Store

                if Store.exists(settings.home):  # a saved model goes into the registry too
                    store = Store.open(settings.home)
            registry = store if record else None
            register = None
            if save_model is not None or registry is not None:
                register = _saver(target, save_model, registry, settings.home, saved)
            with out.status(f"Detecting on {target}"):
                run = run_detect(frame, period, asset_id=asset_id, register=register)
            det = run.detection
            if store is not None and record and target == asset_id and not path.suffix:
                store.add_events([*det.events, *det.quality_events])
        finally:
            if store is not None:
                store.close()
        payload: dict[str, Any] = {
            "target": target,
            "asset_id": asset_id,
            "baseline": {
                "start": run.baseline.index[0],
                "end": run.baseline.index[-1],
                "n_rows": len(run.baseline),
            },
            "channels": run.monitor.channels_,
            **det.summary(),
            "events": [r for r in event_rows(det) if r["kind"] == "anomaly"],
            "quality_events": [r for r in event_rows(det) if r["kind"] != "anomaly"],
            "recorded": store is not None and record and not path.suffix,
            "model_id": run.model_id,
        }
        plot_error = None
        if plot is not None:
            use_data_dir_caches(settings.home)
            png = plot
            plot_error = draw_plot(
                lambda: plot_detection(run, png, title=f"{target}: anomaly score"), png
            )
            payload["plot"] = None if plot_error else str(plot)
            if plot_error:
                payload["plot_error"] = plot_error
        if save_model is not None:
            payload["model"] = {"path": str(save_model), "sha256": saved["sha256"]}
        code = ExitCode.FINDING if det.events else ExitCode.OK
        payload["exit_code"] = int(code)
        out.emit(payload)
        _print(out, payload)
        if plot is not None and plot_error is None:
            out.print(f"score plot saved to {escape(str(plot))}")
        if save_model is not None:
            out.print(f"detector saved to {escape(str(save_model))}")
        if run.model_id is not None:
            out.print(f"detector registered in the store as model {run.model_id}")
        report_unwritten_plot(plot_error, "detection")
    raise typer.Exit(int(code))
