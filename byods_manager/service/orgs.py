"""What keepalive needs to know about an org, whoever keeps the list of orgs.

Today the CLI makes one :class:`OrgTarget` from the config's default org; the fleet's
org registry can supply many through the same :data:`OrgSource` callable, which the
service calls at the start of every cycle (so orgs added or removed meanwhile count).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..client import DataSourceClient
    from ..tokens.manager import TokenManager


@dataclass(frozen=True)
class OrgTarget:
    org_id: str
    name: str
    # None when a fixed token is used (WEBEX_SERVICE_APP_ACCESS_TOKEN): nothing to refresh.
    tokens: TokenManager | None
    # Called once per org per service lifetime; the client is reused for every cycle.
    client_factory: Callable[[], DataSourceClient]


OrgSource = Callable[[], Sequence[OrgTarget]]
