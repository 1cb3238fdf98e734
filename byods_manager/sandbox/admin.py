"""Test controls over HTTP (``/_sandbox/...``), so subprocess tests can steer the sandbox.

=========================  ====================================================
``GET /_sandbox/stats``    request counters per endpoint, tokens, pending faults
``GET /_sandbox/jwks``     the public key set that verifies every ``jwsToken``
``GET /_sandbox/config``   the same ready-to-use config ``write_config`` writes
``POST /_sandbox/expire``  ``{"kind": "serviceApp"}``: expire access tokens
``POST /_sandbox/revoke``  ``{"kind": ..., "refresh": true}``: revoke tokens
``POST /_sandbox/lifetimes`` ``{"serviceApp": 60, "refresh": 3600, ...}`` seconds
``POST /_sandbox/faults``  ``{"status": 503, "count": 2, "path": "/dataSources",
                           "method": "GET", "retryAfter": 1, "after": false}``
``DELETE /_sandbox/faults`` drop pending faults and latency
``POST /_sandbox/latency`` ``{"ms": 200}``
``POST /_sandbox/reset``   faults, latency and counters (``{"data": true}`` also
                           deletes data sources and forgets used nonces)
=========================  ====================================================

``kind`` is ``serviceApp``, ``integration``, ``personal`` or omitted (all kinds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import state
from .faults import Fault
from .protocol import HttpProblem, Reply, Request
from .state import INTEGRATION, PERSONAL, SERVICE_APP

if TYPE_CHECKING:
    from .app import Sandbox

KIND_NAMES = {
    "serviceApp": SERVICE_APP,
    "service_app": SERVICE_APP,
    "integration": INTEGRATION,
    "personal": PERSONAL,
}
# The Lifetimes fields, plus the camelCase spelling the other controls accept.
LIFETIME_NAMES = {"serviceApp": SERVICE_APP, **{name: name for name in state.LIFETIME_NAMES}}


def kind_from(value: Any) -> str | None:
    if value is None:
        return None
    if value not in KIND_NAMES:
        raise HttpProblem(400, f"unknown token kind {value!r}: use {', '.join(KIND_NAMES)}")
    return KIND_NAMES[value]


def _object(request: Request) -> dict[str, Any]:
    if not request.body:
        return {}
    body = request.json()
    if not isinstance(body, dict):
        raise HttpProblem(400, "send a JSON object")
    return body


class AdminApi:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def dispatch(self, request: Request) -> Reply:
        name = request.path.removeprefix("/_sandbox").strip("/")
        routes = {
            ("GET", "stats"): self.stats,
            ("GET", "jwks"): self.jwks,
            ("GET", "config"): self.config,
            ("POST", "expire"): self.expire,
            ("POST", "revoke"): self.revoke,
            ("POST", "lifetimes"): self.lifetimes,
            ("POST", "faults"): self.add_fault,
            ("DELETE", "faults"): self.clear_faults,
            ("POST", "latency"): self.latency,
            ("POST", "reset"): self.reset,
        }
        handler = routes.get((request.method, name))
        if handler is None:
            raise HttpProblem(404, f"no sandbox control {request.method} /_sandbox/{name}")
        return handler(request)

    def stats(self, _: Request) -> Reply:
        return Reply(200, self.sandbox.stats_snapshot())

    def jwks(self, _: Request) -> Reply:
        return Reply(200, self.sandbox.jwks())

    def config(self, _: Request) -> Reply:
        return Reply(200, self.sandbox.config_data())

    def expire(self, request: Request) -> Reply:
        kind = kind_from(_object(request).get("kind"))
        return Reply(200, {"expired": self.sandbox.expire_access_tokens(kind)})

    def revoke(self, request: Request) -> Reply:
        body = _object(request)
        count = self.sandbox.revoke_tokens(kind_from(body.get("kind")), bool(body.get("refresh")))
        return Reply(200, {"revoked": count})

    def lifetimes(self, request: Request) -> Reply:
        changes: dict[str, int] = {}
        for key, value in _object(request).items():
            if key not in LIFETIME_NAMES:
                raise HttpProblem(400, f"unknown lifetime {key!r}: use {', '.join(LIFETIME_NAMES)}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise HttpProblem(400, f"{key} must be a whole number of seconds")
            changes[LIFETIME_NAMES[key]] = value
        return Reply(200, self.sandbox.set_lifetimes(**changes))

    def add_fault(self, request: Request) -> Reply:
        try:
            fault = Fault.from_json(_object(request))
        except ValueError as exc:
            raise HttpProblem(400, str(exc)) from None
        self.sandbox.faults.add(fault)
        return Reply(200, {"pending": self.sandbox.faults.pending()})

    def clear_faults(self, _: Request) -> Reply:
        self.sandbox.faults.clear()
        return Reply(204)

    def latency(self, request: Request) -> Reply:
        ms = _object(request).get("ms")
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or ms < 0:
            raise HttpProblem(400, "'ms' must be a non-negative number")
        self.sandbox.set_latency(ms)
        return Reply(200, {"ms": ms})

    def reset(self, request: Request) -> Reply:
        self.sandbox.reset(data=bool(_object(request).get("data")))
        return Reply(204)
