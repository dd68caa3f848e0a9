"""``shopfloor run SPEC.yaml``: a pipeline spec, live from its source or over stored data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from shopfloor.cli._common import (
    DebugOption,
    ExitCode,
    HomeOption,
    JsonOption,
    command,
    settings_for,
)


def register(root: typer.Typer) -> None:
    root.command("run")(run)


def run(
    spec: Annotated[Path, typer.Argument(help="Pipeline spec (YAML).")],
    stored: Annotated[
        bool, typer.Option("--stored", help="Run over the data in the store instead of live.")
    ] = False,
    duration: Annotated[
        float | None, typer.Option(help="Live: stop after this many seconds (default: Ctrl-C).")
    ] = None,
    home: HomeOption = None,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Run a pipeline spec. Exit 1 when an alert was raised, 0 when none."""
    import asyncio

    from shopfloor.core.errors import InputError
    from shopfloor.core.store import Store
    from shopfloor.pipelines.live.spec import load_spec

    with command(json_out, debug) as out:
        loaded = load_spec(spec)
        settings = settings_for(home)
        if duration is not None and duration <= 0:
            raise InputError(f"--duration {duration}: must be positive")
        if stored:
            from shopfloor.pipelines.live.offline import run_offline

            with Store.open(settings.home, read_only=True) as store:
                rows = run_offline(loaded, store)
            alerts = [r["results"]["alert"] for r in rows if (r["results"] or {}).get("alert")]
            labels: Counter[tuple[str, str, str]] = Counter(
                (r["asset_id"], r["channel_id"], _label(r)) for r in rows
            )
            out.emit({"windows": rows, "alerts": alerts})
            _table(out, labels)
            out.print(f"{len(rows)} windows over stored data; {len(alerts)} alert(s)")
            out.exit(ExitCode.FINDING if alerts else ExitCode.OK)
        from shopfloor.acquisition.live.connector import Connector
        from shopfloor.pipelines.live.runtime import LiveRuntime
        from shopfloor.pipelines.live.spec import open_transport

        transport, where = open_transport(loaded, settings.home)
        with Store.open(settings.home, wait_s=10.0) as store:
            runtime = LiveRuntime(loaded, store, echo=out.note)
            out.note(f"listening on {where} (Ctrl-C stops)")
            try:
                asyncio.run(runtime.run(Connector(transport, loaded.fleet), duration_s=duration))
            except KeyboardInterrupt:
                out.note("stopped; everything acknowledged was stored")
            finally:
                runtime.close()
        counters = runtime.counters.to_dict()
        out.emit({"counters": counters, "alerts": [a.to_dict() for a in runtime.alerts]})
        out.print(", ".join(f"{k} {v}" for k, v in counters.items()))
        out.exit(ExitCode.FINDING if runtime.alerts else ExitCode.OK)


def _label(row: dict[str, Any]) -> str:
    if row["status"] != "ok":
        return str(row["status"])
    return str(((row["results"] or {}).get("diagnosis") or {}).get("label", "-"))


def _table(out: Any, labels: Counter[tuple[str, str, str]]) -> None:
    from rich.table import Table

    table = Table(title="Windows by verdict")
    for col in ("asset", "channel", "verdict", "windows"):
        table.add_column(col)
    for (asset, channel, label), n in sorted(labels.items()):
        table.add_row(asset, channel, label, str(n))
    out.print(table)
