"""The one HTTP layer: session, timeouts, retries, Retry-After, error mapping, 401 handling.

Retries are written out here rather than delegated to urllib3's ``Retry`` because the
rules differ per method and need hooks urllib3 does not offer: a visible note while
waiting out a 429, a cap on ``Retry-After``, and a distinct "ambiguous" error for a
POST that may have reached the server (the caller, not this layer, decides whether it
is safe to send it again).
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from . import __version__
from .auth import TokenProvider
from .deadline import Deadline, DeadlineExceeded
from .errors import (
    AmbiguousRequestError,
    ApiError,
    AuthRequiredError,
    NotFoundError,
    TransportError,
)
from .http_environment import EnvironmentSettings
from .secrets import remember_secret, scrub_text

log = logging.getLogger(__name__)

# Re-sent after a lost response or a gateway error. PUT and DELETE are idempotent too, but
# a PUT carries a one-time nonce and a re-sent DELETE answers 404: their callers reconcile
# by reading the data source back (see client.py), so here they are "ambiguous" like POST.
RETRIED_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRYABLE_STATUSES = frozenset({502, 503, 504})
# Reads may also be retried on a plain 500: nothing changes on the server either way.
RETRYABLE_READ_STATUSES = RETRYABLE_STATUSES | {500}


@dataclass
class ApiResponse:
    status: int
    data: Any
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def tracking_id(self) -> str | None:
        return _tracking_id(self.headers, self.data)


@dataclass
class RetryPolicy:
    max_retries: int = 3
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 8.0
    max_retry_after_seconds: float = 60.0


# Token endpoints run while the token store's lock is held, and other processes wait on
# that lock: keep their waits short rather than honouring a long Retry-After three times.
TOKEN_ENDPOINT_RETRY = RetryPolicy(max_retries=2, max_retry_after_seconds=10.0)


def _tracking_id(headers: Mapping[str, str], data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("trackingId"), str):
        return str(data["trackingId"])
    value = headers.get("TrackingID") or headers.get("trackingid")
    return value or None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def api_error_from_response(
    status: int, data: Any, headers: Mapping[str, str], reason: str, method: str, path: str
) -> ApiError:
    message = reason or "error"
    details: list[str] = []
    if isinstance(data, dict):
        if isinstance(data.get("message"), str) and data["message"]:
            message = scrub_text(data["message"])
        for item in data.get("errors") or []:
            if isinstance(item, dict) and isinstance(item.get("description"), str):
                details.append(scrub_text(item["description"]))
    error_type = NotFoundError if status == 404 else ApiError
    return error_type(
        status,
        message,
        tracking_id=_tracking_id(headers, data),
        details=details,
        method=method,
        path=path,
    )


class Pacer(Protocol):
    """Pacing shared by several clients (see :mod:`byods_manager.fleet.pacing`)."""

    def wait_turn(self) -> None:
        """Block until this client may send its next request."""
        ...

    def rate_limited(self, seconds: float) -> None:
        """The server answered 429: pause every client for ``seconds``."""
        ...


class HttpClient:
    """Sends requests to the Webex API below ``base_url``.

    Authenticated requests take their bearer token from ``token_provider``. On a 401
    the provider is told the token was rejected; if it can offer another, the request
    is retried exactly once, and a second 401 raises :class:`AuthRequiredError`.
    """

    def __init__(
        self,
        base_url: str,
        token_provider: TokenProvider | None = None,
        *,
        timeout: float | tuple[float, float] = (10.0, 30.0),
        retry: RetryPolicy | None = None,
        notify: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        deadline: Deadline | None = None,
        pacer: Pacer | None = None,
        on_response: Callable[[str, str, int], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.deadline = deadline
        self.token_provider = token_provider
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.notify = notify or (lambda message: log.info("%s", message))
        self._sleep = sleep
        self.pacer = pacer
        # Observer of every HTTP response: (method, path as requested, status); for metrics.
        self.on_response = on_response
        self.session = requests.Session()
        # Proxies, CA bundle and netrc come from the environment once, not per request.
        self.session.trust_env = False
        self.environment = EnvironmentSettings()
        self.session.headers["User-Agent"] = f"byods-manager/{__version__}"
        self.session.headers["Accept"] = "application/json"

    def close(self) -> None:
        self.session.close()

    def url_for(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + "/" + path.lstrip("/")

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        form: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        bearer: str | None = None,
        authenticated: bool = True,
    ) -> ApiResponse:
        """Send one logical request and return its parsed response.

        ``bearer`` overrides the provider (used for token endpoints that take another
        credential). ``authenticated=False`` sends no Authorization header at all.
        """
        method = method.upper()
        url = self.url_for(path)
        environment = self.environment.for_url(url)
        idempotent = method in RETRIED_METHODS
        retry_statuses = RETRYABLE_READ_STATUSES if idempotent else RETRYABLE_STATUSES
        use_provider = authenticated and bearer is None
        if use_provider and self.token_provider is None:
            raise AuthRequiredError(
                "No credentials: set WEBEX_SERVICE_APP_ACCESS_TOKEN or run `byods auth setup`."
            )
        retries = 0
        auth_retried = False
        while True:
            headers: dict[str, str] = {}
            token = bearer
            if use_provider:
                assert self.token_provider is not None
                token = self.token_provider.get_token()
            if authenticated and token:
                headers["Authorization"] = f"Bearer {token}"
                remember_secret(token)
            if self.pacer is not None:
                self.pacer.wait_turn()
            if form:
                remember_secret(*(v for k, v in form.items() if _secret_field(k)))
            timeout = self.timeout
            if self.deadline is not None:
                self.deadline.check(f"{method} {path}")
                timeout = self.deadline.cap(timeout)
            try:
                response = self.session.request(
                    method,
                    url,
                    json=json,
                    data=form,
                    params=params,
                    headers=headers,
                    timeout=timeout,
                    allow_redirects=False,
                    proxies=environment.proxies,
                    verify=self.environment.verify,
                    auth=environment.auth,
                )
            except requests.exceptions.RequestException as exc:
                never_sent = isinstance(exc, requests.exceptions.ConnectTimeout) or _refused(exc)
                problem = _describe_transport(exc)
                if _refused(exc):
                    problem += (
                        f" to {_host_of(url)}; is that the right host? "
                        "Check --base-url / WEBEX_API_BASE_URL"
                    )
                if (idempotent or never_sent) and retries < self.retry.max_retries:
                    retries += 1
                    delay = self._backoff(retries)
                    self.notify(f"{method} {path}: {problem}; retrying in {delay:.1f}s")
                    self._wait(delay, method, path, problem)
                    continue
                if not idempotent and not never_sent:
                    raise AmbiguousRequestError(
                        f"{method} {url}: {problem}; the server may or may not have processed it"
                    ) from None
                raise TransportError(f"{method} {url}: {problem}.") from None

            data = _parse_body(response)
            log.debug("%s %s -> %s", method, path, response.status_code)
            if self.on_response is not None:
                self.on_response(method, path, response.status_code)

            if response.status_code == 401 and use_provider and token:
                assert self.token_provider is not None
                if auth_retried:
                    raise AuthRequiredError(
                        "Webex rejected a freshly obtained access token (HTTP 401 twice). "
                        "Check the service app's scopes and authorization in Control Hub, "
                        "then run `byods auth setup`."
                    )
                if not self.token_provider.invalidate(token):
                    raise AuthRequiredError(
                        "Webex rejected the access token (HTTP 401) and no other is available. "
                        "Run `byods auth setup`."
                    )
                auth_retried = True
                continue

            if response.status_code == 429 and retries < self.retry.max_retries:
                retries += 1
                wait = self._server_delay(response, retries)
                self.notify(f"rate limited, waiting {wait:.0f}s ({method} {path})")
                pause = self.pacer.rate_limited if self.pacer is not None else None
                # With a pacer every worker waits out the Retry-After, not only this one.
                self._wait(wait, method, path, "rate limited (HTTP 429)", sleep=pause)
                continue

            if response.status_code in retry_statuses:
                if not idempotent:
                    raise AmbiguousRequestError(
                        f"{method} {path}: HTTP {response.status_code}; "
                        "the server may or may not have processed it"
                    )
                if retries < self.retry.max_retries:
                    retries += 1
                    delay = self._server_delay(response, retries)
                    self.notify(
                        f"{method} {path}: HTTP {response.status_code}; retrying in {delay:.1f}s"
                    )
                    self._wait(delay, method, path, f"HTTP {response.status_code}")
                    continue

            if response.status_code >= 400:
                raise api_error_from_response(
                    response.status_code,
                    data,
                    response.headers,
                    response.reason or "",
                    method,
                    path,
                )
            return ApiResponse(response.status_code, data, dict(response.headers))

    def _wait(
        self,
        seconds: float,
        method: str,
        path: str,
        problem: str,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """Sleep (or ``sleep``) before a retry, but never past the command's deadline."""
        if self.deadline is not None and self.deadline.remaining() < seconds:
            raise DeadlineExceeded(
                f"{method} {path}: {problem}; a retry in {seconds:.1f}s would pass the "
                f"command's deadline ({self.deadline.label}), giving up. "
                "Allow more time with --timeout."
            )
        (sleep or self._sleep)(seconds)

    def _server_delay(self, response: requests.Response, attempt: int) -> float:
        """The server's Retry-After (capped), else exponential backoff."""
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is None:
            return self._backoff(attempt)
        return min(retry_after, self.retry.max_retry_after_seconds)

    def _backoff(self, attempt: int) -> float:
        base = self.retry.backoff_seconds * (2 ** (attempt - 1))
        jitter = random.uniform(0, base / 4)  # noqa: S311 - not security related
        return float(min(self.retry.max_backoff_seconds, base + jitter))


def _parse_body(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _secret_field(name: str) -> bool:
    lowered = name.lower()
    return "secret" in lowered or "token" in lowered or lowered in ("code", "code_verifier")


def _host_of(url: str) -> str:
    parsed = urllib.parse.urlsplit(url)
    return parsed.netloc or url


def _refused(exc: requests.exceptions.RequestException) -> bool:
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    text = repr(exc)
    return "ConnectionRefusedError" in text or "NewConnectionError" in text


def _describe_transport(exc: requests.exceptions.RequestException) -> str:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "timed out waiting for the response"
    if isinstance(exc, requests.exceptions.ConnectionError):
        if _refused(exc):
            return "could not connect (connection refused or host unreachable)"
        return "connection lost before the response arrived"
    return type(exc).__name__
