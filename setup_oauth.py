"""Set up the token manager's credentials: the same program as `byods auth setup`.

Run from a checkout: ``python setup_oauth.py [--config PATH] [options]`` (``--help`` lists them).
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> None:
    from byods_manager.cli.scripts import run_as_script

    run_as_script("setup_oauth.py", "auth", "setup", argv=argv)


if __name__ == "__main__":
    main()
