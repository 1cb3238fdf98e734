"""Webhook secrets in the token store: the ``webhookSecrets`` section.

``{"webhookSecrets": {"<targetUrl>": {"secret", "webhookIds", "updatedAt"}}}``. The
secret signs what Webex delivers to ``targetUrl``; the receiver needs it, and a second
``byods webhooks register`` reuses it so the webhooks it keeps stay verifiable. It is
written like every token: under the store lock, after a re-read, atomically, 0600. The
section travels in :attr:`StoreData.extra`, which the store keeps as it found it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..secrets import remember_secret
from .store import StoreData

if TYPE_CHECKING:
    from ..stores.base import StateStore

SECTION = "webhookSecrets"


@dataclass
class WebhookSecret:
    target_url: str
    secret: str = field(repr=False)
    webhook_ids: list[str] = field(default_factory=list)
    updated_at: float | None = None


def _section(data: StoreData) -> dict[str, Any]:
    value = data.extra.get(SECTION)
    return value if isinstance(value, dict) else {}


def _entry(target_url: str, value: Any) -> WebhookSecret | None:
    if not isinstance(value, dict) or not isinstance(value.get("secret"), str):
        return None
    remember_secret(value["secret"])
    ids = value.get("webhookIds")
    updated = value.get("updatedAt")
    return WebhookSecret(
        target_url,
        value["secret"],
        [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else [],
        float(updated) if isinstance(updated, (int, float)) else None,
    )


def load_all(store: StateStore) -> list[WebhookSecret]:
    """Every saved webhook secret (unreadable entries are skipped)."""
    found = (_entry(url, value) for url, value in _section(store.load()).items())
    return [entry for entry in found if entry is not None and entry.secret]


def load(store: StateStore, target_url: str) -> WebhookSecret | None:
    return _entry(target_url, _section(store.load()).get(target_url))


def save(
    store: StateStore, target_url: str, secret: str, webhook_ids: list[str] | None = None
) -> None:
    """Keep ``secret`` for ``target_url`` (and which webhooks use it)."""
    with store.locked() as data:
        section = dict(_section(data))
        previous = _entry(target_url, section.get(target_url))
        ids = webhook_ids if webhook_ids is not None else (previous.webhook_ids if previous else [])
        section[target_url] = {
            "secret": secret,
            "webhookIds": list(ids),
            "updatedAt": time.time(),
        }
        data.extra[SECTION] = section
        store.save(data)
