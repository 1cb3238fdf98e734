"""One line per event on stderr, as text or JSON, for people and for log shippers.

Callers pass facts (ids, outcomes, error messages the library already keeps free of
secrets), never tokens.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import datetime, timezone
from typing import Any, TextIO

LOG_FORMATS = ("text", "json")


def utc_iso(when: float | None = None) -> str:
    moment = (
        datetime.now(timezone.utc)
        if when is None
        else datetime.fromtimestamp(when, tz=timezone.utc)
    )
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _text_value(value: Any) -> str:
    text = str(value)
    if not text or any(char.isspace() or char in '"=' for char in text):
        return json.dumps(text)
    return text


class EventLog:
    def __init__(self, log_format: str = "text", stream: TextIO | None = None) -> None:
        if log_format not in LOG_FORMATS:
            raise ValueError(f"log format must be one of {LOG_FORMATS}")
        self.log_format = log_format
        self.stream = stream if stream is not None else sys.stderr
        self._lock = threading.Lock()

    def event(self, name: str, level: str = "info", **fields: Any) -> None:
        present = {key: value for key, value in fields.items() if value is not None}
        if self.log_format == "json":
            line = json.dumps({"time": utc_iso(), "level": level, "event": name, **present})
        else:
            pairs = " ".join(f"{key}={_text_value(value)}" for key, value in present.items())
            line = f"{utc_iso()} {level.upper()} {name}" + (f" {pairs}" if pairs else "")
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()
