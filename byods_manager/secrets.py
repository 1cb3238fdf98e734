"""Keep secrets out of output: show at most a short prefix.

Besides :func:`redact` for one known secret, the process keeps a registry of every secret
it has seen (config secrets, access/refresh/personal tokens, jwsTokens): :func:`scrub_text`
replaces each of them wherever it appears in a text, whatever the text's source (an error
body echoing the request, an exception message, an audit line).
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging

PREFIX_LENGTH = 6
# Shorter values are too likely to be ordinary words to be replaced everywhere.
MIN_REGISTERED_LENGTH = 8
# Three base64url segments, the first one a JSON object ("eyJ" = '{"').
_JWS_LIKE = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

_lock = threading.Lock()
_known: set[str] = set()
# The registry longest first (rebuilt lazily after additions), so that a secret that
# contains another is replaced whole.
_ordered: tuple[str, ...] | None = None


def redact(secret: str | None) -> str:
    """Return a short, safe-to-print stand-in for a secret."""
    if not secret:
        return "(none)"
    if len(secret) <= PREFIX_LENGTH * 2:
        return "…"
    return secret[:PREFIX_LENGTH] + "…"


def remember_secret(*values: object) -> None:
    """Add values to the registry (None, non-strings and short values are ignored)."""
    global _ordered
    fresh = {
        value.strip()
        for value in values
        if isinstance(value, str) and len(value.strip()) >= MIN_REGISTERED_LENGTH
    }
    with _lock:
        fresh -= _known
        if fresh:
            _known.update(fresh)
            _ordered = None


def scrub_text(text: str) -> str:
    """``text`` with every registered secret and every JWS-looking string redacted.

    Only the secrets that occur in ``text`` go into the pattern: one pattern of the whole
    registry (every jwsToken a bulk run has seen) took seconds to compile, and every
    request waited for it on the registry's lock.
    """
    global _ordered
    if not text:
        return text
    with _lock:
        if _ordered is None:
            _ordered = tuple(sorted(_known, key=len, reverse=True))
        ordered = _ordered
    present = [value for value in ordered if value in text]
    if present:
        pattern = re.compile("|".join(re.escape(value) for value in present))
        text = pattern.sub(lambda match: redact(match.group(0)), text)
    return _JWS_LIKE.sub(lambda match: redact(match.group(0)), text)


class RedactingFilter:
    """A logging filter that scrubs each record's final message (``-vv`` debug logs).

    Not a ``logging.Filter`` subclass: handlers accept any object with ``filter``, and this
    module is imported at start-up, where ``logging`` would cost every command."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub_text(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def forget_all_secrets() -> None:
    """Empty the registry (for tests that check what a fresh process knows)."""
    global _ordered
    with _lock:
        _known.clear()
        _ordered = None
