"""Turning library errors into one-line messages and the documented exit codes."""

from __future__ import annotations

from typing import Any

import click

from ..errors import ByodsError


class ReportsErrors(click.Command):
    """Mixin for click commands and groups: ByodsError -> "Error: ..." + its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ByodsError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)


class ReportingGroup(ReportsErrors, click.Group):
    """The `byods` group: also accepts its own options after the command name."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            from .global_options import hoist_global_options

            args = hoist_global_options(self, ctx, args)
        return super().parse_args(ctx, args)
