"""Safe file primitives: atomic writes with 0600 permissions and a cross-process lock.

Every file that may hold a secret is written through :func:`atomic_write_text`, so a
reader sees either the old or the new content, never a half-written file, and the file
is never readable by group or others, not even for a moment.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import ByodsError, ConfigError

SECRET_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
DEFAULT_LOCK_TIMEOUT = 30.0


def atomic_write_text(path: Path | str, text: str, mode: int = SECRET_FILE_MODE) -> None:
    """Replace ``path`` with ``text``: temp file in the same directory, fsync, rename."""
    import tempfile

    target = Path(path)
    ensure_private_dir(target.parent)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    fsync_directory(target.parent)


def ensure_private_dir(directory: Path | str) -> None:
    """Create ``directory`` and any missing parents with mode 0700 (existing ones are left
    as they are: they may be shared, like ``~/.local``)."""
    target = Path(directory)
    missing: list[Path] = []
    while not target.exists():
        missing.append(target)
        if target.parent == target:
            break
        target = target.parent
    for created in reversed(missing):
        try:
            os.mkdir(created, PRIVATE_DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(created, PRIVATE_DIR_MODE)  # whatever the umask took away or left


def atomic_write_json(path: Path | str, data: Any, mode: int = SECRET_FILE_MODE) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n", mode)


def fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (best effort; not every platform allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def file_lock(
    path: Path | str, timeout: float = DEFAULT_LOCK_TIMEOUT, deadline_label: str | None = None
) -> Iterator[None]:
    """Hold the cross-process lock that guards ``path`` (the lock file is ``path.lock``).

    ``deadline_label`` (e.g. ``--timeout 2s``) says that the command's deadline, not the
    lock's own timeout, set ``timeout``: the error then says so.
    """
    import filelock

    lock_path = Path(str(path) + ".lock")
    ensure_private_dir(lock_path.parent)
    lock = filelock.FileLock(str(lock_path), timeout=max(0.0, timeout), mode=SECRET_FILE_MODE)
    try:
        lock.acquire()
    except filelock.Timeout:
        # Temporary, not a config problem: exit 1 so a scheduler simply retries later.
        if deadline_label:
            raise ByodsError(
                f"Gave up waiting for the lock file {lock_path} after {timeout:.1f}s: the "
                f"command's deadline ({deadline_label}) ended the wait (another byods process "
                "holds the lock). Try again, or allow more time with --timeout."
            ) from None
        raise ByodsError(
            f"Timed out after {timeout:.0f}s waiting for the lock file {lock_path} "
            "(another byods process holds it)."
        ) from None
    try:
        yield
    finally:
        lock.release()


def read_bytes(path: Path | str, what: str = "file") -> bytes:
    """A file's bytes, or a one-line ConfigError naming the file."""
    target = Path(path)
    try:
        return target.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {target}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {target}: {exc.strerror or exc}") from None


def parse_json(content: bytes, path: Path | str, what: str = "file") -> Any:
    """Decode UTF-8 JSON, turning every failure into a one-line ConfigError naming the file."""
    target = Path(path)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{what} {target} is not UTF-8 text (byte {exc.start}); "
            "re-save it as UTF-8 JSON, or move it aside"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{what} {target} is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None


def read_json(path: Path | str, what: str = "file") -> Any:
    """Load JSON, turning every failure into a one-line ConfigError naming the file."""
    return parse_json(read_bytes(path, what), path, what)
