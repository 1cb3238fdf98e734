"""Remember that an exact config document already passed validation.

Validating needs jsonschema, the largest import of a command that otherwise needs no
network (`byods token status`). The key is a digest of the file's bytes, its path, the
profile and the rules' version, so any edit, a new profile or a new release validates
again. The entry keeps the warnings that validation produced, so they are repeated on
every run as before. The cache is an optimisation only: any problem reading or writing
it just means validating again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from .. import __version__

_RULES_VERSION = "1"


def cache_key(path: Path, profile: str | None, content: bytes, rules: str) -> str:
    digest = hashlib.sha256()
    for part in (__version__, _RULES_VERSION, rules, str(path.resolve()), profile or ""):
        digest.update(part.encode("utf-8") + b"\0")
    digest.update(content)
    return digest.hexdigest()


def _entry(key: str) -> Path:
    from ..paths import cache_dir

    return cache_dir() / "validated-configs" / f"{key}.json"


def known_warnings(key: str) -> list[str] | None:
    """The warnings recorded when this exact config validated, or None if it has not."""
    try:
        data = json.loads(_entry(key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    warnings = data.get("warnings") if isinstance(data, dict) else None
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        return None
    return warnings


def remember(key: str, warnings: list[str]) -> None:
    from ..fileio import atomic_write_json

    with contextlib.suppress(OSError):
        atomic_write_json(_entry(key), {"warnings": warnings})
