"""``shopfloor diagnose``: which part of a bearing is failing, and the evidence for it."""

from __future__ import annotations

from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import Annotated, Any

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
    settings_for,
    use_data_dir_caches,
    writable_output,
)
from shopfloor.core.errors import InputError, ShopfloorError


def register(root: typer.Typer) -> None:
    root.command("diagnose")(diagnose)


def _chance(significance: float, shared: bool) -> str:
    """How likely noise alone gives such a peak, for people: '1 in 1,000', '1 in 1e9'."""
    if shared:
        return "shared: not counted"
    if significance < 1.0:
        return "likely noise"
    if significance > 12:
        return "< 1 in 1e12"
    return f"1 in {10**significance:,.0f}" if significance < 4 else f"1 in 1e{significance:.0f}"


SIGNAL_SUFFIXES = (".csv", ".txt", ".tsv", ".dat", ".parquet", ".pq")


def expand_targets(targets: list[str]) -> list[str]:
    """Folders become the signal files inside them (sorted); other targets stay as given."""
    expanded: list[str] = []
    for target in targets:
        path = Path(target)
        if path.is_dir():
            found = sorted(
                str(p)
                for p in path.iterdir()
                if p.is_file() and p.suffix.lower() in SIGNAL_SUFFIXES
            )
            if not found:
                raise InputError(
                    f"folder {path} holds no signal files ({', '.join(SIGNAL_SUFFIXES)})"
                )
            expanded.extend(found)
        else:
            expanded.append(target)
    return expanded


def _verdict_code(verdict: str) -> ExitCode:
    return {"normal": ExitCode.OK, "unknown": ExitCode.UNKNOWN}.get(verdict, ExitCode.FINDING)


def overall_exit(codes: list[ExitCode]) -> ExitCode:
    """Several targets: a fault anywhere wins (1), then bad input (2), then unknown (3)."""
    for code in (ExitCode.FINDING, ExitCode.BAD_INPUT, ExitCode.UNKNOWN):
        if code in codes:
            return code
    return ExitCode.OK


def _report(result: Any, target: str, where: str) -> dict[str, Any]:
    d = result.diagnosis
    # one evidence path: the result says which band shows each signature best, and which
    # harmonics count (Peak.counted); nothing is re-picked or matched by text here
    lines: list[dict[str, Any]] = [
        {
            "signature": e.signature,
            "band": e.band,
            "line": p.name,
            "expected_hz": p.expected_hz,
            "found_hz": p.found_hz,
            "over_floor_db": p.over_floor_db,
            "significance": p.significance,
            "shared": not p.counted,
        }
        for e in result.evidence_by_signature().values()
        for p in [*e.harmonics, *e.sidebands]
    ]
    full = result.as_dict()
    return {
        "target": target,
        "source": where,
        "verdict": d.label.value,
        "confidence": d.confidence,
        "severity": d.severity,
        "reason": d.reason,
        "summary": d.summary(),
        "decided_by": full["decided_by"],
        "model": full["model"],
        "speed_rpm": full["speed_rpm"],
        "speed_source": full["speed_source"],
        "given_rpm": full["given_rpm"],
        "estimated_rpm": full["estimated_rpm"],
        "evidence": lines,
        "notes": full["notes"],
        "warnings": full["warnings"],
        "data_checks": full["data_checks"],
        "baseline": full["baseline"],
        "grown_since_baseline": full["grown_since_baseline"],
        "baseline_change": full.get("baseline_change"),
        "probabilities": full["probabilities"],
        "iso": result.iso_note,
        "exit_code": int(_verdict_code(d.label.value)),
    }


def _print_one(out: CommandOutput, rep: dict[str, Any]) -> None:
    from rich.table import Table

    colour = {"normal": "green", "unknown": "yellow"}.get(rep["verdict"], "red")
    out.print(f"[bold]{escape(rep['source'])}[/]")
    out.print(f"[bold {colour}]{escape(rep['summary'])}[/]", soft_wrap=True)
    speed = "read from the signal" if rep["speed_source"] == "signal" else "as given"
    out.print(
        f"speed used {rep['speed_rpm']:.0f} rpm ({speed}); decided by: {rep['decided_by']} "
        f"({escape(rep['model'])})"
    )
    if rep.get("baseline"):
        out.print(f"judged against the healthy baseline {escape(rep['baseline'])}", soft_wrap=True)
    for warning in rep["warnings"]:
        out.print(f"[yellow]warning: {escape(warning)}[/]", soft_wrap=True)
    for note in rep["notes"]:
        out.print(f"note: {escape(note)}", soft_wrap=True)
    table = Table(title="Envelope evidence (window-averaged squared envelope spectrum)")
    for col in ("signature", "band", "line", "expected Hz", "found Hz", "over floor", "chance"):
        table.add_column(col, justify="left" if col in ("signature", "band", "line") else "right")
    for ln in rep["evidence"]:
        table.add_row(
            ln["signature"].upper(),
            ln["band"],
            ln["line"],
            f"{ln['expected_hz']:.1f}",
            f"{ln['found_hz']:.1f}",
            f"{ln['over_floor_db']:+.1f} dB",
            _chance(ln["significance"], ln["shared"]),
        )
    out.print(table)
    out.print(escape(rep["iso"]))


def _print_summary(out: CommandOutput, reports: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title=f"Diagnosis of {len(reports)} targets")
    # names and verdicts are never cut (a script greps them); the long note wraps instead
    for col in ("target", "verdict", "confidence", "severity"):
        table.add_column(col, no_wrap=True)
    table.add_column("note")
    for rep in reports:
        if "error" in rep:
            table.add_row(rep["target"], "[red]bad input[/]", "-", "-", escape(rep["error"]))
            continue
        table.add_row(
            escape(rep["target"]),
            rep["verdict"].replace("_", " "),
            f"{rep['confidence']:.0%}",
            str(rep["severity"]),
            escape(rep["reason"]),
        )
    out.print(table)


def diagnose(
    targets: Annotated[
        list[str],
        typer.Argument(
            help="Recording ids in the store, CSV/Parquet files of one vibration channel, "
            "or folders of such files."
        ),
    ],
    channel: Annotated[str | None, typer.Option(help="Channel id (recordings).")] = None,
    component: Annotated[str | None, typer.Option(help="Bearing component id.")] = None,
    column: Annotated[str | None, typer.Option(help="Column to read (files).")] = None,
    unit: Annotated[
        str | None,
        typer.Option(help="Unit of the file's samples, e.g. g or m/s**2 (for the ISO 10816 zone)."),
    ] = None,
    fs: Annotated[float | None, typer.Option("--fs", help="Sample rate, Hz.")] = None,
    rpm: Annotated[float | None, typer.Option("--rpm", help="Shaft speed, rpm.")] = None,
    bearing: Annotated[
        str | None,
        typer.Option(
            help="Bearing geometry, e.g. 'n=9,d=7.94,D=39.04,angle=0' (mm unless a unit is given)."
        ),
    ] = None,
    asset: Annotated[
        str | None, typer.Option(help="Take the bearing from this stored asset (files).")
    ] = None,
    window: Annotated[float, typer.Option(help="Window length, s.")] = 1.0,
    model: Annotated[
        str,
        typer.Option(
            help="fused: physics evidence + the shipped learned model (default); "
            "physics: the physics rules alone."
        ),
    ] = "fused",
    plot: Annotated[
        Path | None,
        typer.Option(
            help="Save a PNG of the envelope spectrum with the defect frequencies marked "
            "(several targets: an existing folder, one PNG per target)."
        ),
    ] = None,
    pipeline: Annotated[
        Path | None,
        typer.Option(
            help="A diagnosis pipeline spec (YAML) or a folder saved with its model: its "
            "features, diagnoser, window and speed band replace --model and --window."
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            help="Healthy period to judge against: a recording id, a CSV/Parquet file (read "
            "like the target) or ASSET@START..END from the store's streams. Default: the "
            "baseline saved for the asset (shopfloor baseline save), else a recording of the "
            "asset labelled healthy.",
        ),
    ] = None,
    home: HomeOption = None,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Which part of a bearing is failing, how badly, and the spectrum evidence for it.

    Exit status: 0 normal, 1 fault found, 3 cannot diagnose, 2 bad input. With several
    targets: 1 if any fault, else 2 if any bad input, else 3 if any unknown, else 0.
    """
    from shopfloor.core.store import Store
    from shopfloor.pipelines.diagnose import DiagnoseRequest, diagnose_target

    with command(json_out, debug) as out:
        settings = settings_for(home)
        names = expand_targets(targets)
        several = len(names) > 1
        if plot is not None:
            if several and not plot.is_dir():
                raise InputError(f"--plot {plot}: with several targets, name an existing folder")
            if not several:
                writable_output(plot, "--plot", ".png")
        # options are checked once, before any file is read
        DiagnoseRequest(
            target="", fs_hz=fs, rpm=rpm, window_s=window, model=model, unit=unit
        ).validate()
        if bearing is not None:
            from shopfloor.pipelines.diagnose import parse_bearing

            parse_bearing(bearing)
        spec = None
        if pipeline is not None:
            from shopfloor.pipelines.diagnosis_spec import load_pipeline

            spec = load_pipeline(pipeline)
        store = None
        reports: list[dict[str, Any]] = []
        try:
            if Store.exists(settings.home):
                store = Store.open(settings.home, read_only=True)
            with out.progress() if several else nullcontext() as make:
                tick = make("Diagnosing") if make is not None else None
                for i, name in enumerate(names):
                    if tick is not None:
                        tick(i, len(names), name)
                    given: dict[str, Any] = {
                        "channel": channel,
                        "component": component,
                        "column": column,
                        "unit": unit,
                        "fs_hz": fs,
                        "rpm": rpm,
                        "bearing": bearing,
                        "asset_id": asset,
                        "baseline": baseline,
                    }
                    try:
                        with out.status(f"Diagnosing {name}") if not several else nullcontext():
                            if spec is not None:
                                result, where = spec.run(name, store, **given)
                            else:
                                req = DiagnoseRequest(
                                    target=name, window_s=window, model=model, **given
                                )
                                result, where = diagnose_target(req, store)
                    except ShopfloorError as exc:
                        if not several:
                            raise
                        reports.append(
                            {"target": name, "error": " ".join(str(exc).split()), "exit_code": 2}
                        )
                        continue
                    rep = _report(result, name, where)
                    if plot is not None:
                        from shopfloor.assessment.plots import plot_envelope_spectrum

                        use_data_dir_caches(settings.home)
                        png = plot / f"{Path(name).stem}.png" if several else plot
                        failed = draw_plot(  # the verdict is shown all the same
                            partial(plot_envelope_spectrum, result, png, title=name), png
                        )
                        if failed is None:
                            rep["plot"] = str(png)
                        else:
                            rep["plot_error"] = failed
                    reports.append(rep)
                if tick is not None:
                    tick(len(names), len(names), "done")
        finally:
            if store is not None:
                store.close()
        code = overall_exit([ExitCode(r["exit_code"]) for r in reports])
        if several:
            counts: dict[str, int] = {}
            for r in reports:
                key = r.get("verdict", "bad_input")
                counts[key] = counts.get(key, 0) + 1
            out.emit({"results": reports, "counts": counts, "exit_code": int(code)})
            _print_summary(out, reports)
        else:
            out.emit(reports[0])
            _print_one(out, reports[0])
            if "plot" in reports[0]:
                out.print(f"envelope spectrum saved to {escape(reports[0]['plot'])}")
        unwritten = [r["plot_error"] for r in reports if "plot_error" in r]
        if unwritten:  # after the verdicts: a plot that failed loses nothing else
            more = f" (and {len(unwritten) - 1} more)" if len(unwritten) > 1 else ""
            raise InputError(f"{unwritten[0]}{more}; the diagnosis above is complete")
    raise typer.Exit(int(code))
