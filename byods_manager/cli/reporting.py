"""Turning library errors into one-line messages and the documented exit codes."""

from __future__ import annotations

from typing import Any

import click

from ..errors import ByodsError

INTERRUPTED_EXIT = 130


class ReportsErrors(click.Command):
    """Mixin for click commands and groups: ByodsError -> "Error: ..." + its exit code.

    Ctrl-C anywhere (also at a prompt) is ``Interrupted.`` with exit 130; a declined
    prompt is ``Cancelled.`` with exit 1; a file the environment will not let the tool
    read or write is one line naming it, exit 2.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ByodsError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(INTERRUPTED_EXIT)
        except click.Abort as exc:
            if isinstance(exc.__context__ or exc.__cause__, KeyboardInterrupt):
                click.echo("\nInterrupted.", err=True)
                ctx.exit(INTERRUPTED_EXIT)
            click.echo("Cancelled.", err=True)
            ctx.exit(1)
        except BrokenPipeError:
            raise  # click's main silences it
        except OSError as exc:
            from .os_errors import describe_os_error

            click.echo(f"Error: {describe_os_error(exc)}", err=True)
            ctx.exit(2)


class ReportingGroup(ReportsErrors, click.Group):
    """The `byods` group: also accepts its own options after the command name."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            from .global_options import hoist_global_options

            args = hoist_global_options(self, ctx, args)
        return super().parse_args(ctx, args)
