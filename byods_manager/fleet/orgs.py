"""The orgs one service app serves: the config's ``targetOrgId`` plus the org registry.

:class:`Fleet` resolves an org by name or id and builds, per org, a token manager (the
store keys tokens ``appId@orgId``; tier 2 mints with ``targetOrgId`` = that org) and a
:class:`~byods_manager.client.DataSourceClient` (:meth:`Fleet.client_for_org`).
"""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING, Any

from ..audit import AuditLog
from ..errors import AuthRequiredError, InputError
from ..stores.file import FileOrgRegistry
from ..stores.orgs import (
    ACTIVE,
    SOURCE_CONFIG,
    SOURCE_ORGS_ADD,
    OrgRecord,
    OrgRegistryStore,
)
from ..stores.select import open_config_store
from ..tokens.config import ProfileConfig
from ..tokens.manager import Notify, TokenManager
from ..webex_ids import org_key, public_org_id, same_org

if TYPE_CHECKING:
    from ..client import DataSourceClient
    from ..deadline import Deadline
    from ..http import Pacer
    from ..schema_cache import SchemaCache
    from ..stores.base import StateStore


@dataclasses.dataclass
class OrgAuditLog(AuditLog):
    """The audit log, with the org of every record (``orgId``)."""

    org_id: str = ""

    def record(
        self,
        operation: str,
        data_source_id: str | None,
        outcome: str,
        tracking_id: str | None = None,
        error: str | None = None,
        **safe_fields: Any,
    ) -> dict[str, Any]:
        safe_fields.setdefault("orgId", self.org_id)
        return super().record(operation, data_source_id, outcome, tracking_id, error, **safe_fields)


class Fleet:
    """One service app (one config profile) and every org it serves."""

    def __init__(
        self,
        config: ProfileConfig,
        *,
        base_url: str,
        store: StateStore | None = None,
        registry: OrgRegistryStore | None = None,
        notify: Notify | None = None,
        warn: Notify | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.config = config
        # the command's deadline (--timeout): every token manager and client shares it
        self.deadline = deadline
        self.base_url = base_url.rstrip("/")
        self.store = store or open_config_store(config, warn=warn)
        self.registry: OrgRegistryStore = registry or FileOrgRegistry(self.store)
        self.notify = notify
        self.warn = warn
        self._managers: dict[str, TokenManager] = {}
        self._lock = threading.Lock()

    @property
    def default_org_id(self) -> str:
        return self.config.service_app.target_org_id

    # -- which orgs --------------------------------------------------------------------

    def orgs(self) -> list[OrgRecord]:
        """The config's org first, then the registry's, each once: an org id is compared
        in either form (plain UUID or base64 Webex id), and a registry that holds one org
        under both forms shows it under the form registered first."""
        registered = self.registry.load_orgs()
        default = next((r for r in registered if same_org(r.org_id, self.default_org_id)), None)
        first = OrgRecord(
            self.default_org_id,
            name=default.name if default else None,
            status=default.status if default else ACTIVE,
            source=SOURCE_CONFIG,
            added_at=default.added_at if default else 0.0,
        )
        seen = {org_key(self.default_org_id)}
        others = []
        for record in registered:
            if org_key(record.org_id) not in seen:
                seen.add(org_key(record.org_id))
                others.append(record)
        return [first, *others]

    def active_orgs(self) -> list[OrgRecord]:
        return [org for org in self.orgs() if org.active]

    def find(self, org_id: str) -> OrgRecord | None:
        """The known org (the config's or a registered one) with this id in either form."""
        return next((org for org in self.orgs() if same_org(org.org_id, org_id)), None)

    def resolve(self, ref: str) -> OrgRecord:
        """The org whose id (either form) or name is ``ref`` (ids win; names match
        case-insensitively)."""
        ref = ref.strip()
        orgs = self.orgs()
        for org in orgs:
            if same_org(org.org_id, ref):
                return org
        named = [org for org in orgs if org.name and org.name.casefold() == ref.casefold()]
        if len(named) == 1:
            return named[0]
        if named:
            raise InputError(f"org name {ref!r} is ambiguous; use the org id")
        raise InputError(f"unknown org {ref!r}; see `byods orgs list` (add one: `byods orgs add`)")

    # -- per-org objects ---------------------------------------------------------------

    def config_for(self, org_id: str) -> ProfileConfig:
        """The profile with ``targetOrgId`` = ``org_id``. Seed tokens in the config belong to
        its own org, so other orgs start without them."""
        if same_org(org_id, self.default_org_id):
            return self.config
        service = self.config.service_app._replace(
            target_org_id=org_id,
            seed_access_token=None,
            seed_refresh_token=None,
        )
        return self.config._replace(service_app=service)

    def token_manager(self, org_id: str) -> TokenManager:
        """One manager per org, shared by every thread (it is safe to share). An id in the
        other form than the registered one gets the registered org's manager (and so its
        stored tokens, keyed ``appId@<registered form>``)."""
        key = org_key(org_id)
        with self._lock:
            if key in self._managers:
                return self._managers[key]
        known = self.find(org_id)  # outside the lock: it reads the registry
        stored_form = known.org_id if known is not None else org_id
        with self._lock:
            manager = self._managers.get(key)
            if manager is None:
                manager = TokenManager(
                    self.config_for(stored_form),
                    base_url=self.base_url,
                    store=self.store,
                    notify=self.notify,
                    warn=self.warn,
                    deadline=self.deadline,
                )
                self._managers[key] = manager
            return manager

    def client_for_org(
        self,
        org: OrgRecord | str,
        *,
        audit: AuditLog | None = None,
        schema_cache: SchemaCache | None = None,
        pacer: Pacer | None = None,
    ) -> DataSourceClient:
        """A data-source client for ``org`` (a record, an id or a name), with its own
        HTTP session; close it when done."""
        from ..client import DataSourceClient
        from ..http import HttpClient

        record = org if isinstance(org, OrgRecord) else self.resolve(org)
        if audit is not None:
            audit = OrgAuditLog(audit.path, org_id=record.org_id)
        http = HttpClient(
            self.base_url,
            self.token_manager(record.org_id),
            notify=self.notify,
            pacer=pacer,
            deadline=self.deadline,
        )
        return DataSourceClient(http, audit=audit, schema_cache=schema_cache)

    def token_expiry(self, org_id: str) -> float | None:
        entry = self.store.load().service_apps.get(self.config_for(org_id).service_app.store_key)
        return entry.expires_at if entry is not None else None

    # -- changing the registry ---------------------------------------------------------

    def add(self, org_id: str, name: str | None = None, source: str = SOURCE_ORGS_ADD) -> OrgRecord:
        """Mint the org's token pair through the Applications API, then register it.

        Success proves the service app is authorized in the org; nothing is registered
        otherwise. A plain UUID is registered as its base64 Webex id (what the API takes as
        ``targetOrgId``). An org already known under either form keeps its id form and
        name: adding it again mints its tokens again and makes it active, and giving it
        another name is refused (see :meth:`rename`).
        """
        given = _checked_org_id(org_id)
        name = name.strip() if name else None
        known = self.find(given)
        org_id = known.org_id if known is not None else public_org_id(given)
        if known is not None and known.name and name and known.name.casefold() != name.casefold():
            raise InputError(
                f"org {known.org_id} is already registered as {known.name!r}; to rename it: "
                f"byods orgs rename {known.name} {name}"
            )
        self._check_name_free(name, org_id)
        manager = self.token_manager(org_id)
        try:
            manager.refresh(force=True)
        except AuthRequiredError as exc:
            raise AuthRequiredError(
                f"could not get tokens for org {org_id}: the service app is not authorized "
                "there, or the token manager's token cannot mint (an org admin must "
                "authorize the service app in Control Hub first)",
                attempts=exc.attempts,
            ) from None
        existing = self.registered(org_id)
        record = OrgRecord(
            existing.org_id if existing else org_id,  # one record per org, whatever the form
            name=name or (existing.name if existing else None),
            status=ACTIVE,
            source=existing.source if existing else source,
        )
        if existing is not None:
            record.added_at = existing.added_at
        self.registry.save_org(record)
        return record

    def rename(self, ref: str, name: str) -> OrgRecord:
        """Give the org ``ref`` (name or id) the name ``name``."""
        record = self.resolve(ref)
        name = name.strip()
        if not name:
            raise InputError("the new name is empty")
        self._check_name_free(name, record.org_id)
        existing = self.registered(record.org_id)
        renamed = dataclasses.replace(existing or record, name=name)
        self.registry.save_org(renamed)
        return renamed

    def registered(self, org_id: str) -> OrgRecord | None:
        """The registry's own record of the org (the config's org may have none)."""
        return next((r for r in self.registry.load_orgs() if same_org(r.org_id, org_id)), None)

    def _check_name_free(self, name: str | None, org_id: str) -> None:
        for other in self.orgs():
            taken = (other.name or "").casefold() == (name or "").casefold()
            if name and taken and not same_org(other.org_id, org_id):
                raise InputError(f"the name {name!r} is already used by org {other.org_id}")

    def remove(self, ref: str) -> OrgRecord:
        """Forget a registered org and its stored tokens (under either id form)."""
        record = self.resolve(ref)
        if same_org(record.org_id, self.default_org_id):
            raise InputError(
                f"org {record.org_id} is the config's serviceApp.targetOrgId; "
                "edit the config to change it"
            )
        # every record of the org: a registry may hold it under both id forms
        for registered in self.registry.load_orgs():
            if same_org(registered.org_id, record.org_id):
                key = self.config_for(registered.org_id).service_app.store_key
                self.registry.remove_org(registered.org_id, drop_tokens_key=key)
        with self._lock:
            manager = self._managers.pop(org_key(record.org_id), None)
        if manager is not None:
            manager.close()
        return record

    def close(self) -> None:
        with self._lock:
            managers, self._managers = list(self._managers.values()), {}
        for manager in managers:
            manager.close()


def _checked_org_id(org_id: str) -> str:
    text = org_id.strip()
    if not text or any(c.isspace() or c in "/?#@" for c in text) or len(text) > 200:
        raise InputError(f"not a valid org id: {org_id!r}")
    return text
