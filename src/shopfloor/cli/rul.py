"""``shopfloor rul``: remaining useful life of an asset or of the units in a file, with an
interval that means what it says.

Input: a file of unit sequences (CSV or Parquet with a ``time`` or ``cycle`` column, an
optional ``unit`` column and one column per channel; or a C-MAPSS text file with its 26
whitespace-separated columns), or an asset id in the store. The model is learned from a
run-to-failure history (``--train FILE``, every unit ending in failure; ``--save-model``
saves and registers it in the store's model registry) or loaded through that registry
(``--model-file`` file or registry id, with ``--trust`` because loading runs code; the registry
checks the hash first). For an asset, the life starts at the latest replacement of the
component recorded in the store (``--component``; ``--replaced-at`` overrides it); see
:mod:`shopfloor.prognostics.asset_store`.

Exit status: 0 every estimate is beyond ``--horizon`` (or no horizon was given), 1 a unit may
fail within the horizon (the interval's lower bound is inside it), 2 bad input, 3 unknown.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shopfloor.cli._common import (
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

    from shopfloor.core.prognostics import RemainingLife, RULPredictor
    from shopfloor.prognostics.asset_store import AssetHistory

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
        typer.Option(
            "--replaced-at",
            help="Time of the last replacement, in the data's time axis: life resets there "
            "(for an asset, overrides the replacements recorded in the store).",
        ),
    ] = None,
    component: Annotated[
        str | None,
        typer.Option(
            "--component",
            help="Asset component to predict for; its latest recorded replacement starts "
            "its life (default: the asset's only component).",
        ),
    ] = None,
    time_unit: Annotated[
        str | None,
        typer.Option(
            "--time-unit",
            help="cycles, s or h, as in the training data (default: s for a time-stamped "
            "asset history, else cycles).",
        ),
    ] = None,
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
        if horizon is not None and not (horizon >= 0.0 and math.isfinite(horizon)):
            # 0 asks "may it fail now?"; a negative horizon asks nothing
            raise InputError(f"--horizon {horizon}: must be a time >= 0 (in --time-unit)")
        if time_unit not in (None, "cycles", "s", "h"):
            raise InputError(f"--time-unit {time_unit!r}: choose cycles, s or h")
        if plot is not None:
            writable_output(plot, "--plot", ".png")
            use_data_dir_caches(settings_for(home).home)
        if save_model is not None:
            writable_output(save_model, "--save-model", ".sfmodel")
        if (train is None) == (model_file is None):
            raise InputError("give exactly one of --train FILE and --model-file PATH")
        path = Path(target)
        history = None
        if path.exists():
            if component is not None:
                raise InputError("--component applies to a store asset; TARGET is a file")
            if save:
                raise InputError("--save keeps estimates of store assets; TARGET is a file")
            frame = reset_at_replacement(read_sequences(path), replaced_at)
        else:
            history = _asset_history(home, target, component, replaced_at)
            frame = history.frame
            if history.clocked and time_unit == "h":  # the history's clock counts seconds
                frame = frame.assign(time=frame["time"] / 3600.0)
        model, model_id = _model(out, home, train, method, model_file, trust, save_model)
        lives = model.remaining_life(
            frame,
            alpha,
            component=history.component if history else "",
            time_unit=time_unit or ("s" if history and history.clocked else "cycles"),
            asset_names={1.0: target} if history else None,
        )
        if history is not None:
            lives = [replace(life, notes=(*history.notes, *life.notes)) for life in lives]
        records = [life.to_dict() for life in lives]
        event_id = None
        if save and history is not None:
            from shopfloor.core.store import Store
            from shopfloor.prognostics.asset_store import save_remaining_life

            with Store.open(settings_for(home).home) as store:
                event_id = save_remaining_life(
                    store, lives[0], source="shopfloor rul", model_id=model_id
                )
        plot_error = None
        if plot is not None:  # after the estimate is stored: a failed plot loses nothing
            first = frame[frame["unit"] == frame["unit"].iloc[0]]
            png = plot
            plot_error = draw_plot(lambda: plot_trajectory(png, first, model, alpha, lives[0]), png)
        at_risk = [r for r in records if horizon is not None and r["lower"] <= horizon]
        code = ExitCode.FINDING if at_risk else ExitCode.OK
        out.emit(
            {
                "ok": True,
                "target": target,
                "model": repr(model),
                "horizon": horizon,
                "replaced_at": replaced_at,
                "component": history.component if history else None,
                "life_start": (
                    history.life_start.isoformat() if history and history.life_start else None
                ),
                "model_id": model_id,
                "event_id": event_id,
                "estimates": records,
                "at_risk": [r["asset"] for r in at_risk],
                "plot": None if plot is None or plot_error else str(plot),
                "plot_error": plot_error,
                "exit_code": int(code),
            }
        )
        _print_table(out, records, alpha, horizon)
        report_unwritten_plot(plot_error, "estimate")
        out.exit(code)


def _asset_history(
    home: Path | None, target: str, component: str | None, replaced_at: float | None
) -> AssetHistory:
    from shopfloor.core.store import Store
    from shopfloor.prognostics.asset_store import asset_history

    where = settings_for(home).home
    if not Store.exists(where):
        raise InputError(f"{target!r} is neither a file nor an asset: no store in {where}")
    with Store.open(where, read_only=True) as store:
        return asset_history(store, target, component=component, replaced_at=replaced_at)


def _model(
    out: Any,
    home: Path | None,
    train: Path | None,
    method: str,
    model_file: Path | None,
    trust: bool,
    save_model: Path | None,
) -> tuple[RULPredictor, str | None]:
    """The model (learned, or loaded through the registry) and its registry id."""
    from shopfloor.core import persistence
    from shopfloor.core.prognostics import RULPredictor
    from shopfloor.core.store import Store
    from shopfloor.prognostics.asset_store import register_rul_model, registered_model_id

    where = settings_for(home).home
    if model_file is not None:
        if not trust:
            raise InputError(f"--model-file {model_file}: add --trust to load it")
        if not Store.exists(where):
            raise InputError(f"--model-file {model_file}: no model registry (no store in {where})")
        with Store.open(where, read_only=True) as store:
            if model_file.is_file():
                model_id = registered_model_id(store, model_file)
            else:  # a registry id
                known = {m["id"] for m in store.models()}
                model_id = str(model_file) if str(model_file) in known else None
            if model_id is None:
                raise InputError(
                    f"--model-file {model_file}: not in the model registry of {where} (changed "
                    "since it was saved, or saved with another data directory); it is not loaded"
                )
            # the registry checks the file's and the payload's sha256 before unpickling
            loaded = store.load_model(model_id, trusted=True)
        if not isinstance(loaded, RULPredictor):
            raise InputError(f"--model-file {model_file}: not a remaining-life model")
        return loaded, model_id
    assert train is not None
    model = make_model(method)
    with out.status(f"learning from {train}"):
        model.fit(read_sequences(train))
    if save_model is None:
        return model, None
    persistence.save(model, save_model)
    with Store.open(where) as store:
        model_id = register_rul_model(
            store, save_model, model, created_by=_who(), training_data=train
        )
    return model, model_id


def _who() -> str:
    import getpass

    try:
        return f"{getpass.getuser()} (shopfloor rul)"
    except (KeyError, OSError):  # no user name in this environment
        return "shopfloor rul"


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
