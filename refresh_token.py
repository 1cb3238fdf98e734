"""Refresh the service-app access token: the same program as `byods token refresh`.

Run from a checkout: ``python refresh_token.py [--config PATH] [--profile NAME]
[--base-url URL] [-v] [--force] [--json]``. Exit codes are those of `byods`.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    from byods_manager.cli.main import cli
    from byods_manager.cli.token_cmd import script_arguments

    args = sys.argv[1:] if argv is None else argv
    cli.main(args=script_arguments(args, "token", "refresh"), prog_name="refresh_token.py")


if __name__ == "__main__":
    main()
