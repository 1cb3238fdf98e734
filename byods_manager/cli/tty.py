"""Whether a person is at the keyboard: prompts are offered only then."""

from __future__ import annotations

import os
import sys

# Test hook: CliRunner's stdin is never a terminal, so tests of the interactive paths
# set this to "1". It only makes the tool *offer* prompts; it grants nothing.
ASSUME_TTY_ENV = "BYODS_ASSUME_TTY"


def stdin_is_interactive() -> bool:
    """True when a person can answer prompts on stdin."""
    if os.environ.get(ASSUME_TTY_ENV) == "1":
        return True
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False
