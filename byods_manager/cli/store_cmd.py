"""`byods store status|migrate|copy`: look at, upgrade and move the persisted state.

The store is chosen like everywhere else (--store, $BYODS_STORE, the config's tokenStore);
nothing here refreshes a token or prints a secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .context import AppContext, pass_app
from .render import json_option, print_json

if TYPE_CHECKING:
    from ..stores.base import StateStore


@click.group("store")
def store_group() -> None:
    """The token store: a file (one host) or PostgreSQL (shared by several hosts)."""


@store_group.command("status")
@json_option
@pass_app
def status_command(app: AppContext, as_json: bool) -> None:
    """Show the backend, its schema version and what it holds (no secrets)."""
    store = _open(app.store_location())
    try:
        status = store.status()
    finally:
        store.close()
    if as_json:
        print_json(status)
        return
    click.echo(_render_status(status))


@store_group.command("migrate")
@json_option
@pass_app
def migrate_command(app: AppContext, as_json: bool) -> None:
    """Create or upgrade the store's schema (also done automatically on first use)."""
    store = _open(app.store_location())
    try:
        before, after = store.migrate()
    finally:
        store.close()
    if as_json:
        print_json(
            {"backend": store.backend, "location": store.location, "from": before, "to": after}
        )
    elif before == after:
        click.echo(f"{store.location}: schema version {after}, up to date.")
    else:
        click.echo(f"{store.location}: schema upgraded from version {before} to {after}.")


@store_group.command("copy")
@click.option("--from", "source", required=True, metavar="PATH_OR_URL", help="Copy from here.")
@click.option("--to", "target", required=True, metavar="PATH_OR_URL", help="Copy to here.")
@click.option("--force", is_flag=True, help="Replace what the destination already holds.")
@json_option
def copy_command(source: str, target: str, force: bool, as_json: bool) -> None:
    """Copy tokens and sections (e.g. the org registry) between stores, without a refresh.

    \b
    Example:
      byods store copy --from ~/.local/state/byods-manager/tokens.json \\
          --to postgresql://byods@db.example.com/byods
    """
    from ..stores.operations import copy_state
    from ..stores.select import store_location

    origin, destination = _open(store_location(source)), _open(store_location(target))
    try:
        summary = copy_state(origin, destination, force=force)
    finally:
        origin.close()
        destination.close()
    if as_json:
        print_json(summary)
        return
    click.echo(
        f"Copied {summary['serviceApps']} service-app and {summary['integrations']} integration "
        f"token entries and {len(summary['sections'])} section(s) from {origin.location} "
        f"to {destination.location}."
    )


def _open(location: str) -> StateStore:
    from ..stores.select import open_store

    return open_store(location)


def _render_status(status: dict[str, Any]) -> str:
    from ..tokens.status import relative

    lines = [
        f"Backend:        {status['backend']}",
        f"Location:       {status['location']}",
        f"Schema version: {status['schemaVersion']}",
    ]
    if "note" in status:  # a newer schema: its content is not read
        lines[-1] += f" ({status['note']})"
        return "\n".join(lines)
    if not status.get("exists", True):
        lines.append("(nothing stored yet)")
    for title, key in (("Service apps", "serviceApps"), ("Integrations", "integrations")):
        entries = status[key]
        lines.append(f"{title}: {len(entries)}")
        for name, times in entries.items():
            expires = times.get("expiresAt")
            when = relative(expires) if expires is not None else "unknown expiry"
            lines.append(f"    {name}: access token expires {when}")
    sections = status["sections"]
    lines.append(f"Sections: {len(sections)}")
    lines.extend(f"    {name}: {count} entries" for name, count in sections.items())
    leases = status["leases"]
    lines.append(f"Leases: {len(leases)}")
    for lease in leases:
        state = "expired" if lease["expired"] else f"{lease['expiresInSeconds']:g}s left"
        lines.append(f"    {lease['name']}: {lease['owner']} ({state})")
    return "\n".join(lines)


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(store_group)
