"""Turning library errors into one-line messages and the documented exit codes."""

from __future__ import annotations

from typing import Any

import click

from ..errors import ByodsError
from ..secrets import scrub_text

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
            click.echo(f"Error: {scrub_text(str(exc))}", err=True)
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
    """The `byods` group: also accepts its own options after the command name, and
    imports a command's module only when that command is needed (start-up cost)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Top-level command name -> the module (in byods_manager.cli) whose
        # register(group) adds it; see add_command_module.
        self.command_modules: dict[str, str] = {}

    def add_command_module(self, module: str, *names: str) -> None:
        """Declare that ``byods_manager.cli.<module>.register(group)`` adds ``names``."""
        for name in names:
            self.command_modules[name] = module

    def load_command_module(self, module: str) -> None:
        import importlib

        from .examples import add_examples

        for name in [name for name, owner in self.command_modules.items() if owner == module]:
            del self.command_modules[name]
        before = set(self.commands)
        importlib.import_module(f"{__package__}.{module}").register(self)
        for name in sorted(set(self.commands) - before):
            add_examples(self.commands[name], name)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = self.command_modules.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            self.load_command_module(module)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        for module in sorted(set(self.command_modules.values())):
            self.load_command_module(module)
        return super().list_commands(ctx)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            from .global_options import hoist_global_options

            args = hoist_global_options(self, ctx, args)
        return super().parse_args(ctx, args)
