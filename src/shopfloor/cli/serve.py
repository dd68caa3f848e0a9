"""``shopfloor serve``: the REST API and the live dashboard (needs the ``service`` extra)."""

from __future__ import annotations

from typing import Annotated

import typer

from shopfloor.cli._common import DebugOption, HomeOption, JsonOption, command, settings_for


def register(root: typer.Typer) -> None:
    root.command("serve")(serve)


def serve(
    home: HomeOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    simulate: Annotated[
        float | None,
        typer.Option(
            help="Also run the embedded broker, fleet simulator and live pipeline for this many "
            "seconds (generated data: motor-01's bearing degrades).",
            min=15.0,
            max=86400.0,
        ),
    ] = None,
    motors: Annotated[int, typer.Option(help="--simulate: motors simulated.", min=1, max=500)] = 3,
    duration: Annotated[
        float | None,
        typer.Option(
            help="Stop serving this many seconds after the start (after the simulation with "
            "--simulate; default: until Ctrl-C).",
            min=1,
        ),
    ] = None,
    json_out: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Serve the API (/docs) and the dashboard (/) over the store in the data directory.

    Needs SHOPFLOOR_SERVICE_SECRET (32+ random characters: it signs the access tokens). When no
    user exists yet, creates 'admin' with a one-time password printed once.
    """
    with command(json_out, debug) as out:
        import asyncio

        try:
            from shopfloor.service.auth import Role, new_password
            from shopfloor.service.live import serve as run
            from shopfloor.service.settings import ServiceSettings
        except ImportError as exc:
            raise ModuleNotFoundError(
                f"the service needs its extra: pip install 'shopfloor[service]' ({exc})"
            ) from exc
        settings = ServiceSettings(home=settings_for(home).home)
        settings.check_secret()
        from shopfloor.service.auth import UserStore

        users = UserStore(settings.users_path)
        admin_password = None
        if not users.users():
            admin_password = new_password()
            users.set_user("admin", Role.ADMIN, admin_password)

        def started(url: str, link: str | None) -> None:
            out.note(f"dashboard: {url}  (API docs: {url}docs)")
            if admin_password is not None:
                out.note(f"one-time admin login: admin / {admin_password}  (shown only now)")

        summary = asyncio.run(
            run(
                settings,
                host=host,
                port=port,
                simulate_s=simulate,
                motors=motors,
                serve_s=duration,
                on_started=started,
            )
        )
        out.emit({"ok": True, "simulation": summary or None})
