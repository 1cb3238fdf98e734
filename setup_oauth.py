"""Set up the token manager's credentials: the same program as `byods auth setup`.

Run from a checkout: ``python setup_oauth.py [--config PATH] [options]`` (``--help`` lists them).
"""

from __future__ import annotations

from byods_manager.cli.auth_cmd import standalone_command

if __name__ == "__main__":
    standalone_command().main(prog_name="setup_oauth.py")
