"""Start-up cost of a command that needs no network, printed (never asserted): `make bench`.

Compares `byods token status` (a config and a stored token, no HTTP) with
`python -c "import click"`, the floor for any click program. The goal is a ratio of at
most 1.5. The first run validates the config (and remembers it); the figures are for
the runs after it, which is what a cron job or a shell prompt pays. Bytecode caching is
on for the runs (an installed copy has it), even where PYTHONDONTWRITEBYTECODE is set.
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

RUNS = 20


def cpu_seconds(argv: list[str], env: dict[str, str]) -> float:
    """User plus system CPU time of one run: steadier than wall time on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(commands: dict[str, list[str]], env: dict[str, str]) -> dict[str, list[float]]:
    """Runs the commands in turn (interleaved, so they share the machine's load)."""
    for argv in commands.values():
        cpu_seconds(argv, env)  # warm the page cache (and the validation cache)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(RUNS):
        for name, argv in commands.items():
            samples[name].append(cpu_seconds(argv, env))
    return samples


def isolated_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BYODS_", "WEBEX_"))}
    # Like an installed copy: compiled bytecode is cached (pip compiles click's when it
    # installs it), here under a temporary prefix instead of the checkout.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
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
    byods = [sys.executable, "-m", "byods_manager"]
    with tempfile.TemporaryDirectory() as temp:
        env = isolated_env(Path(temp))
        samples = measure(
            {
                "python -c 'import click'": [sys.executable, "-c", "import click"],
                "byods --help": [*byods, "--help"],
                "byods token status": [*byods, "token", "status"],
            },
            env,
        )
    print(f"start-up CPU time (user+sys) over {RUNS} interleaved runs: fastest / median")
    base_min, base_median = min(samples["python -c 'import click'"]), 0.0
    for name, values in samples.items():
        fastest, median = min(values), statistics.median(values)
        base_median = base_median or median
        print(
            f"  {name:<26} {fastest * 1000:6.1f} ms / {median * 1000:6.1f} ms"
            f"  ({fastest / base_min:.2f}x / {median / base_median:.2f}x)"
        )
    status = samples["byods token status"]
    print(
        f"start-up ratio (token status / import click, fastest runs): "
        f"{min(status) / base_min:.2f} (goal <= 1.5)"
    )


if __name__ == "__main__":
    main()
