"""``--all-orgs`` and ``--concurrency``, the fleet options that commands on the start-up
path declare.

They live apart from :mod:`.fleet_cmds` so that `byods token status` and `byods token
refresh` do not import the fleet commands to declare them.
"""

from __future__ import annotations

import click

from .render import F


def all_orgs_option(func: F) -> F:
    return click.option(
        "--all-orgs", is_flag=True, help="Cover every active org (see `byods orgs list`)."
    )(func)


def concurrency_option(func: F) -> F:
    return click.option(
        "--concurrency",
        type=click.IntRange(1, 64),
        default=8,
        show_default=True,
        metavar="N",
        help="Requests in flight at once.",
    )(func)
