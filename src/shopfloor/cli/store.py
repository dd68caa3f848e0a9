"""``shopfloor store info|check|gc|backup``: what the embedded store holds, and looking after it.

``info``, ``check`` and ``backup`` only read, so they run while the plant is being recorded
(readers never wait for the writer). ``gc`` writes: it waits up to ``--wait`` seconds for the
running writer, naming it, and otherwise stops with exit 3.

Exit status: 0 ok; 1 ``check`` found a problem or an orphan; 2 bad input (no store, a
non-empty backup target); 3 the store is busy or something unexpected failed.
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
    settings_for,
)

app = typer.Typer(help="The embedded data store.", no_args_is_help=True)

WaitOption = Annotated[
    float,
    typer.Option("--wait", min=0, help="Seconds to wait for a running writer (default: 0)."),
]


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="store")


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


@app.command("info")
def store_info(
    home: HomeOption = None, json_out: JsonOption = False, debug: DebugOption = False
) -> None:
    """Assets, recordings, streams, events, models, the writer (if any) and size on disk."""
    from rich.table import Table

    from shopfloor.core.store import Store

    with command(json_out, debug) as out:
        settings = settings_for(home)
        with Store.open(settings.home, read_only=True) as store:
            info = store.info()
            datasets = store.datasets().to_dict("records")
        info["datasets"] = datasets
        info["bytes_on_disk"] = info["bytes"]["total"]
        out.emit(info)
        writer = info["writer"]
        out.print(f"store: {info['home']} (schema version {info['schema_version']})")
        out.print(
            "writer: "
            + (
                f"pid {writer.get('pid')} on {writer.get('host')} since {writer.get('since')}"
                if writer
                else "none"
            )
        )
        table = Table(title="Datasets in the store")
        for col in ("name", "assets", "recordings", "MB", "prepared at"):
            table.add_column(col)
        for row in datasets:
            table.add_row(
                str(row["name"]),
                str(row["n_assets"]),
                str(row["n_recordings"]),
                f"{int(row['bytes'] or 0) / 1e6:.1f}",
                str(row["prepared_at"]),
            )
        out.print(table)
        assets = Table(title=f"Assets ({len(info['assets'])})")
        for col in ("asset", "kind", "dataset", "line", "recordings"):
            assets.add_column(col)
        for a in info["assets"]:
            assets.add_row(
                a["id"],
                a["kind"],
                str(a["dataset"] or "-"),
                str(a["line_id"] or "-"),
                str(info["recordings_by_asset"].get(a["id"], 0)),
            )
        out.print(assets)
        if info["streams"]:
            streams = Table(title=f"Streams ({len(info['streams'])})")
            for col in ("stream", "Hz", "blocks", "last seq", "quality records"):
                streams.add_column(col)
            for s in info["streams"]:
                streams.add_row(
                    str(s["id"]),
                    f"{s['sample_rate_hz']:g}",
                    str(s["blocks"]),
                    str(s["last_seq"]),
                    str(s["quality_records"]),
                )
            out.print(streams)
        events = ", ".join(f"{k} {v}" for k, v in info["events"].items()) or "none"
        out.print(f"events: {events}")
        out.print(f"models: {', '.join(m['id'] for m in info['models']) or 'none'}")
        sizes = ", ".join(f"{k} {_mb(v)}" for k, v in info["bytes"].items() if k != "total")
        out.print(f"total on disk: {_mb(info['bytes']['total'])} ({sizes})")
        if info["staging_bytes"]:
            out.print(
                f"not counted: {_mb(info['staging_bytes'])} in .staging (a write in progress "
                "or interrupted; removed by the next writable open or 'store gc')"
            )


@app.command("check")
def store_check(
    home: HomeOption = None, json_out: JsonOption = False, debug: DebugOption = False
) -> None:
    """Verify every referenced file exists and matches its hash or checksums; list orphans.

    Exit 1 when anything is wrong.
    """
    from shopfloor.core.store import Store

    with command(json_out, debug) as out:
        settings = settings_for(home)
        with Store.open(settings.home, read_only=True) as store:
            report = store.check()
        out.emit(
            {
                "clean": report.clean,
                "checked_files": report.checked_files,
                "problems": report.problems,
                "orphans": report.orphans,
            }
        )
        for p in report.problems:
            out.print(f"problem: {p}", markup=False)
        for o in report.orphans:
            out.print(f"orphan: {o}", markup=False)
        verdict = "clean" if report.clean else "NOT clean"
        out.print(f"{report.checked_files} files checked: {verdict}")
        if not report.clean:
            out.exit(ExitCode.FINDING)


def _open_writable(home: Path, wait: float, out: Any) -> Any:
    from shopfloor.core.store import Store, StoreBusyError

    try:
        return Store.open(home, wait_s=wait, on_wait=lambda busy: out.note(f"waiting: {busy}"))
    except StoreBusyError as exc:
        out.fail(exc, ExitCode.UNKNOWN)


@app.command("gc")
def store_gc(
    home: HomeOption = None,
    wait: WaitOption = 0.0,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Compact stream segments, apply the retention policy, delete orphans and leftovers."""
    with command(json_out, debug) as out:
        from shopfloor.core.errors import StoreError
        from shopfloor.core.store import Store

        settings = settings_for(home)
        if not Store.exists(settings.home):  # opening writable would create one at a typo
            raise StoreError(
                f"no store in {settings.home} (run 'shopfloor datasets prepare' first)"
            )
        with _open_writable(settings.home, wait, out) as store:
            report = store.gc()
        out.emit(
            {
                "segments_compacted": report.segments_compacted,
                "removed_files": report.removed_files,
                "bytes_before": report.bytes_before,
                "bytes_after": report.bytes_after,
            }
        )
        out.print(
            f"compacted {report.segments_compacted} segment(s), removed "
            f"{len(report.removed_files)} file(s): {_mb(report.bytes_before)} -> "
            f"{_mb(report.bytes_after)}"
        )


@app.command("backup")
def store_backup(
    dest: Annotated[Path, typer.Argument(help="New or empty folder for the copy.")],
    home: HomeOption = None,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """A consistent copy of the store, taken while the writer keeps running."""
    from shopfloor.core.store import Store

    with command(json_out, debug) as out:
        settings = settings_for(home)
        with Store.open(settings.home, read_only=True) as store:
            _backup_folder(dest)
            done = store.backup(dest)
        out.emit(done)
        out.print(f"backup in {done['dest']}: {done['files']} files, {_mb(done['bytes'])}")


def _backup_folder(dest: Path) -> None:
    """The backup's folder, created (a file in the way or a place that cannot hold a folder is
    bad input, named, not an internal error)."""
    from shopfloor.core.errors import InputError

    if dest.exists() and not dest.is_dir():
        raise InputError("is a file; the backup needs a new or empty folder", source=dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the backup folder ({exc.strerror})", source=dest) from None
