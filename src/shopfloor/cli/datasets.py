"""``shopfloor datasets list|info|prepare``: the public datasets shopfloor is measured on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopfloor.cli._common import DebugOption, HomeOption, JsonOption, command, settings_for

app = typer.Typer(help="Public datasets: list, describe, prepare.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="datasets")


@app.command("list")
def datasets_list(json_out: JsonOption = False, debug: DebugOption = False) -> None:
    """List the registered public datasets and whether a local copy was found."""
    from rich.table import Table

    from shopfloor.datasets import all_datasets

    with command(json_out, debug) as out:
        settings = settings_for(None)
        rows: list[dict[str, str | int | None]] = []
        for spec in all_datasets():
            local = settings.data / spec.name if settings.data else None
            found = str(local) if local is not None and local.is_dir() else None
            rows.append(
                {
                    "name": spec.name,
                    "title": spec.title,
                    "files": len(spec.expected_files()),
                    "license": spec.license,
                    "local_copy": found,
                }
            )
        out.emit({"datasets": rows})
        table = Table(title="Registered datasets")
        for col in ("name", "title", "files", "license", "local copy"):
            table.add_column(col)
        for r in rows:
            keys = ("name", "title", "files", "license", "local_copy")
            table.add_row(*(str(r[k]) if r[k] is not None else "-" for k in keys))
        out.print(table)


@app.command("info")
def datasets_info(
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. cwru.")],
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Origin, license, citation and files of one dataset."""
    from shopfloor.datasets import get_dataset

    with command(json_out, debug) as out:
        info = get_dataset(name).info()
        out.emit(info)
        for key, value in info.items():
            out.print(f"[bold]{key}[/]: {value}", highlight=False)


@app.command("prepare")
def datasets_prepare(
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. cwru.")],
    source: Annotated[
        Path | None,
        typer.Option("--source", help="Folder holding the dataset's files (a local mirror)."),
    ] = None,
    home: HomeOption = None,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Verify a dataset's checksums and load it into the store (replacing an earlier copy)."""
    from shopfloor.core.store import Store
    from shopfloor.datasets.prepare import prepare

    with command(json_out, debug) as out:
        settings = settings_for(home)
        with Store.open(settings.home) as store, out.progress() as make:
            report = prepare(
                name,
                store,
                settings,
                source=source,
                verify_progress=make(f"Verifying {name}"),
                load_progress=make(f"Loading {name}"),
            )
        out.emit(
            {
                "name": report.name,
                "assets": report.n_assets,
                "recordings": report.n_recordings,
                "bytes_on_disk": report.bytes_on_disk,
                "seconds": report.seconds,
                "source": str(report.source),
            }
        )
        out.print(
            f"[green]prepared[/] {report.name}: {report.n_assets} assets, {report.n_recordings} "
            f"recordings, {report.bytes_on_disk / 1e6:.1f} MB on disk in {report.seconds:.1f} s "
            f"(from {report.source})"
        )
