"""The preference page as HTML: Jinja2 templates beside this module, every value escaped."""

from __future__ import annotations

from datetime import datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from seamline.preferences.form import Product
from seamline.preferences.service import PageData

# Autoescape on for every template (html by name, and strings): names, product types and ids are data people and
# source systems typed, and must never become markup.
_env = Environment(
    loader=PackageLoader("seamline.preferences", "templates"),
    autoescape=select_autoescape(["html"], default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_page(page: PageData, *, action: str, nonce: str, saved: bool, expires_at: datetime) -> str:
    """The preference form of one person, its current answers checked."""
    products: list[Product] = [p for p, _ in page.form.consent[0].per_product] if page.form.consent else []
    if not products and page.form.delivery:
        products = [p for p, _ in page.form.delivery[0].per_product]
    return _env.get_template("page.html").render(
        name=page.name,
        saved=saved,
        action=action,
        nonce=nonce,
        always_on=page.form.always_on,
        consent=page.form.consent,
        delivery=page.form.delivery,
        products=products,
        expires_at=f"{expires_at:%d %B %Y, %H:%M} UTC",
    )


def render_error(title: str, message: str, advice: str) -> str:
    """A plain page telling the person what went wrong and what to do, without technical detail."""
    return _env.get_template("error.html").render(title=title, message=message, advice=advice)
