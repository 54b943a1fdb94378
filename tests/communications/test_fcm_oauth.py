"""FCM's OAuth 2.0 access tokens minted from a service account key: the JWT bearer flow against a loopback token
endpoint that verifies the assertion with the account's public key (PyJWT), then a push sent with the token."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.communications.config import ProviderConfig
from seamline.communications.oauth import FCM_SCOPE, GRANT_TYPE, ServiceAccountTokens, TokenError
from seamline.config import Settings
from seamline.outbox.config import OutboxConfig
from tests.communications.conftest import deliver, queue
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send
from tests.support.providers import FCM_TOKEN, Provider, provider_server

ACCOUNT = "seamline-push@bank-project.iam.gserviceaccount.com"
DEVICE = "fcm-device-token-ada"


def _private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@dataclass
class TokenEndpoint:
    """A loopback OAuth token endpoint that accepts only assertions signed by `public_key` for our account."""

    url: str = ""
    public_key: Any = None
    granted: int = 0
    refused: list[str] = field(default_factory=list)


@contextmanager
def token_endpoint(public_key: Any) -> Iterator[TokenEndpoint]:
    endpoint = TokenEndpoint(public_key=public_key)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["content-length"])).decode()).items()}
            try:
                assert form.get("grant_type") == GRANT_TYPE, "grant_type"
                claims = jwt.decode(  # lenient on times: the tests move the minting clock ahead by an hour
                    form["assertion"], endpoint.public_key, algorithms=["RS256"], audience=endpoint.url, leeway=7200
                )
                assert claims["iss"] == ACCOUNT, "iss"
                assert claims["scope"] == FCM_SCOPE, "scope"
                assert claims["exp"] - claims["iat"] <= 3600, "lifetime"
            except (AssertionError, KeyError, jwt.PyJWTError) as exc:
                endpoint.refused.append(str(exc))
                self._answer(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
                return
            endpoint.granted += 1
            self._answer(200, {"access_token": FCM_TOKEN, "expires_in": 3599, "token_type": "Bearer"})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/token"
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def account_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def endpoint(account_key: rsa.RSAPrivateKey) -> Iterator[TokenEndpoint]:
    with token_endpoint(account_key.public_key()) as running:
        yield running


def _key_file(tmp_path: Path, key: rsa.RSAPrivateKey, token_uri: str) -> Path:
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "bank", "private_key_id": "k1", "private_key": _private_pem(key),
        "client_email": ACCOUNT, "token_uri": token_uri,
    }))  # fmt: skip
    return path


def test_a_token_is_minted_once_kept_until_a_minute_before_it_expires_then_renewed(
    tmp_path: Path, account_key: rsa.RSAPrivateKey, endpoint: TokenEndpoint
) -> None:
    tokens = ServiceAccountTokens(_key_file(tmp_path, account_key, endpoint.url))
    start = time.time()  # the endpoint checks the assertion's times against its own clock
    try:
        assert tokens.current(now=start) == FCM_TOKEN
        assert tokens.current(now=start + 3_000) == FCM_TOKEN  # still valid for over a minute: no new request
        assert endpoint.granted == 1
        tokens.current(now=start + 3_599 - 30)  # within the token's last minute: renewed
        assert endpoint.granted == 2
    finally:
        tokens.close()


def test_an_assertion_signed_with_another_key_is_refused_with_the_endpoints_reason(
    tmp_path: Path, endpoint: TokenEndpoint
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tokens = ServiceAccountTokens(_key_file(tmp_path, stranger, endpoint.url))
    with pytest.raises(TokenError, match="HTTP 400: Invalid JWT Signature"):
        tokens.current()
    assert endpoint.refused
    assert endpoint.granted == 0
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(TokenError, match="cannot be read"):
        ServiceAccountTokens(tmp_path / "broken.json").current()


@pytest.fixture
def provider() -> Iterator[Provider]:
    with provider_server() as served:
        yield served


def test_a_push_goes_with_a_token_minted_from_the_service_account(
    client: TestClient,
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    account_key: rsa.RSAPrivateKey,
    endpoint: TokenEndpoint,
    provider: Provider,
) -> None:
    fcm = ProviderConfig(provider="fcm", url=provider.url, project_id="bank",
                         service_account_file=_key_file(tmp_path, account_key, endpoint.url))  # fmt: skip
    settings = Settings(database_url=database_url, data_dir=tmp_path, push=fcm,
                        outbox=OutboxConfig(retry_schedule_seconds=[0.0], jitter=0.0))  # fmt: skip
    _, key = make_source(engine, "ios-app", "mobile")
    send(client, key, {"type": "identify", "userId": "u-ada", "context": {"device": {"id": DEVICE}},
                       "traits": {"first_name": "Ada"}})  # fmt: skip
    drain(engine, settings)
    ada = profile_holding(engine, "user_id:u-ada")
    alert = {"first_name": "Ada", "merchant": "Shop", "amount": "£9.99"}
    for _ in range(2):
        queue(engine, settings, ada, "fraud_alert", alert, channel="push")
    deliver(engine, settings)
    assert provider.rejected == 0  # FCM's loopback took the bearer token the endpoint granted
    assert [p["token"] for p in provider.received] == [DEVICE, DEVICE]
    assert endpoint.granted == 1  # one token for the round's two pushes
