"""Merging one writer's changes into the token document another host may have changed.

A writer that holds only some credentials' locks (see :meth:`PostgresStore.locked`) must
not write back its whole, possibly stale, copy of the document: other hosts may have
refreshed other orgs meanwhile. :func:`merge_changes` applies only what the writer changed
relative to what it read (its *base*):

- an entry whose lock the writer holds is taken as the writer has it (added, changed or
  removed);
- any other change (an entry of another credential, a top-level section such as ``orgs``)
  is applied only when that part of the stored document is still what the writer read;
  otherwise the stored version wins and the change is reported as skipped.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

ENTRY_SECTIONS = ("serviceApps", "integrations")
_ABSENT = object()


def merge_changes(
    current: dict[str, Any],
    base: dict[str, Any],
    ours: dict[str, Any],
    scopes: Collection[str],
) -> tuple[dict[str, Any], list[str]]:
    """The stored document ``current`` with the writer's changes (``base`` -> ``ours``)
    applied, and the names of the changes that were skipped because another writer had
    changed the same part meanwhile. ``scopes`` are the entry scopes whose locks are held
    (``serviceApps/<key>``, ``integrations/<key>``). The inputs are left unchanged."""
    merged = copy.deepcopy(current)
    skipped: list[str] = []
    for section in ENTRY_SECTIONS:
        target = merged.get(section)
        target = dict(target) if isinstance(target, dict) else {}
        before, after = _mapping(base, section), _mapping(ours, section)
        for key in sorted(set(before) | set(after)):
            name = f"{section}/{key}"
            if _apply(target, key, before, after, locked=name in scopes):
                continue
            skipped.append(name)
        merged[section] = dict(sorted(target.items()))
    top_level = (set(base) | set(ours)) - {"version", *ENTRY_SECTIONS}
    for key in sorted(top_level):
        if not _apply(merged, key, base, ours, locked=False):
            skipped.append(key)
    if "version" in ours:
        merged["version"] = ours["version"]
    return merged, skipped


def _apply(
    target: dict[str, Any],
    key: str,
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    locked: bool,
) -> bool:
    """Carry ``key``'s change (if any) into ``target``; False when it had to be skipped."""
    old, new = before.get(key, _ABSENT), after.get(key, _ABSENT)
    if old == new:
        return True
    if not locked and target.get(key, _ABSENT) != old:
        return bool(target.get(key, _ABSENT) == new)  # changed elsewhere (to the same value: fine)
    if new is _ABSENT:
        target.pop(key, None)
    else:
        target[key] = copy.deepcopy(new)
    return True


def _mapping(document: dict[str, Any], section: str) -> dict[str, Any]:
    value = document.get(section)
    return value if isinstance(value, dict) else {}
