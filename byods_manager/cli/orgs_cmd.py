"""`byods orgs list/add/remove`: the orgs the service app serves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..errors import InputError
from .context import AppContext, pass_app
from .render import json_option, print_json
from .tables import table_options
from .tty import stdin_is_interactive

if TYPE_CHECKING:
    from ..fleet.orgs import Fleet
    from ..stores.orgs import OrgRecord


@click.group("orgs")
def orgs_group() -> None:
    """The customer orgs the service app serves (the config's org and the registry)."""


def org_json(fleet: Fleet, org: OrgRecord) -> dict[str, Any]:
    from ..tokens.tiers import iso

    return {
        "name": org.name,
        "orgId": org.org_id,
        "status": org.status,
        "source": org.source,
        "addedAt": iso(org.added_at) if org.added_at else None,
        "tokenExpiresAt": iso(fleet.token_expiry(org.org_id)),
    }


@orgs_group.command("list")
@json_option
@table_options
@pass_app
def list_command(app: AppContext, as_json: bool, wide: bool, columns: str | None) -> None:
    """List every org: name, status, token expiry, where it came from, when it was added,
    org id; and the Webex environment in use (each org's JSON item carries ``environment``
    and ``baseUrl``). The table fits the terminal ($COLUMNS); --wide shows everything."""
    from ..tokens.status import relative
    from ..tokens.tiers import iso
    from .fleet_cmds import org_column
    from .fleet_tables import ORGS_COLUMNS
    from .tables import check_columns, output_width, render_table

    if not as_json:
        check_columns(ORGS_COLUMNS, columns)
    fleet = app.fleet()
    orgs = fleet.orgs()
    if as_json:
        where = {"environment": app.environment.name, "baseUrl": fleet.base_url}
        print_json([{**org_json(fleet, org), **where} for org in orgs])
        return
    click.echo(f"Environment: {app.describe_environment()}")
    rows: list[dict[str, str]] = []
    for org in orgs:
        expiry = fleet.token_expiry(org.org_id)
        rows.append(
            {
                "org": org_column(org.org_id, org.label, wide),
                "org-id": org.org_id,
                "status": org.status,
                "source": org.source or "-",
                "added": (iso(org.added_at) if org.added_at else None) or "-",
                "token-expires": relative(expiry) if expiry is not None else "no token",
            }
        )
    click.echo(render_table(ORGS_COLUMNS, rows, chosen=columns, wide=wide, width=output_width()))


@orgs_group.command("add")
@click.argument("org_id", metavar="ORG_ID")
@click.option("--name", metavar="NAME", help="A short name to use with --org.")
@json_option
@pass_app
def add_command(app: AppContext, org_id: str, name: str | None, as_json: bool) -> None:
    """Add an org: mints its token pair through the Applications API (which proves the
    service app is authorized there) and records it in the org registry.

    ORG_ID is the base64 Webex id or the UUID Control Hub shows (registered as the base64
    id). Adding a registered org again (either form) mints its tokens again and exits 0;
    another --name for it is refused (use `byods orgs rename`).
    """
    fleet = app.fleet()
    known = fleet.find(org_id)
    record = fleet.add(org_id, name)
    if as_json:
        print_json(org_json(fleet, record))
        return
    label = f" ({record.name})" if record.name else ""
    if known is None:
        click.echo(f"Added org {record.org_id}{label}; its service-app tokens are stored.")
        return
    was = f" as {known.name}" if known.name else ""
    named = f"; named it {record.name}" if record.name and not known.name else ""
    click.echo(
        f"Org {record.org_id} is already registered{was}{named}; "
        "its service-app tokens were minted again."
    )


@orgs_group.command("rename")
@click.argument("org", metavar="ORG")
@click.argument("new_name", metavar="NEW_NAME")
@json_option
@pass_app
def rename_command(app: AppContext, org: str, new_name: str, as_json: bool) -> None:
    """Give an org (name or id) another name; `--org OLD` stops working."""
    fleet = app.fleet()
    before = fleet.resolve(org)
    record = fleet.rename(before.org_id, new_name)
    if as_json:
        print_json(org_json(fleet, record))
        return
    click.echo(f"Renamed org {record.org_id}: {before.name or '(no name)'} -> {record.name}")


@orgs_group.command("remove")
@click.argument("org", metavar="ORG")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_app
def remove_command(app: AppContext, org: str, assume_yes: bool, as_json: bool) -> None:
    """Remove an org (name or id) from the registry and drop its stored tokens.

    Its data sources are left as they are in Webex (they expire unless extended).
    """
    fleet = app.fleet()
    record = fleet.resolve(org)
    if not assume_yes:
        if not stdin_is_interactive():
            raise InputError(
                "refusing to remove without confirmation: stdin is not a terminal; pass --yes"
            )
        click.confirm(
            f"Remove org {record.org_id}? byods stops extending its data sources",
            abort=True,
            err=True,
        )
    removed = fleet.remove(record.org_id)
    if as_json:
        print_json({"orgId": removed.org_id, "name": removed.name, "removed": True})
    else:
        click.echo(f"Removed org {removed.org_id}.")


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(orgs_group)
