"""The ``shopfloor`` command-line tool (typer + rich).

Every command has ``--help``; anything that takes more than a second shows a progress bar;
errors caused by input are printed as one plain line naming the file, line or field, with exit
status 2 (no traceback).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from shopfloor import __version__
from shopfloor.core.errors import ShopfloorError
from shopfloor.core.settings import Settings, get_settings
from shopfloor.core.store import Store

app = typer.Typer(
    name="shopfloor",
    help="AI for the factory floor: condition monitoring of motors and rotating machines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
datasets_app = typer.Typer(help="Public datasets: list, describe, prepare.", no_args_is_help=True)
store_app = typer.Typer(help="The embedded data store.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")
app.add_typer(store_app, name="store")

console = Console()
err_console = Console(stderr=True)

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Data directory of the store (default: SHOPFLOOR_HOME or ~/.local/share/shopfloor).",
    ),
]


def _settings(home: Path | None) -> Settings:
    settings = get_settings()
    if home is not None:
        settings = settings.model_copy(update={"home": home})
    return settings


@contextmanager
def progress_bar() -> Iterator[Callable[[str], Callable[[int, int, str], None]]]:
    """Yields a factory: ``task = make("Verifying")`` gives a ``(done, total, what)`` callback."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[what]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as progress:

        def make(description: str) -> Callable[[int, int, str], None]:
            task = progress.add_task(description, total=None, what="")

            def update(done: int, total: int, what: str) -> None:
                progress.update(task, completed=done, total=total, what=what)

            return update

        yield make


def _fail(exc: BaseException) -> None:
    # escape: messages quote units like "[length] / [time]" and paths, which rich would eat
    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        console.print(f"shopfloor {__version__}")
        raise typer.Exit()


# ---------------------------------------------------------------------------- datasets
@datasets_app.command("list")
def datasets_list() -> None:
    """List the registered public datasets and whether a local copy was found."""
    from shopfloor.datasets import all_datasets

    settings = get_settings()
    table = Table(title="Registered datasets")
    for col in ("name", "title", "files", "license", "local copy"):
        table.add_column(col)
    for spec in all_datasets():
        local = settings.data / spec.name if settings.data else None
        found = str(local) if local is not None and local.is_dir() else "-"
        table.add_row(spec.name, spec.title, str(len(spec.expected_files())), spec.license, found)
    console.print(table)


@datasets_app.command("info")
def datasets_info(name: Annotated[str, typer.Argument(help="Dataset name, e.g. cwru.")]) -> None:
    """Origin, license, citation and files of one dataset."""
    from shopfloor.datasets import get_dataset

    try:
        spec = get_dataset(name)
    except ShopfloorError as exc:
        _fail(exc)
    for key, value in spec.info().items():
        console.print(f"[bold]{key}[/]: {value}", highlight=False)


@datasets_app.command("prepare")
def datasets_prepare(
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. cwru.")],
    source: Annotated[
        Path | None,
        typer.Option("--source", help="Folder holding the dataset's files (a local mirror)."),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Verify a dataset's checksums and load it into the store (replacing an earlier copy)."""
    from shopfloor.datasets.prepare import prepare

    settings = _settings(home)
    try:
        with Store.open(settings.home) as store, progress_bar() as make:
            report = prepare(
                name,
                store,
                settings,
                source=source,
                verify_progress=make(f"Verifying {name}"),
                load_progress=make(f"Loading {name}"),
            )
    except ShopfloorError as exc:
        _fail(exc)
    console.print(
        f"[green]prepared[/] {report.name}: {report.n_assets} assets, {report.n_recordings} "
        f"recordings, {report.bytes_on_disk / 1e6:.1f} MB on disk in {report.seconds:.1f} s "
        f"(from {report.source})"
    )


# ---------------------------------------------------------------------------- import
@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file exported from the plant.")],
    mapping: Annotated[
        Path, typer.Option("--mapping", "-m", help="YAML mapping: time column, channels, asset.")
    ],
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite an earlier import of the same data.")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Import a plant's own CSV/Parquet data. All-or-nothing: a bad row changes nothing."""
    from shopfloor.acquisition import import_table, load_mapping

    settings = _settings(home)
    try:
        spec = load_mapping(mapping)
        with Store.open(settings.home) as store, progress_bar() as make:
            report = import_table(file, spec, store, replace=replace, progress=make("Importing"))
    except ShopfloorError as exc:
        _fail(exc)
    console.print(f"[green]imported[/] {escape(str(report))}")


# ---------------------------------------------------------------------------- diagnose
def _chance(significance: float, shared: bool) -> str:
    """How likely noise alone gives such a peak, for people: '1 in 1,000', '1 in 1e9'."""
    if shared:
        return "shared: not counted"
    if significance < 1.0:
        return "likely noise"
    if significance > 12:
        return "< 1 in 1e12"
    return f"1 in {10**significance:,.0f}" if significance < 4 else f"1 in 1e{significance:.0f}"


@app.command("diagnose")
def diagnose(
    target: Annotated[
        str,
        typer.Argument(
            help="A recording id in the store, or a CSV/Parquet file of one vibration channel."
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
    plot: Annotated[
        Path | None,
        typer.Option(
            help="Save a PNG of the envelope spectrum with the defect frequencies marked."
        ),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Which part of a bearing is failing, how badly, and the spectrum evidence for it."""
    from shopfloor.assessment.diagnosis import SignatureEvidence
    from shopfloor.assessment.plots import plot_envelope_spectrum
    from shopfloor.pipelines.diagnose import DiagnoseRequest, diagnose_target

    settings = _settings(home)
    req = DiagnoseRequest(
        target=target,
        channel=channel,
        component=component,
        column=column,
        unit=unit,
        fs_hz=fs,
        rpm=rpm,
        bearing=bearing,
        asset_id=asset,
        window_s=window,
    )
    store = None
    try:
        if Store.exists(settings.home):
            store = Store.open(settings.home, read_only=True)
        result, where = diagnose_target(req, store)
        if plot is not None:
            plot_envelope_spectrum(result, plot, title=target)
    except ShopfloorError as exc:
        _fail(exc)
    finally:
        if store is not None:
            store.close()
    d = result.diagnosis
    colour = {"normal": "green", "unknown": "yellow"}.get(d.label.value, "red")
    console.print(f"[bold]{escape(where)}[/]")
    console.print(f"[bold {colour}]{escape(d.summary())}[/]", soft_wrap=True)
    table = Table(title="Envelope evidence (window-averaged squared envelope spectrum)")
    for col in (
        "signature",
        "band",
        "line",
        "expected Hz",
        "found Hz",
        "over floor",
        "chance by noise",
    ):
        table.add_column(col, justify="left" if col in ("signature", "band", "line") else "right")
    shown = [e for e in result.evidence if e.signature in ("bpfo", "bpfi", "bsf2")]
    best: dict[str, SignatureEvidence] = {}
    for e in shown:
        if e.signature not in best or e.significance > best[e.signature].significance:
            best[e.signature] = e
    for e in best.values():
        for p in [*e.harmonics, *e.sidebands]:
            table.add_row(
                e.signature.upper(),
                e.band,
                p.name,
                f"{p.expected_hz:.1f}",
                f"{p.found_hz:.1f}",
                f"{p.over_floor_db:+.1f} dB",
                _chance(p.significance, "(shared)" in p.name),
            )
    console.print(table)
    console.print(escape(result.iso_note))
    if plot is not None:
        console.print(f"envelope spectrum saved to {escape(str(plot))}")


# ---------------------------------------------------------------------------- store
@store_app.command("info")
def store_info(home: HomeOption = None) -> None:
    """Schema version, prepared datasets and size on disk."""
    settings = _settings(home)
    try:
        with Store.open(settings.home, read_only=True) as store:
            console.print(f"store: {store.home} (schema version {store.schema_version})")
            df = store.datasets()
            table = Table(title="Datasets in the store")
            for col in ("name", "assets", "recordings", "MB", "prepared at"):
                table.add_column(col)
            for row in df.to_dict("records"):
                table.add_row(
                    str(row["name"]),
                    str(row["n_assets"]),
                    str(row["n_recordings"]),
                    f"{int(row['bytes']) / 1e6:.1f}",
                    str(row["prepared_at"]),
                )
            console.print(table)
            console.print(f"total on disk: {store.bytes_on_disk() / 1e6:.1f} MB")
    except ShopfloorError as exc:
        _fail(exc)


# ---------------------------------------------------------------------------- demo
@app.command("demo")
def demo(
    dataset: Annotated[str, typer.Option(help="Dataset to prepare and summarise.")] = "cwru",
    home: HomeOption = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not try to download anything.")
    ] = False,
) -> None:
    """Prepare a real dataset and print a health summary of every recording in it.

    Falls back to generated signals, and says so, when no local mirror exists and the network
    cannot be reached.
    """
    from shopfloor.pipelines.demo import run_demo

    settings = _settings(home)
    if offline:
        settings = settings.model_copy(update={"offline": True})
    try:
        with progress_bar() as make:
            summary = run_demo(settings, dataset, progress=make)
    except ShopfloorError as exc:
        _fail(exc)
    # Logs and pipes get rich's 80-column default, too narrow for the table; a real terminal
    # keeps its own width.
    summary.print(console if console.is_terminal else Console(width=max(console.width, 120)))


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted; nothing half-written was kept")
        sys.exit(130)


if __name__ == "__main__":
    main()
