"""`seamline serve` (API and console, with its worker in a child process) and `seamline worker` (workers alone).

What they run — the API (FastAPI and every router), the demo, the whole event pipeline, Alembic, uvicorn, and
SQLAlchemy and the settings under them — is imported inside each command, when it runs: at the top it made
`seamline serve --help` and `seamline worker --help` take ~3 s on a quiet machine; this module itself imports only
Typer, so their help costs what `seamline --help` does (tests/cli/test_startup.py checks what it imports).
"""

from __future__ import annotations

import signal
import socket
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from seamline.config import Settings
    from seamline.demo.workspace import DemoWorkspace


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default from settings).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default from settings).")] = None,
    demo: Annotated[bool, typer.Option(help="Create the demo workspace on first start.")] = True,
    worker: Annotated[
        bool,
        typer.Option(
            help="Process the inbox too: in a child process that serve starts, restarts and stops "
            "(SEAMLINE_SERVE_WORKER=thread: in a thread of this process)."
        ),
    ] = True,
    dispatcher: Annotated[bool, typer.Option(help="Deliver the outbox in this process too.")] = True,
) -> None:
    """Run the API and, by default, a worker beside it. On SQLite, migrations run first."""
    import uvicorn  # what serve runs: imported when it runs (see the module's docstring)

    from seamline.app import create_app
    from seamline.cli.session import engine_for, err, fail, load_settings
    from seamline.core.errors import SeamlineError
    from seamline.core.migrations import upgrade
    from seamline.core.schema import is_up_to_date
    from seamline.demo.workspace import create_demo_workspace

    settings = load_settings()
    updates: dict[str, Any] = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = settings.model_copy(update=updates)
    if (problem := _listen_problem(settings.host, settings.port)) is not None:
        # Before anything is created: a demo made now could not be fed, and its traffic would go to whoever holds
        # the port.
        err.print(f"[red]error:[/red] {problem}; choose another with --port")
        raise typer.Exit(1)
    engine = engine_for(settings)
    try:
        if settings.is_sqlite:
            upgrade(engine)
        elif not is_up_to_date(engine):
            err.print("[red]error:[/red] the schema is not current; run `seamline db upgrade` first")
            raise typer.Exit(1)
        workspace = create_demo_workspace(engine, settings) if demo else None
        if workspace is not None:
            _introduce(workspace, settings)
    except SeamlineError as exc:
        raise fail(exc) from None
    finally:
        engine.dispose()
    if workspace is not None:
        _play_when_ready(workspace, settings)
    where_worker = (
        {"process": "in a child process", "thread": "in this process"}[settings.serve_worker] if worker else "off"
    )
    typer.echo(
        f"Seamline on http://{settings.host}:{settings.port}  (API docs at /docs, database {_where(settings)}, "
        f"worker {where_worker}; /healthz says how it is)"
    )
    uvicorn.run(
        create_app(settings, embedded_worker=worker, embedded_dispatcher=dispatcher),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
    )


def _listen_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port (another process holds it, say), or None when it can."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except OSError as exc:
        return f"cannot listen on {host}:{port} ({exc.strerror or exc})"
    return None


def _introduce(workspace: DemoWorkspace, settings: Settings) -> None:
    for name in ("web", "ios-app"):
        typer.echo(f"demo source {name:<13} write key: {workspace.keys[name]}")
    typer.echo("(keys are shown once; `seamline sources rotate NAME` makes a new one)")
    typer.echo(f"demo console at http://{settings.host}:{settings.port}/console, log in as:")
    for login in workspace.logins:
        typer.echo(f"  {login.username:<6} ({login.role:<10}) password: {login.password}")


def _play_when_ready(workspace: DemoWorkspace, settings: Settings) -> None:
    """Send the demo's traffic and conversations once the server answers, without delaying its start."""
    from seamline.cli.session import engine_for
    from seamline.demo.workspace import play

    loopback = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104 (comparing)

    def run() -> None:
        engine = engine_for(settings)
        try:
            typer.echo(play(workspace, f"http://{loopback}:{settings.port}", engine, settings))
        finally:
            engine.dispose()

    threading.Thread(target=run, name="demo", daemon=True).start()


def _where(settings: Any) -> str:
    return str(settings.data_dir / "seamline.db") if settings.is_sqlite else "PostgreSQL"


def worker(
    once: Annotated[bool, typer.Option(help="Process what is pending, then exit.")] = False,
) -> None:
    """Run a worker alone. Start as many as you like on PostgreSQL: they share the inbox by partition locks."""
    from seamline.cli.session import engine_for, err, load_settings  # imported when it runs (see the docstring)
    from seamline.core.schema import is_up_to_date
    from seamline.privacy.forgetting import ErasureFollower
    from seamline.worker.runner import Worker

    settings = load_settings()
    engine = engine_for(settings)
    try:
        if not is_up_to_date(engine):
            err.print("[red]error:[/red] the schema is not current; run `seamline db upgrade` first")
            raise typer.Exit(1)
        runner = Worker(engine, settings)
        if once:
            typer.echo(f"processed {runner.drain()} events")
            return
        signal.signal(signal.SIGTERM, lambda *_: runner.stop_soon())
        signal.signal(signal.SIGINT, lambda *_: runner.stop_soon())
        follower = ErasureFollower(engine)  # an erasure made elsewhere empties this worker's caches too
        follower.start()
        try:
            runner.run_forever()
        finally:
            follower.stop()
    finally:
        engine.dispose()
