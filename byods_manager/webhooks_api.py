"""The Webex Webhooks API for ``serviceApp`` events: the onboarding webhooks.

Webex notifies the service app's developer when a customer admin authorizes or
deauthorizes it (resource ``serviceApp``, events ``authorized``/``deauthorized``). Such
webhooks belong to a person or an integration, so they are managed with the token
manager's token, never a service-app token. They are created with the filter
``id=<appId>`` (Webex's filter for "this service app only"), so a developer with several
service apps is told only about this one.

:meth:`OnboardingWebhooks.register` is idempotent: a webhook with the same target URL,
resource, event and filter is kept, not created again.
"""

from __future__ import annotations

import re
import secrets
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .base_url import is_loopback_host, same_origin_below
from .errors import ApiError, InputError
from .secrets import redact, remember_secret
from .tokens import webhook_secrets

if TYPE_CHECKING:
    from .http import ApiResponse, HttpClient
    from .stores.base import StateStore
    from .tokens.bearer import TokenManagerBearer

SERVICE_APP_RESOURCE = "serviceApp"
ONBOARDING_EVENTS = ("authorized", "deauthorized")
SECRET_BYTES = 32
MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 256
MAX_PAGES = 100
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


@dataclass(frozen=True)
class Webhook:
    """A webhook as Webex lists it (its secret is never kept here)."""

    id: str
    name: str
    target_url: str
    resource: str
    event: str
    filter: str | None
    status: str | None
    created: str | None
    has_secret: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Webhook:
        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        return cls(
            id=text("id") or "",
            name=text("name") or "",
            target_url=text("targetUrl") or "",
            resource=text("resource") or "",
            event=text("event") or "",
            filter=text("filter"),
            status=text("status"),
            created=text("created"),
            has_secret=bool(data.get("secret")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "targetUrl": self.target_url,
            "resource": self.resource,
            "event": self.event,
            "filter": self.filter,
            "status": self.status,
            "created": self.created,
            "hasSecret": self.has_secret,
        }


@dataclass(frozen=True)
class RegisteredWebhook:
    action: str  # created, kept, replaced
    webhook: Webhook

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, **self.webhook.to_dict()}


@dataclass(frozen=True)
class Registration:
    webhooks: list[RegisteredWebhook]
    secret_prefix: str
    # Set only when this run generated the secret: the one time it is shown.
    generated_secret: str | None = field(default=None, repr=False)
    removed: list[str] = field(default_factory=list)  # replaced or duplicate webhooks

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "webhooks": [item.to_dict() for item in self.webhooks],
            "secretPrefix": self.secret_prefix,
            "secretGenerated": self.generated_secret is not None,
            "removed": list(self.removed),
        }
        if self.generated_secret is not None:
            result["secret"] = self.generated_secret
        return result


def check_target_url(url: str) -> str:
    """HTTPS, or plain HTTP to loopback (a local receiver or the sandbox)."""
    text = url.strip()
    try:
        parts = urllib.parse.urlsplit(text)
        host = parts.hostname or ""
    except ValueError:
        raise InputError(f"--target-url {url!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise InputError(f"--target-url {url!r} must be an https:// URL")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise InputError(
            f"--target-url {url!r}: Webex delivers to https:// URLs; plain http:// is "
            "accepted for loopback receivers only"
        )
    return text


def check_secret(secret: str) -> str:
    text = secret.strip()
    remember_secret(text)
    if not MIN_SECRET_LENGTH <= len(text) <= MAX_SECRET_LENGTH:
        raise InputError(
            f"the webhook secret must be {MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} characters"
        )
    return text


def new_secret() -> str:
    """A random secret; registered for redaction (only `register` shows it, once)."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    remember_secret(secret)
    return secret


def app_filter(app_id: str) -> str:
    return f"id={app_id}"


class OnboardingWebhooks:
    """Create, list and delete the ``serviceApp`` webhooks of one service app."""

    def __init__(
        self, http: HttpClient, bearer: TokenManagerBearer, app_id: str, store: StateStore
    ) -> None:
        self.http = http
        self.bearer = bearer
        self.app_id = app_id
        self.store = store

    # -- plain API calls -----------------------------------------------------------------

    def list_webhooks(self) -> list[Webhook]:
        """Every webhook the token-manager token owns (all pages)."""
        return [Webhook.from_api(item) for item in self._raw_list()]

    def delete(self, webhook_id: str) -> None:
        path = "/webhooks/" + urllib.parse.quote(webhook_id, safe="")
        self.bearer.call(lambda token: self.http.request("DELETE", path, bearer=token))

    def _raw_list(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        next_path: str | None = "/webhooks"
        pages = 0
        while next_path and pages < MAX_PAGES:
            pages += 1
            response = self._get(next_path)
            data = response.data
            if not isinstance(data, dict) or not isinstance(data.get("items"), list):
                raise ApiError(response.status, "unexpected answer to GET /webhooks: no items")
            items.extend(item for item in data["items"] if isinstance(item, dict))
            match = _NEXT_LINK.search(response.headers.get("Link", "") or "")
            next_path = self._next_page(match.group(1)) if match else None
        return items

    def _next_page(self, link: str) -> str:
        """The next page's URL; only below the API base URL, since the bearer goes along."""
        base = self.http.base_url
        url = urllib.parse.urljoin(base + "/", link)
        if not same_origin_below(base, url):
            raise ApiError(
                502,
                f"refusing to follow the next-page link {url!r}: it is outside the API base "
                f"URL {base} (the token-manager token would be sent there)",
            )
        return url

    def _get(self, path: str) -> ApiResponse:
        return self.bearer.call(lambda token: self.http.request("GET", path, bearer=token))

    def _create(self, target_url: str, event: str, secret: str) -> Webhook:
        body = {
            "name": f"byods-manager serviceApp {event}",
            "targetUrl": target_url,
            "resource": SERVICE_APP_RESOURCE,
            "event": event,
            "filter": app_filter(self.app_id),
            "secret": secret,
        }
        response = self.bearer.call(
            lambda token: self.http.request("POST", "/webhooks", json=body, bearer=token)
        )
        if not isinstance(response.data, dict):
            raise ApiError(response.status, "unexpected answer to POST /webhooks")
        return Webhook.from_api(response.data)

    # -- the onboarding pair -------------------------------------------------------------

    def register(self, target_url: str, secret: str | None = None) -> Registration:
        """Make both onboarding webhooks exist for ``target_url``, signed with one secret.

        Without ``secret`` the one saved for this URL is reused, else a new one is made.
        The secret is saved before any webhook is created, so it is never lost. A webhook
        that exists but signs with another secret is replaced; extra copies are removed.
        """
        target_url = check_target_url(target_url)
        saved = webhook_secrets.load(self.store, target_url)
        chosen = check_secret(secret) if secret is not None else (saved.secret if saved else "")
        generated = None
        if not chosen:
            chosen = generated = new_secret()
        secret_changed = saved is None or saved.secret != chosen
        if secret_changed:
            webhook_secrets.save(self.store, target_url, chosen)
        existing = self._raw_list()
        results: list[RegisteredWebhook] = []
        removed: list[str] = []
        for event in ONBOARDING_EVENTS:
            matches = [item for item in existing if self._matches(item, target_url, event)]
            keep = next(
                (item for item in matches if self._keepable(item, chosen, secret_changed)), None
            )
            for item in matches:
                if item is not keep:
                    self.delete(str(item["id"]))
                    removed.append(str(item["id"]))
            if keep is not None:
                results.append(RegisteredWebhook("kept", Webhook.from_api(keep)))
            else:
                action = "replaced" if matches else "created"
                results.append(RegisteredWebhook(action, self._create(target_url, event, chosen)))
        webhook_secrets.save(self.store, target_url, chosen, [item.webhook.id for item in results])
        return Registration(results, redact(chosen), generated, removed)

    def _matches(self, item: dict[str, Any], target_url: str, event: str) -> bool:
        return (
            item.get("targetUrl") == target_url
            and item.get("resource") == SERVICE_APP_RESOURCE
            and item.get("event") == event
            and (item.get("filter") or "") == app_filter(self.app_id)
        )

    @staticmethod
    def _keepable(item: dict[str, Any], secret: str, secret_changed: bool) -> bool:
        """A match stays when it signs with ``secret``: Webex shows the secret, or (when it
        does not) the secret is the one saved when the webhook was made."""
        shown = item.get("secret")
        if isinstance(shown, str) and shown:
            return shown == secret
        return not secret_changed
