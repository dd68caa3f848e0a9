"""``shopfloor demo``: the README's first command."""

from __future__ import annotations

from typing import Annotated

import typer

from shopfloor.cli._common import DebugOption, HomeOption, JsonOption, command, settings_for


def register(root: typer.Typer) -> None:
    root.command("demo")(demo)


def demo(
    dataset: Annotated[str, typer.Option(help="Dataset to prepare and summarise.")] = "cwru",
    home: HomeOption = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not try to download anything.")
    ] = False,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Prepare a real dataset and print a health summary of every recording in it.

    Falls back to generated signals, and says so, when no local mirror exists and the network
    cannot be reached.
    """
    from shopfloor.pipelines.demo import run_demo

    with command(json_out, debug) as out:
        settings = settings_for(home)
        if offline:
            settings = settings.model_copy(update={"offline": True})
        with out.progress() as make:
            summary = run_demo(settings, dataset, progress=make)
        out.emit(summary.to_dict())
        if not out.json:
            summary.print(out.console)
