"""``--all-orgs``, the one fleet option that commands on the start-up path declare.

It lives apart from :mod:`.fleet_cmds` so that `byods token status` does not import the
fleet commands to declare it.
"""

from __future__ import annotations

import click

from .render import F


def all_orgs_option(func: F) -> F:
    return click.option(
        "--all-orgs", is_flag=True, help="Cover every active org (see `byods orgs list`)."
    )(func)
