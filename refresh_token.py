"""Refresh the service-app access token: the same program as `byods token refresh`.

Run from a checkout: ``python refresh_token.py [--config PATH] [--profile NAME]
[--base-url URL] [-v] [--force] [--json]``. Exit codes are those of `byods`.
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> None:
    from byods_manager.cli.scripts import run_as_script

    run_as_script("refresh_token.py", "token", "refresh", argv=argv)


if __name__ == "__main__":
    main()
