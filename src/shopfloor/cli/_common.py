"""What every ``shopfloor`` command shares: options, output, exit codes and the error path.

The conventions a script can rely on, for every command:

- ``--json`` prints exactly one JSON document on standard output (progress and messages go to
  standard error), so ``shopfloor X --json | jq`` always parses.
- Exit codes: 0 ok / normal, 1 a finding (fault, anomaly, alert), 2 bad input or usage,
  3 unknown (the tool could not decide, or failed for a reason that is not the input's).
- Errors are one line naming the option, file, line or value; ``--debug`` (or
  ``SHOPFLOOR_DEBUG=1``) adds the traceback.
- Tables are never cut when the output is piped.
- This module imports nothing heavy: ``shopfloor --help`` must stay fast, so commands import
  numpy, pandas, the store and the models inside their bodies.
"""

from __future__ import annotations

import json
import math
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import Enum, IntEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from shopfloor.core.errors import InputError, ShopfloorError


class ExitCode(IntEnum):
    """Process exit status of every command."""

    OK = 0
    FINDING = 1
    BAD_INPUT = 2
    UNKNOWN = 3


JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print one JSON document on stdout instead of tables."),
]
DebugOption = Annotated[
    bool, typer.Option("--debug", help="On an error, show the traceback as well.")
]
HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Data directory of the store (default: SHOPFLOOR_HOME or ~/.local/share/shopfloor).",
    ),
]

# Set by the root ``--debug`` option (``shopfloor --debug CMD``); commands also take their own.
_root_debug = False

# Wide enough that no table is cut when stdout is a pipe or a log; a terminal keeps its width.
PIPE_WIDTH = 160


def set_root_debug(value: bool) -> None:
    global _root_debug
    _root_debug = value


class _PipeConsole(Console):
    """rich exits with status 1 when the pipe's reader goes away (``| head``), which a script
    would read as "fault found"; drop the rest of the output and keep the real status."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        _quiet_stdout()


def stdout_console() -> Console:
    probe = _PipeConsole()
    if probe.is_terminal:
        return probe
    return _PipeConsole(width=max(PIPE_WIDTH, probe.width), soft_wrap=False)


def stderr_console() -> Console:
    return Console(stderr=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "tolist"):  # numpy scalars and arrays, without importing numpy here
        return value.tolist()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _finite(value: Any) -> Any:
    """NaN and infinities are not JSON: they leave as ``null``."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def to_json(payload: Any) -> str:
    """One JSON document: datetimes ISO 8601, enums by value, NaN as null."""
    plain = json.loads(json.dumps(payload, default=_jsonable))
    return json.dumps(_finite(plain), ensure_ascii=False, allow_nan=False)


def _quiet_stdout() -> None:
    """The reader of a pipe went away (``| head``): drop the rest of the output, but keep the
    exit status, which still says what was found."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


class CommandOutput:
    """Per-invocation output: human-readable text, or one JSON document.

    Parameters
    ----------
    json_out:
        ``--json`` was given: :meth:`emit` prints the document; :meth:`print` is silent.
    debug:
        ``--debug`` was given: errors show their traceback.
    """

    def __init__(self, json_out: bool = False, debug: bool = False) -> None:
        self.json = json_out
        self.debug = debug or _root_debug or os.environ.get("SHOPFLOOR_DEBUG") == "1"
        self.console = stdout_console()
        self.err = stderr_console()
        self._emitted = False

    def print(self, *objects: Any, **kwargs: Any) -> None:
        """Human output (tables, verdicts); nothing in ``--json`` mode."""
        if not self.json:
            console = self.console
            width = console.width
            if not console.is_terminal:
                # a pipe or a log has no width: widen it to what the widest table needs whole
                # (a long path in a no_wrap column, the longest word elsewhere); never cut
                from rich.measure import Measurement

                unbounded = console.options.update(max_width=1_000_000)
                need = [
                    Measurement.get(console, unbounded, o).minimum
                    for o in objects
                    if not isinstance(o, str)
                ]
                console.width = max([width, *need])
            try:
                console.print(*objects, **kwargs)
            except BrokenPipeError:
                _quiet_stdout()
            finally:
                console.width = width

    def note(self, message: str) -> None:
        """A remark for the person (stderr), in both modes."""
        self.err.print(escape(message), highlight=False, soft_wrap=True)

    def emit(self, payload: Any) -> None:
        """The machine-readable result (``--json`` only); call once per command."""
        if self.json:
            try:
                sys.stdout.write(to_json(payload) + "\n")
                sys.stdout.flush()
            except BrokenPipeError:
                _quiet_stdout()
            self._emitted = True

    def exit(self, code: ExitCode | int) -> NoReturn:
        raise typer.Exit(code=int(code))

    def fail(self, exc: BaseException, code: ExitCode = ExitCode.BAD_INPUT) -> NoReturn:
        """One line on stderr (and a JSON error document in ``--json`` mode), then exit."""
        message = str(exc) or type(exc).__name__
        if code == ExitCode.UNKNOWN and not isinstance(exc, ShopfloorError):
            message = f"internal error ({type(exc).__name__}): {message}"
        one_line = " ".join(message.split())
        if self.debug:
            self.err.print(traceback.format_exc(), markup=False, highlight=False)
        hint = "" if self.debug else " (--debug shows the traceback)"
        if code == ExitCode.BAD_INPUT:
            hint = ""
        # escape: messages quote units like "[length] / [time]" and paths, which rich would eat
        self.err.print(
            f"[bold red]error:[/] {escape(one_line)}{hint}", highlight=False, soft_wrap=True
        )
        if self.json and not self._emitted:
            sys.stdout.write(
                to_json({"ok": False, "error": one_line, "exit_code": int(code)}) + "\n"
            )
        raise typer.Exit(code=int(code))

    @contextmanager
    def status(self, message: str) -> Iterator[None]:
        """A spinner on stderr for one long step (only on a terminal: logs stay clean)."""
        if self.err.is_terminal:
            with self.err.status(escape(message)):
                yield
        else:
            yield

    @contextmanager
    def progress(self) -> Iterator[Callable[[str], Callable[[int, int, str], None]]]:
        """A factory of progress bars on stderr: ``task = make("Verifying")`` gives a
        ``(done, total, what)`` callback."""
        with progress_bar(self.err) as make:
            yield make


@contextmanager
def command(json_out: bool = False, debug: bool = False) -> Iterator[CommandOutput]:
    """Run a command body with the shared error path.

    A :class:`ShopfloorError` (bad input) becomes a one-line error and exit 2; anything else
    is an internal error, exit 3, with the traceback only under ``--debug``.
    """
    out = CommandOutput(json_out, debug)
    try:
        yield out
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except ShopfloorError as exc:
        out.fail(exc, ExitCode.BAD_INPUT)
    except Exception as exc:
        out.fail(exc, ExitCode.UNKNOWN)


@contextmanager
def progress_bar(
    console: Console | None = None,
) -> Iterator[Callable[[str], Callable[[int, int, str], None]]]:
    """Yields a factory: ``task = make("Verifying")`` gives a ``(done, total, what)`` callback."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[what]}"),
        TimeElapsedColumn(),
        console=console or stderr_console(),
        transient=False,
    ) as progress:

        def make(description: str) -> Callable[[int, int, str], None]:
            task = progress.add_task(description, total=None, what="")

            def update(done: int, total: int, what: str) -> None:
                progress.update(task, completed=done, total=total, what=what)

            return update

        yield make


def writable_output(path: Path, option: str, suffix: str) -> Path:
    """Check an output file the user named before any work is done, so a typo costs nothing.

    The folder must exist (it is not created: ``/typo/dir/x.png`` is an error, not a new tree)
    and be writable, and the name must end in ``suffix``.
    """
    if path.suffix.lower() != suffix:
        raise InputError(f"{option} {path}: the file name must end in {suffix}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{option} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise InputError(f"{option} {path}: folder {folder} is not writable")
    if path.is_dir():
        raise InputError(f"{option} {path}: is a folder")
    # os.access says yes to root everywhere (also on /proc): try opening it, and leave nothing
    existed = path.exists()
    try:
        with path.open("ab"):
            pass
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot be written ({exc.strerror})") from None
    if not existed:
        path.unlink(missing_ok=True)
    return path


def draw_plot(draw: Callable[[], object], path: Path, option: str = "--plot") -> str | None:
    """Write a PNG the user asked for after the result exists; a failure midway (disk full)
    returns a one-line error instead of raising, so the command still shows and stores its
    result and reports the lost plot last (``writable_output`` already refused bad paths)."""
    try:
        draw()
    except OSError as exc:
        return f"{option} {path}: not written ({exc.strerror or exc})"
    return None


def report_unwritten_plot(error: str | None, what: str) -> None:
    """After the result was shown: a plot that could not be written is bad output, exit 2."""
    if error is not None:
        raise InputError(f"{error}; the {what} above is complete")


def use_data_dir_caches(home: Path) -> None:
    """Keep matplotlib's font cache inside the data directory, not in ``~/.config``."""
    cache = home / "cache" / "matplotlib"
    if "MPLCONFIGDIR" not in os.environ:
        cache.mkdir(parents=True, exist_ok=True)
        os.environ["MPLCONFIGDIR"] = str(cache)


def settings_for(home: Path | None) -> Any:
    """The settings, with ``--home`` applied (returns :class:`shopfloor.core.settings.Settings`)."""
    from shopfloor.core.settings import get_settings

    settings = get_settings()
    if home is not None:
        settings = settings.model_copy(update={"home": home})
    return settings
