"""One line, not a traceback, when the environment stops the tool from reading or
writing a file: a full disk, a read-only or missing home, a directory it may not create,
a file that belongs to someone else. Each names the path and what to do about it."""

from __future__ import annotations

import errno
import os
from pathlib import Path

_STORE_HINT = "set BYODS_TOKEN_STORE (and BYODS_AUDIT_LOG) to a writable path"


def _under(path: Path, directory: Path) -> bool:
    """``path`` is in ``directory`` or is one of the directories it needs to create."""
    try:
        path, directory = path.resolve(), directory.resolve()
    except (OSError, RuntimeError):
        return False
    return path.is_relative_to(directory) or directory.is_relative_to(path)


def _where_hint(path: Path) -> str:
    """What the user can change to move this file elsewhere."""
    from ..paths import cache_dir, config_dir, state_dir

    if _under(path, state_dir()):
        return f"the tool's state directory {state_dir()} is not usable; {_STORE_HINT}, " + (
            "or set XDG_STATE_HOME (or HOME) to a writable directory"
        )
    if _under(path, cache_dir()):
        return (
            f"the tool's cache directory {cache_dir()} is not usable; "
            "set XDG_CACHE_HOME (or HOME) to a writable directory"
        )
    if _under(path, config_dir()):
        return "pass --config PATH or set BYODS_CONFIG to a file you can use"
    return "choose another path, or fix the permissions of this one"


def describe_os_error(exc: OSError) -> str:
    """``cannot write /x/y: Permission denied; <what to do>``."""
    # A failed rename names the temporary file first and the real target second.
    named = exc.filename2 if exc.filename2 is not None else exc.filename
    filename = named if isinstance(named, (str, os.PathLike)) else None
    reason = exc.strerror or str(exc)
    if filename is None:
        if exc.errno == errno.ENOSPC:
            return f"{reason}: free some space, or {_STORE_HINT} on another filesystem"
        return f"{reason} (a file or directory the tool needs)"
    path = Path(filename)
    if exc.errno == errno.ENOSPC:
        return f"cannot write {path}: {reason}; free some space, or {_STORE_HINT} elsewhere"
    if exc.errno in (errno.EACCES, errno.EPERM) and path.exists():
        try:
            owner = path.stat().st_uid
        except OSError:
            owner = None
        if owner is not None and owner != os.geteuid():
            return (
                f"cannot use {path}: {reason} (it belongs to another user, uid {owner}); "
                "choose another path"
            )
    return f"cannot use {path}: {reason}; {_where_hint(path)}"
