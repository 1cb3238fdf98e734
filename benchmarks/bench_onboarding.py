"""Onboarding figures, printed (never asserted): `make bench`.

* authorize -> tokens stored: for N new orgs authorized one after another, the time from
  ``authorize_org()`` until the org's pair is in the token store (median, max), and the
  number of Applications API mints the sandbox counted (expected: N);
* the receiver's own cost: signed 1 KiB events checked and answered per second (handle()
  only, no HTTP), and forged ones refused per second.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from byods_manager.http import HttpClient  # noqa: E402
from byods_manager.sandbox import Sandbox  # noqa: E402
from byods_manager.service.onboarding import WebhookEvent, WebhookReceiver  # noqa: E402
from byods_manager.service.onboarding_actions import TokenOnboarder  # noqa: E402
from byods_manager.service.onboarding_server import serve_onboarding  # noqa: E402
from byods_manager.service.signature import sign  # noqa: E402
from byods_manager.tokens.bearer import TokenManagerBearer  # noqa: E402
from byods_manager.tokens.config import load_config  # noqa: E402
from byods_manager.tokens.manager import TokenManager  # noqa: E402
from byods_manager.tokens.store import TokenStore  # noqa: E402
from byods_manager.webhooks_api import OnboardingWebhooks  # noqa: E402

ORGS = 20
EVENTS = 5000
SECRET = "bench-secret-0123456789"
MINT_KEY = "POST /applications/{appId}/token"


def authorize_to_tokens() -> None:
    with Sandbox() as sandbox, tempfile.TemporaryDirectory() as folder:
        config = load_config(sandbox.write_config(Path(folder) / "token-config.json"))
        manager = TokenManager(
            config, base_url=sandbox.base_url, store=TokenStore(Path(folder) / "tokens.json")
        )
        receiver = WebhookReceiver(
            [SECRET], TokenOnboarder(manager), app_id=config.service_app.app_id
        )
        http = HttpClient(sandbox.base_url, None)
        with serve_onboarding(receiver) as server:
            webhooks = OnboardingWebhooks(
                http, TokenManagerBearer(manager), config.service_app.app_id, manager.store
            )
            webhooks.register(server.url, SECRET)
            before = sandbox.stats_snapshot()["requests"].get(MINT_KEY, 0)
            waits = []
            for _ in range(ORGS):
                start = time.perf_counter()
                org_id = sandbox.authorize_org()
                key = f"{config.service_app.app_id}@{org_id}"
                while key not in manager.store.load().service_apps:
                    time.sleep(0.001)
                waits.append(time.perf_counter() - start)
            mints = sandbox.stats_snapshot()["requests"].get(MINT_KEY, 0) - before
        http.close()
        manager.close()
    print(
        f"authorize -> tokens stored, {ORGS} orgs: median {statistics.median(waits) * 1000:.1f} ms,"
        f" max {max(waits) * 1000:.1f} ms; Applications API mints: {mints}"
    )


class _Nothing:
    def on_authorized(self, org_id: str, event: WebhookEvent) -> None:
        """Measure the receiver, not the work."""

    def on_deauthorized(self, org_id: str, event: WebhookEvent) -> None:
        """Measure the receiver, not the work."""


def receiver_throughput() -> None:
    receiver = WebhookReceiver([SECRET], _Nothing(), app_id="app")
    bodies: list[tuple[bytes, dict[str, Any]]] = []
    for number in range(EVENTS):
        envelope = {
            "id": "webhook",
            "resource": "serviceApp",
            "event": "authorized",
            "data": {"id": "app", "orgId": f"org-{number}", "created": str(number)},
            "padding": "x" * 800,
        }
        body = json.dumps(envelope).encode()
        bodies.append((body, {"X-Spark-Signature": sign(SECRET, body)}))
    start = time.perf_counter()
    for body, headers in bodies:
        receiver.handle(body, headers)
    accepted = time.perf_counter() - start
    receiver.drain()
    forged = {"X-Spark-Signature": "0" * 40}
    start = time.perf_counter()
    for body, _ in bodies:
        receiver.handle(body, forged)
    refused = time.perf_counter() - start
    receiver.close()
    print(
        f"receiver.handle, {EVENTS} signed ~1 KiB events: {EVENTS / accepted:,.0f}/s accepted;"
        f" forged: {EVENTS / refused:,.0f}/s refused"
    )


if __name__ == "__main__":
    authorize_to_tokens()
    receiver_throughput()
