"""Onboarding wired to the fleet: webhook arrivals and departures show in the org registry
(``byods orgs list``), and each new org gets the template's data sources (the engine of
``byods apply``).

:func:`build_fleet_receiver` is what ``byods keepalive --webhook-secret S [--template FILE]``
needs: a :class:`~.onboarding.WebhookReceiver` whose ``authorized`` mints the org's pair
(:class:`~.onboarding_actions.TokenOnboarder`), records the org as arrived by webhook and
applies the template; ``deauthorized`` drops the pair and marks the org deauthorized, which
takes it out of every ``--all-orgs`` run and the keep-alive.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..errors import ByodsError
from ..stores.orgs import ACTIVE, DEAUTHORIZED, SOURCE_CONFIG, SOURCE_WEBHOOK, OrgRecord
from ..webex_ids import same_org
from .onboarding import WebhookReceiver
from .onboarding_actions import TokenOnboarder, build_receiver

if TYPE_CHECKING:
    from ..fleet.apply import Plan
    from ..fleet.desired import DesiredDataSource
    from ..fleet.orgs import Fleet

log = logging.getLogger(__name__)

# Event names for alerts (see DESIGN.md "Alerts").
ORG_AUTHORIZED = "org_authorized"
ORG_DEAUTHORIZED = "org_deauthorized"

OrgEvent = Callable[[str, str], None]  # (event name, org id)


class FleetOnboarding:
    """The fleet side of onboarding: registry records and the template."""

    def __init__(
        self,
        fleet: Fleet,
        template: Sequence[DesiredDataSource] = (),
        *,
        on_event: OrgEvent | None = None,
    ) -> None:
        self.fleet = fleet
        self.template = list(template)
        self.on_event = on_event
        self.plans: dict[str, Plan] = {}  # the last template run per org
        self._lock = threading.Lock()

    def authorized(self, org_id: str) -> None:
        """Record the org as active (arrived by webhook unless it was known before), then
        make the template true there. Raises when a template step failed."""
        org_id = self._known_form(org_id)
        existing = self.fleet.registered(org_id)
        record = OrgRecord(
            existing.org_id if existing else org_id,
            name=existing.name if existing else None,
            status=ACTIVE,
            source=existing.source if existing else self._source(org_id),
            added_at=existing.added_at if existing else time.time(),
        )
        self.fleet.registry.save_org(record)
        if self.on_event is not None:
            self.on_event(ORG_AUTHORIZED, org_id)
        if self.template:
            self._apply_template(org_id)

    def deauthorized(self, org_id: str) -> None:
        """Mark the org deauthorized and drop its tokens; its data sources stay (Webex
        removes the org's machine account)."""
        org_id = self._known_form(org_id)
        existing = self.fleet.registered(org_id)
        if existing is not None:
            org_id = existing.org_id
        key = self.fleet.config_for(org_id).service_app.store_key
        registry = self.fleet.registry
        if not registry.set_status(org_id, DEAUTHORIZED, drop_tokens_key=key):
            registry.save_org(OrgRecord(org_id, status=DEAUTHORIZED, source=self._source(org_id)))
        if self.on_event is not None:
            self.on_event(ORG_DEAUTHORIZED, org_id)

    def _known_form(self, org_id: str) -> str:
        """The id as the fleet knows the org (a webhook may give the other form)."""
        known = self.fleet.find(org_id)
        return known.org_id if known is not None else org_id

    def _source(self, org_id: str) -> str:
        return SOURCE_CONFIG if same_org(org_id, self.fleet.default_org_id) else SOURCE_WEBHOOK

    def _apply_template(self, org_id: str) -> None:
        from ..fleet.apply import apply_plan, make_plan

        client = self.fleet.client_for_org(org_id)
        try:
            plan = make_plan(lambda: client, self.template, concurrency=1)
            apply_plan(lambda: client, plan, concurrency=1)
        finally:
            client.close()
        with self._lock:
            self.plans[org_id] = plan
        failed = plan.failed
        log.info("org %s: template applied (%s)", org_id, plan.summary())
        if failed:
            raise ByodsError(
                f"org {org_id}: {len(failed)} template step(s) failed; first: "
                f"{failed[0].lines()[0]}: {failed[0].error}"
            )


def build_fleet_receiver(
    fleet: Fleet,
    secret: str | None = None,
    template: Sequence[DesiredDataSource] = (),
    *,
    on_event: OrgEvent | None = None,
) -> tuple[WebhookReceiver, FleetOnboarding]:
    """The receiver for ``fleet``'s service app, with the fleet hooks in place."""
    onboarding = FleetOnboarding(fleet, template, on_event=on_event)
    manager = fleet.token_manager(fleet.default_org_id)
    receiver = build_receiver(
        manager,
        secret,
        apply_template=onboarding.authorized,
        after_deauthorize=onboarding.deauthorized,
    )
    return receiver, onboarding


__all__ = [
    "ORG_AUTHORIZED",
    "ORG_DEAUTHORIZED",
    "FleetOnboarding",
    "TokenOnboarder",
    "build_fleet_receiver",
]
