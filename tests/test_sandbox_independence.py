"""The sandbox shares no assumptions with the client, and its modules import one way."""

from __future__ import annotations

import ast
from pathlib import Path

import byods_manager.sandbox

SANDBOX_DIR = Path(byods_manager.sandbox.__file__).parent
# Plumbing the sandbox may share: errors, atomic file writes, the base64url helper.
ALLOWED_CLIENT_MODULES = {"byods_manager.errors", "byods_manager.fileio", "byods_manager.jws"}


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports (also under TYPE_CHECKING), as absolute names."""
    package = "byods_manager.sandbox"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                if node.module:
                    base = f"{base}.{node.module}"
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def test_the_sandbox_imports_no_client_rules() -> None:
    for path in SANDBOX_DIR.glob("*.py"):
        client_imports = {
            name
            for name in imports_of(path)
            if name.startswith("byods_manager.")
            and not name.startswith("byods_manager.sandbox")
            and name.rsplit(".", 1)[0] not in ALLOWED_CLIENT_MODULES
            and name not in ALLOWED_CLIENT_MODULES
        }
        assert client_imports == set(), path.name


def test_admin_and_server_do_not_import_app() -> None:
    for name in ("admin.py", "server.py", "api.py", "webhooks.py"):
        imported = imports_of(SANDBOX_DIR / name)
        assert not any(item.startswith("byods_manager.sandbox.app") for item in imported), name
