"""Start-up cost of a command that needs no network, printed (never asserted): `make bench`.

Compares `byods token status` (a config and a stored token, no HTTP) with
`python -c "import click"`, the floor for any click program. The goal is a ratio of at
most 1.5. The first run validates the config (and remembers it); the figures are for
the runs after it, which is what a cron job or a shell prompt pays.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

RUNS = 15


def cpu_seconds(argv: list[str], env: dict[str, str]) -> float:
    """User plus system CPU time of one run: steadier than wall time on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_of(argv: list[str], env: dict[str, str]) -> float:
    cpu_seconds(argv, env)  # warm the page cache (and the validation cache)
    return statistics.median(cpu_seconds(argv, env) for _ in range(RUNS))


def isolated_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BYODS_", "WEBEX_"))}
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        (root / name).mkdir()
        env[name] = str(root / name)
    env["HOME"] = str(root)
    config = root / "token-config.json"
    config.write_text(
        json.dumps(
            {
                "serviceApp": {
                    "appId": "bench-app",
                    "clientId": "bench-client",
                    "clientSecret": "bench-secret",
                    "targetOrgId": "bench-org",
                },
                "tokenManager": {"personalAccessToken": "bench-personal-token"},
            }
        )
    )
    config.chmod(0o600)
    env["BYODS_CONFIG"] = str(config)
    return env


def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        env = isolated_env(Path(temp))
        baseline = median_of([sys.executable, "-c", "import click"], env)
        status = median_of([sys.executable, "-m", "byods_manager", "token", "status"], env)
        help_ = median_of([sys.executable, "-m", "byods_manager", "--help"], env)
    print(f"start-up CPU time (user+sys), median of {RUNS} runs:")
    print(f"  python -c 'import click'   {baseline * 1000:7.1f} ms")
    print(f"  byods --help               {help_ * 1000:7.1f} ms  ({help_ / baseline:.2f}x)")
    print(f"  byods token status         {status * 1000:7.1f} ms  ({status / baseline:.2f}x)")
    print(f"start-up ratio (token status / import click): {status / baseline:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    main()
