"""`seamline dispatcher`: deliver the outbox. It imports every channel's handler, so it lives apart from
`seamline outbox`, which only reads and mends the outbox's state. It imports them (and SQLAlchemy and the settings)
only when it runs: at the top they made `seamline dispatcher --help` take ~1.2 s on a quiet machine (the email
handler's contact policy loads the decision point and numpy); this module itself imports only Typer."""

from __future__ import annotations

import signal
from typing import Annotated

import typer


def dispatcher(
    once: Annotated[bool, typer.Option(help="Deliver what is due, then exit.")] = False,
) -> None:
    """Deliver the outbox (email, paper…). Start as many as you like on PostgreSQL: claims skip locked rows."""
    from seamline.cli.session import engine_for, err, fail, load_settings  # imported when it runs (see the docstring)
    from seamline.core.errors import SeamlineError
    from seamline.core.schema import is_up_to_date
    from seamline.preferences.service import unsubscribe_link
    from seamline.worker.dispatcher import build_dispatcher

    settings = load_settings()
    engine = engine_for(settings)
    try:
        if not is_up_to_date(engine):
            err.print("[red]error:[/red] the schema is not current; run `seamline db upgrade` first")
            raise typer.Exit(1)
        runner = build_dispatcher(engine, settings, unsubscribe_url=unsubscribe_link(settings))
        try:
            if once:
                typer.echo(f"settled {runner.drain()} messages ({runner.delivered} delivered)")
                return
            signal.signal(signal.SIGTERM, lambda *_: runner.stop_soon())
            signal.signal(signal.SIGINT, lambda *_: runner.stop_soon())
            runner.run_forever()
        finally:
            runner.stop()
    except SeamlineError as exc:
        raise fail(exc) from None
    finally:
        engine.dispose()
