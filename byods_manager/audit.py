"""The audit trail: one JSON line per change, appended to a 0600 file.

Callers pass only safe fields, and every record is filtered again here: keys that
name a credential are dropped and values that look like a JWS are redacted, so a
token cannot reach the file even by mistake.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .fileio import SECRET_FILE_MODE, ensure_private_dir
from .secrets import scrub_text

log = logging.getLogger(__name__)

AUDIT_FILE_MODE = SECRET_FILE_MODE
# A key is dropped when it contains one of these, or names a token ("accessToken",
# "refresh_token"); "tokenLifetimeMinutes" is a setting, not a credential, and stays.
_DENIED_KEY_PARTS = ("secret", "jws", "jwt", "password", "authorization", "bearer", "credential")
MAX_ERROR_LENGTH = 500


def _is_denied(key: str) -> bool:
    normalized = key.lower().replace("_", "").replace("-", "")
    return normalized.endswith("token") or any(part in normalized for part in _DENIED_KEY_PARTS)


def scrub(value: Any) -> Any:
    """Redact known secrets and JWS-looking text anywhere in ``value`` (strings, lists,
    dicts)."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {str(k): scrub(v) for k, v in value.items() if not _is_denied(str(k))}
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    return value


@dataclass
class AuditLog:
    path: Path

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> AuditLog:
        """The log at ``path``, else ``audit.jsonl`` in the user state directory."""
        if path:
            return cls(Path(path).expanduser())
        from .paths import default_audit_log

        return cls(default_audit_log())

    def record(
        self,
        operation: str,
        data_source_id: str | None,
        outcome: str,
        tracking_id: str | None = None,
        error: str | None = None,
        **safe_fields: Any,
    ) -> dict[str, Any]:
        """Append one line; returns what was written. Never raises for I/O trouble."""
        entry: dict[str, Any] = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "operation": operation,
            "dataSourceId": data_source_id,
            "outcome": outcome,
            "trackingId": tracking_id,
        }
        if error:
            # Scrubbed before it is cut short, so no secret is left half-visible.
            entry["error"] = scrub_text(error)[:MAX_ERROR_LENGTH]
        for key, value in safe_fields.items():
            if value is not None and key not in entry:
                entry[key] = value
        entry = scrub(entry)  # drops credential keys, redacts JWS-looking text
        self._append(json.dumps(entry, ensure_ascii=False, sort_keys=False) + "\n")
        return entry

    def _append(self, line: str) -> None:
        try:
            ensure_private_dir(self.path.parent)
            # O_NOFOLLOW: a symlink planted at the log's path is refused, not written through.
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(self.path, flags, AUDIT_FILE_MODE)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
        except OSError as exc:
            log.warning("could not write the audit log %s: %s", self.path, exc.strerror or exc)

    def read(self) -> list[dict[str, Any]]:
        """All records so far (for tests and `jq`-less inspection)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]
