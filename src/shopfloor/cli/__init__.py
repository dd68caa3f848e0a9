"""The ``shopfloor`` command-line tool (typer + rich).

Each command lives in its own module of this package and registers itself on :data:`app`
through ``register``; the conventions every command follows (``--json``, exit codes,
one-line errors, ``--debug``) are in :mod:`shopfloor.cli._common`. Nothing heavy is imported
here, so ``shopfloor --help`` answers at once.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from shopfloor import __version__
from shopfloor.cli import (
    baseline,
    datasets,
    demo,
    detect,
    diagnose,
    hvac,
    importing,
    rul,
    run,
    serve,
    simulate,
    store,
)
from shopfloor.cli._common import ExitCode, set_root_debug, stderr_console, to_json

app = typer.Typer(
    name="shopfloor",
    help="AI for the factory floor: condition monitoring of motors and rotating machines.\n\n"
    "Exit status of every command: 0 ok/normal, 1 finding (fault, anomaly, alert), "
    "2 bad input or usage, 3 unknown.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One line per command module; order is the order of ``shopfloor --help``.
for _module in (
    demo,
    datasets,
    importing,
    diagnose,
    store,
    detect,
    rul,
    hvac,
    run,
    simulate,
    serve,
    baseline,
):
    _module.register(app)


def _version(value: bool) -> None:
    if value:
        print(f"shopfloor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_version
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks on errors (every command).")
    ] = False,
) -> None:
    set_root_debug(debug)


def main() -> None:
    """Console-script entry point."""
    try:  # typer >= 0.22 carries its own copy of click; older ones use click itself
        from typer._click import exceptions as click_errors
    except ImportError:  # pragma: no cover - depends on the installed typer
        from click import exceptions as click_errors  # type: ignore[no-redef]

    try:
        code = app(standalone_mode=False)
    except click_errors.NoArgsIsHelpError as exc:  # bare 'shopfloor': the help, as asked
        exc.show()
        sys.exit(exc.exit_code)
    except click_errors.UsageError as exc:
        sys.exit(usage_error(exc))
    except click_errors.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        stderr_console().print("interrupted; nothing half-written was kept")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def usage_error(exc: Any) -> int:
    """A bad option value, an unknown option or command: one line naming it (click draws a
    box of several lines), the JSON error document under ``--json``; returns the exit code."""
    from rich.markup import escape

    where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    message = " ".join(exc.format_message().split())
    stderr_console().print(
        f"[bold red]error:[/] {escape(message)}{escape(where)}", highlight=False, soft_wrap=True
    )
    if "--json" in sys.argv[1:]:
        print(to_json({"ok": False, "error": message, "exit_code": int(ExitCode.BAD_INPUT)}))
    return int(exc.exit_code)


__all__ = ["ExitCode", "app", "main"]
