"""`seamline users`: console accounts and their roles; passwords are asked for, never given on the command line."""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from seamline.cli.output import console
from seamline.cli.session import load_section, transaction
from seamline.core.clock import utcnow
from seamline.core.principal import Principal
from seamline.users import service
from seamline.users.config import ConsoleConfig
from seamline.users.permissions import ROLES

app = typer.Typer(help="Console users: create, list, disable, enable, set-password, unlock.", no_args_is_help=True)

PASSWORD_ENV = "SEAMLINE_NEW_PASSWORD"  # noqa: S105 - the variable's name, for scripts that cannot answer a prompt


def _operator() -> Principal:
    return Principal(name=f"cli:{getpass.getuser()}", kind="operator", scopes=frozenset(), surface="cli")


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "-"


def _new_password(given: str | None) -> str:
    if given is not None:
        return given
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


PasswordOption = Annotated[
    str | None,
    typer.Option(
        "--password",
        envvar=PASSWORD_ENV,
        hidden=True,
        help=f"For scripts only (prefer the prompt, or ${PASSWORD_ENV}): a command line is visible to other users.",
    ),
]


@app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="Lower-case sign-in name, e.g. ada or ada.lovelace.")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")],
    name: Annotated[str | None, typer.Option("--name", help="Name shown in the console (default: username).")] = None,
    password: PasswordOption = None,
) -> None:
    """Create a console user; the password is asked for twice and stored only as an argon2id hash."""
    rules = load_section("console", ConsoleConfig)  # sign-in rules: lock-outs, passwords
    secret = _new_password(password)
    with transaction() as session:
        user = service.create_user(session, username, role, secret, display_name=name, actor=_operator(), config=rules)
    typer.echo(f"created console user {user.username} ({user.role})")


@app.command("list")
def list_command() -> None:
    """List console users with their role and status (a lock-out shows until it ends)."""
    rules = load_section("console", ConsoleConfig)  # sign-in rules: lock-outs, passwords
    now = utcnow()
    with transaction() as session:
        users = service.list_users(session)
        locks = {u.username: service.lock_ends_at(session, u.username, now, rules) for u in users}
    table = Table("username", "name", "role", "status", "created", "password set")
    for u in users:
        lock = locks[u.username]
        status = "disabled" if u.is_disabled else (f"locked until {lock:%H:%M} UTC" if lock else "active")
        table.add_row(u.username, u.display_name, u.role, status, _when(u.created_at), _when(u.password_changed_at))
    console().print(table)


@app.command("disable")
def disable(username: str) -> None:
    """Stop a user from signing in and end their sessions at once."""
    with transaction() as session:
        service.disable_user(session, username, actor=_operator())
    typer.echo(f"disabled console user {username}")


@app.command("enable")
def enable(username: str) -> None:
    """Let a disabled user sign in again."""
    with transaction() as session:
        service.enable_user(session, username, actor=_operator())
    typer.echo(f"enabled console user {username}")


@app.command("set-password")
def set_password(username: str, password: PasswordOption = None) -> None:
    """Give a user a new password (asked for twice); their sessions end."""
    rules = load_section("console", ConsoleConfig)  # sign-in rules: lock-outs, passwords
    secret = _new_password(password)
    with transaction() as session:
        service.set_password(session, username, secret, actor=_operator(), config=rules)
    typer.echo(f"set a new password for console user {username}; their sessions have ended")


@app.command("unlock")
def unlock(username: str) -> None:
    """Lift a lock-out after failed logins at once."""
    with transaction() as session:
        service.unlock(session, username, actor=_operator())
    typer.echo(f"unlocked {username}")
