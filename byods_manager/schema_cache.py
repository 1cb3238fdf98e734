"""A one-day cache of the schema list, one file per API base URL, in the user cache dir.

Schemas change rarely, and `byods list` only needs them to show friendly names, so a
warm `byods list` sends a single request.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from .models import Schema

DEFAULT_MAX_AGE = timedelta(days=1)


@dataclass
class SchemaCache:
    path: Path
    max_age: timedelta = DEFAULT_MAX_AGE
    clock: Callable[[], float] = field(default=time.time, repr=False)

    @classmethod
    def for_base_url(cls, base_url: str, directory: Path | None = None) -> SchemaCache:
        if directory is None:
            from .paths import cache_dir

            directory = cache_dir()
        key = hashlib.sha256(base_url.rstrip("/").encode("utf-8")).hexdigest()[:16]
        return cls(directory / f"schemas-{key}.json")

    def load(self) -> list[Schema] | None:
        """The cached schemas, or None when absent, unreadable or older than ``max_age``."""
        from .errors import ConfigError
        from .fileio import read_json

        try:
            data = read_json(self.path, what="schema cache")
        except ConfigError:
            return None
        if not isinstance(data, dict):
            return None
        fetched_at = data.get("fetchedAt")
        items = data.get("items")
        if not isinstance(fetched_at, (int, float)) or not isinstance(items, list):
            return None
        age = self.clock() - fetched_at
        if age < 0 or age > self.max_age.total_seconds():
            return None
        return [Schema.from_api(item) for item in items if isinstance(item, dict)]

    def store(self, schemas: list[Schema]) -> None:
        """Best effort: a cache that cannot be written only costs a request next time."""
        from .fileio import atomic_write_json

        payload: dict[str, Any] = {
            "fetchedAt": self.clock(),
            "items": [schema.raw or schema.to_dict() for schema in schemas],
        }
        try:
            atomic_write_json(self.path, payload)
        except OSError:
            return
