"""The survey page as HTML: Jinja2 templates beside this module, every value escaped, no script."""

from __future__ import annotations

from datetime import datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from seamline.feedback.service import SurveyPage

# Autoescape on for everything: names, case subjects and branch names are data people and systems typed.
_env = Environment(
    loader=PackageLoader("seamline.feedback", "templates"),
    autoescape=select_autoescape(["html"], default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_page(page: SurveyPage, *, action: str, nonce: str, expires_at: datetime, problem: str = "") -> str:
    """The survey of one invitation, or its thanks when it was answered."""
    return _env.get_template("survey.html").render(
        survey=page.survey,
        name=page.name,
        about=page.about,
        answered=page.invitation.answered_at is not None,
        action=action,
        nonce=nonce,
        problem=problem,
        expires_at=f"{expires_at:%d %B %Y, %H:%M} UTC",
        title=page.survey.title,
    )


def render_error(title: str, message: str, advice: str) -> str:
    """A plain page telling the person what went wrong and what to do, without technical detail."""
    return _env.get_template("error.html").render(title=title, message=message, advice=advice)
