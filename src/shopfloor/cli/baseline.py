"""``shopfloor baseline save|show``: keep an asset's healthy baseline, so diagnoses use it.

``save`` learns the baseline of one asset channel from a healthy recording, file or stream
period (what ``diagnose --baseline`` takes), registers it in the store's model registry and
deploys it on the channel; every later ``shopfloor diagnose`` of that asset and channel is then
judged against it. ``show`` lists the saved baselines of an asset.

Exit status: 0 ok; 2 bad input (unknown asset or channel, a source that is not healthy data);
3 anything unexpected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from shopfloor.cli._common import DebugOption, HomeOption, JsonOption, command, settings_for
from shopfloor.core.errors import InputError

app = typer.Typer(help="An asset's healthy baseline, for diagnosis.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="baseline")


def _existing_store(home: Path | None) -> Any:
    """The settings, after checking their data directory holds a store."""
    from shopfloor.core.store import Store

    settings = settings_for(home)
    if not Store.exists(settings.home):
        raise InputError(f"no store in {settings.home}: import or prepare data first")
    return settings


@app.command("save")
def baseline_save(
    asset: Annotated[str, typer.Argument(help="Asset id in the store.")],
    source: Annotated[
        str,
        typer.Argument(
            help="The healthy period: a recording id, a CSV/Parquet file or ASSET@START..END."
        ),
    ],
    channel: Annotated[
        str | None, typer.Option(help="Channel id (default: the asset's bearing channel).")
    ] = None,
    fs: Annotated[float | None, typer.Option("--fs", help="Sample rate of a file, Hz.")] = None,
    column: Annotated[str | None, typer.Option(help="Column to read (files).")] = None,
    who: Annotated[str, typer.Option(help="Who states that this period was healthy.")] = "",
    home: HomeOption = None,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Learn the healthy baseline of an asset channel and keep it with the asset."""
    import getpass
    import math

    from shopfloor.core.store import Store
    from shopfloor.pipelines.diagnose import stored_asset
    from shopfloor.pipelines.diagnosis_baseline import (
        BaselineContext,
        resolve_baseline,
        save_baseline,
    )

    with command(json_out, debug) as out:
        if fs is not None and (not math.isfinite(fs) or fs <= 0):
            raise InputError(f"--fs must be a positive number, got {fs:g}")
        settings = _existing_store(home)
        with Store.open(settings.home) as store:
            found = stored_asset(store, asset)
            bearings = [c for c in found.components if c.bearing is not None]
            chosen = channel or next(
                (c.id for c in found.channels if c.component_id in {b.id for b in bearings}),
                None,
            )
            if chosen is None or chosen not in {c.id for c in found.channels}:
                known = [c.id for c in found.channels]
                raise InputError(f"--channel {chosen!r}: asset {asset!r} has channels {known}")
            owner = found.channel(chosen).component_id
            comp = next((c for c in found.components if c.id == owner), None)
            ctx = BaselineContext(
                asset,
                chosen,
                fs or 0.0,
                None,
                comp.bearing if comp is not None else None,
                column,
            )
            if fs is None and Path(source).is_file():
                raise InputError(f"{source}: a file needs --fs (Hz)")
            resolved = resolve_baseline(source, store, ctx)
            assert resolved is not None  # a named source always gives one or raises
            baseline, _ = resolved
            model_id = save_baseline(
                store, baseline, asset, chosen, who=who or getpass.getuser() or "unknown"
            )
        doc = {"asset": asset, "channel": chosen, "model_id": model_id} | baseline.describe()
        out.emit(doc)
        out.print(
            f"saved the healthy baseline of {escape(asset)}/{escape(chosen)} from "
            f"{escape(baseline.source)}: {doc['snapshots']} snapshots at "
            f"{baseline.fs_hz:g} Hz, {doc['lines']} defect lines (model {model_id})"
        )


@app.command("show")
def baseline_show(
    asset: Annotated[str, typer.Argument(help="Asset id in the store.")],
    home: HomeOption = None,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """The baselines saved for an asset's channels."""
    from shopfloor.core.store import Store
    from shopfloor.pipelines.diagnose import stored_asset
    from shopfloor.pipelines.diagnosis_baseline import baseline_target

    with command(json_out, debug) as out:
        settings = _existing_store(home)
        rows: list[dict[str, Any]] = []
        with Store.open(settings.home, read_only=True) as store:
            found = stored_asset(store, asset)
            models = {m["id"]: m for m in store.models()}
            for ch in found.channels:
                model_id = store.active_model(baseline_target(asset, ch.id))
                if model_id is None:
                    continue
                meta = models[model_id]
                config = meta["feature_config"] or {}
                rows.append(
                    {
                        "channel": ch.id,
                        "model_id": model_id,
                        "source": config.get("source"),
                        "saved": meta["created"],
                        "by": meta["created_by"],
                        "snapshots": (meta["metrics"] or {}).get("snapshots"),
                    }
                )
        out.emit({"asset": asset, "baselines": rows})
        if not rows:
            out.print(f"no saved baseline for {escape(asset)}")
        for r in rows:
            out.print(
                f"{escape(r['channel'])}: {escape(str(r['source']))} "
                f"({r['snapshots']:.0f} snapshots, saved {r['saved']} by {escape(r['by'])})"
            )
