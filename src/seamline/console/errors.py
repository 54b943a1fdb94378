"""Errors on console paths become pages (or a redirect to the login form): never JSON, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from seamline.console.auth import CsrfRejected, LoginRequired, login_path
from seamline.console.pages import HEADERS, render
from seamline.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, SeamlineError

log = logging.getLogger(__name__)
PREFIX = "/console"


def is_console(request: Request) -> bool:
    """Whether a request is the console's (its errors are pages)."""
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


def error_page(request: Request, exc: Exception, *, status: int | None = None) -> Response:
    """The page for an error on a console path."""
    if isinstance(exc, LoginRequired):
        return RedirectResponse(login_path(exc.next_path), status_code=303, headers=HEADERS)
    problems: list[FieldError] = []
    if isinstance(exc, CsrfRejected):
        code, title, advice = (
            403,
            "This form was not accepted",
            (
                "It was open too long, you signed out meanwhile, or it did not come from the console. "
                "Go back, reload the page and try again."
            ),
        )
    elif isinstance(exc, Forbidden) or status == 403:
        code, title, advice = 403, "Not allowed for your role", "Ask a supervisor or an admin if you need this."
    elif isinstance(exc, NotFound) or status == 404:
        code, title, advice = 404, "Not found", "The address may be mistyped, or what it named no longer exists."
    elif isinstance(exc, InvalidInput) or status in (400, 422):
        code, title, advice = 400, "That could not be done", "Nothing was changed. Go back, fix it and try again."
        # A request that failed validation (a filter no row can match) has no field list of ours to show.
        problems = list(exc.errors) if isinstance(exc, InvalidInput) else []
    elif isinstance(exc, Conflict) or status == 409:
        code, title, advice = 409, "That could not be done", "Nothing was changed."
    elif status is not None and status < 500:
        code, title, advice = status, "That could not be done", "Go back and try again."
    else:
        log.exception("console error", exc_info=exc)
        code, title, advice = 500, "Something went wrong", "It has been logged. Try again, or tell your supervisor."
    message = exc.message if isinstance(exc, SeamlineError) and code != 500 else ""
    return render(
        request, "error.html", None, status=code, title=title, message=message, advice=advice, problems=problems
    )
