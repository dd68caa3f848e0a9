"""``shopfloor import``: a plant's own CSV/Parquet export into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from shopfloor.cli._common import DebugOption, HomeOption, JsonOption, command, settings_for


def register(root: typer.Typer) -> None:
    root.command("import")(import_file)


def import_file(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file exported from the plant.")],
    mapping: Annotated[
        Path, typer.Option("--mapping", "-m", help="YAML mapping: time column, channels, asset.")
    ],
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite an earlier import of the same data.")
    ] = False,
    home: HomeOption = None,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Import a plant's own CSV/Parquet data. All-or-nothing: a bad row changes nothing."""
    from shopfloor.acquisition import import_table, load_mapping
    from shopfloor.core.store import Store

    with command(json_out, debug) as out:
        settings = settings_for(home)
        spec = load_mapping(mapping)
        with Store.open(settings.home) as store, out.progress() as make:
            report = import_table(file, spec, store, replace=replace, progress=make("Importing"))
        out.emit({"imported": str(report), "file": str(file)})
        out.print(f"[green]imported[/] {escape(str(report))}")
