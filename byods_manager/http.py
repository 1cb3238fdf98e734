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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from . import __version__
from .auth import TokenProvider
from .errors import (
    AmbiguousRequestError,
    ApiError,
    AuthRequiredError,
    NotFoundError,
    TransportError,
)

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRYABLE_STATUSES = frozenset({502, 503, 504})


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
            message = data["message"]
        for item in data.get("errors") or []:
            if isinstance(item, dict) and isinstance(item.get("description"), str):
                details.append(item["description"])
    error_type = NotFoundError if status == 404 else ApiError
    return error_type(
        status,
        message,
        tracking_id=_tracking_id(headers, data),
        details=details,
        method=method,
        path=path,
    )


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
        on_response: Callable[[str, str, int], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_provider = token_provider
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.notify = notify or (lambda message: log.info("%s", message))
        self._sleep = sleep
        # Observer of every HTTP response: (method, path as requested, status); for metrics.
        self.on_response = on_response
        self.session = requests.Session()
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
        idempotent = method in IDEMPOTENT_METHODS
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
            try:
                response = self.session.request(
                    method,
                    url,
                    json=json,
                    data=form,
                    params=params,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.exceptions.RequestException as exc:
                never_sent = isinstance(exc, requests.exceptions.ConnectTimeout) or _refused(exc)
                if (idempotent or never_sent) and retries < self.retry.max_retries:
                    retries += 1
                    delay = self._backoff(retries)
                    self.notify(
                        f"{method} {path}: {_describe_transport(exc)}; retrying in {delay:.1f}s"
                    )
                    self._sleep(delay)
                    continue
                if not idempotent and not never_sent:
                    raise AmbiguousRequestError(
                        f"{method} {url}: {_describe_transport(exc)}; "
                        "the server may or may not have processed it"
                    ) from None
                raise TransportError(f"{method} {url}: {_describe_transport(exc)}") from None

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
                self._sleep(wait)
                continue

            if response.status_code in RETRYABLE_STATUSES:
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
                    self._sleep(delay)
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
