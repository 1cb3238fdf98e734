"""`byods apply`: plan the changes that make an org's data sources match a desired list,
then make them.

Identity is (schemaId, audience, subject); ``url``, the lifetime and the status are updated
in place. List items from Webex are thin (id, orgId, jwsToken...), so the identity and url
come from the JWS claims, and matched data sources are read with ``GET /dataSources/{id}``
for their status and lifetime. Extras are reported, and deleted only with ``prune``.
Applying the same file twice sends no writes the second time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..bodies import DEFAULT_LIFETIME_MINUTES
from ..errors import ByodsError
from .desired import DISABLED, DesiredDataSource, Identity, identity_text, normal_schema_id
from .runner import DEFAULT_CONCURRENCY, run_concurrently

if TYPE_CHECKING:
    from ..client import DataSourceClient
    from ..models import DataSource

CREATE = "create"
UPDATE = "update"
UNCHANGED = "unchanged"
EXTRA = "extra"
_SYMBOLS = {CREATE: "+", UPDATE: "~", UNCHANGED: "=", EXTRA: "-"}
DISABLE_REASON = "disabled by byods apply"

ClientGetter = Callable[[], "DataSourceClient"]


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


@dataclass
class PlanStep:
    action: str
    identity: Identity
    data_source_id: str | None = None
    desired: DesiredDataSource | None = None
    changes: list[Change] = field(default_factory=list)
    outcome: str | None = None  # after applying: "done", "failed", "kept"
    error: str | None = None

    def lines(self, prune: bool = False) -> list[str]:
        """The plan as people read it: one line per change."""
        symbol = _SYMBOLS[self.action]
        what = identity_text(self.identity)
        if self.action == CREATE:
            assert self.desired is not None
            return [f"{symbol} create {what} url={self.desired.url}"]
        if self.action == UPDATE:
            return [
                f"{symbol} update {self.data_source_id} {what} {c.field}: {c.old} -> {c.new}"
                for c in self.changes
            ]
        if self.action == UNCHANGED:
            return [f"{symbol} unchanged {self.data_source_id} {what}"]
        note = "deleted with --prune" if prune else "kept; --prune deletes it"
        return [f"{symbol} extra {self.data_source_id} {what} ({note})"]

    def writes(self, prune: bool) -> bool:
        return self.action in (CREATE, UPDATE) or (self.action == EXTRA and prune)

    def to_dict(self) -> dict[str, Any]:
        schema_id, audience, subject = self.identity
        return {
            "action": self.action,
            "id": self.data_source_id,
            "schemaId": schema_id,
            "audience": audience,
            "subject": subject,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in self.changes],
            "outcome": self.outcome,
            "error": self.error,
        }


@dataclass
class Plan:
    steps: list[PlanStep] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for step in self.steps if step.action == action)

    @property
    def failed(self) -> list[PlanStep]:
        return [step for step in self.steps if step.outcome == "failed"]

    def summary(self) -> str:
        return (
            f"{self.count(CREATE)} to create, {self.count(UPDATE)} to update, "
            f"{self.count(UNCHANGED)} unchanged, {self.count(EXTRA)} extra"
        )


def _identity(data_source: DataSource) -> Identity | None:
    parts = tuple(data_source.value_or_claim(name) for name in ("schemaId", "audience", "subject"))
    if any(part is None for part in parts):
        return None
    return (normal_schema_id(str(parts[0])), str(parts[1]), str(parts[2]))


def _complete(data_source: DataSource) -> bool:
    return (
        _identity(data_source) is not None
        and data_source.status is not None
        and data_source.token_lifetime_minutes is not None
        and data_source.value_or_claim("url") is not None
    )


def make_plan(
    client: ClientGetter,
    desired: Sequence[DesiredDataSource],
    concurrency: int = DEFAULT_CONCURRENCY,
) -> Plan:
    """Read the org's data sources (details only where needed) and compare."""
    wanted = {entry.identity: entry for entry in desired}
    listed = client().list()

    def needs_read(ds: DataSource) -> bool:
        identity = _identity(ds)
        return not _complete(ds) and (identity is None or identity in wanted)

    def read(ds: DataSource) -> DataSource:
        return client().get(ds.id) if needs_read(ds) else ds

    current = run_concurrently(listed, read, concurrency)
    plan = Plan()
    matched: set[Identity] = set()
    extras: list[PlanStep] = []
    for ds in current:
        identity = _identity(ds)
        if identity is None:
            continue  # not ours to judge: Webex did not tell what it is
        entry = wanted.get(identity)
        if entry is None or identity in matched:
            extras.append(PlanStep(EXTRA, identity, ds.id))
            continue
        matched.add(identity)
        changes = _changes(ds, entry)
        plan.steps.append(
            PlanStep(UPDATE if changes else UNCHANGED, identity, ds.id, entry, changes)
        )
    for entry in desired:
        if entry.identity not in matched:
            plan.steps.append(PlanStep(CREATE, entry.identity, desired=entry))
    plan.steps.extend(extras)
    return plan


def _changes(current: DataSource, desired: DesiredDataSource) -> list[Change]:
    changes: list[Change] = []
    url = current.value_or_claim("url")
    if url != desired.url:
        changes.append(Change("url", url, desired.url))
    lifetime = current.token_lifetime_minutes
    if desired.lifetime_minutes is not None and lifetime != desired.lifetime_minutes:
        changes.append(Change("lifetimeMinutes", lifetime, desired.lifetime_minutes))
    status = (current.status or "").lower() or None
    if desired.status is not None and status != desired.status:
        changes.append(Change("status", status, desired.status))
    return changes


def apply_plan(
    client: ClientGetter,
    plan: Plan,
    *,
    prune: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_step: Callable[[PlanStep], None] | None = None,
) -> Plan:
    """Make every write the plan calls for; each step's ``outcome`` says how it went."""

    def run(step: PlanStep) -> PlanStep:
        if not step.writes(prune):
            step.outcome = "kept" if step.action == EXTRA else "unchanged"
            return step
        try:
            _write(client(), step)
        except ByodsError as exc:
            step.outcome, step.error = "failed", str(exc).splitlines()[0]
        else:
            step.outcome = "done"
        return step

    run_concurrently(
        plan.steps, run, concurrency, (lambda _s, r: on_step(r)) if on_step is not None else None
    )
    return plan


def _write(client: DataSourceClient, step: PlanStep) -> None:
    if step.action == EXTRA:
        assert step.data_source_id is not None
        client.delete(step.data_source_id)
        return
    desired = step.desired
    assert desired is not None
    if step.action == CREATE:
        created = client.register(
            url=desired.url,
            schema_id=desired.schema_id,
            audience=desired.audience,
            subject=desired.subject,
            lifetime_minutes=desired.lifetime_minutes or DEFAULT_LIFETIME_MINUTES,
        )
        step.data_source_id = created.id
        if desired.status == DISABLED:
            client.disable(created.id, DISABLE_REASON)
        return
    assert step.data_source_id is not None
    fields = {c.field: c.new for c in step.changes}
    if "url" in fields or "lifetimeMinutes" in fields:
        client.update(
            step.data_source_id,
            url=fields.get("url"),
            lifetime_minutes=fields.get("lifetimeMinutes"),
        )
    if fields.get("status") == DISABLED:
        client.disable(step.data_source_id, DISABLE_REASON)
    elif "status" in fields:
        client.enable(step.data_source_id)
