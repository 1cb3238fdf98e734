"""`byods --help` must not pay for heavy imports (requests, jsonschema, cryptography)."""

from __future__ import annotations

import json
import subprocess
import sys

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
