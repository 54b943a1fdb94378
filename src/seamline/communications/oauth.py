"""OAuth 2.0 access tokens for FCM HTTP v1, minted from a Google service account key: the JWT bearer flow
(RFC 7523, Google's "service account" flow). A JWT naming the account (`iss`), the scope and the token endpoint
(`aud`), signed RS256 with the account's private key (PyJWT over `cryptography`), is exchanged at the key's
`token_uri` for an access token, kept until a minute before it expires and shared by the dispatcher's send
threads. Chosen over `google-auth` because PyJWT and cryptography are already here and the flow is one request;
the shape follows Google's documented one, so any token endpoint that speaks it (tests use a loopback one) works.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import orjson
import urllib3

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_SECONDS = 3600  # Google accepts an assertion valid for at most an hour
EARLY_SECONDS = 60.0  # a token is renewed this long before it expires, so none expires in flight


class TokenError(Exception):
    """No access token could be had (a bad key file, a refused assertion, an unreachable endpoint)."""


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    """What the flow needs of a service account key file (the JSON Google's console downloads)."""

    client_email: str
    private_key: str
    private_key_id: str
    token_uri: str

    @classmethod
    def read(cls, path: Path) -> ServiceAccount:
        try:
            key = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                str(key["client_email"]),
                str(key["private_key"]),
                str(key.get("private_key_id") or ""),
                str(key.get("token_uri") or "https://oauth2.googleapis.com/token"),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise TokenError(f"the service account key {path} cannot be read: {type(exc).__name__}: {exc}") from None


def assertion(account: ServiceAccount, scope: str, now: float) -> str:
    """The signed JWT the token endpoint exchanges for an access token."""
    claims = {
        "iss": account.client_email,
        "scope": scope,
        "aud": account.token_uri,
        "iat": int(now),
        "exp": int(now) + ASSERTION_SECONDS,
    }
    headers = {"kid": account.private_key_id} if account.private_key_id else None
    try:
        return jwt.encode(claims, account.private_key, algorithm="RS256", headers=headers)
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise TokenError(f"the service account's private key cannot sign: {exc}") from None


class ServiceAccountTokens:
    """A current access token for one service account and scope, minted when needed, thread-safe."""

    def __init__(self, key_file: Path, scope: str = FCM_SCOPE, timeout_seconds: float = 10.0) -> None:
        self._key_file = key_file
        self._scope = scope
        self._http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=timeout_seconds))
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.minted = 0  # how many tokens this process asked for

    def current(self, now: float | None = None) -> str:
        """A token valid for at least another minute; raises TokenError when none can be had."""
        moment = time.time() if now is None else now
        with self._lock:
            if self._token is None or moment >= self._expires_at - EARLY_SECONDS:
                self._token, self._expires_at = self._mint(moment)
            return self._token

    def _mint(self, now: float) -> tuple[str, float]:
        account = ServiceAccount.read(self._key_file)
        fields = {"grant_type": GRANT_TYPE, "assertion": assertion(account, self._scope, now)}
        try:
            answer = self._http.request_encode_body("POST", account.token_uri, fields=fields, encode_multipart=False)
        except urllib3.exceptions.HTTPError as exc:
            raise TokenError(f"the token endpoint {account.token_uri} is unreachable: {exc}") from None
        body: Any
        try:
            body = orjson.loads(answer.data or b"{}")
        except orjson.JSONDecodeError:
            body = {}
        if answer.status != 200 or not isinstance(body, dict) or not body.get("access_token"):
            why = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
            raise TokenError(f"the token endpoint answered HTTP {answer.status}: {why or 'no access token'}")
        self.minted += 1
        return str(body["access_token"]), now + float(body.get("expires_in") or 3600)

    def close(self) -> None:
        self._http.clear()
