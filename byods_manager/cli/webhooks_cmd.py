"""`byods webhooks register|list|delete`: the Webex webhooks that announce when a customer
org authorizes or deauthorizes the service app (zero-touch onboarding)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .context import AppContext, pass_app
from .render import json_option, print_json, table

if TYPE_CHECKING:
    from ..webhooks_api import OnboardingWebhooks, Registration, Webhook


def _api(app: AppContext) -> OnboardingWebhooks:
    from ..http import HttpClient
    from ..tokens.bearer import TokenManagerBearer
    from ..webhooks_api import OnboardingWebhooks

    manager = app.token_manager()
    http = HttpClient(app.base_url, None, notify=app.notify, deadline=app.deadline)
    return OnboardingWebhooks(
        http, TokenManagerBearer(manager), manager.config.service_app.app_id, manager.store
    )


def _read_secret(value: str | None) -> str | None:
    if value != "-":
        return value
    import sys

    return sys.stdin.readline().rstrip("\r\n")


@click.group("webhooks")
def webhooks_group() -> None:
    """Webex webhooks for serviceApp authorized/deauthorized (zero-touch onboarding).

    They are managed with the token manager's personal access token or integration
    token; a service-app token cannot own webhooks.
    """


@webhooks_group.command("register")
@click.option(
    "--target-url",
    required=True,
    metavar="URL",
    help="Where Webex delivers the events: the public HTTPS URL of "
    "POST /webhooks/service-app (plain http:// only for loopback).",
)
@click.option(
    "--secret",
    metavar="S|-",
    help="Signing secret ('-' reads one line from stdin). Default: the one saved for this "
    "URL, else a new random one, saved in the token store and shown once.",
)
@json_option
@pass_app
def register_command(app: AppContext, target_url: str, secret: str | None, as_json: bool) -> None:
    """Create both serviceApp webhooks (authorized, deauthorized) for this service app.

    Running it again creates no duplicates: webhooks with the same target URL, event and
    app filter are kept (or replaced when their secret changes).
    """
    api = _api(app)
    try:
        result = api.register(target_url, _read_secret(secret))
    finally:
        api.http.close()
    if as_json:
        print_json(result.to_dict())
        return
    click.echo(_render_registration(result, api.store.location))


def _render_registration(result: Registration, store_path: str) -> str:
    rows = [
        (item.webhook.event, item.action, item.webhook.id, item.webhook.target_url)
        for item in result.webhooks
    ]
    lines = [table(rows, ("event", "action", "id", "targetUrl"))]
    if result.removed:
        lines.append(f"Removed {len(result.removed)} superseded webhook(s).")
    if result.generated_secret is not None:
        lines += [
            "",
            f"Webhook secret (shown only this once; saved in {store_path}):",
            f"  {result.generated_secret}",
            "The receiver verifies X-Spark-Signature with it "
            "(byods keepalive --webhook-secret or BYODS_WEBHOOK_SECRET).",
        ]
    else:
        lines.append(f"Signing secret: {result.secret_prefix} (saved in {store_path}).")
    return "\n".join(lines)


@webhooks_group.command("list")
@json_option
@pass_app
def list_command(app: AppContext, as_json: bool) -> None:
    """List the webhooks the token-manager token owns (secrets are never shown)."""
    api = _api(app)
    try:
        webhooks = api.list_webhooks()
    finally:
        api.http.close()
    if as_json:
        print_json([webhook.to_dict() for webhook in webhooks])
        return
    if not webhooks:
        click.echo("No webhooks.")
        return
    click.echo(_render_list(webhooks, api.app_id))


def _render_list(webhooks: list[Webhook], app_id: str) -> str:
    from ..webhooks_api import app_filter

    def shown_filter(value: str | None) -> str:
        if not value:
            return "-"
        if value == app_filter(app_id):
            return "id=(this service app)"
        return value if len(value) <= 32 else value[:31] + "…"

    rows = [
        (
            w.id,
            w.resource,
            w.event,
            w.target_url,
            shown_filter(w.filter),
            w.status or "-",
            w.created,
        )
        for w in webhooks
    ]
    return table(rows, ("id", "resource", "event", "targetUrl", "filter", "status", "created"))


@webhooks_group.command("delete")
@click.argument("webhook_id", metavar="ID")
@pass_app
def delete_command(app: AppContext, webhook_id: str) -> None:
    """Delete one webhook by id."""
    api = _api(app)
    try:
        api.delete(webhook_id)
    finally:
        api.http.close()
    click.echo(f"Deleted webhook {webhook_id}.")


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""
    group.add_command(webhooks_group)
