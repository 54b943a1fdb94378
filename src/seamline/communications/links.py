"""Tracked links and the open pixel: an email's links go through a signed Seamline redirect. Pure.

A click token is `<communication id>.<target URL, URL-safe base64>.<signature>`, an open token
`<communication id>.<signature>`; each signature is HMAC-SHA-256 under the server's secret with its own purpose, so
one kind can never pass as the other. Nothing is stored: the signature proves the redirect was ours, so the
redirect is never open to an address someone else chose, and a changed link is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import re
from dataclasses import dataclass

from seamline.core.errors import NotFound

NOT_VALID = "this link is not valid"
_CLICK = b"tracked-click:v1:"
_OPEN = b"tracked-open:v1:"
CLICK_PATH = "/t/c/"
OPEN_PATH = "/t/o/"
OWN_PATHS = ("/preferences/", "/t/")
# An href in rendered (escaped) HTML: double or single quotes around an absolute http(s) address.
_HREF = re.compile(r"""(\bhref\s*=\s*)(["'])(https?://[^"'<>\s]+)\2""", re.IGNORECASE)
_URL_IN_TEXT = re.compile(r"""https?://[^\s<>"']+""")
_TRAILING = ".,;:!?)]}"  # punctuation after an address in running text is not part of it


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _signature(secret: str, purpose: bytes, message: str) -> str:
    return _b64(hmac.new(secret.encode("utf-8"), purpose + message.encode("utf-8"), hashlib.sha256).digest())


def _is_id(value: str) -> bool:
    return 0 < len(value) <= 80 and value.isascii() and all(c.isalnum() or c in "_-" for c in value)


def click_token(communication_id: str, url: str, secret: str) -> str:
    """The token of a tracked link to `url` in communication `communication_id`."""
    message = f"{communication_id}.{_b64(url.encode('utf-8'))}"
    return f"{message}.{_signature(secret, _CLICK, message)}"


def open_token(communication_id: str, secret: str) -> str:
    """The token of communication `communication_id`'s open pixel."""
    return f"{communication_id}.{_signature(secret, _OPEN, communication_id)}"


def read_click(token: str, secret: str) -> tuple[str, str]:
    """(communication id, target URL) of a click token; NotFound when it is forged, altered or malformed."""
    parts = token.split(".")
    if len(parts) != 3 or not _is_id(parts[0]):
        raise NotFound(NOT_VALID)
    message = f"{parts[0]}.{parts[1]}"
    if not secret or not hmac.compare_digest(_signature(secret, _CLICK, message), parts[2]):
        raise NotFound(NOT_VALID)
    try:
        url = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise NotFound(NOT_VALID) from None
    return parts[0], url


def read_open(token: str, secret: str) -> str:
    """The communication id of an open token; NotFound when it is forged, altered or malformed."""
    parts = token.removesuffix(".gif").split(".")
    if len(parts) != 2 or not _is_id(parts[0]):
        raise NotFound(NOT_VALID)
    if not secret or not hmac.compare_digest(_signature(secret, _OPEN, parts[0]), parts[1]):
        raise NotFound(NOT_VALID)
    return parts[0]


@dataclass(frozen=True, slots=True)
class LinkTracker:
    """Rewrites a message's links through the signed redirect at `base` and adds the open pixel to its HTML."""

    base: str  # the public URL customers reach this server at
    secret: str
    track_opens: bool = True

    def _is_ours(self, url: str) -> bool:
        # Seamline's own pages (the preference page, an already tracked link) stay as they are; the company's site
        # may share the host, so only these paths count.
        base = self.base.rstrip("/")
        return any(url.startswith(base + path) for path in OWN_PATHS)

    def click_url(self, communication_id: str, url: str) -> str:
        return f"{self.base.rstrip('/')}{CLICK_PATH}{click_token(communication_id, url, self.secret)}"

    def html(self, body: str, communication_id: str) -> str:
        """The HTML with every absolute http(s) link tracked and, if enabled, the open pixel before </body>."""

        def swap(match: re.Match[str]) -> str:
            target = html.unescape(match.group(3))
            if self._is_ours(target):
                return match.group(0)
            return f"{match.group(1)}{match.group(2)}{self.click_url(communication_id, target)}{match.group(2)}"

        tracked = _HREF.sub(swap, body)
        if not self.track_opens:
            return tracked
        src = f"{self.base.rstrip('/')}{OPEN_PATH}{open_token(communication_id, self.secret)}.gif"
        pixel = f'<img src="{src}" width="1" height="1" alt="" style="display:none">'
        at = tracked.lower().rfind("</body>")
        return tracked + pixel if at < 0 else tracked[:at] + pixel + tracked[at:]

    def text(self, body: str, communication_id: str) -> str:
        """The plain-text part with every absolute http(s) address tracked (punctuation after it left outside)."""

        def swap(match: re.Match[str]) -> str:
            found = match.group(0)
            url = found.rstrip(_TRAILING)
            if self._is_ours(url):
                return found
            return self.click_url(communication_id, url) + found[len(url) :]

        return _URL_IN_TEXT.sub(swap, body)
