"""Sandbox figures, printed (never asserted): `make bench`.

* registering N data sources through the client (requests per second);
* listing them through the client with the sandbox's pages (``--page-size``): wall time
  and the number of GET requests the sandbox counted;
* authorize events: time from ``authorize_org()`` until every signed webhook delivery
  reached a loopback receiver.
"""

from __future__ import annotations

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from byods_manager.auth import StaticTokenProvider  # noqa: E402
from byods_manager.client import DataSourceClient  # noqa: E402
from byods_manager.http import HttpClient  # noqa: E402
from byods_manager.sandbox import Sandbox  # noqa: E402
from byods_manager.sandbox.schemas import VOICE_VIRTUAL_AGENT_GRPC  # noqa: E402

DATA_SOURCES = 300
PAGE_SIZE = 50
EVENTS = 50


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def data_sources(box: Sandbox) -> None:
    token = box.issue_access_token("service_app")
    client = DataSourceClient(HttpClient(box.base_url, StaticTokenProvider(token)))
    started = time.perf_counter()
    for n in range(DATA_SOURCES):
        client.register(
            url=f"https://dap.example.com/{n}",
            schema_id=VOICE_VIRTUAL_AGENT_GRPC,
            audience="bench",
            subject=f"s{n}",
            lifetime_minutes=60,
        )
    registered = time.perf_counter() - started
    started = time.perf_counter()
    listed = client.list()
    listing = time.perf_counter() - started
    pages = box.stats_snapshot()["requests"]["GET /dataSources"]
    client.close()
    print(
        f"register: {DATA_SOURCES} data sources in {registered:.2f} s "
        f"({DATA_SOURCES / registered:.0f}/s, RS256 signing included)"
    )
    print(
        f"list:     {len(listed)} thin items in {listing * 1000:.1f} ms, "
        f"{pages} GET requests at page size {PAGE_SIZE}"
    )


def webhook_events(box: Sandbox) -> None:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    personal = box.issue_access_token("personal")
    requests.post(
        box.base_url + "/webhooks",
        json={
            "name": "bench",
            "targetUrl": target,
            "resource": "serviceApp",
            "event": "all",
            "secret": "s",
        },
        headers={"Authorization": f"Bearer {personal}"},
        timeout=10,
    ).raise_for_status()
    started = time.perf_counter()
    for _ in range(EVENTS):
        box.authorize_org()
    outcomes = box.wait_for_webhooks()
    elapsed = time.perf_counter() - started
    receiver.shutdown()
    delivered = sum(1 for outcome in outcomes if outcome["delivered"])
    print(
        f"webhooks: {delivered}/{EVENTS} signed authorized events delivered in "
        f"{elapsed * 1000:.0f} ms ({elapsed / EVENTS * 1000:.1f} ms each)"
    )


def main() -> None:
    with Sandbox(page_size=PAGE_SIZE) as box:
        data_sources(box)
        webhook_events(box)


if __name__ == "__main__":
    main()
