"""Tracked links: tokens that prove the redirect was ours, and the rewriting of a message's links. Pure."""

from __future__ import annotations

import re

import pytest

from seamline.communications.links import (
    LinkTracker,
    click_token,
    open_token,
    read_click,
    read_open,
)
from seamline.core.errors import NotFound

SECRET = "s3cret"
TRACKER = LinkTracker("https://bank.example/", SECRET)


def test_a_click_token_gives_back_its_communication_and_address() -> None:
    url = "https://shop.example/a?b=1&c=ü#top"
    assert read_click(click_token("msg_1", url, SECRET), SECRET) == ("msg_1", url)
    assert read_open(open_token("msg_1", SECRET) + ".gif", SECRET) == "msg_1"


@pytest.mark.parametrize(
    "token",
    [
        click_token("msg_1", "https://shop.example/", "another secret"),  # not signed by us
        click_token("msg_1", "https://shop.example/", SECRET).replace("msg_1", "msg_2"),  # another communication
        "msg_1." + click_token("msg_1", "https://evil.example/", SECRET).split(".")[1] + ".x",  # forged signature
        open_token("msg_1", SECRET),  # an open token is not a click token
        "msg_1",
        "",
        "../../etc.passwd.x",
    ],
)
def test_an_altered_or_forged_click_token_names_nothing(token: str) -> None:
    with pytest.raises(NotFound, match="not valid"):
        read_click(token, SECRET)


def test_a_click_token_never_passes_as_an_open_token() -> None:
    message, _url, signature = click_token("msg_1", "https://shop.example/", SECRET).split(".")
    with pytest.raises(NotFound):
        read_open(f"{message}.{signature}", SECRET)


def test_html_links_go_through_the_redirect_and_the_pixel_sits_before_the_body_ends() -> None:
    body = (
        '<html><body><p><a href="https://shop.example/x?a=1&amp;b=2">offer</a> '
        "<a href='http://shop.example/y'>y</a> "
        '<a href="https://bank.example/preferences/t">ours</a> <a href="mailto:help@bank.example">mail</a></p>'
        "</body></html>"
    )
    tracked = TRACKER.html(body, "msg_7")
    hrefs = [href for _quote, href in re.findall(r"""href=(["'])(.*?)\1""", tracked)]
    redirected = [h[len("https://bank.example/t/c/") :] for h in hrefs if h.startswith("https://bank.example/t/c/")]
    # The escaped &amp; is the HTML spelling of &: the redirect leads to the address the browser would have opened.
    assert [read_click(token, SECRET) for token in redirected] == [
        ("msg_7", "https://shop.example/x?a=1&b=2"),
        ("msg_7", "http://shop.example/y"),
    ]
    assert "https://bank.example/preferences/t" in hrefs  # our own pages are left alone
    assert "mailto:help@bank.example" in hrefs
    pixel = f'<img src="https://bank.example/t/o/{open_token("msg_7", SECRET)}.gif"'
    assert tracked.index(pixel) < tracked.index("</body>")


def test_opens_can_be_left_untracked_while_links_are() -> None:
    quiet = LinkTracker("https://bank.example", SECRET, track_opens=False)
    tracked = quiet.html('<a href="https://shop.example/">x</a>', "msg_1")
    assert "/t/c/" in tracked
    assert "<img" not in tracked


def test_text_addresses_are_tracked_and_the_punctuation_after_them_stays_outside() -> None:
    text = "See https://shop.example/rates. Or https://bank.example/preferences/p, if you like."
    tracked = TRACKER.text(text, "msg_3")
    first = tracked.split()[1]
    assert first.endswith(".")
    assert read_click(first.rstrip(".")[len("https://bank.example/t/c/") :], SECRET) == (
        "msg_3",
        "https://shop.example/rates",
    )
    assert "https://bank.example/preferences/p, if you like." in tracked
