"""Global options written after the command: ``byods list -v`` means ``byods -v list``.

The rule is derived from the options the root group declares, so a global option added
later works after the command without further edits. An option the command (or one of
its groups) declares under the same name stays with the command: ``byods auth setup
--timeout 60`` is the wizard's own ``--timeout``.
"""

from __future__ import annotations

from collections.abc import Iterable

import click


def _option_names(params: Iterable[click.Parameter]) -> dict[str, click.Option]:
    names: dict[str, click.Option] = {}
    for param in params:
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                names[name] = param
    return names


def _takes_value(option: click.Option) -> bool:
    return not option.is_flag and not option.count and option.nargs != 0


def _global_options(group: click.Group) -> dict[str, click.Option]:
    """The root group's options that may move: not --help, not eager ones like --version."""
    return {
        name: option
        for name, option in _option_names(group.params).items()
        if not option.is_eager and option.expose_value
    }


def _is_global_cluster(token: str, global_opts: dict[str, click.Option], local: set[str]) -> bool:
    """``-vv``: a cluster of short global flags none of which the command declares."""
    if token.startswith("--") or len(token) < 3:
        return False
    flags = [f"-{letter}" for letter in token[1:]]
    return all(
        flag in global_opts and not _takes_value(global_opts[flag]) and flag not in local
        for flag in flags
    )


def hoist_global_options(group: click.Group, ctx: click.Context, args: list[str]) -> list[str]:
    """``args`` with every recognised global option after the command moved before it."""
    global_opts = _global_options(group)
    help_names = set(ctx.help_option_names)
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] != "--":
        option = global_opts.get(args[index].split("=", 1)[0])
        value_follows = option is not None and _takes_value(option) and "=" not in args[index]
        index += 2 if value_follows else 1
    if index >= len(args) or args[index] == "--":
        return args
    leading, rest = args[:index], args[index:]
    command: click.Command | None = group.get_command(ctx, rest[0])
    if command is None:
        return args
    local = {**_option_names(command.params)}
    kept: list[str] = [rest[0]]
    hoisted: list[str] = []
    position = 1
    while position < len(rest):
        token = rest[position]
        if token == "--":
            kept += rest[position:]
            break
        name = token.split("=", 1)[0] if token.startswith("--") else token
        if token.startswith("-") and len(token) > 1:
            if name in local or name in help_names:
                kept.append(token)
                option = local.get(name)
                if option is not None and _takes_value(option) and "=" not in token:
                    kept += rest[position + 1 : position + 2]
                    position += 1
            elif name in global_opts:
                hoisted.append(token)
                if _takes_value(global_opts[name]) and "=" not in token:
                    hoisted += rest[position + 1 : position + 2]
                    position += 1
            elif _is_global_cluster(token, global_opts, set(local)):
                hoisted.append(token)
            else:
                kept.append(token)
        else:
            kept.append(token)
            if isinstance(command, click.Group):
                sub = command.get_command(ctx, token)
                if sub is not None:
                    command = sub
                    local.update(_option_names(sub.params))
        position += 1
    return [*leading, *hoisted, *kept]
