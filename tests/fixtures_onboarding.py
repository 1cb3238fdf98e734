"""Fixtures for zero-touch onboarding: the sandbox, a token manager over its config, and
the webhook receiver served on loopback with the sandbox's webhooks pointing at it.

- ``onboarding``: an :class:`Onboarding` bundle (sandbox, manager, receiver, server URL)
  with both ``serviceApp`` webhooks registered, signed with ``WEBHOOK_SECRET``.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from byods_manager.http import HttpClient
from byods_manager.sandbox import Sandbox
from byods_manager.service.onboarding import WebhookReceiver
from byods_manager.service.onboarding_actions import MintRetry, TokenOnboarder, org_store_key
from byods_manager.service.onboarding_server import OnboardingHttpServer, serve_onboarding
from byods_manager.service.signature import sign
from byods_manager.tokens.bearer import TokenManagerBearer
from byods_manager.tokens.config import load_config
from byods_manager.tokens.manager import TokenManager
from byods_manager.tokens.store import TokenStore
from byods_manager.webhooks_api import OnboardingWebhooks

WEBHOOK_SECRET = "onboarding-secret-0123456789"
MINT_KEY = "POST /applications/{appId}/token"
_SERIAL = itertools.count(1)


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@dataclass
class Onboarding:
    sandbox: Sandbox
    manager: TokenManager
    receiver: WebhookReceiver
    server: OnboardingHttpServer
    webhooks: OnboardingWebhooks

    @property
    def app_id(self) -> str:
        return self.manager.config.service_app.app_id

    def mints(self) -> int:
        return int(self.sandbox.stats_snapshot()["requests"].get(MINT_KEY, 0))

    def stored_orgs(self) -> set[str]:
        prefix = self.app_id + "@"
        keys = self.manager.store.load().service_apps
        return {key[len(prefix) :] for key in keys if key.startswith(prefix)}

    def settle(self) -> None:
        """Every event the sandbox sent has been answered and handled."""
        self.sandbox.wait_for_webhooks()
        self.receiver.drain()

    def post(self, envelope: dict[str, Any], secret: str | None = WEBHOOK_SECRET) -> Any:
        """Deliver ``envelope`` ourselves, signed with ``secret`` (None: unsigned)."""
        body = json.dumps(envelope).encode("utf-8")
        return self.post_raw(body, None if secret is None else sign(secret, body))

    def post_raw(self, body: bytes, signature: str | None) -> Any:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Spark-Signature"] = signature
        return requests.post(self.server.url, data=body, headers=headers, timeout=10)

    def envelope(self, event: str, org_id: str, **data: Any) -> dict[str, Any]:
        """A ``serviceApp`` envelope shaped like the ones Webex sends."""
        return {
            "id": "webhook-id-from-test",
            "name": "test",
            "resource": "serviceApp",
            "event": event,
            "orgId": "developer-org",
            "data": {
                "id": self.app_id,
                "orgId": org_id,
                "authorizerOrgId": org_id,
                "created": f"2026-01-01T00:00:00.{next(_SERIAL):03d}Z",
                **data,
            },
        }


@pytest.fixture
def onboarding(sandbox: Sandbox, tmp_path: Path) -> Iterator[Onboarding]:
    config_path = sandbox.write_config(tmp_path / "token-config.json")
    config = load_config(config_path)
    manager = TokenManager(
        config, base_url=sandbox.base_url, store=TokenStore(tmp_path / "tokens.json")
    )
    onboarder = TokenOnboarder(manager, retry=MintRetry(attempts=4, first_delay=0.05))
    receiver = WebhookReceiver([WEBHOOK_SECRET], onboarder, app_id=config.service_app.app_id)
    http = HttpClient(sandbox.base_url, None)
    with serve_onboarding(receiver) as server:
        webhooks = OnboardingWebhooks(
            http, TokenManagerBearer(manager), config.service_app.app_id, manager.store
        )
        webhooks.register(server.url, WEBHOOK_SECRET)
        yield Onboarding(sandbox, manager, receiver, server, webhooks)
    http.close()
    onboarder.close()
    manager.close()


__all__ = ["MINT_KEY", "WEBHOOK_SECRET", "Onboarding", "org_store_key", "wait_until"]
