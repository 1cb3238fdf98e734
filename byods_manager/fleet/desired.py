"""The desired-state file of `byods apply`: a YAML or JSON list of data sources.

Each entry has ``url``, ``schemaId``, ``audience``, ``subject`` and optionally
``lifetimeMinutes`` (1..1440) and ``status`` (``active``/``disabled``). The top level is the
list itself or an object with a ``dataSources`` list. Every problem names the file, the
entry (its 1-based position) and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..validation import (
    validate_audience,
    validate_lifetime,
    validate_schema_id,
    validate_subject,
    validate_url,
)

ACTIVE = "active"
DISABLED = "disabled"
_REQUIRED = ("url", "schemaId", "audience", "subject")
_OPTIONAL = ("lifetimeMinutes", "status")
_CHECKS = {
    "url": validate_url,
    "schemaId": validate_schema_id,
    "audience": validate_audience,
    "subject": validate_subject,
}

Identity = tuple[str, str, str]


@dataclass(frozen=True)
class DesiredDataSource:
    url: str
    schema_id: str
    audience: str
    subject: str
    lifetime_minutes: int | None = None
    status: str | None = None

    @property
    def identity(self) -> Identity:
        """What makes two data sources "the same" for apply."""
        return (normal_schema_id(self.schema_id), self.audience, self.subject)


def normal_schema_id(schema_id: str) -> str:
    """Schema ids are UUIDs, which compare case-insensitively: match on the lower-case form."""
    return schema_id.strip().lower()


def identity_text(identity: Identity) -> str:
    schema_id, audience, subject = identity
    return f"{audience}/{subject} (schema {schema_id})"


def load_desired(path: Path | str) -> list[DesiredDataSource]:
    """Read and validate the file; raises one InputError naming file, entry and field."""
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{target}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{target}: not UTF-8 text (byte {exc.start + 1} cannot be decoded); "
            "save it as UTF-8 YAML or JSON"
        ) from None
    document = _parse(target, text)
    return parse_desired(document, str(target))


def _parse(path: Path, text: str) -> Any:
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    import yaml

    try:
        return yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InputError(f"{path}: not valid YAML{where}") from None


def parse_desired(document: Any, source: str) -> list[DesiredDataSource]:
    if isinstance(document, dict) and set(document) == {"dataSources"}:
        document = document["dataSources"]
    if document is None:
        document = []
    if not isinstance(document, list):
        raise InputError(f"{source}: expected a list of data sources (or a dataSources list)")
    entries = [_entry(item, f"{source}: entry {n}") for n, item in enumerate(document, start=1)]
    seen: dict[Identity, int] = {}
    for n, entry in enumerate(entries, start=1):
        first = seen.setdefault(entry.identity, n)
        if first != n:
            raise InputError(
                f"{source}: entry {n}: same schemaId, audience and subject as entry {first}"
            )
    return entries


def _entry(item: Any, where: str) -> DesiredDataSource:
    if not isinstance(item, dict):
        raise InputError(f"{where}: must be an object with {', '.join(_REQUIRED)}")
    unknown = sorted(str(k) for k in item if k not in _REQUIRED + _OPTIONAL)
    if unknown:
        raise InputError(f"{where}: field {unknown[0]}: unknown field")
    values: dict[str, str] = {}
    for name in _REQUIRED:
        value = item.get(name)
        if value is None:
            raise InputError(f"{where}: field {name}: required")
        if not isinstance(value, str):
            raise InputError(f"{where}: field {name}: must be a string")
        values[name] = _checked(where, name, lambda v=value, n=name: _CHECKS[n](v))
    lifetime = None
    if item.get("lifetimeMinutes") is not None:
        raw = item["lifetimeMinutes"]
        if isinstance(raw, bool):
            raise InputError(f"{where}: field lifetimeMinutes: must be a number")
        lifetime = _checked(where, "lifetimeMinutes", lambda: validate_lifetime(raw))
    status = item.get("status")
    if status is not None and status not in (ACTIVE, DISABLED):
        raise InputError(f"{where}: field status: must be {ACTIVE!r} or {DISABLED!r}")
    return DesiredDataSource(
        url=values["url"],
        schema_id=values["schemaId"],
        audience=values["audience"],
        subject=values["subject"],
        lifetime_minutes=lifetime,
        status=status,
    )


def _checked(where: str, name: str, check: Any) -> Any:
    try:
        return check()
    except InputError as exc:
        raise InputError(f"{where}: field {name}: {exc}") from None
