"""`byods list/show/register/update/extend/disable/enable/delete`: parse, call, render.

Heavy modules (requests via the client, tabulate) are imported inside the commands so
that `byods --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ..errors import InputError
from .context import AppContext, pass_app
from .fleet_cmds import all_orgs_option, concurrency_option, dry_run_option
from .render import F, json_option
from .tables import table_options
from .tty import stdin_is_interactive

if TYPE_CHECKING:
    from ..bulk import ItemResult
    from ..client import DataSourceClient
    from ..models import Schema


def schema_map(app: AppContext, client: DataSourceClient) -> dict[str, Schema]:
    """Schema id -> schema for friendly names; an outage only costs the names."""
    from ..errors import ApiError, TransportError

    try:
        return {schema.id: schema for schema in client.list_schemas()}
    except (ApiError, TransportError) as exc:
        app.warn(f"could not load schema names ({exc}); showing schema ids")
        return {}


def _checked_id(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Validate the ID while parsing, before any config is read or request sent.

    The InputError passes through click's parser to the `byods` group, which prints
    it as the usual one "Error: ..." line and exits 2.
    """
    from ..validation import validate_data_source_id

    if value is None or ctx.resilient_parsing:
        return value
    return validate_data_source_id(value)


def _id_argument(required: bool = True) -> Callable[[F], F]:
    """The data-source ID argument of a command, validated while parsing."""
    return click.argument(
        "data_source_id",
        metavar="ID" if required else "[ID]",
        required=required,
        callback=_checked_id,
    )


def _data_source_options(required_note: str) -> Callable[[F], F]:
    options = [
        click.option("--url", metavar="URL", help=f"Endpoint (https:// or wss://){required_note}."),
        click.option(
            "--schema-id",
            metavar="UUID",
            help=f"Schema id (see `byods schemas list`){required_note}.",
        ),
        click.option("--audience", metavar="TEXT", help=f"JWS audience (aud){required_note}."),
        click.option("--subject", metavar="TEXT", help=f"JWS subject (sub){required_note}."),
        click.option(
            "--nonce", metavar="TEXT", help="Nonce for the new JWS (default: a fresh random one)."
        ),
        click.option(
            "--lifetime-minutes",
            metavar="N",
            help="JWS lifetime in minutes, 1..1440.",
        ),
    ]

    def decorate(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def _lifetime(value: str | None) -> int | None:
    from ..validation import validate_lifetime

    return None if value is None else validate_lifetime(value)


def _as_validator(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """Adapt a validator for click.prompt, which re-asks on UsageError."""

    def proc(value: str) -> Any:
        try:
            return check(value)
        except InputError as exc:
            raise click.UsageError(str(exc)) from None

    return proc


def _pick_schema(client: DataSourceClient) -> str:
    """A numbered pick-list of the live schemas with their service types."""
    from ..validation import validate_schema_id

    schemas = client.list_schemas(refresh=True)
    if not schemas:
        value: str = click.prompt(
            "Schema id (UUID)", value_proc=_as_validator(validate_schema_id), err=True
        )
        return value
    click.echo("Available schemas:", err=True)
    for number, schema in enumerate(schemas, start=1):
        click.echo(f"  {number}) {schema.label:<40} {schema.id}", err=True)
    choice: int = click.prompt("Schema number", type=click.IntRange(1, len(schemas)), err=True)
    return schemas[choice - 1].id


def _expires_phrase(item: ItemResult) -> str:
    from .render import remaining

    if item.expires_at is None:
        return "expiry unknown"
    return "expires in " + remaining(item.expires_at)


def _echo_change(verb: str, data_source: Any, as_json: bool) -> None:
    from .render import data_source_json, expiry_sentence, print_json

    if as_json:
        print_json(data_source_json(data_source))
    else:
        click.echo(f"{verb} data source {data_source.id}; {expiry_sentence(data_source)}.")


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""

    @group.command("list")
    @table_options
    @json_option
    @all_orgs_option
    @concurrency_option
    @pass_app
    def list_command(
        app: AppContext,
        wide: bool,
        columns: str | None,
        as_json: bool,
        all_orgs: bool,
        concurrency: int,
    ) -> None:
        """List the org's data sources with schema names and time until the JWS expires.

        The table fits the terminal ($COLUMNS): columns by priority (id, status,
        expires, audience, schema, url, subject), long cells shortened with "…".
        """
        from .render import data_source_json, data_source_table, print_json
        from .tables import output_width

        if all_orgs:
            from .fleet_cmds import list_all_orgs

            list_all_orgs(app, as_json, concurrency, wide, columns)
            return

        client = app.client()
        data_sources = client.list()
        if as_json:
            print_json([data_source_json(ds) for ds in data_sources])
            return
        needs_names = any(ds.schema_id for ds in data_sources)
        schemas = schema_map(app, client) if needs_names else {}
        click.echo(
            data_source_table(
                data_sources, schemas, columns=columns, wide=wide, width=output_width()
            )
        )

    @group.command("show")
    @_id_argument()
    @click.option("--show-token", is_flag=True, help="Also print the raw jwsToken (a secret).")
    @json_option
    @pass_app
    def show_command(app: AppContext, data_source_id: str, show_token: bool, as_json: bool) -> None:
        """Show every field of a data source and its decoded JWS header and claims."""
        from .render import data_source_detail, data_source_json, print_json

        client = app.client()
        data_source = client.get(data_source_id)
        if as_json:
            print_json(data_source_json(data_source, show_token=show_token))
            return
        schemas = schema_map(app, client) if data_source.schema_id else {}
        click.echo(data_source_detail(data_source, schemas, show_token=show_token))

    @group.command("register")
    @_data_source_options(" (asked for on a terminal when missing)")
    @json_option
    @pass_app
    def register_command(
        app: AppContext,
        url: str | None,
        schema_id: str | None,
        audience: str | None,
        subject: str | None,
        nonce: str | None,
        lifetime_minutes: str | None,
        as_json: bool,
    ) -> None:
        """Register a new data source.

        \b
        Example:
          byods register --url https://dap.example.com/ingest \\
            --schema-id 78efc775-dccb-45ca-9acf-989a4a59f788 \\
            --audience MyApp --subject callAudioData
        """
        from .. import validation as v
        from ..bodies import DEFAULT_LIFETIME_MINUTES

        lifetime = _lifetime(lifetime_minutes)
        values: dict[str, str | None] = {
            "url": v.validate_url(url) if url is not None else None,
            "schema-id": v.validate_schema_id(schema_id) if schema_id is not None else None,
            "audience": v.validate_audience(audience) if audience is not None else None,
            "subject": v.validate_subject(subject) if subject is not None else None,
        }
        if nonce is not None:
            v.validate_nonce(nonce)
        missing = [name for name, value in values.items() if value is None]
        if missing and not stdin_is_interactive():
            raise InputError(
                "missing "
                + ", ".join(f"--{name}" for name in missing)
                + " (stdin is not a terminal, so byods cannot ask for them)"
            )
        client = app.client()
        prompts: dict[str, tuple[str, Callable[[str], Any]]] = {
            "url": ("Endpoint URL (https:// or wss://)", v.validate_url),
            "audience": ("Audience (aud)", v.validate_audience),
            "subject": ("Subject (sub)", v.validate_subject),
        }
        for name in missing:
            if name == "schema-id":
                values[name] = _pick_schema(client)
            else:
                text, check = prompts[name]
                values[name] = click.prompt(text, value_proc=_as_validator(check), err=True)
        created = client.register(
            url=str(values["url"]),
            schema_id=str(values["schema-id"]),
            audience=str(values["audience"]),
            subject=str(values["subject"]),
            nonce=nonce,
            lifetime_minutes=lifetime if lifetime is not None else DEFAULT_LIFETIME_MINUTES,
        )
        _echo_change("Registered", created, as_json)

    @group.command("update")
    @_id_argument()
    @_data_source_options(" (unchanged when omitted)")
    @json_option
    @pass_app
    def update_command(
        app: AppContext,
        data_source_id: str,
        url: str | None,
        schema_id: str | None,
        audience: str | None,
        subject: str | None,
        nonce: str | None,
        lifetime_minutes: str | None,
        as_json: bool,
    ) -> None:
        """Change a data source. Everything not given is kept; a new nonce is always sent."""
        lifetime = _lifetime(lifetime_minutes)
        if all(x is None for x in (url, schema_id, audience, subject, nonce, lifetime)):
            raise InputError(
                "nothing to update: give at least one of --url, --schema-id, --audience, "
                "--subject, --nonce, --lifetime-minutes (to only renew the JWS, use `byods extend`)"
            )
        updated = app.client().update(
            data_source_id,
            url=url,
            schema_id=schema_id,
            audience=audience,
            subject=subject,
            lifetime_minutes=lifetime,
            nonce=nonce,
        )
        _echo_change("Updated", updated, as_json)

    @group.command("extend")
    @_id_argument(required=False)
    @click.option("--all", "extend_every", is_flag=True, help="Extend every data source.")
    @click.option(
        "--if-expiring-within",
        "window",
        metavar="DURATION",
        help="With --all: only those whose JWS expires within this time (e.g. 6h, 90m, 1d).",
    )
    @click.option("--lifetime-minutes", metavar="N", help="New JWS lifetime, 1..1440.")
    @json_option
    @all_orgs_option
    @concurrency_option
    @dry_run_option
    @pass_app
    def extend_command(
        app: AppContext,
        data_source_id: str | None,
        extend_every: bool,
        window: str | None,
        lifetime_minutes: str | None,
        as_json: bool,
        all_orgs: bool,
        concurrency: int,
        dry_run: bool,
    ) -> None:
        """Renew the JWS of one data source (or --all) before it expires.

        Only the nonce (and the lifetime, if given) change. With --all, prints one line
        per data source and a summary; exits 1 if any failed. Disabled data sources are
        skipped (`byods enable` renews their JWS). --all works --concurrency requests at
        a time with one shared pacing; --all-orgs covers every active org; --dry-run
        lists what would be extended and sends no PUT.
        """
        if all_orgs:
            extend_every = True
        if extend_every == (data_source_id is not None):
            raise InputError("give either a data source ID or --all")
        if window is not None and not extend_every:
            raise InputError("--if-expiring-within only applies with --all")
        if dry_run and not extend_every:
            raise InputError("--dry-run only applies with --all")
        lifetime = _lifetime(lifetime_minutes)
        if data_source_id is not None:  # and not --all
            extended = app.client().extend(data_source_id, lifetime)
            _echo_change("Extended", extended, as_json)
            return

        from ..durations import parse_duration
        from .fleet_cmds import extend_all

        extend_all(
            app,
            within=parse_duration(window) if window is not None else None,
            lifetime=lifetime,
            as_json=as_json,
            all_orgs=all_orgs,
            concurrency=concurrency,
            dry_run=dry_run,
        )

    @group.command("disable")
    @_id_argument()
    @click.option("--reason", metavar="TEXT", help="Why; shown to the org's admin in Control Hub.")
    @json_option
    @pass_app
    def disable_command(
        app: AppContext, data_source_id: str, reason: str | None, as_json: bool
    ) -> None:
        """Stop Webex sending data to a data source (--reason is required)."""
        from ..validation import validate_reason

        if reason is None:
            raise InputError("--reason is required: it is shown to the org's admin in Control Hub")
        validate_reason(reason)
        disabled = app.client().disable(data_source_id, reason)
        _echo_change("Disabled", disabled, as_json)

    @group.command("enable")
    @_id_argument()
    @json_option
    @pass_app
    def enable_command(app: AppContext, data_source_id: str, as_json: bool) -> None:
        """Set a disabled data source active again (this also renews its JWS)."""
        enabled = app.client().enable(data_source_id)
        _echo_change("Enabled", enabled, as_json)

    @group.command("delete")
    @_id_argument()
    @click.option("--yes", "-y", "assume_yes", is_flag=True, help="Do not ask for confirmation.")
    @json_option
    @pass_app
    def delete_command(
        app: AppContext, data_source_id: str, assume_yes: bool, as_json: bool
    ) -> None:
        """Delete a data source. Asks first on a terminal; elsewhere requires --yes."""
        from .render import print_json

        if not assume_yes:
            if not stdin_is_interactive():
                raise InputError(
                    "refusing to delete without confirmation: stdin is not a terminal; pass --yes"
                )
            click.confirm(
                f"Delete data source {data_source_id}? Webex stops sending it data",
                abort=True,
                err=True,
            )
        app.client().delete(data_source_id)
        if as_json:
            print_json({"id": data_source_id, "deleted": True})
        else:
            click.echo(f"Deleted data source {data_source_id}.")
