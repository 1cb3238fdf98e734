"""Test controls over HTTP (``/_sandbox/...``), so subprocess tests can steer the sandbox.

Every control needs the header ``X-Sandbox-Token: <admin token>`` (printed at start and
written into the ready config), except ``GET /_sandbox/jwks`` (public keys). Bodies are
a JSON object or form fields (``application/x-www-form-urlencoded``). The table of
controls is :data:`CONTROLS`; :func:`controls_help` renders it with a ``curl`` example
per control for ``byods sandbox --help`` (the README has the same table).

This module knows the sandbox only through :class:`Controls`, so it imports nothing
from ``app``.
"""

from __future__ import annotations

import contextlib
import hmac
from typing import Any, Protocol

from . import state
from .faults import Fault
from .protocol import HttpProblem, Reply, Request
from .state import INTEGRATION, PERSONAL, SERVICE_APP

ADMIN_HEADER = "x-sandbox-token"
PUBLIC_CONTROLS = frozenset({("GET", "jwks")})

KIND_NAMES = {
    "serviceApp": SERVICE_APP,
    "service_app": SERVICE_APP,
    "integration": INTEGRATION,
    "personal": PERSONAL,
}
# The Lifetimes fields, plus the camelCase spelling the other controls accept.
LIFETIME_NAMES = {"serviceApp": SERVICE_APP, **{name: name for name in state.LIFETIME_NAMES}}

# (method, name, body, what it does): the single source for --help and the README.
CONTROLS: tuple[tuple[str, str, str, str], ...] = (
    ("GET", "stats", "", "request counters per endpoint and per org, tokens, faults, webhooks"),
    ("GET", "jwks", "", "the public keys (no admin token needed)"),
    ("GET", "config", "", "a ready-to-use token-config.json"),
    ("GET", "orgs", "", "customer orgs and whether each has authorized the service app"),
    ("POST", "orgs", '{"orgId": "..."}', "authorize the app in an org (new if no orgId)"),
    ("POST", "orgs/deauthorize", '{"orgId": "..."}', "deauthorize: its tokens die at once"),
    ("POST", "expire", '{"kind": "serviceApp"}', "expire access tokens (kind optional)"),
    ("POST", "revoke", '{"kind": "integration", "refresh": true}', "revoke tokens"),
    ("POST", "lifetimes", '{"serviceApp": 60, "refresh": 3600}', "token lifetimes (s)"),
    (
        "POST",
        "faults",
        '{"status": 429, "count": 2, "path": "/dataSources", "method": "GET", '
        '"retryAfter": 1, "after": false}',
        "answer status to the next count API requests",
    ),
    ("DELETE", "faults", "", "drop pending faults and latency"),
    ("POST", "latency", '{"ms": 200}', "delay every API answer"),
    ("POST", "rotate-key", '{"keepOld": true}', "new signing key (kid); old one kept or not"),
    ("POST", "reset", '{"data": true}', "faults, latency, counters (data: sources, nonces)"),
)


def controls_help(origin: str = "http://127.0.0.1:PORT", token: str = "$TOKEN") -> str:
    """Every control with its body and a ``curl`` example."""
    lines = [
        f"Controls (header X-Sandbox-Token: {token}; JSON or form bodies):",
        "",
    ]
    for method, name, body, what in CONTROLS:
        lines.append(f"  {method} /_sandbox/{name}  {body}".rstrip())
        lines.append(f"      {what}")
        command = f'curl -X {method} -H "X-Sandbox-Token: {token}"'
        if body:
            command += f" -H 'Content-Type: application/json' -d '{body}'"
        lines.append(f"      {command} {origin}/_sandbox/{name}")
    lines.append("")
    lines.append("kind: serviceApp, integration, personal or omitted (all kinds).")
    return "\n".join(lines)


class Controls(Protocol):
    """What the admin API needs from the sandbox."""

    admin_token: str

    def stats_snapshot(self) -> dict[str, Any]: ...
    def jwks(self) -> dict[str, Any]: ...
    def config_data(self) -> dict[str, Any]: ...
    def orgs_snapshot(self) -> list[dict[str, Any]]: ...
    def authorize_org(self, org_id: str | None = None) -> str: ...
    def deauthorize_org(self, org_id: str) -> None: ...
    def expire_access_tokens(self, kind: str | None = None) -> int: ...
    def revoke_tokens(self, kind: str | None = None, refresh: bool = True) -> int: ...
    def set_lifetimes(self, **seconds: int) -> dict[str, int]: ...
    def add_fault_object(self, fault: Fault) -> int: ...
    def clear_faults(self) -> None: ...
    def set_latency(self, ms: float) -> None: ...
    def rotate_signing_key(self, keep_old: bool = True) -> str: ...
    def reset(self, data: bool = False) -> None: ...


def kind_from(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if value not in KIND_NAMES:
        raise HttpProblem(400, f"unknown token kind {value!r}: use {', '.join(KIND_NAMES)}")
    return KIND_NAMES[value]


def flag(value: Any, default: bool = False) -> bool:
    """A boolean from JSON (``true``) or a form field (``true``/``1``/``yes``)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "false", "0", "no", ""):
        return value.lower() in ("true", "1", "yes")
    raise HttpProblem(400, f"expected true or false, not {value!r}")


def number(value: Any, name: str) -> float:
    """A number from JSON or a form field."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise HttpProblem(400, f"'{name}' must be a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise HttpProblem(400, f"'{name}' must be a number")
    return float(value)


def _form_numbers(fields: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Form fields arrive as text: turn whole numbers into ints for the fault checks."""
    converted = dict(fields)
    for name in names:
        value = converted.get(name)
        if isinstance(value, str):
            try:
                converted[name] = int(value)
            except ValueError:
                with contextlib.suppress(ValueError):
                    converted[name] = float(value)
    if isinstance(converted.get("after"), str):
        converted["after"] = flag(converted["after"])
    return converted


class AdminApi:
    def __init__(self, sandbox: Controls) -> None:
        self.sandbox = sandbox

    def dispatch(self, request: Request) -> Reply:
        name = request.path.removeprefix("/_sandbox").strip("/")
        routes = {
            ("GET", "stats"): self.stats,
            ("GET", "jwks"): self.jwks,
            ("GET", "config"): self.config,
            ("GET", "orgs"): self.orgs,
            ("POST", "orgs"): self.authorize_org,
            ("POST", "orgs/deauthorize"): self.deauthorize_org,
            ("POST", "expire"): self.expire,
            ("POST", "revoke"): self.revoke,
            ("POST", "lifetimes"): self.lifetimes,
            ("POST", "faults"): self.add_fault,
            ("DELETE", "faults"): self.clear_faults,
            ("POST", "latency"): self.latency,
            ("POST", "rotate-key"): self.rotate_key,
            ("POST", "reset"): self.reset,
        }
        if (request.method, name) not in PUBLIC_CONTROLS:
            self._check_token(request)
        handler = routes.get((request.method, name))
        if handler is None:
            raise HttpProblem(404, f"no sandbox control {request.method} /_sandbox/{name}")
        return handler(request)

    def _check_token(self, request: Request) -> None:
        given = request.headers.get(ADMIN_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.sandbox.admin_token.encode()):
            raise HttpProblem(
                401, "Sandbox controls need the header X-Sandbox-Token with the admin token."
            )

    def stats(self, _: Request) -> Reply:
        return Reply(200, self.sandbox.stats_snapshot())

    def jwks(self, _: Request) -> Reply:
        return Reply(200, self.sandbox.jwks())

    def config(self, _: Request) -> Reply:
        return Reply(200, self.sandbox.config_data())

    def orgs(self, _: Request) -> Reply:
        return Reply(200, {"items": self.sandbox.orgs_snapshot()})

    def authorize_org(self, request: Request) -> Reply:
        org_id = request.fields().get("orgId") or None
        if org_id is not None and not isinstance(org_id, str):
            raise HttpProblem(400, "'orgId' must be a string")
        return Reply(200, {"orgId": self.sandbox.authorize_org(org_id)})

    def deauthorize_org(self, request: Request) -> Reply:
        org_id = request.fields().get("orgId")
        if not isinstance(org_id, str) or not org_id:
            raise HttpProblem(400, "'orgId' is required")
        try:
            self.sandbox.deauthorize_org(org_id)
        except KeyError:
            raise HttpProblem(404, f"no org {org_id}") from None
        return Reply(200, {"orgId": org_id, "authorized": False})

    def expire(self, request: Request) -> Reply:
        kind = kind_from(request.fields().get("kind"))
        return Reply(200, {"expired": self.sandbox.expire_access_tokens(kind)})

    def revoke(self, request: Request) -> Reply:
        body = request.fields()
        count = self.sandbox.revoke_tokens(kind_from(body.get("kind")), flag(body.get("refresh")))
        return Reply(200, {"revoked": count})

    def lifetimes(self, request: Request) -> Reply:
        changes: dict[str, int] = {}
        for key, value in request.fields().items():
            if key not in LIFETIME_NAMES:
                raise HttpProblem(400, f"unknown lifetime {key!r}: use {', '.join(LIFETIME_NAMES)}")
            seconds = number(value, key)
            if seconds < 0 or not seconds.is_integer():
                raise HttpProblem(400, f"{key} must be a whole number of seconds")
            changes[LIFETIME_NAMES[key]] = int(seconds)
        return Reply(200, self.sandbox.set_lifetimes(**changes))

    def add_fault(self, request: Request) -> Reply:
        fields = request.fields()
        if request.content_type == "application/x-www-form-urlencoded":
            fields = _form_numbers(fields, ("status", "count", "retryAfter"))
        try:
            fault = Fault.from_json(fields)
        except ValueError as exc:
            raise HttpProblem(400, str(exc)) from None
        return Reply(200, {"pending": self.sandbox.add_fault_object(fault)})

    def clear_faults(self, _: Request) -> Reply:
        self.sandbox.clear_faults()
        return Reply(204)

    def latency(self, request: Request) -> Reply:
        ms = number(request.fields().get("ms"), "ms")
        if ms < 0:
            raise HttpProblem(400, "'ms' must be a non-negative number")
        self.sandbox.set_latency(ms)
        return Reply(200, {"ms": ms})

    def rotate_key(self, request: Request) -> Reply:
        keep_old = flag(request.fields().get("keepOld"), default=True)
        kid = self.sandbox.rotate_signing_key(keep_old=keep_old)
        return Reply(200, {"kid": kid, "keepOld": keep_old})

    def reset(self, request: Request) -> Reply:
        self.sandbox.reset(data=flag(request.fields().get("data")))
        return Reply(204)
