"""``shopfloor hvac learn | optimize | evaluate``: EV cabin HVAC control through a learned
simulator, on the NREL FASTSim 3 plant (optional extra ``shopfloor[hvac]``).

- ``learn`` records operating logs of the stock controller (with setpoint excitation), imports
  them into the store like a plant's export, learns the simulator from the stored logs and
  registers it in the store's model registry (``hvac-simulator/<vehicle>``, with version,
  training-data description and metrics).
- ``optimize`` builds the MPC controller on the newest registered simulator, checks it on one
  drive against stock, and registers the controller (``hvac-mpc/<vehicle>``: settings and
  simulator in one model file) with the check drive's figures.
- ``evaluate`` drives stock, the band-edge rule and the MPC side by side and writes a PNG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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

app = typer.Typer(
    help="EV cabin HVAC: learn a simulator from logs, optimise control on it, verify on FASTSim.",
    no_args_is_help=True,
)

VehicleOption = Annotated[
    str,
    typer.Option(
        "--vehicle", help="bolt, model3, leaf, a FASTSim thermal resource or a vehicle YAML."
    ),
]
CycleOption = Annotated[str, typer.Option("--cycle", help="Drive cycle: udds, hwfet or udds4.")]
AmbientOption = Annotated[float, typer.Option("--ambient", help="Ambient temperature, °C.")]
SetpointOption = Annotated[float, typer.Option("--setpoint", help="Comfort band centre, °C.")]
BandOption = Annotated[float, typer.Option("--band", help="Comfort band half width, K.")]
MarginOption = Annotated[
    float, typer.Option("--margin", help="MPC safety margin inside the band, K.")
]


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="hvac")


def _model_path(home: Path, vehicle: str) -> Path:
    stem = Path(vehicle).stem if vehicle.endswith((".yaml", ".yml")) else vehicle
    safe = "".join(ch if ch.isalnum() else "-" for ch in stem)
    return home / "models" / f"hvac-{safe}-simulator.sfmodel"


def _registry_name(kind: str, vehicle: str) -> str:
    stem = _model_path(Path("."), vehicle).stem  # hvac-<vehicle>-simulator
    return f"hvac-{kind}/{stem.removeprefix('hvac-').removesuffix('-simulator')}"


def _newest(store: Any, name: str) -> tuple[str | None, int]:
    """The newest registered model id under ``name`` and how many versions it has."""
    rows = [m for m in store.models() if m["name"] == name]
    return (rows[-1]["id"] if rows else None), len(rows)


def _register(store: Any, path: Path, name: str, **kwargs: Any) -> tuple[str, int, Path]:
    """Register ``path`` under ``name``; returns (model id, its version: 1 for the first model
    registered under the name, the registered file). Registering an identical file again
    returns its first entry.

    The registry keeps its own hash-named copy, so the file saved for it is removed: left in
    the data directory it is an orphan that ``store check`` reports and ``store gc`` deletes.
    """
    try:
        model_id = store.register_model(path, name=name, **kwargs)
    finally:
        path.unlink(missing_ok=True)
    ids = [m["id"] for m in store.models() if m["name"] == name]
    version = ids.index(model_id) + 1 if model_id in ids else len(ids)
    return model_id, version, store.model_path(model_id)


def _load_simulator(home: Path, vehicle: str) -> Any:
    from shopfloor.core.errors import InputError
    from shopfloor.core.store import Store

    name = _registry_name("simulator", vehicle)
    if not Store.exists(home):  # opening it would create an empty store at a mistyped --home
        raise InputError(
            f"no store, so no learned simulator for vehicle {vehicle!r}: run 'shopfloor hvac "
            f"learn --vehicle {vehicle}' first",
            source=home,
        )
    with Store.open(home) as store:
        model_id, _ = _newest(store, name)
        if model_id is None:
            raise InputError(
                f"no learned simulator for vehicle {vehicle!r}: run 'shopfloor hvac learn "
                f"--vehicle {vehicle}' first",
                source=home,
            )
        metrics = next(m for m in store.models() if m["id"] == model_id)["metrics"] or {}
        # Registered by 'hvac learn' into this data directory; the registry checks its hash.
        sim = store.load_model(model_id, trusted=True)
        return sim, store.model_path(model_id), model_id, _guard_from(metrics)


#: Registry metric names of the MPC guard's settings, stored with the simulator by 'hvac learn'.
_GUARD_METRICS = ("mpc_guard_dwell_steps", "mpc_guard_cabin_error_k", "mpc_guard_saving_error")


def _guard_from(metrics: dict[str, Any]) -> Any:
    """The MPC guard 'hvac learn' measured on the training logs, or ``None`` (stated)."""
    from shopfloor.control.mpc_guard import (
        MPCGuard,
        gains_from_metrics,
        steady_from_metrics,
        table_from_metrics,
    )

    if not all(k in metrics for k in _GUARD_METRICS):
        return None
    dwell, cabin, saving = (metrics[k] for k in _GUARD_METRICS)
    return MPCGuard(
        int(dwell),
        float(cabin),
        float(saving),
        cabin_error_table=table_from_metrics(metrics),
        observer_gains=gains_from_metrics(metrics),
        correct_energy=bool(metrics.get("mpc_guard_energy_corrected", 1.0)),
        steady_offsets=steady_from_metrics(metrics),
    )


@app.command("learn")
def learn(
    vehicle: VehicleOption = "bolt",
    logs: Annotated[
        Path | None,
        typer.Option(
            "--logs",
            help="Learn from existing CSV logs in this folder (with mapping.yaml) instead of "
            "recording new ones on FASTSim; drives in its validation/ subfolder (with its own "
            "mapping.yaml) only measure the MPC guard.",
        ),
    ] = None,
    home: HomeOption = None,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Record (or read) operating logs, store them, learn the cabin simulator from the store."""
    with command(json_out, debug) as out:
        from shopfloor.control.logs import (
            import_logs,
            logs_from_store,
            record_logs,
            record_validation_logs,
        )
        from shopfloor.control.plant import load_vehicle
        from shopfloor.control.simulator import LOG_COLUMNS, CabinSimulator, accuracy
        from shopfloor.core import persistence
        from shopfloor.core.errors import InputError
        from shopfloor.core.store import Store

        settings = settings_for(home)
        if logs is None:
            load_vehicle(vehicle)  # a bad vehicle fails before any work
            folder = settings.home / "hvac" / "logs" / _model_path(settings.home, vehicle).stem
            with out.progress() as make:
                paths = record_logs(vehicle, folder, progress=make("Recording drives"))
                val_paths = record_validation_logs(
                    vehicle, folder / "validation", progress=make("Recording validation drives")
                )
        else:
            if not (logs / "mapping.yaml").is_file():
                raise InputError("folder has no mapping.yaml", source=logs)
            paths = sorted(logs.glob("*.csv"))
            if not paths:
                raise InputError("folder has no CSV logs", source=logs)
            # validation-only drives for the guard, when the folder has them (stated in --help)
            val_paths = (
                sorted((logs / "validation").glob("*.csv"))
                if (logs / "validation" / "mapping.yaml").is_file()
                else []
            )
        with Store.open(settings.home) as store:
            ids = import_logs(paths, store)
            log = logs_from_store(store, ids)
            val_log = logs_from_store(store, import_logs(val_paths, store)) if val_paths else None
        with out.status("Learning the simulator"):
            sim = CabinSimulator().fit(log[list(LOG_COLUMNS)])
        from shopfloor.control.mpc_guard import calibrate_guard, table_metrics
        from shopfloor.control.supervisor import SUPERVISED_GUARD_QUANTILE

        guard_metrics: dict[str, float] = {}
        guard_info: dict[str, Any] | str
        try:
            with out.status("Measuring the MPC guard on an in-log validation split"):
                guard = calibrate_guard(
                    log[list(LOG_COLUMNS)],
                    step_s=sim.step_s,
                    validation_log=None if val_log is None else val_log[list(LOG_COLUMNS)],
                    band_edge_quantile=SUPERVISED_GUARD_QUANTILE,
                )
            guard_info = guard.as_dict()
            guard_metrics = dict(
                zip(
                    _GUARD_METRICS,
                    (float(guard.dwell_steps), guard.cabin_error_k, guard.saving_error_frac),
                    strict=True,
                )
            )
            guard_metrics["closed_loop_tau_s"] = float(guard.how["closed_loop_tau_s"])
            guard_metrics |= table_metrics(guard)
        except InputError as err:  # stated fallback: the MPC then runs without the guard
            guard_info = f"not measured ({err}); the MPC runs without the anti-chatter guard"
            out.note(f"note: MPC guard {guard_info}")
        fit_acc = accuracy(sim.simulate_log(log))
        path = _model_path(settings.home, vehicle)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = persistence.save(
            sim,
            path,
            training_window=persistence.TrainingWindow(
                start=None, end=None, n_rows=len(log), source=f"{len(ids)} stored recordings"
            ),
        )
        lo, hi = sim.ambient_range_
        with Store.open(settings.home) as store:
            model_id, version, path = _register(
                store,
                path,
                _registry_name("simulator", vehicle),
                created_by="shopfloor hvac learn",
                training_data=(
                    f"{len(ids)} stored recordings ({', '.join(ids[:3])}"
                    f"{', ...' if len(ids) > 3 else ''}), {len(log)} rows at 1 Hz, ambient "
                    f"{lo:.1f}..{hi:.1f} °C, vehicle {vehicle}"
                ),
                metrics={
                    "train_open_loop_cabin_rmse_k": fit_acc["cabin_rmse_k"],
                    "train_energy_error_pct_mean_abs": fit_acc["energy_error_pct_mean_abs"],
                    "ambient_min_c": lo,
                    "ambient_max_c": hi,
                    "rows": float(len(log)),
                    **guard_metrics,
                },
            )
        result = {
            "ok": True,
            "vehicle": vehicle,
            "model": str(path),
            "model_id": model_id,
            "version": version,
            "sha256": record.sha256,
            "recordings": ids,
            "rows": len(log),
            "ambient_range_c": list(sim.ambient_range_),
            "training_open_loop": fit_acc,
            "mpc_guard": guard_info,
        }
        out.emit(result)
        out.print(
            f"learned from {len(ids)} stored drives ({len(log)} rows, ambient "
            f"{sim.ambient_range_[0]:.0f}..{sim.ambient_range_[1]:.0f} °C); open loop on the "
            f"training drives: cabin RMSE {fit_acc['cabin_rmse_k']:.2f} K, HVAC energy error "
            f"{fit_acc['energy_error_pct_mean_abs']:.1f} %\nregistered "
            f"{_registry_name('simulator', vehicle)} version {version} as model {model_id}"
        )


def _drive(
    vehicle: str,
    cycle: str,
    ambient: float,
    setpoint: float,
    band: float,
    margin: float,
    home: Path,
    with_band_edge: bool,
) -> dict[str, Any]:
    import warnings

    from shopfloor.control.mpc import SamplingMPC, score, stock_allowance
    from shopfloor.control.plant import CabinPlant, load_cycle
    from shopfloor.control.policies import BandEdge, run_episode
    from shopfloor.control.simulator import ExtrapolationWarning
    from shopfloor.control.supervisor import CabinSupervisor

    comfort = _check_drive_options(ambient, setpoint, band, margin)
    load_cycle(cycle, ambient)  # bad cycle fails before the model is read
    sim, model_path, model_id, guard = _load_simulator(home, vehicle)
    stated: set[str] = set()
    if sim.extrapolating([ambient]):
        # said here, not only by the MPC: it may never plan (the supervisor holds stock when the
        # cabin is far outside the band, as in deep cold), and it must be said all the same
        lo, hi = sim.ambient_range_
        stated.add(f"ambient {ambient:.1f} °C outside logged {lo:.1f}..{hi:.1f} °C: extrapolating")
    dwell = guard.dwell_steps if guard is not None else 1
    # the same supervised MPC as the registered controller and the benchmark
    mpc = SamplingMPC(
        sim,
        comfort,
        margin_k=margin,
        guard=guard,
        supervisor=CabinSupervisor(comfort, dwell_steps=dwell),
    )
    plant = CabinPlant(vehicle, step_s=sim.step_s)
    try:
        stock_ep, allowance = stock_allowance(plant, cycle, ambient, comfort)
        runs = {"stock": stock_ep}
        if with_band_edge:
            runs["band-edge"] = run_episode(plant, BandEdge(), cycle, ambient)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExtrapolationWarning)
            runs["shopfloor MPC"] = run_episode(plant, mpc, cycle, ambient, lookahead_s=240)
    except RuntimeError as exc:  # FASTSim's solver: keep its reason, drop its Rust backtrace
        reason = " ".join(str(exc).split("Stack backtrace")[0].split())
        raise RuntimeError(
            f"the FASTSim plant failed ({vehicle}, {cycle}, {ambient:+.1f} °C): {reason}"
        ) from None
    scores = {name: score(ep, comfort, allowance) for name, ep in runs.items()}
    base = scores["stock"]["hvac_wh"]
    for s in scores.values():
        s["hvac_saving_pct"] = 100.0 * (1.0 - s["hvac_wh"] / base) if base > 0 else 0.0
    return {
        "comfort": comfort,
        "mpc": mpc,
        "runs": runs,
        "scores": scores,
        "allowance_s": allowance,
        "model": model_path,
        "model_id": model_id,
        "simulator": sim,
        "notes": sorted(
            {*mpc.notes, *stated}
            | (set() if guard else {"simulator has no measured MPC guard: MPC runs unguarded"})
        ),
    }


#: Ambients a car is driven in: the weather records are -89 °C and +57 °C, and FASTSim's solver
#: itself fails near -80 °C; beyond this range an answer would describe no real drive.
AMBIENT_RANGE_C = (-60.0, 60.0)
_COMFORT_OPTIONS = {"band_k": "--band", "setpoint_c": "--setpoint", "margin_k": "--margin"}


def _check_drive_options(ambient: float, setpoint: float, band: float, margin: float) -> Any:
    """Refuse a bad --ambient/--setpoint/--band/--margin by its option name, before any work
    (returns the :class:`~shopfloor.control.comfort.ComfortSpec`)."""
    import math

    from shopfloor.control.comfort import ComfortSpec
    from shopfloor.control.supervisor import DEFAULT_MARGIN_K
    from shopfloor.core.errors import InputError

    given = {"--ambient": ambient, "--setpoint": setpoint, "--band": band, "--margin": margin}
    for option, value in given.items():
        if not math.isfinite(value):
            raise InputError(f"{option} {value}: must be a finite number")
    lo, hi = AMBIENT_RANGE_C
    if not lo <= ambient <= hi:
        raise InputError(
            f"--ambient {ambient:g}: outside {lo:g}..{hi:g} °C, the weather cars are driven in"
        )
    try:
        comfort = ComfortSpec(setpoint, band)
    except InputError as exc:
        option = _COMFORT_OPTIONS.get(exc.column or "", "--setpoint")
        raise InputError(f"{option} {given[option]:g}: {exc.message}") from None
    if band <= DEFAULT_MARGIN_K:
        raise InputError(
            f"--band {band:g}: infeasible comfort band: the comfort supervisor steps in "
            f"{DEFAULT_MARGIN_K:g} K inside the band edge, so the half width must exceed "
            f"{DEFAULT_MARGIN_K:g} K"
        )
    if not 0.0 <= margin < band:
        raise InputError(
            f"--margin {margin:g}: infeasible comfort band: margin {margin:g} K leaves nothing "
            f"of the ± {band:g} K band (give 0 <= margin < {band:g})"
        )
    return comfort


def _table(scores: dict[str, dict[str, float]]) -> Any:
    from rich.table import Table

    table = Table()
    for col in ("controller", "HVAC Wh", "saving %", "battery Wh", "K·h outside", "% outside"):
        table.add_column(col)
    for name, s in scores.items():
        table.add_row(
            name,
            f"{s['hvac_wh']:.0f}",
            f"{s['hvac_saving_pct']:+.2f}",
            f"{s['battery_wh']:.0f}",
            f"{s['discomfort_kh']:.4f}",
            f"{s['outside_pct']:.1f}",
        )
    return table


@app.command("optimize")
def optimize(
    vehicle: VehicleOption = "bolt",
    cycle: CycleOption = "udds",
    ambient: AmbientOption = -10.0,
    setpoint: SetpointOption = 22.0,
    band: BandOption = 1.0,
    margin: MarginOption = 0.05,
    home: HomeOption = None,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Build the MPC on the learned simulator, check it on one drive, save its settings.

    Exit 1 when the MPC was less comfortable than stock on the check drive.
    """
    with command(json_out, debug) as out:
        import pandas as pd

        from shopfloor.control.policy_model import MPCPolicy
        from shopfloor.control.simulator import LOG_COLUMNS
        from shopfloor.core import persistence
        from shopfloor.core.store import Store

        settings = settings_for(home)
        with out.status("Driving stock and MPC on FASTSim"):
            r = _drive(vehicle, cycle, ambient, setpoint, band, margin, settings.home, False)
        for note in r["notes"]:
            out.note(f"note: {note}")
        check_log = pd.DataFrame(r["runs"]["stock"].log)
        check_log.insert(0, "time_s", range(len(check_log)))
        policy = MPCPolicy(
            simulator=r["simulator"],
            setpoint_c=setpoint,
            band_k=band,
            margin_k=margin,
            horizon_steps=r["mpc"].horizon_steps,
            guard=r["mpc"].guard,
        ).fit(check_log[list(LOG_COLUMNS)].astype(float))
        spec_path = _model_path(settings.home, vehicle).with_name(
            _model_path(settings.home, vehicle).name.replace("-simulator", "-mpc")
        )
        persistence.save(
            policy,
            spec_path,
            training_window=persistence.TrainingWindow(
                start=None, end=None, n_rows=len(check_log), source=f"simulator {r['model_id']}"
            ),
        )
        mpc_s, stock_s = r["scores"]["shopfloor MPC"], r["scores"]["stock"]
        with Store.open(settings.home) as store:
            model_id, version, spec_path = _register(
                store,
                spec_path,
                _registry_name("mpc", vehicle),
                created_by="shopfloor hvac optimize",
                training_data=(
                    f"plans on registered simulator {r['model_id']}; checked on FASTSim "
                    f"{vehicle} {cycle} at {ambient:+.1f} °C against stock"
                ),
                metrics={
                    "margin_k": margin,
                    "check_hvac_saving_pct": mpc_s["hvac_saving_pct"],
                    "check_discomfort_kh": mpc_s["discomfort_kh"],
                    "check_stock_discomfort_kh": stock_s["discomfort_kh"],
                },
            )
        worse = (
            r["scores"]["shopfloor MPC"]["discomfort_kh"] > r["scores"]["stock"]["discomfort_kh"]
        )
        out.emit(
            {
                "ok": True,
                "controller": str(spec_path),
                "model_id": model_id,
                "version": version,
                "simulator_model_id": r["model_id"],
                "scores": r["scores"],
                "notes": r["notes"],
                "less_comfortable_than_stock": worse,
            }
        )
        out.print(_table(r["scores"]))
        out.print(
            f"registered {_registry_name('mpc', vehicle)} version {version} as model {model_id}"
        )
        if worse:
            out.note("finding: the MPC was less comfortable than stock on this drive")
            out.exit(ExitCode.FINDING)


@app.command("evaluate")
def evaluate(
    vehicle: VehicleOption = "bolt",
    cycle: CycleOption = "udds",
    ambient: AmbientOption = -10.0,
    setpoint: SetpointOption = 22.0,
    band: BandOption = 1.0,
    margin: MarginOption = 0.05,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write a PNG comparing the controllers.")
    ] = None,
    home: HomeOption = None,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Stock, band-edge rule and shopfloor MPC side by side on one FASTSim drive.

    Exit 1 when the MPC was less comfortable than stock.
    """
    with command(json_out, debug) as out:
        from shopfloor.control.plots import plot_controllers

        if plot is not None:
            writable_output(plot, "--plot", ".png")
        settings = settings_for(home)
        with out.status("Driving three controllers on FASTSim"):
            r = _drive(vehicle, cycle, ambient, setpoint, band, margin, settings.home, True)
        for note in r["notes"]:
            out.note(f"note: {note}")
        plot_error = None
        if plot is not None:
            use_data_dir_caches(settings.home)
            png = plot
            plot_error = draw_plot(
                lambda: plot_controllers(
                    r["runs"], r["comfort"], png, title=f"{vehicle}, {cycle}, {ambient:+.0f} °C"
                ),
                png,
            )
        worse = (
            r["scores"]["shopfloor MPC"]["discomfort_kh"] > r["scores"]["stock"]["discomfort_kh"]
        )
        out.emit(
            {
                "ok": True,
                "scores": r["scores"],
                "warmup_allowance_s": r["allowance_s"],
                "notes": r["notes"],
                "plot": str(plot) if plot is not None and plot_error is None else None,
                "plot_error": plot_error,
                "less_comfortable_than_stock": worse,
            }
        )
        out.print(_table(r["scores"]))
        if plot is not None and plot_error is None:
            out.print(f"plot: {plot}")
        report_unwritten_plot(plot_error, "comparison")
        if worse:
            out.note("finding: the MPC was less comfortable than stock on this drive")
            out.exit(ExitCode.FINDING)
