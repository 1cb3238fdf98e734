"""Turning library errors into one-line messages and the documented exit codes."""

from __future__ import annotations

from typing import Any

import click

from ..errors import ByodsError
from ..secrets import scrub_text


class ReportsErrors(click.Command):
    """Mixin for click commands and groups: ByodsError -> "Error: ..." + its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ByodsError as exc:
            click.echo(f"Error: {scrub_text(str(exc))}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)


class ReportingGroup(ReportsErrors, click.Group):
    """The `byods` group."""
