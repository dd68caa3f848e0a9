"""``shopfloor store ...``: what the embedded store holds."""

from __future__ import annotations

import typer

from shopfloor.cli._common import DebugOption, HomeOption, JsonOption, command, settings_for

app = typer.Typer(help="The embedded data store.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="store")


@app.command("info")
def store_info(
    home: HomeOption = None, json_out: JsonOption = False, debug: DebugOption = False
) -> None:
    """Schema version, prepared datasets and size on disk."""
    from rich.table import Table

    from shopfloor.core.store import Store

    with command(json_out, debug) as out:
        settings = settings_for(home)
        with Store.open(settings.home, read_only=True) as store:
            rows = store.datasets().to_dict("records")
            out.emit(
                {
                    "home": str(store.home),
                    "schema_version": store.schema_version,
                    "datasets": rows,
                    "bytes_on_disk": store.bytes_on_disk(),
                }
            )
            out.print(f"store: {store.home} (schema version {store.schema_version})")
            table = Table(title="Datasets in the store")
            for col in ("name", "assets", "recordings", "MB", "prepared at"):
                table.add_column(col)
            for row in rows:
                table.add_row(
                    str(row["name"]),
                    str(row["n_assets"]),
                    str(row["n_recordings"]),
                    f"{int(row['bytes']) / 1e6:.1f}",
                    str(row["prepared_at"]),
                )
            out.print(table)
            out.print(f"total on disk: {store.bytes_on_disk() / 1e6:.1f} MB")
