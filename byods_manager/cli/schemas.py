"""`byods schemas list` and `byods schemas show ID`."""

from __future__ import annotations

import click

from .context import AppContext, pass_app
from .render import json_option
from .tables import table_options


def register(group: click.Group) -> None:
    """Add this module's commands to `group`."""

    @group.group("schemas")
    def schemas_group() -> None:
        """Data-source schemas: which data Webex sends and how."""

    @schemas_group.command("list")
    @click.option("--refresh", is_flag=True, help="Ignore the one-day schema cache.")
    @table_options
    @json_option
    @pass_app
    def list_command(
        app: AppContext, refresh: bool, wide: bool, columns: str | None, as_json: bool
    ) -> None:
        """List the available schemas (cached for a day), by name; --wide adds the URL."""
        from .render import print_json, schema_table
        from .tables import output_width

        schemas = app.client().list_schemas(refresh=refresh)
        if as_json:
            print_json([schema.to_dict() for schema in schemas])
        else:
            click.echo(schema_table(schemas, columns=columns, wide=wide, width=output_width()))

    @schemas_group.command("show")
    @click.argument("schema_id", metavar="ID")
    @json_option
    @pass_app
    def show_command(app: AppContext, schema_id: str, as_json: bool) -> None:
        """Show one schema."""
        from .render import print_json, schema_detail

        schema = app.client().get_schema(schema_id)
        if as_json:
            print_json(schema.to_dict())
        else:
            click.echo(schema_detail(schema))
