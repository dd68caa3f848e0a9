"""``shopfloor rul``: remaining useful life of an asset or of the units in a file, with an
interval that means what it says.

Input: a file of unit sequences (CSV or Parquet with a ``time`` or ``cycle`` column, an
optional ``unit`` column and one column per channel; or a C-MAPSS text file with its 26
whitespace-separated columns), or an asset id in the store. The model is learned from a
run-to-failure history (``--train FILE``, every unit ending in failure) or loaded from a file
saved before (``--model-file``, with ``--trust`` because loading runs code).

Exit status: 0 every estimate is beyond ``--horizon`` (or no horizon was given), 1 a unit may
fail within the horizon (the interval's lower bound is inside it), 2 bad input, 3 unknown.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shopfloor.cli._common import (
    DebugOption,
    ExitCode,
    HomeOption,
    JsonOption,
    command,
    settings_for,
    use_data_dir_caches,
    writable_output,
)
from shopfloor.core.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from shopfloor.core.prognostics import RemainingLife, RULPredictor

METHODS = ("boosted", "health-index", "cnn")
_CMAPSS_COLUMNS = 26


def register(root: typer.Typer) -> None:
    root.command("rul")(rul)


def read_sequences(path: Path) -> pd.DataFrame:
    """A file as unit sequences (unit, time, channels); one unit when there is no unit column."""
    import numpy as np
    import pandas as pd

    if not path.is_file():
        raise InputError("no such file", source=path)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a bad file
            raise InputError(f"cannot read as Parquet ({exc})", source=path) from exc
    elif suffix == ".txt" and _looks_like_cmapss(path):
        from shopfloor.datasets.cmapss import CHANNEL_IDS, N_COLUMNS, read_table

        table = read_table(path, N_COLUMNS)
        frame = pd.DataFrame(table[:, 2:], columns=list(CHANNEL_IDS))
        frame.insert(0, "cycle", table[:, 1])
        frame.insert(0, "unit", table[:, 0])
    else:
        try:
            frame = pd.read_csv(path, sep=None, engine="python")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read as CSV ({exc})", source=path) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if "time" not in frame.columns and "cycle" not in frame.columns:
        raise InputError(
            f"needs a 'time' or 'cycle' column; found {list(frame.columns)[:8]}", source=path
        )
    if "unit" not in frame.columns:
        frame.insert(0, "unit", 1.0)
    for col in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            values = pd.to_numeric(frame[col], errors="coerce")
            bad = np.flatnonzero(values.isna() & frame[col].notna())
            if bad.size:
                raise InputError(
                    f"not a number: {frame[col].iloc[bad[0]]!r}",
                    source=path,
                    line=int(bad[0]) + 2,
                    column=col,
                )
            frame[col] = values
    return frame


def _looks_like_cmapss(path: Path) -> bool:
    with path.open("rb") as fh:
        first = fh.readline().decode("ascii", errors="replace").split()
    try:
        [float(v) for v in first]
    except ValueError:
        return False
    return len(first) == _CMAPSS_COLUMNS


def reset_at_replacement(frame: pd.DataFrame, replaced_at: float | None) -> pd.DataFrame:
    """Rows from the last component replacement on; time restarts at 0 there."""
    if replaced_at is None:
        return frame
    time_col = "time" if "time" in frame.columns else "cycle"
    kept = frame[frame[time_col] >= replaced_at].copy()
    if kept.empty:
        raise InputError(f"--replaced-at {replaced_at:g}: no rows at or after the replacement")
    kept[time_col] = kept[time_col] - replaced_at
    return kept


def asset_sequences(home: Path | None, asset_id: str) -> pd.DataFrame:
    """An asset's recordings from the store, as one unit (time from the cycle or timestamp)."""
    import pandas as pd

    from shopfloor.core.store import Store

    settings = settings_for(home)
    with Store.open(settings.home, read_only=True) as store:
        recordings = store.recordings(asset_id=asset_id)
        if not recordings:
            raise InputError(
                f"{asset_id!r} is neither a file nor an asset with recordings in {settings.home}"
            )
        parts = []
        for rec in recordings:
            samples = store.load(rec.id).samples
            time_col = next((c for c in ("cycle", "time", "timestamp") if c in samples), None)
            if time_col is None:
                continue
            part = samples.rename(columns={time_col: "time"})
            parts.append(part[["time", *[c for c in rec.channel_ids if c in part]]])
    if not parts:
        raise InputError(f"asset {asset_id!r} has no recording with a cycle or time column")
    frame = pd.concat(parts, ignore_index=True).sort_values("time", kind="stable")
    frame.insert(0, "unit", 1.0)
    return frame


def make_model(method: str) -> RULPredictor:
    if method == "boosted":
        from shopfloor.prognostics.boosted import GradientBoostedRUL

        return GradientBoostedRUL(random_state=0)
    if method == "cnn":
        from shopfloor.prognostics.deep import ConvRUL

        return ConvRUL(random_state=0)
    if method == "health-index":
        from shopfloor.prognostics.health_index import HealthIndexRUL

        return HealthIndexRUL(random_state=0)
    raise InputError(f"--method {method!r}: choose one of {', '.join(METHODS)}")


def plot_trajectory(
    path: Path, frame: pd.DataFrame, model: RULPredictor, alpha: float, life: RemainingLife
) -> None:
    """RUL estimate over the unit's history with its interval, and the predicted failure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    time_col = "time" if "time" in frame.columns else "cycle"
    t = frame[time_col].to_numpy()
    point = model.predict(frame)
    band = model.predict_interval(frame, alpha)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.fill_between(t, band[:, 0], band[:, 1], alpha=0.3, label=f"{1 - alpha:.0%} interval")
    ax.plot(t, point, label="predicted remaining life")
    ax.axvline(life.failure_time, color="C3", linestyle="--", label="predicted failure")
    ax.set_xlabel(f"time ({life.time_unit})")
    ax.set_ylabel(f"remaining useful life ({life.time_unit})")
    ax.set_title(f"{life.asset}: {life.point:.0f} {life.time_unit} left")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def rul(
    target: Annotated[str, typer.Argument(help="File of unit sequences, or an asset id.")],
    train: Annotated[
        Path | None, typer.Option("--train", help="Run-to-failure history to learn from.")
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help=f"Model learned from --train: {', '.join(METHODS)}.")
    ] = "boosted",
    model_file: Annotated[
        Path | None, typer.Option("--model-file", help="A model saved with --save-model.")
    ] = None,
    trust: Annotated[
        bool, typer.Option("--trust", help="Load --model-file (loading runs code from it).")
    ] = False,
    save_model: Annotated[
        Path | None, typer.Option("--save-model", help="Save the learned model (.sfmodel).")
    ] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="1 - interval level.")] = 0.1,
    horizon: Annotated[
        float | None,
        typer.Option("--horizon", help="Exit 1 if failure is possible within this time."),
    ] = None,
    replaced_at: Annotated[
        float | None,
        typer.Option("--replaced-at", help="Time of the last component replacement: life resets."),
    ] = None,
    time_unit: Annotated[str, typer.Option("--time-unit", help="cycles, s or h.")] = "cycles",
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Save a PNG of the first unit's trajectory.")
    ] = None,
    save: Annotated[
        bool,
        typer.Option("--save", help="Keep the estimate in the store (asset targets only)."),
    ] = False,
    home: HomeOption = None,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Predict the remaining useful life, with an interval, for an asset or a file."""
    with command(json_out, debug) as out:
        if not 0.0 < alpha < 1.0:
            raise InputError(f"--alpha {alpha}: must be between 0 and 1")
        if time_unit not in ("cycles", "s", "h"):
            raise InputError(f"--time-unit {time_unit!r}: choose cycles, s or h")
        if plot is not None:
            writable_output(plot, "--plot", ".png")
            use_data_dir_caches(settings_for(home).home)
        if save_model is not None:
            writable_output(save_model, "--save-model", ".sfmodel")
        if (train is None) == (model_file is None):
            raise InputError("give exactly one of --train FILE and --model-file PATH")
        path = Path(target)
        frame = read_sequences(path) if path.exists() else asset_sequences(home, target)
        frame = reset_at_replacement(frame, replaced_at)
        model: RULPredictor
        if model_file is not None:
            from shopfloor.core import persistence
            from shopfloor.core.prognostics import RULPredictor

            if not trust:
                raise InputError(f"--model-file {model_file}: add --trust to load it")
            # the exact class is whatever was saved; any remaining-life model will do
            loaded = persistence.load(model_file, trusted=True)
            if not isinstance(loaded, RULPredictor):
                raise InputError(f"--model-file {model_file}: not a remaining-life model")
            model = loaded
        else:
            assert train is not None
            model = make_model(method)
            with out.status(f"learning from {train}"):
                model.fit(read_sequences(train))
            if save_model is not None:
                from shopfloor.core import persistence

                persistence.save(model, save_model)
        lives = model.remaining_life(frame, alpha, time_unit=time_unit)
        if plot is not None:
            first = frame[frame["unit"] == frame["unit"].iloc[0]]
            plot_trajectory(plot, first, model, alpha, lives[0])
        names = {} if path.exists() else {1.0: target}
        records = [_named(life, names) for life in lives]
        if save:
            if path.exists():
                raise InputError("--save keeps estimates of store assets; TARGET is a file")
            from dataclasses import replace

            from shopfloor.core.store import Store

            with Store.open(settings_for(home).home) as store:
                store.add_events([replace(lives[0], asset=target).to_event("shopfloor rul")])
        at_risk = [r for r in records if horizon is not None and r["lower"] <= horizon]
        code = ExitCode.FINDING if at_risk else ExitCode.OK
        out.emit(
            {
                "ok": True,
                "target": target,
                "model": repr(model),
                "horizon": horizon,
                "replaced_at": replaced_at,
                "estimates": records,
                "at_risk": [r["asset"] for r in at_risk],
                "plot": None if plot is None else str(plot),
                "exit_code": int(code),
            }
        )
        _print_table(out, records, alpha, horizon)
        out.exit(code)


def _named(life: RemainingLife, names: dict[float, str]) -> dict[str, Any]:
    record = life.to_dict()
    record["asset"] = names.get(1.0, record["asset"]) if names else record["asset"]
    return record


def _print_table(
    out: Any, records: list[dict[str, Any]], alpha: float, horizon: float | None
) -> None:
    from rich.table import Table

    table = Table(title=f"Remaining useful life ({1 - alpha:.0%} interval)")
    for col in ("asset", "at", "remaining", "interval", "failure at", "notes"):
        table.add_column(col)
    for r in records:
        flag = " [bold red]at risk[/]" if horizon is not None and r["lower"] <= horizon else ""
        table.add_row(
            str(r["asset"]),
            f"{r['at_time']:g} {r['time_unit']}",
            f"{r['point']:.0f}{flag}",
            f"{r['lower']:.0f} - {r['upper']:.0f}",
            f"{r['failure_time']:.0f}",
            "; ".join(r["notes"]),
        )
    out.print(table)
