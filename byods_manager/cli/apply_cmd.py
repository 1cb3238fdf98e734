"""`byods apply -f FILE [--dry-run] [--prune] [--yes]`: print the plan, then make it true."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import click

from ..errors import InputError
from .context import AppContext, pass_app
from .fleet_cmds import (
    Progress,
    all_orgs_option,
    bulk_deadline,
    concurrency_option,
    dry_run_option,
    one_line,
    org_column,
    org_failure_json,
    selected_orgs,
)
from .render import json_option, print_json
from .tty import stdin_is_interactive

if TYPE_CHECKING:
    from ..fleet.apply import Plan


@click.command("apply")
@click.option(
    "-f",
    "--file",
    "file_path",
    required=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Desired data sources (YAML or JSON list of url, schemaId, audience, subject, "
    "optional lifetimeMinutes and status).",
)
@dry_run_option
@click.option("--prune", is_flag=True, help="Delete data sources the file does not list.")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask before pruning.")
@click.option(
    "--allow-empty",
    is_flag=True,
    help="With --prune, accept a FILE that lists no data sources (deletes them all).",
)
@all_orgs_option
@concurrency_option
@json_option
@pass_app
def apply_command(
    app: AppContext,
    file_path: str,
    dry_run: bool,
    prune: bool,
    assume_yes: bool,
    allow_empty: bool,
    all_orgs: bool,
    concurrency: int,
    as_json: bool,
) -> None:
    """Make the org's data sources match FILE: prints the plan (+ create, ~ update,
    = unchanged, - extra), then applies it. Identity is (schemaId, audience, subject);
    url, lifetime and status are updated in place. Exits 1 if anything failed.
    With --prune, a FILE that lists nothing is refused unless --allow-empty is given."""
    from ..errors import ByodsError
    from ..fleet.apply import EXTRA, apply_plan, make_plan
    from ..fleet.desired import load_desired
    from ..fleet.pacing import SharedPacer
    from ..fleet.runner import WorkerClients

    desired = load_desired(file_path)
    if prune and not desired and not dry_run and not allow_empty:
        _refuse_empty_prune(file_path, all_orgs)
    bulk_deadline(app)
    clients = WorkerClients(app.client_factory(SharedPacer()))
    plans: list[tuple[str, str, Plan]] = []
    failed = False
    payload: list[dict[str, Any]] = []
    try:
        for org_id, label in selected_orgs(app, all_orgs):
            prefix = f"[{org_column(org_id, label)}] " if all_orgs else ""
            try:
                plan = make_plan(functools.partial(clients.get, org_id), desired, concurrency)
            except ByodsError as exc:
                if not all_orgs:
                    raise  # one org: its own exit code and whole message, as other commands
                failed = True
                error = one_line(str(exc))
                click.echo(f"Error: {prefix}{error}", err=True)
                payload.append(org_failure_json(label, org_id, error))
                continue
            plans.append((org_id, label, plan))
            if not as_json:
                for step in plan.steps:
                    for line in step.lines(prune):
                        click.echo(prefix + line)
                click.echo(f"{prefix}Plan: {plan.summary()}.")
        pruning = prune and any(p.count(EXTRA) for _o, _l, p in plans)
        if pruning and not dry_run and not assume_yes:
            if not stdin_is_interactive():
                raise InputError("refusing to prune without confirmation: pass --yes")
            click.confirm("Delete the extra data sources listed above?", abort=True, err=True)
        progress = Progress(not as_json and not dry_run, "applying")
        with progress.running():
            progress.set_total(sum(len(plan.steps) for _o, _l, plan in plans))
            for org_id, _label, plan in plans:
                if not dry_run:
                    apply_plan(
                        functools.partial(clients.get, org_id),
                        plan,
                        prune=prune,
                        concurrency=concurrency,
                        on_step=lambda _step: progress.advance(),
                    )
        for org_id, label, plan in plans:
            prefix = f"[{org_column(org_id, label)}] " if all_orgs else ""
            for step in plan.failed:
                failed = True
                if not as_json:
                    click.echo(f"FAILED    {prefix}{step.lines(prune)[0]}: {step.error}")
            entry: dict[str, Any] = {"org": label, "orgId": org_id} if all_orgs else {}
            entry.update(
                {"dryRun": dry_run, "prune": prune, "steps": [s.to_dict() for s in plan.steps]}
            )
            payload.append(entry)
    finally:
        clients.close()
    if as_json:
        print_json(payload if all_orgs else (payload[0] if payload else {}))
    elif dry_run:
        click.echo("Dry run: nothing was changed.")
    if failed:
        click.get_current_context().exit(1)


def _refuse_empty_prune(file_path: str, all_orgs: bool) -> None:
    """An empty or comment-only file is far more often a mistake than a wish to delete
    everything, so pruning to nothing needs --allow-empty."""
    where = "in every org" if all_orgs else "in the org"
    raise InputError(
        f"{file_path} lists no data sources: with --prune that would delete every data "
        f"source {where}; pass --allow-empty if that is what you want"
    )


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(apply_command)
