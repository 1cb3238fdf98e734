"""What `--all-orgs`, `--concurrency` and `--dry-run` add to existing commands.

The commands in datasources.py and token_cmd.py take these options and hand over here;
this module only parses, calls the fleet library and renders.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeAlias

import click

from .context import AppContext
from .fleet_options import all_orgs_option as all_orgs_option  # for the command modules
from .fleet_options import concurrency_option as concurrency_option
from .render import F, print_json

if TYPE_CHECKING:
    from datetime import timedelta

    from ..fleet.extend import OrgFailure, OrgItem
    from ..fleet.runner import WorkerClients
    from ..stores.orgs import OrgRecord
    from ..tokens.status import CheckResult, TokenStatus


def dry_run_option(func: F) -> F:
    return click.option("--dry-run", is_flag=True, help="Show what would change; send no writes.")(
        func
    )


def selected_orgs(app: AppContext, all_orgs: bool) -> list[tuple[str, str]]:
    """(org id, label) pairs; ``("", "")`` is the one org this run selected."""
    if not all_orgs:
        return [("", "")]
    return [(org.org_id, org.label) for org in every_active_org(app)]


def every_active_org(app: AppContext) -> list[OrgRecord]:
    """The orgs ``--all-orgs`` covers. ``--org`` on the command line contradicts it (exit 2);
    ``$BYODS_ORG`` is only a default, which ``--all-orgs`` overrides."""
    from click.core import ParameterSource

    from ..errors import InputError

    context = click.get_current_context(silent=True)
    if app.org_option and context is not None:
        source = context.find_root().get_parameter_source("org_option")
        if source is ParameterSource.COMMANDLINE:
            raise InputError(
                "--org and --all-orgs exclude each other: --org picks one org, "
                "--all-orgs covers every active org"
            )
    return app.fleet().active_orgs()


# Unnamed orgs are shown by id; longer ids than this are shortened in tables and lines.
LONGEST_ORG_SHOWN = 24
SHORT_ORG_LENGTH = 8


def org_column(org_id: str, label: str, wide: bool = False) -> str:
    """How tables and lines show an org: its name, else its id. A Webex org id (87
    characters of base64) is shortened to the start of the UUID inside it, which Control Hub
    shows as the org's id, plus "…"; ``--wide`` (and JSON) show it whole."""
    if wide or label != org_id or len(org_id) <= LONGEST_ORG_SHOWN:
        return label
    from ..webex_ids import ORGANIZATION, raw_id

    return (raw_id(org_id, ORGANIZATION) or org_id)[:SHORT_ORG_LENGTH] + "…"


def org_failure_json(org: str, org_id: str, error: str) -> dict[str, str]:
    """An org that failed, in every ``--all-orgs --json`` output: where its results would be
    (``list``, ``token status``, ``token refresh``, ``apply``) or in ``orgFailures``
    (``extend``)."""
    return {"org": org, "orgId": org_id, "error": error}


def bulk_deadline(app: AppContext) -> None:
    """The deadline rule for bulk runs (``extend --all``, ``--all-orgs``, ``apply``).

    The default whole-command deadline (5 minutes) suits one request or a few; a fleet of
    thousands of data sources can legitimately take longer, so a bulk run is bounded only
    by a ``--timeout`` (or ``$BYODS_TIMEOUT``) that was actually given. Every request keeps
    its own timeout, so nothing hangs.
    """
    if not app.timeout_option:
        app.deadline.lift()


def one_line(message: str) -> str:
    """A multi-line error (e.g. every refresh tier's reason) as one line, nothing dropped."""
    return " ".join(line.strip() for line in message.splitlines() if line.strip()) or "failed"


def _fail() -> None:
    click.get_current_context().exit(1)


class Progress:
    """A click progress bar on stderr, only when stderr is a terminal and not --json."""

    def __init__(self, enabled: bool, label: str) -> None:
        self.enabled = enabled and _stderr_is_tty()
        self.label = label
        self._bar: Any = None

    @contextmanager
    def running(self) -> Iterator[Progress]:
        if not self.enabled:
            yield self
            return
        with click.progressbar(length=1, label=self.label, file=sys.stderr) as bar:
            self._bar = bar
            yield self
        self._bar = None

    def set_total(self, total: int) -> None:
        if self._bar is not None:
            self._bar.length = max(1, total)

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def echo(self, line: str) -> None:
        """A result line; on a shared terminal the bar's line is cleared first (the bar
        redraws itself below)."""
        if self._bar is not None and _is_tty(sys.stdout):
            click.echo("\r\x1b[K", nl=False, err=True)
        click.echo(line)


def _stderr_is_tty() -> bool:
    return _is_tty(sys.stderr)


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def extend_all(
    app: AppContext,
    *,
    within: timedelta | None,
    lifetime: int | None,
    as_json: bool,
    all_orgs: bool,
    concurrency: int,
    dry_run: bool,
) -> None:
    """`byods extend --all [--all-orgs] [--dry-run] [--concurrency N]`."""
    from ..bulk import EXTENDED, SKIPPED
    from ..fleet.extend import WOULD_EXTEND, extend_orgs
    from ..fleet.pacing import SharedPacer
    from .datasources import _expires_phrase as expires_phrase

    bulk_deadline(app)
    if not all_orgs:
        app.token_provider()  # an unknown --org is a usage error (exit 2), as for `list`
    orgs = selected_orgs(app, all_orgs)
    progress = Progress(not as_json, "checking" if dry_run else "extending")

    def show(entry: OrgItem) -> None:
        item = entry.item
        org = f"{org_column(entry.org_id, entry.org)}  " if all_orgs else ""
        if item.outcome == EXTENDED:
            line = f"extended  {org}{item.data_source_id}  ({expires_phrase(item)})"
        elif item.outcome == WOULD_EXTEND:
            line = f"would extend  {org}{item.data_source_id}  ({expires_phrase(item)})"
        elif item.outcome == SKIPPED:
            line = f"skipped   {org}{item.data_source_id}  ({item.detail})"
        else:
            line = f"FAILED    {org}{item.data_source_id}  {item.detail}"
        progress.echo(line)
        progress.advance()

    def org_failed(failure: OrgFailure) -> None:
        where = f"org {org_column(failure.org_id, failure.org)}: " if failure.org else ""
        click.echo(f"Error: {where}{failure.error}", err=True)

    with progress.running():
        result = extend_orgs(
            app.client_factory(SharedPacer()),
            orgs,
            within=within,
            lifetime_minutes=lifetime,
            concurrency=concurrency,
            dry_run=dry_run,
            on_item=None if as_json else show,
            on_org_failure=None if as_json else org_failed,
            on_listed=progress.set_total,
        )
    if as_json:
        print_json(result.to_dict(with_org=all_orgs))
    else:
        for failure in result.org_failures:
            if failure.during_run:
                org_failed(failure)
        click.echo(result.summary())
    if not result.ok:
        codes = [failure.exit_code for failure in result.org_failures]
        # one org: its own exit code (3 = a person must re-authorize), as before
        click.get_current_context().exit(max(codes) if codes and not all_orgs else 1)


def list_all_orgs(
    app: AppContext,
    as_json: bool,
    concurrency: int,
    wide: bool = False,
    columns: str | None = None,
) -> None:
    """`byods list --all-orgs`: every active org's data sources with an org column.

    The table is single-org `list`'s (same columns, ``--columns``, ``--wide``, fitted to
    the terminal) with ORG first. JSON: the data sources (each with ``org`` and ``orgId``),
    and for an org that could not be listed, in its place, ``{"org", "orgId", "error"}``
    (exit 1)."""
    from ..errors import ByodsError
    from ..fleet.pacing import SharedPacer
    from ..fleet.runner import WorkerClients, run_concurrently
    from .fleet_tables import ALL_ORGS_DATA_SOURCE_COLUMNS
    from .render import data_source_json
    from .tables import check_columns

    if not as_json:
        check_columns(ALL_ORGS_DATA_SOURCE_COLUMNS, columns)
    bulk_deadline(app)
    orgs = selected_orgs(app, True)
    clients = WorkerClients(app.client_factory(SharedPacer()))

    def list_org(org: tuple[str, str]) -> tuple[list[Any], str | None]:
        try:
            return clients.get(org[0]).list(), None
        except ByodsError as exc:
            return [], one_line(str(exc))

    try:
        listings = run_concurrently(orgs, list_org, concurrency)
        failed = False
        listed: list[tuple[str, str, Any]] = []
        payload: list[dict[str, Any]] = []
        for (org_id, label), (data_sources, error) in zip(orgs, listings, strict=True):
            if error is not None:
                failed = True
                click.echo(f"Error: org {org_column(org_id, label, wide)}: {error}", err=True)
                payload.append(org_failure_json(label, org_id, error))
                continue
            for ds in data_sources:
                # the fleet's org id wins over the item's own (the sandbox gives a uuid there)
                payload.append({**data_source_json(ds), "org": label, "orgId": org_id})
                listed.append((org_id, org_column(org_id, label, wide), ds))
        if as_json:
            print_json(payload)
        else:
            click.echo(_data_source_table(app, clients, listed, columns, wide))
    finally:
        clients.close()
    if failed:
        _fail()


def _data_source_table(
    app: AppContext,
    clients: WorkerClients,
    listed: list[tuple[str, str, Any]],
    columns: str | None,
    wide: bool,
) -> str:
    """(org id, org as shown, data source) as one table. Schema names are read once
    (schemas are the same in every org), through the first org that has data sources."""
    from .datasources import schema_map
    from .fleet_tables import ALL_ORGS_DATA_SOURCE_COLUMNS
    from .render import expires_in, schema_label
    from .tables import output_width, render_table

    if not listed:
        return "No data sources."
    schemas: dict[str, Any] = {}
    if any(ds.schema_id for _, _, ds in listed):
        schemas = schema_map(app, clients.get(listed[0][0]))
    rows = [
        {
            "org": shown,
            "id": ds.id,
            "status": ds.status or "-",
            "expires": expires_in(ds),
            "audience": ds.audience or "-",
            "schema": schema_label(ds.schema_id, schemas),
            "url": ds.value_or_claim("url") or "-",
            "subject": ds.subject or "-",
        }
        for _, shown, ds in listed
    ]
    return render_table(
        ALL_ORGS_DATA_SOURCE_COLUMNS, rows, chosen=columns, wide=wide, width=output_width()
    )


def _environment_fields(app: AppContext) -> dict[str, str]:
    return {"environment": app.environment.name, "baseUrl": app.base_url}


def token_status_all(
    app: AppContext,
    as_json: bool,
    *,
    check: bool = False,
    wide: bool = False,
    columns: str | None = None,
) -> None:
    """`byods token status --all-orgs [--check]`: the environment, then one row per org
    (JSON: one item per org with ``org``, ``orgId``, ``environment`` and ``baseUrl``; an
    org whose status could not be read has ``error`` instead, and the exit code is 1).

    ``--check`` runs single-org ``--check`` for every org, concurrently, each org on its
    own: a CHECK column (JSON: ``checks``), each failed check on stderr, exit 1 if any
    org failed (as every ``--all-orgs`` command; single-org ``--check`` tells 3 apart)."""
    from ..fleet.runner import DEFAULT_CONCURRENCY, run_concurrently
    from ..secrets import scrub_text
    from .fleet_tables import token_status_columns
    from .tables import check_columns, output_width, render_table

    shown_columns = token_status_columns(check)
    if not as_json:
        check_columns(shown_columns, columns)
    if check:
        bulk_deadline(app)
    where = _environment_fields(app)
    orgs = every_active_org(app)
    reports = run_concurrently(orgs, _org_token_report(app, check), DEFAULT_CONCURRENCY)
    rows: list[dict[str, str]] = []
    payload: list[dict[str, Any]] = []
    failed = False
    for org, report in zip(orgs, reports, strict=True):
        shown = org_column(org.org_id, org.label, wide)
        row = {"org": shown, "org-id": org.org_id}
        if isinstance(report, str):
            failed = True
            click.echo(f"Error: org {shown}: {report}", err=True)
            payload.append({**org_failure_json(org.label, org.org_id, report), **where})
            rows.append({**row, "check": "error", "access": "error", "refresh": "error"})
            continue
        status, checks = report
        item: dict[str, Any] = {"org": org.label, "orgId": org.org_id, **status.to_dict(), **where}
        if check:
            item["checks"] = [result.to_dict() for result in checks]
            row["check"] = "ok" if all(result.ok for result in checks) else "FAILED"
        for result in checks:
            if not result.ok:
                failed = True
                detail = one_line(scrub_text(result.detail))
                click.echo(f"Error: org {shown}: {result.name}: {detail}", err=True)
        payload.append(item)
        rows.append({**row, **_expiry_cells(status)})
    if as_json:
        print_json(payload)
    else:
        click.echo(f"Environment: {app.describe_environment()}")
        click.echo(
            render_table(shown_columns, rows, chosen=columns, wide=wide, width=output_width())
        )
    if failed:
        _fail()


TokenReport: TypeAlias = "tuple[TokenStatus, list[CheckResult]] | str"


def _org_token_report(app: AppContext, check: bool) -> Callable[[OrgRecord], TokenReport]:
    """The worker for one org: (status, check results), or the error as one line."""
    from ..errors import ByodsError

    fleet = app.fleet()

    def report(org: OrgRecord) -> TokenReport:
        try:
            manager = fleet.token_manager(org.org_id)
            return manager.status(), manager.check() if check else []
        except ByodsError as exc:
            return one_line(str(exc))

    return report


def _expiry_cells(status: TokenStatus) -> dict[str, str]:
    """When the service-app access token (tier 0) and its refresh token (tier 1) expire."""
    from ..tokens.status import relative

    access = status.tiers[0] if status.tiers else None
    refresh = status.tiers[1] if len(status.tiers) > 1 else None
    return {
        "access": relative(access.expires_at) if access and access.present else "missing",
        "refresh": (
            relative(refresh.refresh_expires_at) if refresh and refresh.present else "missing"
        ),
    }


def token_refresh_all(app: AppContext, force: bool, as_json: bool, concurrency: int) -> None:
    """`byods token refresh --all-orgs [--force] [--concurrency N]`: ``concurrency`` orgs
    at a time, lines in org order; an org that fails is reported and the others go on
    (exit 1)."""
    from ..errors import ByodsError
    from ..fleet.runner import run_concurrently
    from ..tokens.status import relative

    bulk_deadline(app)
    fleet = app.fleet()
    where = _environment_fields(app)

    def refresh(org: OrgRecord) -> dict[str, Any]:
        entry: dict[str, Any] = {"org": org.label, "orgId": org.org_id}
        try:
            outcome = fleet.token_manager(org.org_id).refresh(force=force)
        except ByodsError as exc:
            return {**org_failure_json(org.label, org.org_id, one_line(str(exc))), **where}
        return {**entry, **outcome.to_dict(), **where, "_outcome": outcome}

    results = run_concurrently(every_active_org(app), refresh, concurrency)
    failed = False
    if not as_json:
        click.echo(f"Environment: {app.describe_environment()}")
    for entry in results:
        outcome = entry.pop("_outcome", None)
        if "error" in entry:
            failed = True
            if not as_json:
                click.echo(
                    f"FAILED    {org_column(entry['orgId'], entry['org'])}  {entry['error']}"
                )
        elif outcome is not None and not as_json:
            verb = f"tier {outcome.tier}" if outcome.refreshed else "kept"
            shown = org_column(entry["orgId"], entry["org"])
            click.echo(f"{verb:<9} {shown}  (expires {relative(outcome.expires_at)})")
    if as_json:
        print_json(results)
    if failed:
        _fail()
