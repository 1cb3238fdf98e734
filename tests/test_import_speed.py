"""`byods --help` and `byods token status` must not pay for imports they do not use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ["requests", "jsonschema", "cryptography", "urllib3", "byods_manager.http"]

PROBE = """
import json, sys
import byods_manager.cli.main
print(json.dumps({name: name in sys.modules for name in %r}))
"""


def test_importing_the_cli_stays_light() -> None:
    output = subprocess.run(
        [sys.executable, "-c", PROBE % HEAVY], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(output) == dict.fromkeys(HEAVY, False)


def test_help_runs_without_heavy_imports() -> None:
    probe = (
        "import sys\n"
        "from byods_manager.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "Usage: byods" in result.stdout
    assert "HEAVY []" in result.stdout


# What `byods token status` (no network) may not import: the start-up budget is 1.5x
# `python -c "import click"` (benchmarks/bench_startup.py). Each of these was on that path
# once: the fleet commands (for --all-orgs), the org registry, lease rules and store
# summary, JWS decoding, the token endpoints, and dataclasses (each costs ~0.5 ms to define).
NOT_ON_TOKEN_STATUS_PATH = [
    *HEAVY,
    "dataclasses",
    "byods_manager.cli.fleet_cmds",
    "byods_manager.fleet.orgs",
    "byods_manager.stores.orgs",
    "byods_manager.stores.leases",
    "byods_manager.stores.base",
    "byods_manager.stores.postgres",
    "byods_manager.jws",
    "byods_manager.webex_ids",
    "byods_manager.tokens.endpoints",
]

STATUS_PROBE = """
import json, sys
from byods_manager.cli.main import main
try:
    main(["token", "status"])
except SystemExit as exit:
    assert not exit.code, exit.code
print("LOADED", json.dumps([name for name in %r if name in sys.modules]))
"""


def test_token_status_stays_on_the_light_path(tmp_path: Path) -> None:
    config = tmp_path / "token-config.json"
    config.write_text(
        json.dumps(
            {
                "serviceApp": {
                    "appId": "light-app",
                    "clientId": "light-client",
                    "clientSecret": "light-secret-0123456789",
                    "targetOrgId": "light-org",
                },
                "tokenManager": {"personalAccessToken": "light-personal-token-0123456789"},
            }
        )
    )
    config.chmod(0o600)
    env = {**os.environ, "BYODS_CONFIG": str(config)}
    probe = [sys.executable, "-c", STATUS_PROBE % NOT_ON_TOKEN_STATUS_PATH]
    # The first run validates the config (jsonschema) and remembers it; later runs do not.
    subprocess.run(probe, env=env, capture_output=True, text=True, check=True)
    output = subprocess.run(probe, env=env, capture_output=True, text=True, check=True).stdout
    assert "Tier 2 - token-manager token" in output
    assert "LOADED []" in output
